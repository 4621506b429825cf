/**
 * The panel's calendar: a meeting every N days (default 14) from a first date, at a
 * fixed local time in Europe/Amsterdam (19:30 stays 19:30 across the daylight-saving
 * change). The agenda is frozen a number of days before (the cut-off, default 7), and a
 * meeting that the chair does not close is closed at the end of its day.
 * Admin may skip a meeting (holiday) or move one to another date and time.
 */
import { TZDate } from '@date-fns/tz';
import { addDays } from 'date-fns';
import { FUND_TIME_ZONE, isCalendarDate } from './dates.ts';

export interface MeetingCalendarRules {
  firstDate: string; // YYYY-MM-DD, a meeting date
  time: string; // HH:MM local
  intervalDays: number;
  cutoffDays: number;
}

export interface MeetingOverride {
  /** The regular date this override is about. */
  date: string;
  action: 'skip' | 'move';
  /** For `move`: the new date and local time. */
  newDate?: string;
  newTime?: string;
}

export interface PlannedMeeting {
  /** meeting-<regular date>: stays the same when the meeting is moved. */
  meetingId: string;
  regularDate: string;
  date: string;
  time: string;
  startsAt: string; // ISO UTC
  cutoffAt: string; // ISO UTC
  endsAt: string; // ISO UTC: midnight after the meeting day, Amsterdam
}

export const meetingIdOf = (regularDate: string) => `meeting-${regularDate}`;

export function regularDateOf(meetingId: string): string | undefined {
  const m = /^meeting-(\d{4}-\d{2}-\d{2})$/.exec(meetingId);
  return m && isCalendarDate(m[1]!) ? m[1] : undefined;
}

/** The instant of a local Amsterdam date and time. */
export function amsterdamInstant(date: string, time: string): Date {
  const [y, mo, d] = date.split('-').map(Number) as [number, number, number];
  const [h, mi] = time.split(':').map(Number) as [number, number];
  return new Date(new TZDate(y, mo - 1, d, h, mi, 0, FUND_TIME_ZONE).getTime());
}

function plusDays(date: string, days: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return addDays(new Date(Date.UTC(y, m - 1, d)), days).toISOString().slice(0, 10);
}

export function planMeeting(rules: MeetingCalendarRules, regularDate: string, date = regularDate, time = rules.time): PlannedMeeting {
  const startsAt = amsterdamInstant(date, time);
  const cutoffAt = amsterdamInstant(plusDays(date, -rules.cutoffDays), time);
  const endsAt = amsterdamInstant(plusDays(date, 1), '00:00');
  return {
    meetingId: meetingIdOf(regularDate),
    regularDate,
    date,
    time,
    startsAt: startsAt.toISOString(),
    cutoffAt: cutoffAt.toISOString(),
    endsAt: endsAt.toISOString(),
  };
}

/** True when `date` is one of the regular meeting dates. */
export function isRegularDate(rules: MeetingCalendarRules, date: string): boolean {
  if (!isCalendarDate(date) || date < rules.firstDate) return false;
  const days = Math.round((Date.parse(`${date}T00:00:00Z`) - Date.parse(`${rules.firstDate}T00:00:00Z`)) / 86_400_000);
  return days % rules.intervalDays === 0;
}

/**
 * The meetings whose end lies after `from`, in order, with skips left out and moves
 * applied: at most `count` of them.
 */
export function upcomingMeetings(rules: MeetingCalendarRules, overrides: readonly MeetingOverride[], from: Date, count: number): PlannedMeeting[] {
  const byDate = new Map(overrides.map((o) => [o.date, o]));
  const out: PlannedMeeting[] = [];
  for (let regular = rules.firstDate; out.length < count; regular = plusDays(regular, rules.intervalDays)) {
    const o = byDate.get(regular);
    if (o?.action === 'skip') continue;
    const planned = o?.action === 'move' ? planMeeting(rules, regular, o.newDate ?? regular, o.newTime ?? rules.time) : planMeeting(rules, regular);
    if (Date.parse(planned.endsAt) > from.getTime()) out.push(planned);
    if (regular > '2200-01-01') break; // a calendar this far out is a configuration error, not a loop to run
  }
  return out.sort((a, b) => a.startsAt.localeCompare(b.startsAt));
}
