import type { Models } from '../src/db/models.ts';
import { createApplicationActivities } from './applications.ts';
import { createBudgetActivities, type BudgetActivityDeps } from './budget.ts';
import { createMeetingActivities, type MeetingActivityDeps } from './meetings.ts';
import { createNotificationActivities, type NotificationDeps } from './notifications.ts';

export interface ActivityDeps extends NotificationDeps, MeetingActivityDeps, BudgetActivityDeps {
  models: Models;
}

/** All activities of the worker, built from their dependencies (real ones in production, narrow fakes in unit tests). */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createApplicationActivities(deps),
    ...createNotificationActivities(deps),
    ...createMeetingActivities(deps),
    ...createBudgetActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
