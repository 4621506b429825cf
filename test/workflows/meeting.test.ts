/**
 * panelMeetingWorkflow on the real time-skipping test server (six weeks of meetings
 * pass in seconds), with the real initiative workflows, the real activities against a
 * real database (FerretDB) and a real SMTP server. Applications reach
 * `ready_for_meeting` the real way (initiativeWorkflow + completeScreening); the
 * meetings are planned with the calendar of src/domain/meetings.ts (every 14 days,
 * cut-off 7 days before, 19:30 Amsterdam). Time only skips while a test awaits
 * `env.sleep` or a workflow result, so the steps in between are deterministic.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { amsterdamDate, DAY_MS, formatDate, formatDateTime } from '../../src/domain/dates.ts';
import { formatEuros } from '../../src/domain/money.ts';
import { upcomingMeetings, type PlannedMeeting } from '../../src/domain/meetings.ts';
import type { VoteKind } from '../../src/domain/decision.ts';
import type { DecisionNotice } from '../../src/domain/decisions.ts';
import { completeScreeningUpdate, stateQuery, type initiativeWorkflow } from '../../workflows/initiative.ts';
import { decisionSignal } from '../../workflows/initiative-signals.ts';
import { castVoteUpdate, closeMeetingUpdate, declareRecusalUpdate, inviteApplicantUpdate, meetingStateQuery, type panelMeetingWorkflow } from '../../workflows/meeting.ts';
import { MEETING_REFUSED, type CastVoteArgs, type MeetingInput, type MeetingState } from '../../src/domain/workflow-types.ts';
import { eventually } from '../helpers/context.ts';
import { sendMeetingUpdate } from '../../src/services/meetings.ts';
import { CALENDAR } from '../helpers/time-skipping.ts';
import { expectRefused, REQUESTED_CENTS as REQUESTED, timeSkippingSuite } from '../helpers/time-skipping-suite.ts';

const HOUR_MS = 60 * 60 * 1000;
const MINUTE_MS = 60 * 1000;
const SCREENER = 'welzijn1@buurtfonds.test';

type Initiative = WorkflowHandle<typeof initiativeWorkflow>;
type Meeting = WorkflowHandle<typeof panelMeetingWorkflow>;

/** Lets a test hold the recordMeetingOutcome activity (the meeting is closed, not yet completed). */
let holdOutcome: (() => Promise<void>) | undefined;

const suite = timeSkippingSuite({
  name: 'meeting',
  activities: (real) => ({
    ...real,
    async recordMeetingOutcome(input) {
      await holdOutcome?.();
      return real.recordMeetingOutcome(input);
    },
  }),
  staff: () => [
    ...panel.map((p) => ({ ...p, role: 'panel' as const, active: true })),
    { _id: formerMember, email: `oud-lid-${suffix}@buurtfonds.test`, name: 'Fleur Oud', role: 'panel' as const, chair: false, active: false },
    { _id: welfareWorker, email: `welzijn-${suffix}@buurtfonds.test`, name: 'Gert Welzijn', role: 'welfare' as const, chair: false, active: true },
    { _id: `admin-${suffix}`, email: `beheer-${suffix}@buurtfonds.test`, name: 'Beheerder', role: 'admin' as const, chair: false, active: true },
  ],
  beforeTerminate: () => void (holdOutcome = undefined),
  // An application left ready_for_meeting would land on the next test's agenda.
  async afterTerminate() {
    await suite.models.Application.deleteMany({});
  },
});
const { suffix, taskQueue, started, application, statusOf, timeline, mailsTo, waitForMail, finished, sleepUntil } = suite;

/** Five panel members (the first one chairs), one former member and a welfare worker. */
const panel = ['Anouk Bakker', 'Bram de Jong', 'Chantal Visser', 'Daan Smit', 'Esra Yilmaz'].map((name, i) => ({
  _id: `lid-${i + 1}-${suffix}`,
  email: `lid${i + 1}-${suffix}@buurtfonds.test`,
  name,
  chair: i === 0,
}));
const [chair, m2, m3, m4, m5] = panel.map((p) => p._id) as [string, string, string, string, string];
const formerMember = `oud-lid-${suffix}`;
const welfareWorker = `welzijn-${suffix}`;

// ---------------------------------------------------------------------------------
// Applications

interface App {
  applicationId: string;
  reference: string;
  email: string;
  handle: Initiative;
  /** Test-server time at which it became ready_for_meeting. */
  readyAt: number;
}

/** Stores an application as intake does and starts its initiative workflow; returns once it is in screening. */
async function submit(label: string): Promise<Omit<App, 'readyAt'>> {
  // No support case: support is not what this file tests, and a support workflow terminated after
  // a test with an activity in flight holds the time-skipping server's clock until that activity's
  // timeout (a minute per test on a loaded machine). The support case with its initiative is in
  // test/workflows/lifecycle.test.ts and support-child.test.ts.
  return suite.submit(label, { form: { wantsSupport: false, supportWish: undefined, title: `Buurtinitiatief ${label}` }, applicant: { name: `Aanvrager ${label}` } });
}

/** Completes the screening: the application is ready_for_meeting (read model included) when this returns. */
async function complete(app: Omit<App, 'readyAt'>): Promise<App> {
  expect(await app.handle.executeUpdate(completeScreeningUpdate, { args: [{ completedBy: SCREENER }] })).toEqual({ status: 'ready_for_meeting' });
  expect((await application(app.applicationId))?.status).toBe('ready_for_meeting');
  return { ...app, readyAt: await suite.env.currentTimeMs() };
}

async function ready(label: string): Promise<App> {
  return complete(await submit(label));
}

async function timelineTypes(applicationId: string) {
  return (await timeline(applicationId)).map((e) => ({ type: e.type, status: e.status, note: e.note }));
}

const subjects = {
  scheduled: (app: App, m: PlannedMeeting) => `Uw aanvraag ${app.reference} wordt besproken op ${formatDate(new Date(m.startsAt))}`,
  invited: (app: App, m: PlannedMeeting) => `Uitnodiging: licht uw plan ${app.reference} toe op ${formatDate(new Date(m.startsAt))}`,
  approved: (app: App) => `Uw aanvraag ${app.reference} is toegekend`,
  partial: (app: App) => `Uw aanvraag ${app.reference} is gedeeltelijk toegekend`,
  rejected: (app: App) => `Uw aanvraag ${app.reference} is afgewezen`,
  agenda: (m: PlannedMeeting) => `Agenda panelvergadering ${formatDate(new Date(m.startsAt))}`,
};
const decisionSubjects = (app: App) => [subjects.approved(app), subjects.partial(app), subjects.rejected(app)];

/** The agenda e-mails of one meeting, one per panel member. */
function agendaMails(m: PlannedMeeting) {
  return suite.mail.mails.filter((x) => x.subject === subjects.agenda(m));
}

// ---------------------------------------------------------------------------------
// Meetings

/** The next `count` meetings whose cut-off lies at least two days ahead of test-server time. */
async function plan(count: number): Promise<PlannedMeeting[]> {
  const now = await suite.env.currentTimeMs();
  const firstDate = amsterdamDate(new Date(now + 10 * DAY_MS));
  const meetings = upcomingMeetings({ ...CALENDAR, firstDate }, [], new Date(now), count);
  expect(Date.parse(meetings[0]!.cutoffAt) - now).toBeGreaterThan(2 * DAY_MS);
  return meetings;
}

async function startMeeting(p: PlannedMeeting, changes: Partial<MeetingInput> = {}): Promise<Meeting> {
  const input: MeetingInput = { meetingId: p.meetingId, date: p.date, startsAt: p.startsAt, cutoffAt: p.cutoffAt, endsAt: p.endsAt, quorum: 3, flagAfterRollovers: 2, ...changes };
  const handle = await suite.env.client.workflow.start<typeof panelMeetingWorkflow>('panelMeetingWorkflow', { taskQueue, workflowId: p.meetingId, args: [input] });
  started.push(handle);
  return handle;
}

/** After the cut-off: waits for the frozen agenda, every initiative's `scheduled` projection and the members' agenda mails. */
async function opened(h: Meeting, p: PlannedMeeting, expected: App[]): Promise<MeetingState> {
  const state = await eventually(async () => {
    const s = await h.query(meetingStateQuery);
    return s.status === 'open' ? s : undefined;
  }, 15_000, `${p.meetingId} open`);
  for (const app of expected) await statusOf(app, 'scheduled');
  await eventually(async () => agendaMails(p).length >= panel.length, 15_000, `agenda mails of ${p.meetingId}`);
  return state;
}

async function closed(h: Meeting, p: PlannedMeeting): Promise<MeetingState> {
  return eventually(async () => {
    const s = await h.query(meetingStateQuery);
    return s.status === 'closed' ? s : undefined;
  }, 15_000, `${p.meetingId} closed`);
}

function vote(h: Meeting, memberId: string, app: App | string, kind: VoteKind, extra: Partial<CastVoteArgs> = {}) {
  const applicationId = typeof app === 'string' ? app : app.applicationId;
  return h.executeUpdate(castVoteUpdate, { args: [{ memberId, applicationId, vote: kind, ...extra }] });
}

function recuse(h: Meeting, memberId: string, app: App | string, reason = 'Mijn buurvrouw is de aanvrager') {
  const applicationId = typeof app === 'string' ? app : app.applicationId;
  return h.executeUpdate(declareRecusalUpdate, { args: [{ memberId, applicationId, reason }] });
}

/** Asserts a refused update: MeetingRefused with the stable code in details[0]. */
async function refused(update: Promise<unknown>, code: string): Promise<void> {
  const cause = await expectRefused(update, MEETING_REFUSED);
  expect(cause.details?.[0], cause.message).toBe(code);
}

const ids = (apps: App[]) => apps.map((a) => a.applicationId);

// ---------------------------------------------------------------------------------

describe('panelMeetingWorkflow: the fortnightly cycle', () => {
  it('runs three meetings over six weeks: agenda at each cut-off, oldest first, later ones to the next meeting; rollover, recusal and the flag', async () => {
    const realStart = Date.now();
    const [p1, p2, p3] = (await plan(3)) as [PlannedMeeting, PlannedMeeting, PlannedMeeting];
    expect(Date.parse(p2.startsAt) - Date.parse(p1.startsAt)).toBeGreaterThanOrEqual(14 * DAY_MS - HOUR_MS);
    expect(Date.parse(p1.startsAt) - Date.parse(p1.cutoffAt)).toBeGreaterThanOrEqual(7 * DAY_MS - HOUR_MS);

    // Two applications well before the first cut-off; the older one is screened last.
    const submittedA = await submit('a');
    const submittedB = await submit('b');
    const b = await complete(submittedB);
    const a = await complete(submittedA);
    expect(a.readyAt).toBeGreaterThan(b.readyAt);
    // The Schedule starts one workflow per meeting; each sleeps until its cut-off.
    const [h1, h2, h3] = [await startMeeting(p1), await startMeeting(p2), await startMeeting(p3)];
    expect(await h1.query(meetingStateQuery)).toMatchObject({ meetingId: p1.meetingId, status: 'waiting_for_cutoff', agenda: [], votes: [], outcomes: [] });

    // c: ready an hour before the first cut-off (still on it); d: an hour after (next meeting).
    await sleepUntil(Date.parse(p1.cutoffAt) - HOUR_MS);
    const c = await ready('c');
    expect(c.readyAt).toBeLessThan(Date.parse(p1.cutoffAt));
    expect(agendaMails(p1)).toHaveLength(0);
    expect((await h1.query(meetingStateQuery)).status).toBe('waiting_for_cutoff');

    await sleepUntil(Date.parse(p1.cutoffAt) + MINUTE_MS);
    const s1 = await opened(h1, p1, [a, b, c]);
    expect(s1.agenda.map((i) => i.applicationId)).toEqual(ids([a, b, c]));
    expect(s1.agenda.map((i) => ({ requestedCents: i.requestedCents, budgetLineCount: i.budgetLineCount, rollovers: i.rollovers, invited: i.invited }))).toEqual(
      Array(3).fill({ requestedCents: REQUESTED, budgetLineCount: 2, rollovers: 0, invited: false }),
    );
    // Members: active panel users only (not the former member, not the welfare worker), the chair named.
    expect(s1.members.map((m) => m.id).sort()).toEqual([...panel.map((p) => p._id)].sort());
    expect(s1.chairId).toBe(chair);

    // Each initiative learns its meeting; the applicant gets a Dutch e-mail with the date.
    for (const app of [a, b, c]) {
      const stored = await application(app.applicationId);
      expect(stored?.meeting).toEqual({ meetingId: p1.meetingId, date: p1.date, startsAt: p1.startsAt });
      expect(await app.handle.query(stateQuery)).toMatchObject({ status: 'scheduled', meeting: { meetingId: p1.meetingId } });
      const scheduled = await waitForMail(app.email, subjects.scheduled(app, p1));
      expect(scheduled.text).toContain(`staat op de agenda van het panel van ${formatDateTime(new Date(p1.startsAt))}`);
    }
    // Members get the agenda at the cut-off, items oldest first.
    const agendas = agendaMails(p1);
    expect(agendas.flatMap((m) => m.to).sort()).toEqual(panel.map((p) => p.email).sort());
    expect(agendas[0]!.text).toMatch(new RegExp(`1\\. ${a.reference} .*\\n2\\. ${b.reference} .*\\n3\\. ${c.reference} `));
    expect(agendas[0]!.text).toContain(`http://buurtfonds.test/api/v1/meetings/${p1.meetingId}`);
    expect(await suite.models.Meeting.findById(p1.meetingId).lean()).toMatchObject({ status: 'agenda_frozen', date: p1.date, chairId: chair });

    await sleepUntil(Date.parse(p1.cutoffAt) + HOUR_MS);
    const d = await ready('d');
    expect(d.readyAt).toBeGreaterThan(Date.parse(p1.cutoffAt));

    // Meeting 1. a: approved. b: only two votes, no quorum. c: three votes, then one voter
    // declares a conflict of interest: two countable votes, no quorum.
    for (const member of [chair, m2, m3]) await vote(h1, member, a, 'approve');
    for (const member of [chair, m2]) await vote(h1, member, b, 'approve');
    for (const member of [chair, m2, m4]) await vote(h1, member, c, 'approve');
    await recuse(h1, m4, c);
    // d became ready after the cut-off: not on this agenda.
    await refused(vote(h1, chair, d, 'approve'), 'not_on_agenda');
    expect(await d.handle.query(stateQuery)).toEqual({ status: 'ready_for_meeting' });

    // Nobody closes it: it stays open through the meeting day and closes at its end.
    await sleepUntil(Date.parse(p1.endsAt) - MINUTE_MS);
    expect((await h1.query(meetingStateQuery)).status).toBe('open');
    await sleepUntil(Date.parse(p1.endsAt) + MINUTE_MS);
    const r1 = await closed(h1, p1);
    expect(r1.closedBy).toBe('automatic');
    expect(Math.abs(Date.parse(r1.closedAt!) - Date.parse(p1.endsAt))).toBeLessThan(MINUTE_MS);
    expect(r1.outcomes).toEqual([
      { applicationId: a.applicationId, outcome: 'approved', grantedCents: REQUESTED, reasons: [], struckLines: [], flagged: false },
      { applicationId: b.applicationId, outcome: 'rollover', grantedCents: 0, reasons: [], struckLines: [], rolloverReason: 'no_quorum', flagged: false },
      { applicationId: c.applicationId, outcome: 'rollover', grantedCents: 0, reasons: [], struckLines: [], rolloverReason: 'no_quorum', flagged: false },
    ]);
    expect(await finished(h1)).toMatchObject({ status: 'closed', outcomes: r1.outcomes });
    await statusOf(a, 'reserved');
    await waitForMail(a.email, subjects.approved(a));
    // Rolled over: back to ready_for_meeting, counted.
    for (const app of [b, c]) {
      expect(await statusOf(app, 'ready_for_meeting')).toMatchObject({ rollovers: 1, meeting: null, decision: null });
      expect((await timelineTypes(app.applicationId)).at(-1)).toEqual({ type: 'rolled_over', status: 'ready_for_meeting', note: '1' });
    }

    // e: ready an hour before the second cut-off; f: an hour after it.
    await sleepUntil(Date.parse(p2.cutoffAt) - HOUR_MS);
    const e = await ready('e');
    expect(e.readyAt).toBeLessThan(Date.parse(p2.cutoffAt));
    expect(agendaMails(p2)).toHaveLength(0);
    await sleepUntil(Date.parse(p2.cutoffAt) + MINUTE_MS);
    const s2 = await opened(h2, p2, [b, c, d, e]);
    // The rolled-over items first (they are older), then d and e; a was decided.
    expect(s2.agenda.map((i) => i.applicationId)).toEqual(ids([b, c, d, e]));
    expect(s2.agenda.map((i) => i.rollovers)).toEqual([1, 1, 0, 0]);
    for (const app of [b, c, d, e]) await waitForMail(app.email, subjects.scheduled(app, p2));
    await sleepUntil(Date.parse(p2.cutoffAt) + HOUR_MS);
    const f = await ready('f');
    expect(f.readyAt).toBeGreaterThan(Date.parse(p2.cutoffAt));

    // Meeting 2. b: no votes again (second rollover: flagged). c: approved. d: deferred by
    // a majority (rolls over). e: rejected.
    for (const member of [chair, m2, m3]) await vote(h2, member, c, 'approve');
    for (const member of [chair, m2]) await vote(h2, member, d, 'defer');
    await vote(h2, m3, d, 'approve');
    for (const member of [m3, m4, m5]) await vote(h2, member, e, 'reject', { reasons: 'Dit is geen activiteit voor de buurt.' });
    await sleepUntil(Date.parse(p2.endsAt) + MINUTE_MS);
    const r2 = await closed(h2, p2);
    expect(r2.closedBy).toBe('automatic');
    expect(r2.outcomes.map((o) => [o.applicationId, o.outcome, o.rolloverReason, o.flagged])).toEqual([
      [b.applicationId, 'rollover', 'no_quorum', true],
      [c.applicationId, 'approved', undefined, false],
      [d.applicationId, 'rollover', 'deferred', false],
      [e.applicationId, 'rejected', undefined, false],
    ]);
    expect(await statusOf(b, 'ready_for_meeting')).toMatchObject({ rollovers: 2 });
    expect((await timelineTypes(b.applicationId)).at(-1)).toEqual({ type: 'rolled_over', status: 'ready_for_meeting', note: 'flagged' });
    expect(await b.handle.query(stateQuery)).toEqual({ status: 'ready_for_meeting', rollovers: 2 });
    // The admin hears about the item rolled over twice.
    const flaggedMail = await waitForMail(`beheer-${suffix}@buurtfonds.test`, `Aanvraag ${b.reference} is 2 keer doorgeschoven`);
    expect(flaggedMail.text).toContain('Beste Beheerder');
    await statusOf(c, 'reserved');
    expect(await statusOf(d, 'ready_for_meeting')).toMatchObject({ rollovers: 1 });
    // A rejection ends the initiative workflow.
    expect(await finished(e.handle)).toMatchObject({ status: 'rejected', decision: { outcome: 'rejected', grantedCents: 0, reasons: ['Dit is geen activiteit voor de buurt.'] } });
    await waitForMail(e.email, subjects.rejected(e));

    // Meeting 3: b (rolled over twice), d (deferred) and f; the chair closes it early.
    await sleepUntil(Date.parse(p3.cutoffAt) + MINUTE_MS);
    const s3 = await opened(h3, p3, [b, d, f]);
    expect(s3.agenda.map((i) => [i.applicationId, i.rollovers])).toEqual([
      [b.applicationId, 2],
      [d.applicationId, 1],
      [f.applicationId, 0],
    ]);
    await sleepUntil(Date.parse(p3.startsAt) + HOUR_MS);
    for (const app of [b, d, f]) for (const member of [chair, m2, m3]) await vote(h3, member, app, 'approve');
    const r3 = await h3.executeUpdate(closeMeetingUpdate, { args: [{ memberId: chair }] });
    expect(r3).toMatchObject({ status: 'closed', closedBy: chair });
    expect(Date.parse(r3.closedAt!)).toBeLessThan(Date.parse(p3.endsAt) - 3 * HOUR_MS);
    expect(r3.outcomes.map((o) => o.outcome)).toEqual(['approved', 'approved', 'approved']);
    await finished(h3);
    for (const app of [b, d, f]) {
      await statusOf(app, 'reserved');
      await waitForMail(app.email, subjects.approved(app));
    }

    // Where each application was on the agenda, in the read model.
    const agendaOf = async (p: PlannedMeeting) => (await suite.models.Meeting.findById(p.meetingId).lean())!.agenda.map((i) => i.reference);
    expect(await agendaOf(p1)).toEqual([a, b, c].map((x) => x.reference));
    expect(await agendaOf(p2)).toEqual([b, c, d, e].map((x) => x.reference));
    expect(await agendaOf(p3)).toEqual([b, d, f].map((x) => x.reference));
    // b: scheduled three times, rolled over twice, decided once.
    expect((await timelineTypes(b.applicationId)).map((t) => t.type)).toEqual([
      'submitted',
      'status_changed',
      'screening_completed',
      'meeting_scheduled',
      'rolled_over',
      'meeting_scheduled',
      'rolled_over',
      'meeting_scheduled',
      'decided',
      'budget_reserved',
    ]);
    expect(mailsTo(b.email).map((m) => m.subject)).toEqual([
      `Uw aanvraag ${b.reference} is ontvangen`,
      subjects.scheduled(b, p1),
      subjects.scheduled(b, p2),
      subjects.scheduled(b, p3),
      subjects.approved(b),
    ]);
    expect(Date.now() - realStart).toBeLessThan(40_000);
  });
});

// Some twenty updates in a row, each a workflow task on a loaded machine: more than the default minute.
describe('panelMeetingWorkflow: votes and decisions', { timeout: 180_000 }, () => {
  it('a meeting that continued as new (3 updates a run) is open until the end of its day, then closes by itself with the votes of every run', async () => {
    const [p] = (await plan(1)) as [PlannedMeeting];
    const app = await ready('vervolg');
    const h = await startMeeting(p, { updatesPerRun: 3 });
    const firstRun = (await h.describe()).runId;
    await sleepUntil(Date.parse(p.cutoffAt) + MINUTE_MS);
    await opened(h, p, [app]);

    // As MeetingCommands sends them: again while a run is about to continue as new.
    for (const member of [chair, m2, m3, m4]) await sendMeetingUpdate(h, castVoteUpdate, { memberId: member, applicationId: app.applicationId, vote: 'approve' });
    await sendMeetingUpdate(h, declareRecusalUpdate, { memberId: m5, applicationId: app.applicationId, reason: 'Mijn buurvrouw is de aanvrager' });
    expect((await h.describe()).runId).not.toBe(firstRun);

    await sleepUntil(Date.parse(p.endsAt) - MINUTE_MS);
    expect((await h.query(meetingStateQuery)).status).toBe('open');
    await sleepUntil(Date.parse(p.endsAt) + MINUTE_MS);
    const r = await closed(h, p);
    expect(r.closedBy).toBe('automatic');
    expect(Math.abs(Date.parse(r.closedAt!) - Date.parse(p.endsAt))).toBeLessThan(MINUTE_MS);
    expect(r.votes.map((v) => v.memberId)).toEqual([chair, m2, m3, m4]);
    expect(r.recusals.map((x) => x.memberId)).toEqual([m5]);
    expect(r.outcomes).toEqual([{ applicationId: app.applicationId, outcome: 'approved', grantedCents: REQUESTED, reasons: [], struckLines: [], flagged: false }]);
    expect(await statusOf(app, 'reserved')).toMatchObject({ decision: { meetingId: p.meetingId, outcome: 'approved', grantedCents: REQUESTED } });
    // Each member was sent the agenda once, whichever run sent it.
    expect(agendaMails(p)).toHaveLength(panel.length);
  });

  it('applies the decision rule end to end, counts the last vote, and hands each decision over exactly once', async () => {
    const [p] = (await plan(1)) as [PlannedMeeting];
    const full = await ready('volledig');
    const part = await ready('deels');
    const none = await ready('afgewezen');
    const h = await startMeeting(p);
    await sleepUntil(Date.parse(p.cutoffAt) + MINUTE_MS);
    await opened(h, p, [full, part, none]);

    // full: approve, reject, reject → would be rejected; m2 changes to approve before close,
    // and m4's defer is an abstention (present for the quorum, not in the majority).
    await vote(h, chair, full, 'approve');
    await vote(h, m2, full, 'reject', { reasons: 'Eerst een vergunning' });
    await vote(h, m3, full, 'reject', { reasons: 'Eerst een vergunning' });
    await vote(h, m4, full, 'defer');
    await vote(h, m2, full, 'approve');
    // The panel invites the applicant to explain the plan.
    expect(await h.executeUpdate(inviteApplicantUpdate, { args: [{ memberId: m3, applicationId: full.applicationId }] })).toEqual({ accepted: true });

    // part: amounts high to low 600,50 | 450 | 450 | 300 | 0: the third (a majority of five) is 450.
    const springkussen = 'Het springkussen betalen wij niet.';
    await vote(h, chair, part, 'partial', { amountCents: 45_000, struckLines: [1], reasons: springkussen });
    await vote(h, m2, part, 'partial', { amountCents: 45_000, struckLines: [1], reasons: 'Alleen de partytent.' });
    await vote(h, m3, part, 'approve');
    await vote(h, m4, part, 'reject', { reasons: 'Het budget is bijna op.' });
    await vote(h, m5, part, 'partial', { amountCents: 30_000, struckLines: [0], reasons: 'Een kleinere tent volstaat.' });

    // none: 600,50 | 200 | 0 | 0 — a tie falls to the lower amount: rejected. m5 recused.
    const reason = 'Dit is een commercieel evenement.';
    await vote(h, chair, none, 'reject', { reasons: reason });
    await vote(h, m2, none, 'reject', { reasons: reason });
    await vote(h, m3, none, 'approve');
    await vote(h, m4, none, 'partial', { amountCents: 20_000, reasons: 'Alleen de kleine kosten.' });
    await recuse(h, m5, none, 'Ik organiseer dit mee');

    // Only the chair closes early.
    await refused(h.executeUpdate(closeMeetingUpdate, { args: [{ memberId: m2 }] }), 'not_the_chair');
    expect((await h.query(meetingStateQuery)).status).toBe('open');
    const result = await h.executeUpdate(closeMeetingUpdate, { args: [{ memberId: chair }] });
    expect(result).toMatchObject({ status: 'closed', closedBy: chair });
    const expectedOutcomes = [
      { applicationId: full.applicationId, outcome: 'approved', grantedCents: REQUESTED, reasons: [], struckLines: [], flagged: false },
      { applicationId: part.applicationId, outcome: 'partially_approved', grantedCents: 45_000, reasons: [springkussen, 'Alleen de partytent.'], struckLines: [1], flagged: false },
      { applicationId: none.applicationId, outcome: 'rejected', grantedCents: 0, reasons: [reason], struckLines: [], flagged: false },
    ];
    expect(result.outcomes).toEqual(expectedOutcomes);
    const final = await finished(h);
    expect(final.outcomes).toEqual(expectedOutcomes);
    expect(final.votes).toHaveLength(14);

    // The initiatives: decided, with the decision in the read model.
    const decidedAt = final.closedAt!;
    expect(await statusOf(full, 'reserved')).toMatchObject({ decision: { meetingId: p.meetingId, outcome: 'approved', grantedCents: REQUESTED, requestedCents: REQUESTED, decidedAt } });
    expect((await statusOf(part, 'reserved'))?.decision).toEqual({
      meetingId: p.meetingId,
      outcome: 'partially_approved',
      grantedCents: 45_000,
      requestedCents: REQUESTED,
      reasons: [springkussen, 'Alleen de partytent.'],
      struckLines: [1],
      decidedAt,
    });
    expect(await finished(none.handle)).toMatchObject({ status: 'rejected', decision: { outcome: 'rejected', grantedCents: 0, reasons: [reason] } });
    expect((await application(none.applicationId))?.decision).toMatchObject({ outcome: 'rejected', reasons: [reason] });

    // The applicants: a Dutch e-mail with the amount and the reasons.
    const granted = await waitForMail(full.email, subjects.approved(full));
    expect(granted.text).toContain(`U ontvangt ${formatEuros(REQUESTED)}.`);
    const partly = await waitForMail(part.email, subjects.partial(part));
    expect(partly.text).toContain(`u ontvangt ${formatEuros(45_000)} van de gevraagde ${formatEuros(REQUESTED)}.`);
    expect(partly.text).toContain(`De reden:\n${springkussen}\nAlleen de partytent.`);
    const rejected = await waitForMail(none.email, subjects.rejected(none));
    expect(rejected.text).toContain(`De reden:\n${reason}`);
    expect(rejected.text).toContain('U mag opnieuw een aanvraag indienen');
    const invitation = await waitForMail(full.email, subjects.invited(full, p));
    expect(invitation.text).toContain(`in de vergadering van ${formatDateTime(new Date(p.startsAt))}`);

    // The meeting in the read model, and the audit log: every vote, the recusal, every decision.
    const stored = await suite.models.Meeting.findById(p.meetingId).lean();
    expect(stored).toMatchObject({ status: 'closed', closedBy: chair, outcomes: expectedOutcomes });
    expect(stored?.closedAt?.toISOString()).toBe(decidedAt);
    expect(stored?.votes).toEqual(final.votes);
    expect(stored?.agenda.map((i) => i.invited)).toEqual([true, false, false]);
    const audit = await suite.models.Audit.find({ _id: { $regex: `^${p.meetingId}:` } }).lean();
    const votes = audit.filter((x) => x.action === 'vote.cast');
    expect(votes).toHaveLength(14);
    expect(votes.filter((x) => x.target === `application:${full.applicationId}`).map((x) => [x.actor, (x.after as { vote: string }).vote])).toEqual(
      expect.arrayContaining([
        [`staff:${chair}`, 'approve'],
        [`staff:${m2}`, 'reject'],
        [`staff:${m2}`, 'approve'],
        [`staff:${m3}`, 'reject'],
        [`staff:${m4}`, 'defer'],
      ]),
    );
    expect(votes.every((x) => x.at.getTime() >= Date.parse(p.cutoffAt) && x.at.toISOString() <= decidedAt)).toBe(true);
    expect(audit.filter((x) => x.action === 'recusal.declared').map((x) => [x.actor, x.target, (x.after as { reason: string }).reason])).toEqual([
      [`staff:${m5}`, `application:${none.applicationId}`, 'Ik organiseer dit mee'],
    ]);
    expect(
      audit
        .filter((x) => x.action === 'decision.made')
        .map((x) => [x.target, (x.after as { outcome: string }).outcome, x.at.toISOString()])
        .sort(),
    ).toEqual(
      [
        [`application:${full.applicationId}`, 'approved', decidedAt],
        [`application:${part.applicationId}`, 'partially_approved', decidedAt],
        [`application:${none.applicationId}`, 'rejected', decidedAt],
      ].sort(),
    );

    // Exactly once: one `decided` event and one decision e-mail per application,
    // also when the decision is handed over again (a meeting workflow retried or reset).
    const duplicate: DecisionNotice = { meetingId: p.meetingId, outcome: 'rejected', grantedCents: 0, requestedCents: REQUESTED, reasons: ['nogmaals'], struckLines: [], decidedAt };
    await full.handle.signal(decisionSignal, duplicate);
    await part.handle.signal(decisionSignal, duplicate);
    await eventually(async () => ((await full.handle.describe()).raw.pendingActivities ?? []).length === 0 && (await part.handle.describe()).raw.pendingActivities?.length === 0);
    // A grant goes on to reserve its amount in the budget (the ledger's own tests cover that step).
    expect(await full.handle.query(stateQuery)).toMatchObject({ status: 'reserved', decision: { outcome: 'approved', grantedCents: REQUESTED } });
    expect(await part.handle.query(stateQuery)).toMatchObject({ status: 'reserved', decision: { outcome: 'partially_approved', grantedCents: 45_000 } });
    for (const app of [full, part, none]) {
      expect((await timelineTypes(app.applicationId)).filter((t) => t.type === 'decided')).toHaveLength(1);
      expect(mailsTo(app.email).filter((m) => decisionSubjects(app).includes(m.subject))).toHaveLength(1);
      expect(await suite.models.Outbox.countDocuments({ _id: `${app.applicationId}:decision:${p.meetingId}` })).toBe(1);
    }
    expect((await timelineTypes(full.applicationId)).map((t) => t.type)).toEqual([
      'submitted',
      'status_changed',
      'screening_completed',
      'meeting_scheduled',
      'invited_to_explain',
      'decided',
      'budget_reserved',
    ]);
    expect((await application(full.applicationId))?.status).toBe('reserved');
    // The rejected initiative has completed: nothing more reaches it.
    await expect(none.handle.signal(decisionSignal, duplicate)).rejects.toBeInstanceOf(WorkflowNotFoundError);
  });

  it('refuses what is not allowed with a stable code, and changes nothing', async () => {
    const [p] = (await plan(1)) as [PlannedMeeting];
    const x = await ready('weiger-x');
    const y = await ready('weiger-y');
    const h = await startMeeting(p);

    // Before the cut-off nothing can be done yet.
    const waiting = await h.query(meetingStateQuery);
    await refused(vote(h, chair, x, 'approve'), 'meeting_not_open');
    await refused(recuse(h, m2, x), 'meeting_not_open');
    await refused(h.executeUpdate(closeMeetingUpdate, { args: [{ memberId: chair }] }), 'meeting_not_open');
    await refused(h.executeUpdate(inviteApplicantUpdate, { args: [{ memberId: chair, applicationId: x.applicationId }] }), 'meeting_not_open');
    expect(await h.query(meetingStateQuery)).toEqual(waiting);
    expect(waiting).toMatchObject({ status: 'waiting_for_cutoff', agenda: [], members: [], votes: [], recusals: [] });

    await sleepUntil(Date.parse(p.cutoffAt) + MINUTE_MS);
    await opened(h, p, [x, y]);
    const late = await ready('weiger-laat');
    await vote(h, m2, x, 'approve');
    await recuse(h, m3, x);
    const before = await h.query(meetingStateQuery);
    expect(before.votes).toHaveLength(1);
    expect(before.recusals).toHaveLength(1);

    // Not a member of this meeting: unknown, a former panel member, a welfare worker.
    await refused(vote(h, 'iemand', x, 'approve'), 'not_a_member');
    await refused(vote(h, formerMember, x, 'approve'), 'not_a_member');
    await refused(vote(h, welfareWorker, x, 'approve'), 'not_a_member');
    await refused(recuse(h, welfareWorker, x), 'not_a_member');
    await refused(h.executeUpdate(closeMeetingUpdate, { args: [{ memberId: welfareWorker }] }), 'not_a_member');
    // Not on the agenda: unknown, or ready after the cut-off.
    await refused(vote(h, chair, randomUUID(), 'approve'), 'not_on_agenda');
    await refused(vote(h, chair, late, 'approve'), 'not_on_agenda');
    await refused(recuse(h, chair, late), 'not_on_agenda');
    await refused(h.executeUpdate(inviteApplicantUpdate, { args: [{ memberId: chair, applicationId: late.applicationId }] }), 'not_on_agenda');
    // Recused: no vote on that item (the other items are fine).
    await refused(vote(h, m3, x, 'approve'), 'recused');
    await refused(vote(h, m3, x, 'reject', { reasons: 'Toch niet' }), 'recused');
    // Amounts: a partial grant is more than 0 and at most the amount requested, whole cents; only partial has one.
    const because = { reasons: 'Minder' };
    await refused(vote(h, chair, y, 'partial', because), 'invalid_amount');
    await refused(vote(h, chair, y, 'partial', { ...because, amountCents: 0 }), 'invalid_amount');
    await refused(vote(h, chair, y, 'partial', { ...because, amountCents: -100 }), 'invalid_amount');
    await refused(vote(h, chair, y, 'partial', { ...because, amountCents: REQUESTED + 1 }), 'invalid_amount');
    await refused(vote(h, chair, y, 'partial', { ...because, amountCents: 100.5 }), 'invalid_amount');
    await refused(vote(h, chair, y, 'approve', { amountCents: 10_000 }), 'invalid_amount');
    // Reasons are required for partial and reject.
    await refused(vote(h, chair, y, 'reject'), 'reasons_required');
    await refused(vote(h, chair, y, 'reject', { reasons: '   ' }), 'reasons_required');
    await refused(vote(h, chair, y, 'partial', { amountCents: 10_000 }), 'reasons_required');
    // Other bad input.
    await refused(vote(h, chair, y, 'maybe' as VoteKind), 'invalid_vote');
    await refused(vote(h, chair, y, 'partial', { ...because, amountCents: 10_000, struckLines: [2] }), 'invalid_struck_line');
    await refused(recuse(h, chair, y, ' '), 'reason_required');
    await refused(h.executeUpdate(closeMeetingUpdate, { args: [{ memberId: m2 }] }), 'not_the_chair');
    expect(await h.query(meetingStateQuery)).toEqual(before);

    // Closed (the outcome is being recorded; the workflow has not completed yet).
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let held!: () => void;
    const isHeld = new Promise<void>((r) => (held = r));
    holdOutcome = async () => {
      held();
      await released;
    };
    const closedState = await h.executeUpdate(closeMeetingUpdate, { args: [{ memberId: chair }] });
    await isHeld;
    await refused(vote(h, m2, y, 'approve'), 'meeting_closed');
    await refused(vote(h, m4, x, 'approve'), 'meeting_closed');
    await refused(recuse(h, m4, y), 'meeting_closed');
    await refused(h.executeUpdate(closeMeetingUpdate, { args: [{ memberId: chair }] }), 'meeting_closed');
    await refused(h.executeUpdate(inviteApplicantUpdate, { args: [{ memberId: chair, applicationId: y.applicationId }] }), 'meeting_closed');
    expect(await h.query(meetingStateQuery)).toEqual(closedState);
    release();
    const final = await finished(h);
    expect(final).toEqual(closedState);
    expect(final.votes).toEqual(before.votes);
    expect(final.recusals).toEqual(before.recusals);
    // One vote, m3 recused: no quorum for x; no votes on y.
    expect(final.outcomes.map((o) => [o.applicationId, o.outcome, o.rolloverReason])).toEqual([
      [x.applicationId, 'rollover', 'no_quorum'],
      [y.applicationId, 'rollover', 'no_quorum'],
    ]);
    expect(await suite.models.Audit.countDocuments({ _id: { $regex: `^${p.meetingId}:vote:` } })).toBe(1);
    // Once the workflow has completed, the server itself turns updates away.
    await expect(vote(h, m2, y, 'approve')).rejects.toBeInstanceOf(WorkflowNotFoundError);
  });
});
