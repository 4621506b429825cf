import { sendExport } from '../../privacy/download.ts';
import { actorOf } from '../auth.ts';
import type { ApiDeps } from '../deps.ts';
import { parseParams } from '../errors.ts';
import type { RouteSpec } from '../route-spec.ts';
import { errorSchema, idParams, linkTokenQuery } from '../schemas.ts';

const err = (description: string) => ({ description, schema: errorSchema });

/** The applicant's right of access: everything stored about their application (src/privacy/export.ts). */
export function privacyRoutes(deps: ApiDeps): RouteSpec[] {
  return [
    {
      method: 'get',
      path: '/api/v1/applications/:id/export',
      access: ['applicant_self', 'admin'],
      tag: 'privacy',
      summary:
        'Everything stored about the application, as a zip: LEESMIJ.txt, application.json (the application with timeline, requests, decision, payout, report, the payment instruction and the support notes), emails.json, ledger.json and every document under documents/.',
      request: { params: idParams, query: linkTokenQuery },
      responses: {
        200: { description: 'The zip archive', contentType: 'application/zip' },
        401: err('No token'),
        403: err('Not yours, or not admin'),
        404: err('Unknown id'),
      },
      async handler(req, res) {
        const { id } = parseParams(idParams, req);
        await sendExport(deps, id, actorOf(req.principal), req, res);
      },
    },
  ];
}
