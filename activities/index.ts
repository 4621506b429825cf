import type { Models } from '../src/db/models.ts';
import type { ReportTally } from '../src/reports/tally.ts';
import { createApplicationActivities } from './applications.ts';
import { createBudgetActivities, type BudgetActivityDeps } from './budget.ts';
import { createMeetingActivities, type MeetingActivityDeps } from './meetings.ts';
import { createNotificationActivities, type NotificationDeps } from './notifications.ts';
import { createPrivacyActivities, type PrivacyActivityDeps } from './privacy.ts';
import { createSupportActivities, type SupportActivityDeps } from './support.ts';
import { createRetentionActivities, type RetentionActivityDeps } from './retention.ts';

export interface ActivityDeps extends NotificationDeps, MeetingActivityDeps, BudgetActivityDeps, PrivacyActivityDeps, SupportActivityDeps, RetentionActivityDeps {
  models: Models;
  /** The monitoring summary's deltas (src/reports/tally.ts). */
  tally: ReportTally;
}

/** All activities of the worker, built from their dependencies (real ones in production, narrow fakes in unit tests). */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createApplicationActivities(deps),
    ...createNotificationActivities(deps),
    ...createMeetingActivities(deps),
    ...createBudgetActivities(deps),
    ...createPrivacyActivities(deps),
    ...createSupportActivities(deps),
    ...createRetentionActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
