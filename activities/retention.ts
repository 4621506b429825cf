/**
 * The daily retention sweep's query: applications that ended (a final status) whose
 * retention is over — it runs to the end, in Amsterdam, of the RETENTION_PERSONAL_DAYS-th
 * day after the day they ended (endOfAmsterdamDay) — and whose personal data is still
 * there. Their initiative workflows have completed, so nothing else writes them any more.
 * Read by key (`ended:<time>:<app>`, src/privacy/keys.ts): only what is due.
 */
import type { Models } from '../src/db/models.ts';
import { addCalendarDays, amsterdamDate, startOfAmsterdamDay } from '../src/domain/dates.ts';
import { endedBefore } from '../src/privacy/keys.ts';

export interface RetentionActivityDeps {
  models: Models;
  retentionPersonalDays?: number;
  now?: () => Date;
}

export function createRetentionActivities(deps: RetentionActivityDeps) {
  return {
    /** Ids of the applications due for erasure at `at` (the sweep's scheduled time), oldest first, at most `limit`. */
    async findErasable(input: { at: string; limit: number }): Promise<string[]> {
      const days = deps.retentionPersonalDays ?? 730;
      // Ended before the Amsterdam day `days` days ago began: the end of (that day + days) has passed.
      const before = startOfAmsterdamDay(addCalendarDays(amsterdamDate(new Date(input.at)), -days));
      return endedBefore(deps.models, before, input.limit);
    },
  };
}
