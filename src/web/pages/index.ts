/** Every page of the web interface (src/web/): one list, registered by src/web/router.ts. */
import type { ApiDeps } from '../../api/deps.ts';
import type { RouteSpec } from '../../api/route-spec.ts';
import type { PageSpec } from '../router.ts';
import { adminPages } from './admin.ts';
import { applyPages } from './apply.ts';
import { loginPages } from './login.ts';
import { meetingPages } from './meetings.ts';
import { payoutPages } from './payouts.ts';
import { publicPages } from './public.ts';
import { staffApplicationPages } from './staff-applications.ts';
import { statusPages } from './status.ts';
import { supportPages } from './support.ts';

export function webPages(deps: ApiDeps, routes: readonly RouteSpec[]): PageSpec[] {
  return [
    ...publicPages(deps, routes),
    ...applyPages(deps, routes),
    ...statusPages(deps, routes),
    ...loginPages(deps, routes),
    ...staffApplicationPages(deps, routes),
    ...meetingPages(deps, routes),
    ...supportPages(deps, routes),
    ...payoutPages(deps, routes),
    ...adminPages(deps, routes),
  ];
}
