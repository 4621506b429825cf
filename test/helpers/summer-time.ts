/**
 * The daylight-saving changes in Amsterdam, for tests that run across them: clocks go
 * forward (02:00 → 03:00, UTC+1 → UTC+2) on the last Sunday of March and back (03:00 →
 * 02:00) on the last Sunday of October.
 */
import { DAY_MS } from '../../src/domain/dates.ts';

export type ChangeMonth = 'march' | 'october';

/** The last Sunday of March or October of `year`, YYYY-MM-DD. */
export function lastSundayOf(year: number, month: ChangeMonth): string {
  const d = new Date(Date.UTC(year, month === 'march' ? 2 : 9, 31));
  d.setUTCDate(31 - d.getUTCDay());
  return d.toISOString().slice(0, 10);
}

/** The first change in `month` whose Sunday (00:00Z) is at least `minDays` days after `afterMs`. */
export function nextChange(month: ChangeMonth, afterMs: number, minDays: number): string {
  for (let year = new Date(afterMs).getUTCFullYear(); ; year++) {
    const sunday = lastSundayOf(year, month);
    if (Date.parse(sunday) - afterMs >= minDays * DAY_MS) return sunday;
  }
}

/** The UTC offset in Amsterdam, in hours, on the days just before (`before`) and just after (`after`) a change in `month`. */
export function offsets(month: ChangeMonth): { before: 1 | 2; after: 1 | 2 } {
  return month === 'march' ? { before: 1, after: 2 } : { before: 2, after: 1 };
}

/** `time` (HH:MM:SS.mmm) on `day` at UTC+`offset`, written out by hand rather than computed by the code under test; ms. */
export function instantAt(day: string, time: string, offset: 1 | 2): number {
  return Date.parse(`${day}T${time}+0${offset}:00`);
}
