/**
 * The panel's calendar: a meeting every N days (default 14) from a first date, at a
 * fixed local time in Europe/Amsterdam (19:30 stays 19:30 across the daylight-saving
 * change). The agenda is frozen a number of days before (the cut-off, default 7), and a
 * meeting that the chair does not close is closed at the end of its day.
 * Admin may skip a meeting (holiday) or move one to another date and time, and add an
 * extra meeting (`meeting-extra-<date>-<HHMM>`: any day without a regular meeting, even
 * today, with its own cut-off, e.g. minutes before) that the Schedule knows nothing of.
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

/** When a meeting is: its day and local time, start, agenda cut-off and end. */
export interface MeetingTimes {
  meetingId: string;
  date: string;
  time: string;
  startsAt: string; // ISO UTC
  cutoffAt: string; // ISO UTC
  endsAt: string; // ISO UTC: midnight after the meeting day, Amsterdam
}

export interface PlannedMeeting extends MeetingTimes {
  /** meeting-<regular date>: stays the same when the meeting is moved. */
  meetingId: string;
  regularDate: string;
}

/** A meeting the admin added besides the calendar's (a new fund, a demo, a backlog). */
export interface ExtraMeeting extends MeetingTimes {
  extra: true;
}

export const meetingIdOf = (regularDate: string) => `meeting-${regularDate}`;

export function regularDateOf(meetingId: string): string | undefined {
  const m = /^meeting-(\d{4}-\d{2}-\d{2})$/.exec(meetingId);
  return m && isCalendarDate(m[1]!) ? m[1] : undefined;
}

export const extraMeetingIdOf = (date: string, time: string) => `meeting-extra-${date}-${time.replace(':', '')}`;

/** The day and time an extra meeting's id names; undefined when it names none. */
export function extraMeetingOf(meetingId: string): { date: string; time: string } | undefined {
  const m = /^meeting-extra-(\d{4}-\d{2}-\d{2})-([01]\d|2[0-3])([0-5]\d)$/.exec(meetingId);
  return m && isCalendarDate(m[1]!) ? { date: m[1]!, time: `${m[2]}:${m[3]}` } : undefined;
}

/** The instant of a local Amsterdam date and time (HH:MM or HH:MM:SS). */
export function amsterdamInstant(date: string, time: string): Date {
  const [y, mo, d] = date.split('-').map(Number) as [number, number, number];
  const [h, mi, sec = 0] = time.split(':').map(Number) as [number, number, number?];
  return new Date(new TZDate(y, mo - 1, d, h, mi, sec, FUND_TIME_ZONE).getTime());
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

/** An extra meeting on `date` at `time` (Amsterdam) whose agenda is frozen at `cutoff` (an instant). */
export function planExtraMeeting(date: string, time: string, cutoff: Date): ExtraMeeting {
  return {
    meetingId: extraMeetingIdOf(date, time),
    date,
    time,
    startsAt: amsterdamInstant(date, time).toISOString(),
    cutoffAt: cutoff.toISOString(),
    endsAt: amsterdamInstant(plusDays(date, 1), '00:00').toISOString(),
    extra: true,
  };
}

/**
 * How far apart two agenda cut-offs must be. Each freeze takes every application ready
 * at that moment, and an application leaves "ready" a moment after its freeze: two
 * freezes at once would put it on both agendas. Two regular meetings keep the wider gap
 * the Schedule needs (it finds a regular meeting by its cut-off, within an hour).
 */
export const CUTOFF_GAP_MS = 10 * 60_000;
export const REGULAR_CUTOFF_GAP_MS = 2 * 60 * 60_000;

export interface MeetingCollision {
  /**
   * `same_day`: an extra meeting on the day of a regular one; `cutoff_taken`: two cut-offs
   * too close; `same_start`: an extra meeting at this start already, with another cut-off.
   */
  code: 'same_day' | 'cutoff_taken' | 'same_start';
  meetingId: string;
  startsAt: string;
  cutoffAt: string;
}

/**
 * The first meeting of `others` that `candidate` would collide with: an extra meeting is
 * not held on the day of a regular one (move that one instead), and no two cut-offs are
 * closer than the gap above.
 */
export function meetingCollision(candidate: MeetingTimes & { extra?: boolean }, others: readonly (MeetingTimes & { extra?: boolean })[]): MeetingCollision | undefined {
  for (const o of others) {
    if (o.meetingId === candidate.meetingId) continue;
    const of = (code: MeetingCollision['code']): MeetingCollision => ({ code, meetingId: o.meetingId, startsAt: o.startsAt, cutoffAt: o.cutoffAt });
    if (!!o.extra !== !!candidate.extra && o.date === candidate.date) return of('same_day');
    const gap = o.extra || candidate.extra ? CUTOFF_GAP_MS : REGULAR_CUTOFF_GAP_MS;
    if (Math.abs(Date.parse(o.cutoffAt) - Date.parse(candidate.cutoffAt)) < gap) return of('cutoff_taken');
  }
  return undefined;
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
