/**
 * The panel meeting through the HTTP API against the real worker: applications reach
 * `ready_for_meeting` through screening, a meeting freezes its agenda (with what the
 * panel needs: summary, documents, budget lines, budget remaining, fair-spread figures),
 * every refused vote gets a 4xx with a stable code and changes nothing, five members
 * voting at once all land, the last vote counts, the chair closes, decisions reach the
 * applications and the applicants; and the admin manages the panel.
 *
 * Two meetings: the regular dates of a calendar that starts 14 days before today
 * (MEETING_FIRST_DATE), so the second meeting is today and its budget year is this year.
 * Their workflows are started as the Schedule would, with the cut-off set to now (the
 * agenda freezes at once) and the end a day ahead (no automatic close during the test).
 * The meeting ids (`meeting-<date>`) are not used by any other test file.
 */
import { randomUUID } from 'node:crypto';
import type { Test } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planMeeting, type PlannedMeeting } from '../../src/domain/meetings.ts';
import { formatEuros } from '../../src/domain/money.ts';
import { AppError } from '../../src/domain/errors.ts';
import { calendarRules, meetingInput } from '../../src/temporal/schedule.ts';
import { meetingStateQuery, type panelMeetingWorkflow } from '../../workflows/meeting.ts';
import type { MeetingState } from '../../src/domain/workflow-types.ts';
import { DEMO_PASSWORD, eventually, type TestContext } from '../helpers/context.ts';
import { meetingTestContext } from '../helpers/meetings.ts';
import { pdfBytes, validApplication } from '../helpers/fixtures.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
const REQUESTED = 60_050; // validApplication(): 450,00 + 150,50
const BUDGET = 9_000_000; // ANNUAL_BUDGET_CENTS default
const dutchMonths = ['januari', 'februari', 'maart', 'april', 'mei', 'juni', 'juli', 'augustus', 'september', 'oktober', 'november', 'december'];

const amsterdamDay = (at: Date) => at.toLocaleDateString('sv-SE', { timeZone: 'Europe/Amsterdam' });
const plusDays = (date: string, days: number) => new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
const today = amsterdamDay(new Date());
const firstDate = plusDays(today, -14);

/** "29 november 2026" in a text, after `word`, as YYYY-MM-DD. */
function dutchDateAfter(text: string, word: string): string | undefined {
  const m = new RegExp(`${word} (?:\\p{L}+ )?(\\d{1,2}) (${dutchMonths.join('|')}) (\\d{4})`, 'u').exec(text);
  if (!m) return undefined;
  return `${m[3]}-${String(dutchMonths.indexOf(m[2]!) + 1).padStart(2, '0')}-${m[1]!.padStart(2, '0')}`;
}

interface Submitted {
  id: string;
  reference: string;
  token: string;
  email: string;
}

let ctx: TestContext, admin: string, tokens: Record<string, string>, ids: Record<string, string>, started: string[], closeContext: (() => Promise<void>) | undefined;
beforeAll(async () => void ({ ctx, admin, tokens, ids, started, close: closeContext } = await meetingTestContext(firstDate, 5)));
afterAll(() => closeContext?.());

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const as = (who: string, req: Test) => req.set(bearer(tokens[who] ?? who));

async function submit(overrides: Record<string, unknown> = {}, withDocument = false): Promise<Submitted> {
  const body = validApplication(overrides);
  const res = withDocument
    ? await ctx.http().post('/api/v1/applications').field('application', JSON.stringify(body)).attach('documents', pdfBytes, { filename: 'offerte.pdf' })
    : await ctx.http().post('/api/v1/applications').send(body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const app = { id: res.body.id, reference: res.body.reference, token: res.body.accessToken, email: body.applicant.email };
  await waitForStatus(app, 'screening');
  return app;
}

async function waitForStatus(app: Submitted, status: string) {
  return eventually(async () => {
    const r = await ctx.http().get(`/api/v1/applications/${app.id}`).set(bearer(admin));
    return r.body.status === status ? r.body : undefined;
  }, 15_000, `${app.reference} in ${status}`);
}

async function ready(app: Submitted) {
  const res = await as('panel3', ctx.http().post(`/api/v1/applications/${app.id}/screening/complete`));
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.body.status).toBe('ready_for_meeting');
}

/** Starts the meeting of a regular date the way the Schedule does, but with its cut-off now; waits until the agenda is frozen and announced. */
async function openMeeting(date: string): Promise<{ planned: PlannedMeeting; state: MeetingState }> {
  const planned = planMeeting(calendarRules(ctx.config), date);
  const input = { ...meetingInput(ctx.config, planned), cutoffAt: new Date().toISOString(), endsAt: new Date(Date.now() + DAY_MS).toISOString() };
  await ctx.client.workflow.start<typeof panelMeetingWorkflow>('panelMeetingWorkflow', { taskQueue: ctx.config.temporal.taskQueue, workflowId: planned.meetingId, args: [input] });
  started.push(planned.meetingId);
  const state = await eventually(async () => {
    const s = await meetingState(planned.meetingId);
    return s.status === 'open' ? s : undefined;
  }, 15_000, `${planned.meetingId} open`);
  for (const item of state.agenda) {
    await eventually(async () => (await ctx.models.Outbox.findById(`${item.applicationId}:meeting:${planned.meetingId}`, { status: 1 }).lean())?.status === 'sent', 15_000, 'applicant told the date');
  }
  await eventually(async () => (await ctx.models.Outbox.countDocuments({ _id: new RegExp(`^${planned.meetingId}:agenda:`), status: 'sent' })) === state.members.length, 15_000, 'members sent the agenda');
  return { planned, state };
}

const meetingState = (meetingId: string) => ctx.client.workflow.getHandle(meetingId).query(meetingStateQuery);

function vote(meetingId: string, who: string, body: Record<string, unknown>) {
  return as(who, ctx.http().post(`/api/v1/meetings/${meetingId}/votes`)).send(body);
}

async function castOk(meetingId: string, who: string, body: Record<string, unknown>) {
  const res = await vote(meetingId, who, body);
  expect(res.status, `${who} ${JSON.stringify(body)}: ${JSON.stringify(res.body)}`).toBe(200);
  expect(res.body.accepted).toBe(true);
}

async function close(meetingId: string, who: string) {
  const res = await as(who, ctx.http().post(`/api/v1/meetings/${meetingId}/close`));
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.body.status).toBe('closed');
  // The read model follows the close.
  await eventually(async () => (await ctx.models.Meeting.findById(meetingId, { status: 1 }).lean())?.status === 'closed', 15_000, `${meetingId} closed in the read model`);
  return res.body as { status: 'closed'; closedAt: string; outcomes: MeetingState['outcomes'] };
}

/** Everything a refused request could have changed. */
async function meetingSnapshot(meetingId: string) {
  const { Meeting, Audit, Outbox, Application, Event } = ctx.models;
  const [state, doc, audit, outbox, applications, events] = await Promise.all([
    meetingState(meetingId).catch(() => undefined),
    Meeting.findById(meetingId).lean(),
    Audit.countDocuments(),
    Outbox.countDocuments(),
    Application.find({}, { status: 1, statusSeq: 1, decision: 1 }).sort({ _id: 1 }).lean(),
    Event.countDocuments(),
  ]);
  return { state, doc, audit, outbox, applications, events };
}

async function unchanged(meetingId: string, what: () => Test | Promise<unknown>) {
  const before = await meetingSnapshot(meetingId);
  const res = await what();
  expect(await meetingSnapshot(meetingId), 'a refused request changed something').toEqual(before);
  return res as { status: number; body: { error?: { code: string; details: { code: string }[] } } };
}

/** A refused vote: the status and stable code, and nothing changed. */
async function refused(meetingId: string, who: string, body: Record<string, unknown>, status: number, code: string) {
  const res = await unchanged(meetingId, () => vote(meetingId, who, body));
  expect({ body, status: res.status, code: res.body.error?.code }).toEqual({ body, status, code });
}

// --- the story ------------------------------------------------------------------------------

const herhaal = { ...validApplication().applicant, name: 'Pieter Jansen', email: 'herhaal@example.nl' };
/** Meeting 1: G (granted) and X (rejected), both by the same applicant in Damsigt. */
let G: Submitted;
let X: Submitted;
/** Meeting 2: Y (X again, with what changed), A (a changed vote), B (partial), C (rejected), D (recusals: no quorum). */
let Y: Submitted;
let A: Submitted;
let B: Submitted;
let C: Submitted;
let D: Submitted;
let meeting1: string;
let meeting2: string;
const whatChanged = 'Nu doen twintig bewoners mee en de school stelt het plein beschikbaar.';

describe('the first meeting', () => {
  it('freezes every ready application, oldest first; the chair closes; the decisions reach the applications and the applicants', async () => {
    G = await submit({ applicant: herhaal, title: 'Buurtmoestuin Damsigt', wijken: ['Damsigt'] });
    X = await submit({ applicant: herhaal, title: 'Zomerfeest Damsigt', wijken: ['Damsigt'] });
    const late = await submit({ title: 'Nog in screening' }); // not ready: stays off the agenda
    await ready(G);
    await ready(X);

    const { planned, state } = await openMeeting(firstDate);
    meeting1 = planned.meetingId;
    expect(state.agenda.map((i) => i.applicationId)).toEqual([G.id, X.id]);
    expect(state.members.map((m) => m.id)).toEqual(['panel1', 'panel2', 'panel3', 'panel4', 'panel5'].map((p) => ids[p]));
    expect(state.chairId).toBe(ids.panel1);
    await waitForStatus(G, 'scheduled');
    expect((await waitForStatus(late, 'screening')).meeting).toBeNull();

    for (const who of ['panel1', 'panel2', 'panel3']) {
      await castOk(meeting1, who, { applicationId: G.id, vote: 'approve' });
      await castOk(meeting1, who, { applicationId: X.id, vote: 'reject', reasons: 'Te weinig bewoners betrokken.' });
    }
    const closed = await close(meeting1, 'panel1');
    expect(closed.outcomes).toEqual([
      { applicationId: G.id, outcome: 'approved', grantedCents: REQUESTED, reasons: [], struckLines: [], flagged: false },
      { applicationId: X.id, outcome: 'rejected', grantedCents: 0, reasons: ['Te weinig bewoners betrokken.'], struckLines: [], flagged: false },
    ]);
    expect((await waitForStatus(G, 'reserved')).decision).toMatchObject({ meetingId: meeting1, outcome: 'approved', grantedCents: REQUESTED });
    expect((await waitForStatus(X, 'rejected')).decision).toMatchObject({ meetingId: meeting1, outcome: 'rejected', grantedCents: 0, reasons: ['Te weinig bewoners betrokken.'] });
    const granted = await ctx.mail.waitFor((m) => m.to.includes(herhaal.email) && m.subject === `Uw aanvraag ${G.reference} is toegekend`);
    expect(granted.text).toContain(`U ontvangt ${formatEuros(REQUESTED)}.`);
    expect(granted.text).toMatch(/€\s600,50/);
  });
});

describe('the panel, managed by the admin', () => {
  it('lists the members; adds one (201), refuses a taken e-mail (409 email_taken)', async () => {
    const list = await ctx.http().get('/api/v1/panel/members').set(bearer(admin));
    expect(list.status).toBe(200);
    expect(list.body.members.map((m: { email: string; chair: boolean; active: boolean }) => [m.email, m.chair, m.active])).toEqual([
      ['panel1@buurtfonds.test', true, true],
      ['panel2@buurtfonds.test', false, true],
      ['panel3@buurtfonds.test', false, true],
      ['panel4@buurtfonds.test', false, true],
      ['panel5@buurtfonds.test', false, true],
    ]);

    const added = await ctx.http().post('/api/v1/panel/members').set(bearer(admin)).send({ email: 'panel6@buurtfonds.test', name: 'Panellid 6', password: DEMO_PASSWORD });
    expect(added.status, JSON.stringify(added.body)).toBe(201);
    expect(added.body).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), email: 'panel6@buurtfonds.test', name: 'Panellid 6', chair: false, active: true });
    ids.panel6 = added.body.id;
    tokens.panel6 = await ctx.login('panel6@buurtfonds.test');

    const before = await ctx.models.StaffUser.countDocuments();
    const taken = await ctx.http().post('/api/v1/panel/members').set(bearer(admin)).send({ email: 'Panel6@Buurtfonds.test', name: 'Dubbel', password: DEMO_PASSWORD });
    expect([taken.status, taken.body.error.code]).toEqual([409, 'email_taken']);
    expect(await ctx.models.StaffUser.countDocuments()).toBe(before);
    const invalid = await ctx.http().post('/api/v1/panel/members').set(bearer(admin)).send({ email: 'geen-adres', name: 'X', password: 'kort' });
    expect([invalid.status, invalid.body.error.code]).toEqual([422, 'validation_failed']);
  });

  it('deactivates a member: their login and their token stop working', async () => {
    const res = await ctx.http().post(`/api/v1/panel/members/${ids.panel5}/deactivate`).set(bearer(admin));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ id: ids.panel5, active: false, chair: false });
    const login = await ctx.http().post('/api/v1/auth/login').send({ email: 'panel5@buurtfonds.test', password: DEMO_PASSWORD });
    expect(login.status).toBe(401);
    const withOldToken = await as('panel5', ctx.http().get('/api/v1/meetings'));
    expect([withOldToken.status, withOldToken.body.error.code]).toEqual([401, 'unauthenticated']);
    // Not a panel member: 404.
    const notPanel = await ctx.http().post(`/api/v1/panel/members/${ids.admin}/deactivate`).set(bearer(admin));
    expect(notPanel.status).toBe(404);
  });
});

describe('the second meeting', () => {
  let agendaView: { agenda: Record<string, unknown>[] } & Record<string, unknown>;

  it('freezes its agenda with what the panel needs to decide fairly', async () => {
    Y = await submit({ applicant: herhaal, title: 'Zomerfeest Damsigt', wijken: ['Damsigt', 'Stompwijk'], previousApplicationId: X.id, whatChanged }, true);
    A = await submit({ title: 'Straatfeest A' });
    B = await submit({ title: 'Straatfeest B', applicant: { ...validApplication().applicant, email: 'b@example.nl' } });
    C = await submit({ title: 'Straatfeest C', applicant: { ...validApplication().applicant, email: 'c@example.nl' } });
    D = await submit({ title: 'Straatfeest D', applicant: { ...validApplication().applicant, email: 'd@example.nl' } });
    for (const app of [Y, A, B, C, D]) await ready(app);

    const { planned, state } = await openMeeting(today);
    meeting2 = planned.meetingId;
    expect(state.agenda.map((i) => i.applicationId)).toEqual([Y, A, B, C, D].map((a) => a.id));
    // The deactivated member is not on it, the new one is; the chair is still panel1.
    expect(state.members.map((m) => m.id)).toEqual(['panel1', 'panel2', 'panel3', 'panel4', 'panel6'].map((p) => ids[p]));
    expect(state.chairId).toBe(ids.panel1);

    const res = await as('panel2', ctx.http().get(`/api/v1/meetings/${meeting2}`));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    agendaView = res.body;
    expect(res.body).toMatchObject({ id: meeting2, regularDate: today, date: today, status: 'open', chairId: ids.panel1, votes: [], recusals: [], outcomes: [] });
    expect(res.body.startsAt).toBe(planned.startsAt);
    const y = res.body.agenda[0];
    expect(y).toMatchObject({
      applicationId: Y.id,
      reference: Y.reference,
      title: 'Zomerfeest Damsigt',
      applicantName: 'Pieter Jansen',
      wijken: ['Damsigt', 'Stompwijk'],
      purposes: ['cohesion'],
      expectedParticipants: 120,
      amountRequestedCents: REQUESTED,
      budgetLines: [
        { description: 'Huur partytent', amountCents: 45_000 },
        { description: 'Springkussen', amountCents: 15_050 },
      ],
      coFunding: [{ source: 'Eigen bijdrage bewoners', amountCents: 10_000 }],
      rollovers: 0,
      invited: false,
      // The budget of the activity's year (2027) minus what meeting 1 granted (reserved in the ledger).
      budgetYear: 2027,
      budgetRemainingCents: BUDGET - REQUESTED,
      budgetRemainingCentsNow: BUDGET - REQUESTED,
      fairSpread: {
        applicantGrantedCents: REQUESTED,
        wijkGrantedCents: { Damsigt: REQUESTED, Stompwijk: 0 },
        earlierRejection: { applicationId: X.id, reference: X.reference, whatChanged },
      },
    });
    expect(y.documents).toEqual([{ id: expect.any(String), fileName: 'offerte.pdf', contentType: 'application/pdf', size: pdfBytes.length }]);
    const a = res.body.agenda[1];
    expect(a).toMatchObject({ applicationId: A.id, budgetRemainingCents: BUDGET - REQUESTED, fairSpread: { applicantGrantedCents: 0, wijkGrantedCents: { 'Voorburg-Midden': 0 } }, documents: [] });
    expect(a.fairSpread.earlierRejection).toBeUndefined();

    // The applicant of Y is told the date, in Dutch; the members get the agenda.
    const mail = await ctx.mail.waitFor((m) => m.to.includes(herhaal.email) && m.subject.startsWith(`Uw aanvraag ${Y.reference} wordt besproken`));
    expect(dutchDateAfter(mail.subject, 'op'), mail.subject).toBe(today);
    expect(mail.text).toContain('staat op de agenda van het panel');
    const agendaMail = await ctx.mail.waitFor((m) => m.to.includes('panel6@buurtfonds.test') && m.subject.startsWith('Agenda panelvergadering'));
    for (const app of [Y, A, B, C, D]) expect(agendaMail.text).toContain(app.reference);
    expect(await ctx.models.Outbox.exists({ _id: `${meeting2}:agenda:${ids.panel5}` })).toBeNull();
    expect((await waitForStatus(Y, 'scheduled')).meeting).toMatchObject({ meetingId: meeting2, date: today });
  });

  it('after the freeze: a new member is not in this meeting; naming a chair applies from the next agenda on', async () => {
    const added = await ctx.http().post('/api/v1/panel/members').set(bearer(admin)).send({ email: 'panel7@buurtfonds.test', name: 'Panellid 7', password: DEMO_PASSWORD });
    expect(added.status).toBe(201);
    ids.panel7 = added.body.id;
    tokens.panel7 = await ctx.login('panel7@buurtfonds.test');

    const chair = await ctx.http().post(`/api/v1/panel/members/${ids.panel2}/chair`).set(bearer(admin));
    expect(chair.status, JSON.stringify(chair.body)).toBe(200);
    expect(chair.body).toMatchObject({ id: ids.panel2, chair: true, active: true });
    const list = await ctx.http().get('/api/v1/panel/members').set(bearer(admin));
    expect(list.body.members.filter((m: { chair: boolean }) => m.chair).map((m: { id: string }) => m.id)).toEqual([ids.panel2]);
    // A deactivated member cannot chair.
    const inactive = await ctx.http().post(`/api/v1/panel/members/${ids.panel5}/chair`).set(bearer(admin));
    expect([inactive.status, inactive.body.error.code]).toEqual([409, 'invalid_state']);
    expect((await meetingState(meeting2)).chairId).toBe(ids.panel1);
  });

  it('a member invites an applicant to explain the plan: the item is marked, the applicant mailed with the date', async () => {
    const res = await as('panel3', ctx.http().post(`/api/v1/meetings/${meeting2}/invitations`)).send({ applicationId: A.id });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const view = await as('panel3', ctx.http().get(`/api/v1/meetings/${meeting2}`));
    expect(view.body.agenda.map((i: { invited: boolean }) => i.invited)).toEqual([false, true, false, false, false]);
    const mail = await ctx.mail.waitFor((m) => m.to.includes(A.email) && m.subject.startsWith(`Uitnodiging: licht uw plan ${A.reference} toe`));
    expect(dutchDateAfter(mail.subject, 'op')).toBe(today);
    await eventually(async () => (await ctx.models.Outbox.findById(`${A.id}:invited:${meeting2}`, { status: 1 }).lean())?.status === 'sent', 15_000, 'invitation sent');
  });

  it('recusals: a member declares a conflict of interest with a reason', async () => {
    for (const who of ['panel4', 'panel6']) {
      const res = await as(who, ctx.http().post(`/api/v1/meetings/${meeting2}/recusals`)).send({ applicationId: D.id, reason: 'De aanvrager is mijn buurvrouw.' });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    }
    const noReason = await unchanged(meeting2, () => as('panel1', ctx.http().post(`/api/v1/meetings/${meeting2}/recusals`)).send({ applicationId: D.id }));
    expect([noReason.status, noReason.body.error?.code]).toEqual([422, 'validation_failed']);
    expect((await meetingState(meeting2)).recusals.map((r) => [r.memberId, r.applicationId])).toEqual([
      [ids.panel4, D.id],
      [ids.panel6, D.id],
    ]);
  });

  it('refuses every invalid vote with a 4xx and a stable code, and changes nothing', async () => {
    const E = await submit({ title: 'Te laat voor de agenda', applicant: { ...validApplication().applicant, email: 'e@example.nl' } });
    await ready(E); // after the cut-off: for the next meeting

    // Not a member of this meeting: added after the freeze.
    await refused(meeting2, 'panel7', { applicationId: A.id, vote: 'approve' }, 403, 'not_a_member');
    // Deactivated before the freeze: the token no longer works at all …
    const old = await unchanged(meeting2, () => vote(meeting2, 'panel5', { applicationId: A.id, vote: 'approve' }));
    expect([old.status, old.body.error?.code]).toEqual([401, 'unauthenticated']);
    // … and the meeting itself refuses the member (the same refusal through the API's command layer).
    let direct: unknown;
    await unchanged(meeting2, () => ctx.deps.meetings.castVote(meeting2, { memberId: ids.panel5!, applicationId: A.id, vote: 'approve' }).catch((e: unknown) => (direct = e)));
    expect(direct).toBeInstanceOf(AppError);
    expect([(direct as AppError).status, (direct as AppError).code]).toEqual([403, 'not_a_member']);
    // Staff who are not on the panel never reach the meeting.
    const welfare = await unchanged(meeting2, () => ctx.staff.welfare().then((t) => vote(meeting2, t, { applicationId: A.id, vote: 'approve' })));
    expect([welfare.status, welfare.body.error?.code]).toEqual([403, 'forbidden']);

    await refused(meeting2, 'panel4', { applicationId: D.id, vote: 'approve' }, 409, 'recused');
    await refused(meeting2, 'panel1', { applicationId: E.id, vote: 'approve' }, 422, 'not_on_agenda');
    await refused(meeting2, 'panel1', { applicationId: randomUUID(), vote: 'approve' }, 422, 'not_on_agenda');

    for (const body of [
      { applicationId: A.id, vote: 'partial', amountCents: 0, reasons: 'Niets' },
      { applicationId: A.id, vote: 'partial', amountCents: -100, reasons: 'Minder dan niets' },
      { applicationId: A.id, vote: 'partial', amountCents: REQUESTED + 1, reasons: 'Meer dan gevraagd' },
      { applicationId: A.id, vote: 'partial', reasons: 'Zonder bedrag' },
      { applicationId: A.id, vote: 'approve', amountCents: 10_000 },
      { applicationId: A.id, vote: 'reject', amountCents: 10_000, reasons: 'Nee' },
    ]) {
      await refused(meeting2, 'panel1', body, 422, 'invalid_amount');
    }
    await refused(meeting2, 'panel1', { applicationId: A.id, vote: 'partial', amountCents: 30_000 }, 422, 'reasons_required');
    await refused(meeting2, 'panel1', { applicationId: A.id, vote: 'reject' }, 422, 'reasons_required');
    await refused(meeting2, 'panel1', { applicationId: A.id, vote: 'partial', amountCents: 30_000, struckLines: [2], reasons: 'Regel 3' }, 422, 'invalid_struck_line');

    for (const body of [
      {},
      { applicationId: A.id },
      { applicationId: A.id, vote: 'misschien' },
      { applicationId: 'niet-een-id', vote: 'approve' },
      { applicationId: A.id, vote: 'approve', extra: true },
      { applicationId: A.id, vote: 'partial', amountCents: 100.5, reasons: 'Halve centen' },
      { applicationId: A.id, vote: 'partial', amountCents: '30000', reasons: 'Tekst' },
      { applicationId: A.id, vote: 'reject', reasons: '   ' },
      { applicationId: A.id, vote: 'partial', amountCents: 30_000, struckLines: [-1], reasons: 'Negatief' },
    ]) {
      await refused(meeting2, 'panel1', body, 422, 'validation_failed');
    }
    const notJson = await unchanged(meeting2, () => as('panel1', ctx.http().post(`/api/v1/meetings/${meeting2}/votes`)).set('content-type', 'application/json').send('{"vote":'));
    expect([notJson.status, notJson.body.error?.code]).toEqual([400, 'invalid_json']);

    // Only this meeting's chair closes it early: not another member, not the newly named chair.
    for (const who of ['panel3', 'panel2', 'panel7']) {
      const res = await unchanged(meeting2, () => as(who, ctx.http().post(`/api/v1/meetings/${meeting2}/close`)));
      expect({ who, status: res.status, code: res.body.error?.code }).toEqual({ who, status: 403, code: who === 'panel7' ? 'not_a_member' : 'not_the_chair' });
    }

    // A meeting whose agenda is not frozen yet, and ids that are not meetings of the calendar.
    const next = `meeting-${plusDays(today, 14)}`;
    const notOpen = await unchanged(meeting2, () => vote(next, 'panel1', { applicationId: A.id, vote: 'approve' }));
    expect([notOpen.status, notOpen.body.error?.code]).toEqual([409, 'meeting_not_open']);
    for (const id of [`meeting-${plusDays(today, 1)}`, `meeting-${plusDays(firstDate, -14)}`, 'meeting-2026-02-30']) {
      const res = await unchanged(meeting2, () => vote(id, 'panel1', { applicationId: A.id, vote: 'approve' }));
      expect({ id, status: res.status, code: res.body.error?.code }).toEqual({ id, status: 404, code: 'not_found' });
    }
    expect((await meetingState(meeting2)).votes).toEqual([]);
  });

  it('five members voting on the same item at the same moment all land', async () => {
    const voters = ['panel1', 'panel2', 'panel3', 'panel4', 'panel6'];
    const results = await Promise.all(voters.map((who) => vote(meeting2, who, { applicationId: Y.id, vote: 'approve' })));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    const state = await meetingState(meeting2);
    expect(state.votes.filter((v) => v.applicationId === Y.id).map((v) => v.memberId).sort()).toEqual(voters.map((p) => ids[p]).sort());
    const view = await as('panel1', ctx.http().get(`/api/v1/meetings/${meeting2}`));
    expect(view.body.votes.filter((v: { applicationId: string }) => v.applicationId === Y.id)).toHaveLength(5);
  });

  it('a member changes a vote until the close; the last one counts', async () => {
    await castOk(meeting2, 'panel1', { applicationId: A.id, vote: 'approve' });
    await castOk(meeting2, 'panel3', { applicationId: A.id, vote: 'reject', reasons: 'Dit is geen buurtinitiatief.' });
    await castOk(meeting2, 'panel2', { applicationId: A.id, vote: 'reject', reasons: 'Eerst de vergunning.' });
    await castOk(meeting2, 'panel2', { applicationId: A.id, vote: 'approve' }); // the vergunning is there after all

    await castOk(meeting2, 'panel1', { applicationId: B.id, vote: 'partial', amountCents: 40_000, struckLines: [1], reasons: 'Het springkussen betalen we niet.' });
    await castOk(meeting2, 'panel2', { applicationId: B.id, vote: 'partial', amountCents: 45_000, struckLines: [1], reasons: 'Zonder springkussen.' });
    await castOk(meeting2, 'panel3', { applicationId: B.id, vote: 'approve' });
    await castOk(meeting2, 'panel4', { applicationId: B.id, vote: 'reject', reasons: 'Te duur voor één straat.' });

    for (const [who, reasons] of [
      ['panel1', 'Valt buiten de regeling.'],
      ['panel2', 'Valt buiten de regeling.'],
      ['panel3', 'Er is al een subsidie van de provincie.'],
    ] as const) {
      await castOk(meeting2, who, { applicationId: C.id, vote: 'reject', reasons });
    }
    // D: two members recused, two vote: no quorum of three.
    await castOk(meeting2, 'panel1', { applicationId: D.id, vote: 'approve' });
    await castOk(meeting2, 'panel2', { applicationId: D.id, vote: 'approve' });

    const view = await as('panel4', ctx.http().get(`/api/v1/meetings/${meeting2}`));
    const onA = view.body.votes.filter((v: { applicationId: string }) => v.applicationId === A.id);
    expect(onA.map((v: { memberId: string; vote: string }) => [v.memberId, v.vote])).toEqual([
      [ids.panel1, 'approve'],
      [ids.panel3, 'reject'],
      [ids.panel2, 'reject'],
      [ids.panel2, 'approve'],
    ]);
    expect(view.body.recusals).toHaveLength(2);
  });

  it('the chair closes: outcomes per item, decisions on the applications, Dutch mails with amount and reasons', async () => {
    const closed = await close(meeting2, 'panel1');
    expect(closed.outcomes).toEqual([
      { applicationId: Y.id, outcome: 'approved', grantedCents: REQUESTED, reasons: [], struckLines: [], flagged: false },
      { applicationId: A.id, outcome: 'approved', grantedCents: REQUESTED, reasons: [], struckLines: [], flagged: false },
      { applicationId: B.id, outcome: 'partially_approved', grantedCents: 40_000, reasons: ['Het springkussen betalen we niet.'], struckLines: [1], flagged: false },
      { applicationId: C.id, outcome: 'rejected', grantedCents: 0, reasons: ['Valt buiten de regeling.', 'Er is al een subsidie van de provincie.'], struckLines: [], flagged: false },
      { applicationId: D.id, outcome: 'rollover', grantedCents: 0, reasons: [], struckLines: [], rolloverReason: 'no_quorum', flagged: false },
    ]);

    expect((await waitForStatus(Y, 'reserved')).decision).toMatchObject({ outcome: 'approved', grantedCents: REQUESTED });
    expect((await waitForStatus(A, 'reserved')).decision).toMatchObject({ outcome: 'approved', grantedCents: REQUESTED });
    expect((await waitForStatus(B, 'reserved')).decision).toMatchObject({
      meetingId: meeting2,
      outcome: 'partially_approved',
      grantedCents: 40_000,
      requestedCents: REQUESTED,
      reasons: ['Het springkussen betalen we niet.'],
      struckLines: [1],
    });
    expect((await waitForStatus(C, 'rejected')).decision).toMatchObject({ outcome: 'rejected', grantedCents: 0 });
    const d = await waitForStatus(D, 'ready_for_meeting');
    expect([d.rollovers, d.decision, d.meeting]).toEqual([1, null, null]);

    const partial = await ctx.mail.waitFor((m) => m.to.includes(B.email) && m.subject === `Uw aanvraag ${B.reference} is gedeeltelijk toegekend`);
    expect(partial.text).toContain(`u ontvangt ${formatEuros(40_000)} van de gevraagde ${formatEuros(REQUESTED)}`);
    expect(partial.text).toMatch(/€\s400,00 van de gevraagde €\s600,50/);
    expect(partial.text).toContain('Het springkussen betalen we niet.');
    expect(partial.text).not.toContain('Te duur voor één straat.');
    const rejected = await ctx.mail.waitFor((m) => m.to.includes(C.email) && m.subject === `Uw aanvraag ${C.reference} is afgewezen`);
    expect(rejected.text).toContain('Het panel heeft uw aanvraag "Straatfeest C"');
    expect(rejected.text).toContain('Valt buiten de regeling.\nEr is al een subsidie van de provincie.');
    const approved = await ctx.mail.waitFor((m) => m.to.includes(herhaal.email) && m.subject === `Uw aanvraag ${Y.reference} is toegekend`);
    expect(approved.text).toMatch(/U ontvangt €\s600,50\./);
    expect(ctx.mail.mails.some((m) => m.to.includes(D.email) && /toegekend|afgewezen/.test(m.subject))).toBe(false);

    // The read model and the audit log: every vote, recusal and decision.
    const doc = await ctx.models.Meeting.findById(meeting2).lean();
    expect(doc).toMatchObject({ status: 'closed', closedBy: ids.panel1 });
    expect(doc!.votes).toHaveLength(5 + 4 + 4 + 3 + 2);
    const audit = await ctx.models.Audit.find({ _id: new RegExp(`^${meeting2}:`) }).lean();
    const count = (action: string) => audit.filter((a) => a.action === action).length;
    expect([count('vote.cast'), count('recusal.declared'), count('decision.made'), count('decision.rolled_over')]).toEqual([18, 2, 4, 1]);
  });

  it('votes are for staff; the applicant sees the decision and its reasons, not the votes', async () => {
    const staffView = await as('panel1', ctx.http().get(`/api/v1/meetings/${meeting2}`));
    expect(staffView.body).toMatchObject({ status: 'closed', closedBy: ids.panel1 });
    expect(staffView.body.votes.filter((v: { applicationId: string }) => v.applicationId === B.id)).toHaveLength(4);

    const own = await ctx.http().get(`/api/v1/applications/${B.id}`).set(bearer(B.token));
    expect(own.status).toBe(200);
    expect(own.body.decision).toMatchObject({ outcome: 'partially_approved', grantedCents: 40_000, reasons: ['Het springkussen betalen we niet.'], struckLines: [1] });
    const text = JSON.stringify(own.body);
    expect(text).not.toMatch(/"votes?"|"memberId"|"recusals?"/);
    // Who voted is not shown (panel3 appears only as the screener in the timeline).
    for (const who of ['panel1', 'panel2', 'panel4']) expect(text).not.toContain(ids[who]);
    expect(text).not.toContain('Te duur voor één straat.');
    expect(text).not.toContain('Zonder springkussen.');
    // And the applicant cannot read the meeting.
    const meeting = await ctx.http().get(`/api/v1/meetings/${meeting2}`).set(bearer(B.token));
    expect(meeting.status).toBe(403);
  });

  it('a closed meeting refuses votes, recusals and a second close with 409 meeting_closed', async () => {
    await refused(meeting2, 'panel1', { applicationId: A.id, vote: 'reject', reasons: 'Te laat' }, 409, 'meeting_closed');
    const recusal = await unchanged(meeting2, () => as('panel1', ctx.http().post(`/api/v1/meetings/${meeting2}/recusals`)).send({ applicationId: A.id, reason: 'Te laat' }));
    expect([recusal.status, recusal.body.error?.code]).toEqual([409, 'meeting_closed']);
    const again = await unchanged(meeting2, () => as('panel1', ctx.http().post(`/api/v1/meetings/${meeting2}/close`)));
    expect([again.status, again.body.error?.code]).toEqual([409, 'meeting_closed']);
  });

  it('GET /api/v1/meetings lists the next six meetings and the past ones', async () => {
    const res = await as('panel1', ctx.http().get('/api/v1/meetings'));
    expect(res.status).toBe(200);
    expect(res.body.upcoming).toHaveLength(6);
    expect(res.body.upcoming.map((m: { id: string }) => m.id)).toEqual([0, 14, 28, 42, 56, 70].map((d) => `meeting-${plusDays(today, d)}`));
    expect(res.body.upcoming[0]).toMatchObject({ date: today, time: '19:30', moved: false, status: 'closed' });
    expect(res.body.upcoming[1]).toMatchObject({ status: 'planned' });
    expect(res.body.past.map((m: { id: string; status: string }) => [m.id, m.status])).toEqual([
      [meeting2, 'closed'],
      [meeting1, 'closed'],
    ]);
    expect(res.body.past[1].outcomes.map((o: { outcome: string }) => o.outcome)).toEqual(['approved', 'rejected']);
    const asAdmin = await ctx.http().get('/api/v1/meetings').set(bearer(admin));
    expect(asAdmin.status).toBe(200);
  });
});
