/** Times are stored in UTC; the fund's calendar and every date shown live in Europe/Amsterdam. */
import { TZDate } from '@date-fns/tz';

export const FUND_TIME_ZONE = 'Europe/Amsterdam';

const isoDateFormat = new Intl.DateTimeFormat('en-CA', {
  timeZone: FUND_TIME_ZONE,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});

/** The calendar date (YYYY-MM-DD) in Amsterdam at the given instant. */
export function amsterdamDate(at: Date): string {
  return isoDateFormat.format(at);
}

export function amsterdamYear(at: Date): number {
  return Number(amsterdamDate(at).slice(0, 4));
}

const displayDate = {
  nl: new Intl.DateTimeFormat('nl-NL', { timeZone: FUND_TIME_ZONE, day: 'numeric', month: 'long', year: 'numeric' }),
  en: new Intl.DateTimeFormat('en-GB', { timeZone: FUND_TIME_ZONE, day: 'numeric', month: 'long', year: 'numeric' }),
} as const;

/** "12 mei 2027" — a date as residents read it. */
export function formatDate(at: Date, locale: 'nl' | 'en' = 'nl'): string {
  return displayDate[locale].format(at);
}

const displayDateTime = {
  nl: new Intl.DateTimeFormat('nl-NL', { timeZone: FUND_TIME_ZONE, weekday: 'long', day: 'numeric', month: 'long', year: 'numeric', hour: '2-digit', minute: '2-digit' }),
  en: new Intl.DateTimeFormat('en-GB', { timeZone: FUND_TIME_ZONE, weekday: 'long', day: 'numeric', month: 'long', year: 'numeric', hour: '2-digit', minute: '2-digit' }),
} as const;

/** "donderdag 12 mei 2027 om 19:30" — a meeting as residents read it. */
export function formatDateTime(at: Date, locale: 'nl' | 'en' = 'nl'): string {
  return displayDateTime[locale].format(at);
}

/** True when YYYY-MM-DD names a real calendar date. */
export function isCalendarDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const d = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === value;
}

export const DAY_MS = 24 * 60 * 60 * 1000;

/** The calendar date (YYYY-MM-DD) `days` days after `date` (before, when negative). */
export function addCalendarDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** The instant a calendar day (YYYY-MM-DD) begins in Amsterdam: 00:00 local time (never in a daylight-saving gap, which is at 02:00). */
export function startOfAmsterdamDay(date: string): Date {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(new TZDate(y, m - 1, d, 0, 0, 0, FUND_TIME_ZONE).getTime());
}

/**
 * A deadline a person sees: the last instant, 23:59:59.999 Amsterdam time, of the day
 * `plusDays` calendar days after `from` (the Amsterdam day of an instant, or a YYYY-MM-DD
 * day). A day is 23 or 25 hours long at a daylight-saving change, so this is not
 * `from + plusDays × 24 h`. Shown with formatDate/formatDeadline it names that day; a
 * timer set to it fires as that day ends.
 */
export function endOfAmsterdamDay(from: Date | string, plusDays = 0): Date {
  const day = typeof from === 'string' ? from : amsterdamDate(from);
  return new Date(startOfAmsterdamDay(addCalendarDays(day, plusDays + 1)).getTime() - 1);
}

/**
 * "12 mei 2027": the last day on which a term that ends at `deadline` can be met — the
 * Amsterdam day of the instant just before it. For an end-of-day deadline
 * (endOfAmsterdamDay) that is its own day; a term stored as the midnight after its last
 * day (report due dates set before end-of-day deadlines) names that last day too.
 */
export function formatDeadline(deadline: Date | string, locale: 'nl' | 'en' = 'nl'): string {
  return formatDate(new Date(new Date(deadline).getTime() - 1), locale);
}
