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

/** The instant a calendar day (YYYY-MM-DD) ends in Amsterdam: midnight at the start of the next day. */
export function endOfAmsterdamDay(date: string): Date {
  const next = new Date(`${date}T00:00:00Z`);
  next.setUTCDate(next.getUTCDate() + 1);
  return new Date(new TZDate(next.getUTCFullYear(), next.getUTCMonth(), next.getUTCDate(), 0, 0, 0, FUND_TIME_ZONE).getTime());
}
