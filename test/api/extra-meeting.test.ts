/**
 * The admin's extra meeting, against the real worker: added through the API with its
 * agenda cut-off seconds away, its workflow started at once under its own id (a retry
 * starts nothing twice, a crash between store and start is completed by the reconcile
 * step), the agenda frozen at the cut-off with the application that was ready, votes
 * and the chair's close as at a regular meeting; shown in the calendar (API and pages)
 * and written to the audit log. Refused: a moment in the past, a cut-off after the start
 * or before now, a collision with a regular meeting or another extra one, anyone but the
 * admin; each with its nl/en words, and nothing stored.
 *
 * The calendar starts three days from today (MEETING_FIRST_DATE), so no regular meeting
 * is today and none has its cut-off near now. Extra meetings of this file are today
 * (minutes from now) or on days no other test file uses.
 */
import { meetingsOfApplication } from '../../src/privacy/keys.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { amsterdamDate } from '../../src/domain/dates.ts';
import { extraMeetingIdOf } from '../../src/domain/meetings.ts';
import { meetingStateQuery } from '../../workflows/meeting.ts';
import { eventually, type TestContext } from '../helpers/context.ts';
import { meetingTestContext } from '../helpers/meetings.ts';
import { submitReady, waitForStatus, type Granted } from '../helpers/grants.ts';
import { validApplication } from '../helpers/fixtures.ts';
import { webClient, type WebClient } from '../helpers/web.ts';

const DAY_MS = 86_400_000;
const plusDays = (date: string, days: number) => new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
const today = amsterdamDate(new Date());
/** Regular meetings: today+3, today+17, …; their cut-offs (19:30) today−4, today+10, … */
const firstDate = plusDays(today, 3);
const tomorrow = plusDays(today, 1);

/** An instant as the form's fields: Amsterdam date, HH:MM and HH:MM:SS. */
function local(at: Date): { date: string; time: string; seconds: string } {
  const seconds = at.toLocaleTimeString('en-GB', { timeZone: 'Europe/Amsterdam', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
  return { date: amsterdamDate(at), time: seconds.slice(0, 5), seconds };
}

let ctx: TestContext, admin: string, tokens: Record<string, string>, ids: Record<string, string>, started: string[], closeContext: (() => Promise<void>) | undefined;
beforeAll(async () => void ({ ctx, admin, tokens, ids, started, close: closeContext } = await meetingTestContext(firstDate, 3)));
afterAll(() => closeContext?.());

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const addExtra = (body: Record<string, unknown>, token = admin, language = 'nl') => ctx.http().post('/api/v1/meetings/extra').set(bearer(token)).set('Accept-Language', language).send(body);

/** What an extra meeting leaves behind: the stored meetings, the audit log, the meeting read model. */
async function stored() {
  const { ExtraMeeting, Audit, Meeting } = ctx.models;
  const [extras, audit, meetings] = await Promise.all([ExtraMeeting.find().sort({ _id: 1 }).lean(), Audit.countDocuments(), Meeting.countDocuments()]);
  return { extras, audit, meetings };
}

type ErrorBody = { error: { code: string; message: string; details: { path?: string; code: string; message?: string; meetingId?: string }[] } };
/** A refused extra meeting: status, code and the details' (path, code); nothing stored. */
async function refused(body: Record<string, unknown>, status: number, code: string, details: [string, string][], language = 'nl'): Promise<ErrorBody> {
  const before = await stored();
  const res = await addExtra(body, admin, language);
  expect({ body, status: res.status, code: res.body.error?.code, details: res.body.error?.details.map((d: { path: string; code: string }) => [d.path, d.code]) }).toEqual({ body, status, code, details });
  expect(await stored(), 'a refused extra meeting stored something').toEqual(before);
  return res.body as ErrorBody;
}

let A: Granted;
let B: Granted;
/** The extra meeting today: starts in three minutes, its agenda closes seconds from now. */
let meetingId: string;
let body: { date: string; time: string; cutoffDate: string; cutoffTime: string };
let cutoffAt: string;

describe('an extra meeting today, minutes from now', () => {
  it('the admin adds it (201): stored, in the audit log, its meeting workflow running under its own id', async () => {
    A = await submitReady(ctx, { title: 'Buurtfeest op korte termijn' });
    const res0 = await ctx.http().post('/api/v1/applications').send(validApplication({ title: 'Nog niet compleet', applicant: { ...validApplication().applicant, email: 'b@example.nl' } }));
    expect(res0.status).toBe(201);
    B = { id: res0.body.id, reference: res0.body.reference, token: res0.body.accessToken };
    await waitForStatus(ctx, B, 'screening');

    const now = Date.now();
    const start = local(new Date(now + 3 * 60_000));
    const cutoff = local(new Date(now + 8_000));
    body = { date: start.date, time: start.time, cutoffDate: cutoff.date, cutoffTime: cutoff.seconds };
    meetingId = extraMeetingIdOf(start.date, start.time);
    const res = await addExtra(body);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    started.push(meetingId);
    cutoffAt = new Date(Math.floor((now + 8_000) / 1000) * 1000).toISOString();
    expect(res.body).toEqual({
      id: meetingId,
      extra: true,
      date: start.date,
      time: start.time,
      startsAt: new Date(Math.floor((now + 3 * 60_000) / 60_000) * 60_000).toISOString(),
      cutoffAt,
      endsAt: expect.any(String),
    });
    expect(Date.parse(res.body.endsAt)).toBeGreaterThan(Date.parse(res.body.startsAt));

    const audit = await ctx.models.Audit.find({ target: meetingId }).lean();
    expect(audit.map((a) => [a.actor, a.action, a.after])).toEqual([[`staff:${ids.admin}`, 'meeting.extra_added', { date: start.date, time: start.time, startsAt: res.body.startsAt, cutoffAt }]]);
    expect(Math.abs(new Date(audit[0]!.at).getTime() - now)).toBeLessThan(60_000);

    const d = await ctx.client.workflow.getHandle(meetingId).describe();
    expect([d.type, d.status.name, d.taskQueue]).toEqual(['panelMeetingWorkflow', 'RUNNING', ctx.config.temporal.taskQueue]);
    // Before its cut-off: waiting, nothing on the agenda yet.
    const view = await ctx.http().get(`/api/v1/meetings/${meetingId}`).set(bearer(tokens.panel1!));
    expect(view.status, JSON.stringify(view.body)).toBe(200);
    expect(view.body).toMatchObject({ id: meetingId, extra: true, date: start.date, status: 'waiting_for_cutoff', cutoffAt, agenda: [] });
    expect(view.body.regularDate).toBeUndefined();
  });

  it('the same request again (a retry) answers 200 with the same meeting: one workflow run, one audit record', async () => {
    const runId = (await ctx.client.workflow.getHandle(meetingId).describe()).runId;
    const again = await addExtra(body);
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(again.body).toMatchObject({ id: meetingId, cutoffAt });
    expect((await ctx.client.workflow.getHandle(meetingId).describe()).runId).toBe(runId);
    expect(await ctx.models.Audit.countDocuments({ target: meetingId })).toBe(1);
    expect(await ctx.models.ExtraMeeting.countDocuments()).toBe(1);
  });

  it('is in the calendar: the API list and the meetings page', async () => {
    const list = await ctx.http().get('/api/v1/meetings').set(bearer(admin));
    expect(list.status).toBe(200);
    // First in the list (it starts before the first regular meeting), then six regular ones.
    expect(list.body.upcoming.map((m: { id: string }) => m.id)).toEqual([meetingId, ...[0, 14, 28, 42, 56, 70].map((d) => `meeting-${plusDays(firstDate, d)}`)]);
    expect(list.body.upcoming[0]).toMatchObject({ id: meetingId, extra: true, moved: false, cutoffAt });
    expect(list.body.upcoming[1]).toMatchObject({ extra: false });

    const page = webClient(ctx);
    await page.login('panel1@buurtfonds.test');
    const html = (await page.get('/beheer/vergaderingen')).text;
    expect(html).toContain(`href="/beheer/vergaderingen/${meetingId}"`);
    expect(html).toContain('extra vergadering');
    // The panel sees the calendar, not the admin's form.
    expect(html).not.toContain('Datum van de extra vergadering');
  });

  it('freezes its agenda at the cut-off: the application ready by then is on it, the one still in screening is not', async () => {
    const state = await eventually(async () => {
      const s = await ctx.client.workflow.getHandle(meetingId).query(meetingStateQuery);
      return s.status === 'open' ? s : undefined;
    }, 30_000, `${meetingId} open`);
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(cutoffAt));
    expect(state.agenda.map((i) => i.applicationId)).toEqual([A.id]);
    expect(state.chairId).toBe(ids.panel1);
    expect((await waitForStatus(ctx, A, 'scheduled')).meeting).toMatchObject({ meetingId, date: body.date });
    expect((await waitForStatus(ctx, B, 'screening')).meeting).toBeNull();
    const frozen = await ctx.models.Meeting.findById(meetingId).lean();
    expect(frozen).toMatchObject({ status: 'agenda_frozen', date: body.date, cutoffAt: new Date(cutoffAt) });
    // Its agenda's keys were written with it: the erasure finds the meetings of an application by them.
    expect((await meetingsOfApplication(ctx.models, A.id)).map((m) => m._id)).toEqual([meetingId]);
    expect(await meetingsOfApplication(ctx.models, B.id)).toEqual([]);
  });

  it('the panel votes (page and API) and the chair closes it on the page: the decision reaches the application', async () => {
    const chair = webClient(ctx);
    await chair.login('panel1@buurtfonds.test');
    const page = await chair.get(`/beheer/vergaderingen/${meetingId}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Extra vergadering van');
    expect(page.text).toContain('Buurtfeest op korte termijn');
    const voted = await chair.post(`/beheer/vergaderingen/${meetingId}/stem`, { applicationId: A.id, item: '0', vote: 'approve' });
    expect([voted.status, voted.headers.location]).toEqual([303, `/beheer/vergaderingen/${meetingId}#item-0`]);
    for (const who of ['panel2', 'panel3']) {
      const res = await ctx.http().post(`/api/v1/meetings/${meetingId}/votes`).set(bearer(tokens[who]!)).send({ applicationId: A.id, vote: 'approve' });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    }
    // Only the chair closes it.
    const notChair = await ctx.http().post(`/api/v1/meetings/${meetingId}/close`).set(bearer(tokens.panel2!));
    expect([notChair.status, notChair.body.error?.code]).toEqual([403, 'not_the_chair']);
    await chair.get(`/beheer/vergaderingen/${meetingId}`);
    const closed = await chair.post(`/beheer/vergaderingen/${meetingId}/sluiten`, {});
    expect([closed.status, closed.headers.location]).toEqual([303, `/beheer/vergaderingen/${meetingId}`]);

    const reserved = await waitForStatus(ctx, A, 'reserved');
    expect(reserved.decision).toMatchObject({ meetingId, outcome: 'approved', grantedCents: validApplication().amountRequestedCents });
    await eventually(async () => (await ctx.models.Meeting.findById(meetingId, { status: 1 }).lean())?.status === 'closed', 15_000, 'closed in the read model');
    expect(await ctx.models.Audit.countDocuments({ _id: new RegExp(`^${meetingId}:vote:`) })).toBe(3);
    const list = await ctx.http().get('/api/v1/meetings').set(bearer(admin));
    expect(list.body.past.map((m: { id: string }) => m.id)).toEqual([meetingId]);
  });
});

describe('refusals', () => {
  it('a moment that has passed, a cut-off after the start or before now, a year ahead, malformed fields: 422 with the field and rule', async () => {
    // This very minute (a start that has just passed, the cut-off now): not in a minute's last seconds, so the server sees the same minute.
    while (new Date().getSeconds() >= 55) await new Promise((r) => setTimeout(r, 1_000));
    const now = local(new Date());
    await refused({ date: now.date, time: now.time, cutoffTime: now.time }, 422, 'validation_failed', [['time', 'meeting_in_past']]);
    await refused({ date: plusDays(today, -1), time: '10:00', cutoffTime: '09:00' }, 422, 'validation_failed', [
      ['date', 'meeting_in_past'],
      ['cutoffTime', 'cutoff_before_now'],
    ]);
    await refused({ date: tomorrow, time: '10:00', cutoffTime: '10:05' }, 422, 'validation_failed', [['cutoffTime', 'cutoff_after_start']]);
    await refused({ date: tomorrow, time: '10:00', cutoffDate: plusDays(today, 2), cutoffTime: '09:00' }, 422, 'validation_failed', [['cutoffDate', 'cutoff_after_start']]);
    await refused({ date: tomorrow, time: '10:00', cutoffDate: plusDays(today, -1), cutoffTime: '09:00' }, 422, 'validation_failed', [['cutoffDate', 'cutoff_before_now']]);
    await refused({ date: plusDays(today, 400), time: '10:00', cutoffTime: '09:00' }, 422, 'validation_failed', [['date', 'meeting_too_far_ahead']]);
    await refused({ date: '2027-02-30', time: '7:30', cutoffTime: '24:00', room: 'zaal 2' }, 422, 'validation_failed', [
      ['date', 'invalid_date'],
      ['time', 'invalid_format'],
      ['cutoffTime', 'invalid_format'],
      ['room', 'unrecognized_keys'],
    ]);
    await refused({ date: tomorrow, time: '10:00' }, 422, 'validation_failed', [['cutoffTime', 'invalid_type']]);
  });

  it('says what is wrong in Dutch and in English', async () => {
    const nl = await refused({ date: tomorrow, time: '10:00', cutoffTime: '10:05' }, 422, 'validation_failed', [['cutoffTime', 'cutoff_after_start']]);
    expect(nl.error.message).toBe('De extra vergadering is niet volledig of niet juist ingevuld.');
    expect(nl.error.details[0]!.message).toBe("Veld 'cutoffTime': de agenda moet sluiten voordat de vergadering begint (of op het moment zelf).");
    const en = await refused({ date: tomorrow, time: '10:00', cutoffTime: '10:05' }, 422, 'validation_failed', [['cutoffTime', 'cutoff_after_start']], 'en');
    expect(en.error.message).toBe('The extra meeting is incomplete or contains invalid values.');
    expect(en.error.details[0]!.message).toBe("Field 'cutoffTime': the agenda must close before the meeting starts (or at that moment).");
    const past = await refused({ date: plusDays(today, -1), time: '10:00', cutoffTime: '09:00' }, 422, 'validation_failed', [
      ['date', 'meeting_in_past'],
      ['cutoffTime', 'cutoff_before_now'],
    ], 'en');
    expect(past.error.details.map((d) => d.message)).toEqual([
      "Field 'date': this moment has passed. Choose a date and time in the future.",
      "Field 'cutoffTime': this moment has passed: the agenda can close now at the earliest.",
    ]);
  });

  it('a collision (409 meeting_collision): the day of a regular meeting, a cut-off within ten minutes of another, another agenda time at the same start; a move onto an extra meeting’s day or near another cut-off', async () => {
    // The day of the first regular meeting.
    const sameDay = await refused({ date: firstDate, time: '10:00', cutoffTime: '09:00' }, 409, 'meeting_collision', [['date', 'same_day']]);
    expect(sameDay.error.details[0]!.meetingId).toBe(`meeting-${firstDate}`);
    expect(sameDay.error.message).toBe('Dit botst met een andere vergadering: op die dag is al een gewone vergadering, of de agenda van een andere vergadering sluit bijna tegelijk. Kies een ander moment.');
    // Five minutes after the cut-off of the second regular meeting (19:30, seven days before it).
    const regularCutoff = plusDays(firstDate, 14 - 7);
    const near = await refused({ date: regularCutoff, time: '20:00', cutoffTime: '19:35' }, 409, 'meeting_collision', [['date', 'cutoff_taken']], 'en');
    expect(near.error.details[0]!.meetingId).toBe(`meeting-${plusDays(firstDate, 14)}`);
    expect(near.error.message).toBe('This clashes with another meeting: there is a regular meeting that day, or the agenda of another meeting closes at nearly the same moment. Choose another moment.');
    // Ten minutes apart is allowed (then refused for the same start with another cut-off).
    const far = { date: regularCutoff, time: '20:00', cutoffTime: '19:40' };
    const ok = await addExtra(far);
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    started.push(ok.body.id);
    const sameStart = await refused({ ...far, cutoffTime: '19:50' }, 409, 'meeting_collision', [['date', 'same_start']]);
    expect(sameStart.error.details[0]!.meetingId).toBe(ok.body.id);
    // An extra meeting whose cut-off is five minutes from another extra meeting's.
    await refused({ date: regularCutoff, time: '21:00', cutoffTime: '19:45' }, 409, 'meeting_collision', [['date', 'cutoff_taken']]);
    // A regular meeting may not be moved onto the day of an extra one either.
    const move = await ctx.http().post(`/api/v1/meetings/meeting-${plusDays(firstDate, 28)}/move`).set(bearer(admin)).send({ date: regularCutoff, time: '19:30' });
    expect([move.status, move.body.error?.code, move.body.error?.details?.[0]?.code]).toEqual([409, 'meeting_collision', 'same_day']);
    // Nor so that its cut-off is within two hours of another regular meeting's (the Schedule finds a meeting by its cut-off).
    const onto = await ctx.http().post(`/api/v1/meetings/meeting-${plusDays(firstDate, 28)}/move`).set(bearer(admin)).send({ date: plusDays(firstDate, 14), time: '20:00' });
    expect([onto.status, onto.body.error?.code, onto.body.error?.details?.[0]]).toEqual([409, 'meeting_collision', expect.objectContaining({ code: 'cutoff_taken', meetingId: `meeting-${plusDays(firstDate, 14)}` })]);
    expect(await ctx.models.MeetingOverride.countDocuments()).toBe(0);
  });

  it('only the admin adds one: 401 without credentials, 403 for the panel, welfare, finance and an applicant', async () => {
    const before = await stored();
    const valid = { date: plusDays(today, 5), time: '10:00', cutoffTime: '09:00' };
    const anonymous = await ctx.http().post('/api/v1/meetings/extra').send(valid);
    expect([anonymous.status, anonymous.body.error.code]).toEqual([401, 'unauthenticated']);
    for (const token of [tokens.panel1!, await ctx.staff.welfare(), await ctx.login('financien@buurtfonds.test'), A.token]) {
      const res = await addExtra(valid, token);
      expect([res.status, res.body.error.code]).toEqual([403, 'forbidden']);
    }
    expect(await stored()).toEqual(before);
  });

  it('ids of extra meetings that do not exist: 404 to read, vote or close', async () => {
    const unknown = extraMeetingIdOf(plusDays(today, 6), '10:00');
    expect((await ctx.http().get(`/api/v1/meetings/${unknown}`).set(bearer(admin))).status).toBe(404);
    const vote = await ctx.http().post(`/api/v1/meetings/${unknown}/votes`).set(bearer(tokens.panel1!)).send({ applicationId: A.id, vote: 'approve' });
    expect([vote.status, vote.body.error.code]).toEqual([404, 'not_found']);
    const close = await ctx.http().post(`/api/v1/meetings/${unknown}/close`).set(bearer(tokens.panel1!));
    expect([close.status, close.body.error.code]).toEqual([404, 'not_found']);
  });
});

describe('the admin page form', () => {
  let adminPage: WebClient;
  beforeAll(async () => {
    adminPage = webClient(ctx);
    await adminPage.login('admin@buurtfonds.test');
  });

  it('shows the form with today filled in; refuses a past moment (422) and a collision (409) in words at the fields, in Dutch and English', async () => {
    const list = await adminPage.get('/beheer/vergaderingen');
    expect(list.text).toContain('Datum van de extra vergadering');
    expect(list.text).toMatch(new RegExp(`name="date" type="date" value="${today}"`));

    const before = await stored();
    const past = await adminPage.post('/beheer/vergaderingen/extra', { date: plusDays(today, -1), time: '10:00', cutoffTime: '09:00' });
    expect(past.status).toBe(422);
    expect(past.text).toContain('Dit moment is al voorbij. Kies een datum en tijd in de toekomst.');
    expect(past.text).toContain('Dit moment is al voorbij: de agenda kan op zijn vroegst nu sluiten.');
    expect(past.text).toContain('href="#f-date"');
    const empty = await adminPage.post('/beheer/vergaderingen/extra', { date: tomorrow, time: '', cutoffTime: '' });
    expect(empty.status).toBe(422);
    expect(empty.text).toContain('Vul de begintijd in.');
    expect(empty.text).toContain('Vul in hoe laat de agenda sluit.');
    const collision = await adminPage.post('/beheer/vergaderingen/extra', { date: firstDate, time: '10:00', cutoffTime: '09:00' });
    expect(collision.status).toBe(409);
    expect(collision.text).toContain('Op die dag is al een gewone vergadering');

    await adminPage.get('/taal/en?terug=%2Fbeheer%2Fvergaderingen');
    const english = await adminPage.post('/beheer/vergaderingen/extra', { date: tomorrow, time: '10:00', cutoffTime: '10:05' });
    expect(english.status).toBe(422);
    expect(english.text).toContain('The agenda must close before the meeting starts (or at that moment).');
    await adminPage.get('/taal/nl?terug=%2Fbeheer%2Fvergaderingen');
    expect(await stored()).toEqual(before);
  });

  it('adds one: back to the list with a message, the meeting listed as extra, its workflow running', async () => {
    const day = plusDays(today, 40);
    const res = await adminPage.post('/beheer/vergaderingen/extra', { date: day, time: '14:00', cutoffTime: '08:00', cutoffDate: plusDays(day, -1) });
    expect([res.status, res.headers.location]).toEqual([303, '/beheer/vergaderingen']);
    const id = extraMeetingIdOf(day, '14:00');
    started.push(id);
    const list = await adminPage.get('/beheer/vergaderingen');
    expect(list.text).toContain('De extra vergadering is toegevoegd.');
    expect(list.text).toContain(`href="/beheer/vergaderingen/${id}"`);
    expect((await ctx.client.workflow.getHandle(id).describe()).status.name).toBe('RUNNING');
    expect(await ctx.models.Audit.exists({ _id: `${id}:added`, actor: `staff:${ids.admin}`, action: 'meeting.extra_added' })).not.toBeNull();
  });
});

describe('after a crash between storing and starting', () => {
  it('the reconcile step writes the audit record and starts the workflow of a stored extra meeting, once', async () => {
    const day = plusDays(today, 44);
    const id = extraMeetingIdOf(day, '12:00');
    const at = new Date();
    const startsAt = new Date(`${day}T11:00:00Z`);
    await ctx.models.ExtraMeeting.create({ _id: id, date: day, time: '12:00', startsAt, cutoffAt: new Date(startsAt.getTime() - 3_600_000), endsAt: new Date(`${plusDays(day, 1)}T00:00:00Z`), by: ids.admin!, at });
    started.push(id);
    expect(await ctx.models.Audit.exists({ _id: `${id}:added` })).toBeNull();
    await ctx.deps.calendar.startExtraMeetings();
    await ctx.deps.calendar.startExtraMeetings();
    const d = await ctx.client.workflow.getHandle(id).describe();
    expect([d.type, d.status.name]).toEqual(['panelMeetingWorkflow', 'RUNNING']);
    const audit = await ctx.models.Audit.find({ target: id }).lean();
    expect(audit.map((a) => [a.actor, a.action, new Date(a.at).toISOString()])).toEqual([[`staff:${ids.admin}`, 'meeting.extra_added', at.toISOString()]]);
  });
});
