import { createApplicationActivities } from './applications.ts';
import { createNotificationActivities, type NotificationDeps } from './notifications.ts';

export type ActivityDeps = NotificationDeps;

/** All activities of the worker, built from their dependencies (real ones in production, narrow fakes in unit tests). */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createApplicationActivities(deps),
    ...createNotificationActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
