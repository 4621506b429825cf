/**
 * The meeting Schedule against the real Temporal dev server: created once however often
 * the service starts, its next run times are the agenda cut-offs at 19:30 Amsterdam time
 * on both sides of the daylight-saving change, and the admin's skip and move (through the
 * API) change it. Also the activity that tells the cut-off workflow which meeting a
 * cut-off belongs to.
 *
 * The calendar starts 10 (or 11) days before the next last Sunday of March (the change to
 * summer time) that is at least three weeks away, so the cut-offs run 17 and 3 days before
 * the change, then 11, 25, … days after it (or a day earlier each). The API's clock (and `now` of
 * ensureMeetingSchedule) is pinned just after the first cut-off, which is therefore past.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMeetingActivities } from '../../activities/meetings.ts';
import { calendarRules, ensureMeetingSchedule } from '../../src/temporal/schedule.ts';
import { createMailer } from '../../src/mail/mailer.ts';
import { createTestContext, eventually, type TestContext } from '../helpers/context.ts';
import { nextChange } from '../helpers/summer-time.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
const plusDays = (date: string, days: number) => new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);

/** The next last Sunday of March (clocks go forward at 02:00 CET) at least three weeks away. */
const dst = nextChange('march', Date.now(), 21);

/**
 * Meeting k (0, 1, 2, …) of the calendar and its cut-off, a week earlier. Workflow ids are
 * shared by all test files on the dev server (GET /meetings/:id queries `meeting-<date>`),
 * so the calendar is kept off the default one (every 14 days from 2026-01-08) that
 * test/api/authorization.test.ts runs a meeting of: 10 days before the change, or 11.
 */
const onDefaultGrid = (date: string) => Math.round((Date.parse(date) - Date.parse('2026-01-08')) / DAY_MS) % 14 === 0;
const firstDate = onDefaultGrid(plusDays(dst, -10)) ? plusDays(dst, -11) : plusDays(dst, -10);
const meetingDate = (k: number) => plusDays(firstDate, 14 * k);
const cutoffDate = (k: number) => plusDays(meetingDate(k), -7);
const meetingId = (k: number) => `meeting-${meetingDate(k)}`;
/** 19:30 in Amsterdam, written down in UTC by hand: 18:30Z in winter (CET), 17:30Z in summer (CEST). */
const cutoffUtc = (k: number, time = '19:30') => {
  const [h, m] = time.split(':').map(Number) as [number, number];
  const offset = cutoffDate(k) < dst ? 1 : 2;
  return new Date(Date.parse(`${cutoffDate(k)}T00:00:00Z`) + ((h - offset) * 60 + m) * 60_000).toISOString();
};
const localTime = (d: Date) => d.toLocaleTimeString('nl-NL', { timeZone: 'Europe/Amsterdam', hour: '2-digit', minute: '2-digit' });
const localDate = (d: Date) => d.toLocaleDateString('sv-SE', { timeZone: 'Europe/Amsterdam' });

const pinnedNow = new Date(Date.parse(cutoffUtc(0)) + 60_000);

let ctx: TestContext;
let admin: string;
let scheduleId: string;

beforeAll(async () => {
  ctx = await createTestContext({ env: { MEETING_SCHEDULE: 'true', MEETING_FIRST_DATE: firstDate }, now: () => pinnedNow });
  admin = await ctx.staff.admin();
  scheduleId = ctx.config.meetings.scheduleId;
});
afterAll(async () => {
  await ctx?.client.schedule.getHandle(scheduleId).delete().catch(() => undefined);
  await ctx?.close();
});

const handle = () => ctx.client.schedule.getHandle(scheduleId);
const nextTimes = async () => (await handle().describe()).info.nextActionTimes.map((d) => d.toISOString());

async function countSchedules(): Promise<number> {
  let n = 0;
  for await (const s of ctx.client.schedule.list()) if (s.scheduleId === scheduleId) n++;
  return n;
}

describe('the meeting schedule', () => {
  it('exists exactly once after two start-ups, and starts the cut-off workflow on this task queue', async () => {
    await ensureMeetingSchedule(ctx.client, ctx.config, ctx.models, pinnedNow);
    await ensureMeetingSchedule(ctx.client, ctx.config, ctx.models, pinnedNow);
    await eventually(async () => (await countSchedules()) >= 1, 15_000, 'schedule listed');
    expect(await countSchedules()).toBe(1);

    const d = await handle().describe();
    expect(d.scheduleId).toBe(scheduleId);
    expect(d.action).toMatchObject({ type: 'startWorkflow', workflowType: 'meetingCutoffWorkflow', taskQueue: ctx.config.temporal.taskQueue, workflowId: `${scheduleId}-cutoff` });
    expect(d.spec.timezone).toBe('Europe/Amsterdam');
    // A year of meetings from now on; the meeting whose cut-off is past is left out.
    expect(d.spec.calendars).toHaveLength(25);
    expect(d.state.paused).toBe(false);
  });

  it('runs at each cut-off at 19:30 Amsterdam time, before and after the change to summer time', async () => {
    const times = await nextTimes();
    expect(times.length).toBeGreaterThanOrEqual(5);
    const expected = times.map((_, i) => cutoffUtc(i + 1));
    expect(times).toEqual(expected);
    // Written out: the last cut-off in winter time and the first in summer time.
    const shift = firstDate === plusDays(dst, -10) ? 0 : -1;
    expect(times[0]).toBe(`${plusDays(dst, -3 + shift)}T18:30:00.000Z`);
    expect(times[1]).toBe(`${plusDays(dst, 11 + shift)}T17:30:00.000Z`);
    for (const [i, t] of times.entries()) {
      expect(localTime(new Date(t))).toBe('19:30');
      expect(localDate(new Date(t))).toBe(cutoffDate(i + 1));
    }
  });

  it('skip (admin, through the API) takes the cut-off out of the schedule and the meeting out of the list', async () => {
    const res = await ctx.http().post(`/api/v1/meetings/${meetingId(2)}/skip`).set('Authorization', `Bearer ${admin}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({ id: meetingId(2), skipped: true });

    const times = await eventually(async () => {
      const t = await nextTimes();
      return t.includes(cutoffUtc(2)) ? undefined : t;
    }, 10_000, 'skipped cut-off gone');
    expect(times.slice(0, 3)).toEqual([cutoffUtc(1), cutoffUtc(3), cutoffUtc(4)]);

    const list = await ctx.http().get('/api/v1/meetings').set('Authorization', `Bearer ${admin}`);
    expect(list.status).toBe(200);
    expect(list.body.upcoming.map((m: { id: string }) => m.id)).toEqual([0, 1, 3, 4, 5, 6].map(meetingId));
    expect(list.body.skipped).toEqual([meetingDate(2)]);
    const one = await ctx.http().get(`/api/v1/meetings/${meetingId(2)}`).set('Authorization', `Bearer ${admin}`);
    expect(one.status).toBe(404);
    expect(await ctx.models.Audit.exists({ action: 'meeting.skipped', target: meetingId(2) })).not.toBeNull();
  });

  it('move (admin, through the API) replaces the cut-off with the one of the new date and time', async () => {
    const newDate = plusDays(meetingDate(3), 2);
    const res = await ctx.http().post(`/api/v1/meetings/${meetingId(3)}/move`).set('Authorization', `Bearer ${admin}`).send({ date: newDate, time: '20:00' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    // 20:00 summer time is 18:00Z; the cut-off is a week before the new date, at the new time.
    const newCutoff = `${plusDays(newDate, -7)}T18:00:00.000Z`;
    expect(res.body).toMatchObject({ id: meetingId(3), date: newDate, time: '20:00', startsAt: `${newDate}T18:00:00.000Z`, cutoffAt: newCutoff });

    const times = await eventually(async () => {
      const t = await nextTimes();
      return t.includes(newCutoff) ? t : undefined;
    }, 10_000, 'moved cut-off in the schedule');
    expect(times).not.toContain(cutoffUtc(3));
    expect(times.slice(0, 3)).toEqual([cutoffUtc(1), newCutoff, cutoffUtc(4)]);

    const list = await ctx.http().get('/api/v1/meetings').set('Authorization', `Bearer ${admin}`);
    expect(list.body.upcoming.find((m: { id: string }) => m.id === meetingId(3))).toMatchObject({ date: newDate, time: '20:00', moved: true, cutoffAt: newCutoff });
    const one = await ctx.http().get(`/api/v1/meetings/${meetingId(3)}`).set('Authorization', `Bearer ${admin}`);
    expect(one.body).toMatchObject({ id: meetingId(3), regularDate: meetingDate(3), date: newDate, status: 'planned' });

    // A new date whose cut-off would already be past is refused.
    const past = await ctx.http().post(`/api/v1/meetings/${meetingId(4)}/move`).set('Authorization', `Bearer ${admin}`).send({ date: plusDays(firstDate, -1), time: '19:30' });
    expect([past.status, past.body.error.code]).toEqual([422, 'validation_failed']);
  });

  it('refuses a skip or move after the cut-off (409 meeting_change_too_late), and ids that are no meeting of the calendar (404)', async () => {
    const before = { times: await nextTimes(), overrides: await ctx.models.MeetingOverride.find().sort({ _id: 1 }).lean() };
    const asAdmin = (path: string, body?: object) => ctx.http().post(path).set('Authorization', `Bearer ${admin}`).send(body);

    // Meeting 0: its cut-off has passed (the pinned clock is a minute after it).
    for (const res of [await asAdmin(`/api/v1/meetings/${meetingId(0)}/skip`), await asAdmin(`/api/v1/meetings/${meetingId(0)}/move`, { date: meetingDate(0), time: '20:00' })]) {
      expect([res.status, res.body.error.code]).toEqual([409, 'meeting_change_too_late']);
    }
    // Meeting 5: its agenda has been frozen already.
    await ctx.models.Meeting.create({ _id: meetingId(5), date: meetingDate(5), startsAt: new Date(), cutoffAt: new Date(), endsAt: new Date(), status: 'agenda_frozen', agenda: [], members: [], frozenAt: new Date() });
    const frozen = await asAdmin(`/api/v1/meetings/${meetingId(5)}/skip`);
    expect([frozen.status, frozen.body.error.code]).toEqual([409, 'meeting_change_too_late']);
    await ctx.models.Meeting.deleteOne({ _id: meetingId(5) });

    for (const id of [`meeting-${plusDays(meetingDate(1), 1)}`, meetingId(-1), 'meeting-2027-13-01']) {
      for (const res of [await asAdmin(`/api/v1/meetings/${id}/skip`), await asAdmin(`/api/v1/meetings/${id}/move`, { date: meetingDate(1), time: '20:00' })]) {
        expect({ id, status: res.status, code: res.body.error.code }).toEqual({ id, status: 404, code: 'not_found' });
      }
    }
    expect({ times: await nextTimes(), overrides: await ctx.models.MeetingOverride.find().sort({ _id: 1 }).lean() }).toEqual(before);
  });

  it('ensureMeetingSchedule at a later start-up keeps the skip and the move', async () => {
    const before = await nextTimes();
    await ensureMeetingSchedule(ctx.client, ctx.config, ctx.models, pinnedNow);
    expect(await nextTimes()).toEqual(before);
    expect(await countSchedules()).toBe(1);
  });
});

describe('meetingForCutoff', () => {
  const activities = () =>
    createMeetingActivities({
      models: ctx.models,
      ledger: ctx.deps.ledger,
      calendar: calendarRules(ctx.config),
      meetingRules: { quorum: ctx.config.meetings.quorum, flagAfterRollovers: ctx.config.meetings.flagAfterRollovers },
      mailer: createMailer({ smtpUrl: ctx.mail.url, from: ctx.config.mail.from, logger: ctx.logger }),
      mailDomain: 'buurtfonds.test',
      fundName: ctx.config.fund.name,
      meetingUrl: (id) => `http://buurtfonds.test/api/v1/meetings/${id}`,
    });

  it('finds the meeting of a cut-off instant (also when the schedule fires a little late), with the quorum rules', async () => {
    const m = await activities().meetingForCutoff({ cutoffAt: cutoffUtc(1) });
    expect(m).toEqual({
      meetingId: meetingId(1),
      date: meetingDate(1),
      startsAt: `${meetingDate(1)}T17:30:00.000Z`, // 19:30 summer time
      cutoffAt: cutoffUtc(1),
      endsAt: `${meetingDate(1)}T22:00:00.000Z`, // midnight after the meeting day, summer time
      quorum: 3,
      flagAfterRollovers: 2,
    });
    expect((await activities().meetingForCutoff({ cutoffAt: new Date(Date.parse(cutoffUtc(1)) + 5 * 60_000).toISOString() }))?.meetingId).toBe(meetingId(1));
    expect((await activities().meetingForCutoff({ cutoffAt: cutoffUtc(0) }))?.meetingId).toBe(meetingId(0));
  });

  it('returns null for a skipped meeting and for an instant that is no cut-off; a moved meeting by its new cut-off', async () => {
    expect(await activities().meetingForCutoff({ cutoffAt: cutoffUtc(2) })).toBeNull();
    expect(await activities().meetingForCutoff({ cutoffAt: new Date(Date.parse(cutoffUtc(1)) + 3 * DAY_MS).toISOString() })).toBeNull();
    expect(await activities().meetingForCutoff({ cutoffAt: cutoffUtc(3) })).toBeNull();
    const moved = await activities().meetingForCutoff({ cutoffAt: `${plusDays(meetingDate(3), -5)}T18:00:00.000Z` });
    expect(moved).toMatchObject({ meetingId: meetingId(3), date: plusDays(meetingDate(3), 2), startsAt: `${plusDays(meetingDate(3), 2)}T18:00:00.000Z` });
  });
});
