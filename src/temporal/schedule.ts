/**
 * The meeting Schedule (`panel-meetings` by default): one calendar entry per cut-off of the next
 * year of meetings, in Europe/Amsterdam local time (so 19:30 stays 19:30 across the
 * daylight-saving change). Skips and moves are applied by rebuilding the entries.
 */
import { MONTHS, ScheduleAlreadyRunning, type Client, type ScheduleOptions, type ScheduleSpec } from '@temporalio/client';
import type { Config } from '../config.ts';
import type { Models } from '../db/models.ts';
import { FUND_TIME_ZONE } from '../domain/dates.ts';
import { upcomingMeetings, type MeetingCalendarRules, type MeetingOverride, type MeetingTimes, type PlannedMeeting } from '../domain/meetings.ts';
import { meetingCutoffWorkflow } from '../../workflows/meeting-cutoff.ts';
import { retentionSweepWorkflow } from '../../workflows/retention.ts';
import type { MeetingInput } from '../domain/workflow-types.ts';

const AHEAD = 26; // a year of fortnightly meetings

export function calendarRules(config: Config): MeetingCalendarRules {
  const m = config.meetings;
  return { firstDate: m.firstDate, time: m.time, intervalDays: m.intervalDays, cutoffDays: m.cutoffDays };
}

export async function loadOverrides(models: Models): Promise<MeetingOverride[]> {
  const rows = await models.MeetingOverride.find().lean();
  return rows.map((r) => ({ date: r._id, action: r.action, ...(r.newDate ? { newDate: r.newDate } : {}), ...(r.newTime ? { newTime: r.newTime } : {}) }));
}

export function meetingInput(config: Config, m: MeetingTimes): MeetingInput {
  return {
    meetingId: m.meetingId,
    date: m.date,
    startsAt: m.startsAt,
    cutoffAt: m.cutoffAt,
    endsAt: m.endsAt,
    quorum: config.meetings.quorum,
    majority: config.meetings.majority,
    flagAfterRollovers: config.meetings.flagAfterRollovers,
  };
}

/** Local (Amsterdam) wall-clock parts of an instant. */
function localParts(iso: string) {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', { timeZone: FUND_TIME_ZONE, year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', hourCycle: 'h23' })
      .formatToParts(new Date(iso))
      .map((p) => [p.type, p.value]),
  );
  return { year: Number(parts.year), month: Number(parts.month), day: Number(parts.day), hour: Number(parts.hour), minute: Number(parts.minute) };
}

/** One calendar entry per upcoming cut-off. */
export function meetingScheduleSpec(meetings: PlannedMeeting[]): ScheduleSpec {
  return {
    timezone: FUND_TIME_ZONE,
    calendars: meetings.map((m) => {
      const c = localParts(m.cutoffAt);
      return { year: c.year, month: MONTHS[c.month - 1]!, dayOfMonth: c.day, hour: c.hour, minute: c.minute, comment: `cut-off of ${m.meetingId} (meeting ${m.date} ${m.time})` };
    }),
  };
}

/** Creates the schedule, or brings an existing one up to date: safe at every start-up. */
export async function ensureMeetingSchedule(client: Client, config: Config, models: Models, now = new Date()): Promise<void> {
  const meetings = upcomingMeetings(calendarRules(config), await loadOverrides(models), now, AHEAD).filter((m) => Date.parse(m.cutoffAt) > now.getTime());
  const spec = meetingScheduleSpec(meetings);
  const options: ScheduleOptions = {
    scheduleId: config.meetings.scheduleId,
    spec,
    action: { type: 'startWorkflow', workflowType: meetingCutoffWorkflow, workflowId: `${config.meetings.scheduleId}-cutoff`, taskQueue: config.temporal.taskQueue, args: [] },
    policies: { overlap: 'ALLOW_ALL', catchupWindow: '1 day' },
    memo: { purpose: 'Starts each panel meeting at its agenda cut-off' },
  };
  try {
    await client.schedule.create(options);
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await client.schedule.getHandle(config.meetings.scheduleId).update((prev) => ({ ...prev, spec, action: options.action, policies: { ...prev.policies, ...options.policies } }));
  }
}

/** The daily retention sweep (03:00 Amsterdam): erases personal data a set time after an application ended. */
export async function ensureRetentionSchedule(client: Client, config: Config): Promise<void> {
  const scheduleId = config.retention.scheduleId;
  const spec: ScheduleSpec = { timezone: FUND_TIME_ZONE, calendars: [{ hour: 3, minute: 0, comment: 'daily personal-data retention sweep' }] };
  const options: ScheduleOptions = {
    scheduleId,
    spec,
    action: { type: 'startWorkflow', workflowType: retentionSweepWorkflow, workflowId: `${scheduleId}-sweep`, taskQueue: config.temporal.taskQueue, args: [] },
    policies: { overlap: 'SKIP', catchupWindow: '1 day' },
    memo: { purpose: 'Erases personal data RETENTION_PERSONAL_DAYS after an application ended' },
  };
  try {
    await client.schedule.create(options);
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await client.schedule.getHandle(scheduleId).update((prev) => ({ ...prev, spec, action: options.action, policies: { ...prev.policies, ...options.policies } }));
  }
}
