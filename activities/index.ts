import type { Models } from '../src/db/models.ts';
import { createApplicationActivities } from './applications.ts';
import { createMeetingActivities } from './meetings.ts';
import { createNotificationActivities, type NotificationDeps } from './notifications.ts';

export interface ActivityDeps extends NotificationDeps {
  models: Models;
  /** The configured annual budget, for a year without a budget record yet. */
  annualBudgetCents: number;
}

/** All activities of the worker, built from their dependencies (real ones in production, narrow fakes in unit tests). */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createApplicationActivities(deps),
    ...createNotificationActivities(deps),
    ...createMeetingActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
