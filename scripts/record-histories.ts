/**
 * Records the event histories that test/workflows/replay.test.ts replays against the
 * current workflow code, so a change that would break running initiatives (a changed
 * command sequence) fails a test instead of production.
 *
 *   node scripts/record-histories.ts            (after `bash scripts/servers.sh`)
 *
 * Runs representative scenarios of initiativeWorkflow on the real time-skipping test
 * server (the lapse takes seconds, not 14 days) with the real activities against a
 * throw-away FerretDB, and writes each history as proto JSON (what `historyFromJSON`,
 * `temporal workflow show --output json` and the Web UI's download use) to
 * test/histories/initiative-<scenario>.json. The workflow id is `initiative-<scenario>`,
 * the file's base name. Re-record only when a workflow change is meant to be
 * incompatible (and running workflows are migrated); otherwise keep the old files.
 *
 * Then the meeting scenarios: panelMeetingWorkflow (id `meeting-<scenario>`) with five
 * seeded panel members and real initiatives on its agenda, written to
 * test/histories/meeting-<scenario>.json, plus the histories of some of those
 * initiatives (`initiative-meeting-*`: scheduled, invited, decided, rolled over).
 *
 * The budget scenarios (`initiative-grant-*`, `initiative-budget-exhausted`) take an
 * initiative past a grant: the decision arrives as the meeting workflow sends it
 * (scheduledSignal, decisionSignal), the grant is reserved in the ledger, and finance
 * batches and executes its payout through the payout register (which signals
 * payoutExecuted) — or the applicant withdraws before or after the batch;
 * `initiative-grant-released-support` with the support case the applicant asked for.
 *
 * The follow-up scenarios (`initiative-lifecycle-closed`, `initiative-report-reclaimed`,
 * `initiative-report-clarified`) go on after `paid` (workflows/follow-up.ts, behind
 * patched('follow-up')): the activity is a month after the test server's now, so the
 * reminder a week before its end, activity_held and report_due happen on their timers;
 * then a report, the panel's review and refunds — the whole life to `closed`; no report
 * at all (the due-date and last reminders, the escalation) and a reject that reclaims
 * the grant; a clarification whose deadline passes (escalated), answered late, rejected.
 *
 * The early scenarios (`initiative-early-request`, `initiative-early-not-ready`) send a
 * screening action right after the start, before the first step (the confirmation, which
 * fails until the scenario lets it through) has moved the application into screening: the
 * action waits for it (behind patched('actions-before-screening')), or is refused as not
 * ready when its 20 seconds run out.
 *
 * The `-amsterdam` variants of the lapse, report-reclaimed and report-clarified scenarios
 * have the deadlines that end at the end of an Amsterdam day (patched('amsterdam-deadlines')).
 *
 * A history file that exists is kept: only missing ones are recorded. Pass `--force`
 * to record them all again, and file base names to record only those, e.g.
 *   node scripts/record-histories.ts meeting-chair-close initiative-meeting-partial --force
 */
import type { ApplicationInput } from '../src/domain/application.ts';
import { existsSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { WorkflowUpdateStage, type WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { projectRoot, startFerretDB } from '../src/embedded/servers.ts';
import { createLogger } from '../src/logger.ts';
import { addCalendarDays, amsterdamDate, endOfAmsterdamDay, startOfAmsterdamDay } from '../src/domain/dates.ts';
import { planMeeting } from '../src/domain/meetings.ts';
import {
  castVoteUpdate,
  closeMeetingUpdate,
  declareRecusalUpdate,
  inviteApplicantUpdate,
  meetingStateQuery,
  type panelMeetingWorkflow,
} from '../workflows/meeting.ts';
import type { MeetingInput } from '../src/domain/workflow-types.ts';
import { sendMeetingUpdate } from '../src/services/meetings.ts';
import { completeScreeningUpdate, provideInformationUpdate, requestInformationUpdate, withdrawUpdate, type InitiativeInput } from '../workflows/initiative.ts';
import { recordRefundUpdate, reviewReportUpdate, submitReportUpdate } from '../workflows/follow-up.ts';
import type { TimelineEventType } from '../src/domain/status.ts';
import { decisionSignal, scheduledSignal } from '../workflows/initiative-signals.ts';
import { payoutEndToEndId } from '../src/domain/payouts.ts';
import { supportWorkflowId } from '../workflows/support.ts';
import { CALENDAR, startTimeSkipping, submitApplication, terminateRunning, until, type InitiativeHandle as Handle, type TimeSkipping } from '../test/helpers/time-skipping.ts';
type MeetingHandle = WorkflowHandle<typeof panelMeetingWorkflow>;

const DAY_MS = 24 * 60 * 60 * 1000;
const PANEL = 'panel1@buurtfonds.test';
const outDir = join(projectRoot, 'test/histories');
const taskQueue = 'record-histories';

interface ScenarioContext {
  ts: TimeSkipping;
  /** The application id (= scenario name); the workflow id is initiative-<applicationId>. */
  applicationId: string;
  reference: string;
  /** With `mailServerDown`: the confirmation goes out at its next attempt. */
  mailServerUp(): void;
}

interface Scenario {
  name: string;
  /** Changes to the application every scenario submits (e.g. the activity's date, which picks the budget year); a function gets the test server's now. */
  form?: Partial<ApplicationInput> | ((nowMs: number) => Partial<ApplicationInput>);
  /** Changes to the workflow's input (e.g. reportDeadlineDays). */
  input?: Partial<InitiativeInput>;
  /**
   * The confirmation (the workflow's first step) fails until the scenario calls
   * `ctx.mailServerUp()` (retried after 5, 15, 35 s, …); run starts right after the workflow
   * does, the application still `submitted`.
   */
  mailServerDown?: boolean;
  run(handle: Handle, env: TestWorkflowEnvironment, ctx: ScenarioContext): Promise<void>;
}

/** Applications whose confirmation fails for now (Scenario.mailServerDown). */
const mailServerDownFor = new Set<string>();

/** The activity year of the op-is-op scenario: a year of its own, so the other grants (2027) keep their budget. */
const EXHAUSTED_YEAR = 2030;

/** Screens the application and hands it the decision the way panelMeetingWorkflow does; waits for the outcome's status. */
async function grant(h: Handle, env: TestWorkflowEnvironment, ctx: ScenarioContext, expected: string, grantedCents = 45_000): Promise<void> {
  await h.executeUpdate(completeScreeningUpdate, { args: [{ completedBy: PANEL }] });
  const now = await env.currentTimeMs();
  const startsAt = new Date(now + 7 * DAY_MS).toISOString();
  const meetingId = `meeting-for-${ctx.applicationId}`;
  await h.signal(scheduledSignal, { meetingId, date: amsterdamDate(new Date(startsAt)), startsAt });
  await readModel(ctx, 'scheduled');
  await h.signal(decisionSignal, {
    meetingId,
    outcome: 'approved',
    grantedCents,
    requestedCents: 45_000,
    reasons: [],
    struckLines: [],
    decidedAt: new Date(now).toISOString(),
  });
  await readModel(ctx, expected);
  await settled(h, `${ctx.applicationId} ${expected}`);
}

async function readModel(ctx: ScenarioContext, status: string): Promise<void> {
  await until(`${ctx.applicationId} ${status}`, async () => (await ctx.ts.models.Application.findById(ctx.applicationId, { status: 1 }).lean())?.status === status);
}

/** Finance puts the payout in a batch (it must be the only pending one); returns the batch id. */
async function batch(ctx: ScenarioContext): Promise<string> {
  const b = await ctx.ts.payouts.createBatch({ actor: 'finance' });
  const expected = payoutEndToEndId(ctx.reference);
  if (b.endToEndIds.length !== 1 || b.endToEndIds[0] !== expected) throw new Error(`batch ${b.id} holds ${b.endToEndIds.join(', ')}, expected only ${expected}`);
  return b.id;
}

async function completed(h: WorkflowHandle, what: string): Promise<void> {
  // Not h.result(): the time-skipping client would let the clock run while it waits.
  await until(what, async () => (await h.describe()).status.name === 'COMPLETED');
}

/** A one-day activity FOLLOW_UP_DAYS after the test server's now: the follow-up scenarios wait for its end on their timers. */
const FOLLOW_UP_DAYS = 30;
const followUpForm = (nowMs: number): Partial<ApplicationInput> => {
  const date = amsterdamDate(new Date(nowMs + FOLLOW_UP_DAYS * DAY_MS));
  return { activity: { startDate: date, endDate: date, location: 'Kerkstraat' } };
};

async function sleepUntil(env: TestWorkflowEnvironment, at: number): Promise<void> {
  const now = await env.currentTimeMs();
  if (at > now) await env.sleep(at - now);
}

/**
 * Granted, batched, executed (paid); then time runs past the end of the activity (the week-before reminder
 * on the way): report_due. Returns when the activity ended (00:00 in Amsterdam after it) and its last day.
 */
async function paidAndHeld(h: Handle, env: TestWorkflowEnvironment, ctx: ScenarioContext): Promise<{ endsAt: number; lastDay: string }> {
  await grant(h, env, ctx, 'reserved');
  await ctx.ts.payouts.executeBatch(await batch(ctx), { actor: 'finance' });
  await readModel(ctx, 'paid');
  await settled(h, `${ctx.applicationId} paid`);
  const app = await ctx.ts.models.Application.findById(ctx.applicationId, { activity: 1 }).lean();
  const lastDay = app!.activity.endDate;
  const endsAt = startOfAmsterdamDay(addCalendarDays(lastDay, 1)).getTime();
  await sleepUntil(env, startOfAmsterdamDay(addCalendarDays(lastDay, -6)).getTime() + 60_000);
  await settled(h, `${ctx.applicationId} reminded`);
  await sleepUntil(env, endsAt + 60_000);
  await readModel(ctx, 'report_due');
  await settled(h, `${ctx.applicationId} report_due`);
  return { endsAt, lastDay };
}

const report = (costCents: number, text = 'Het straatfeest is doorgegaan met veel buren.') => ({
  text,
  participants: 110,
  volunteers: 7,
  selfAssessment: 'green' as const,
  costLines: [{ description: 'Huur partytent', amountCents: costCents }],
  documentIds: ['doc-foto', 'doc-bon'],
});

/** Waits until the read model's timeline has an event of this type. */
async function eventSeen(ctx: ScenarioContext, type: TimelineEventType): Promise<void> {
  await until(`${ctx.applicationId} ${type}`, async () => (await ctx.ts.models.Event.countDocuments({ applicationId: ctx.applicationId, type })) > 0);
}

const scenarios: Scenario[] = [
  {
    name: 'happy-path',
    async run(h) {
      await h.executeUpdate(completeScreeningUpdate, { args: [{ completedBy: PANEL }] });
    },
  },
  {
    name: 'information-answered',
    async run(h) {
      await h.executeUpdate(requestInformationUpdate, { args: [{ missing: 'Een offerte voor de partytent', requestedBy: PANEL }] });
      await h.executeUpdate(provideInformationUpdate, { args: [{ answer: 'De offerte zit erbij.', documentIds: ['doc-offerte'] }] });
      await h.executeUpdate(completeScreeningUpdate, { args: [{ completedBy: PANEL }] });
    },
  },
  {
    name: 'answered-after-reminder',
    async run(h, env) {
      await h.executeUpdate(requestInformationUpdate, { args: [{ missing: 'Een foto van de locatie', requestedBy: PANEL, deadlineDays: 10 }] });
      await env.sleep(8 * DAY_MS); // past the reminder, before the deadline
      await h.executeUpdate(provideInformationUpdate, { args: [{ documentIds: ['doc-foto'] }] });
      await h.executeUpdate(completeScreeningUpdate, { args: [{ completedBy: PANEL }] });
    },
  },
  {
    name: 'lapse',
    async run(h) {
      await h.executeUpdate(requestInformationUpdate, { args: [{ missing: 'De begroting met alle posten', requestedBy: PANEL }] });
      await h.result(); // time skips through the reminder to the deadline
    },
  },
  {
    name: 'withdraw',
    async run(h) {
      await h.executeUpdate(requestInformationUpdate, { args: [{ missing: 'Een offerte', requestedBy: PANEL }] });
      await h.executeUpdate(withdrawUpdate, { args: [{ reason: 'Het feest gaat niet door' }] });
      await h.result();
    },
  },
  {
    // Granted, reserved, batched, executed: paid (the workflow then waits for the follow-up).
    name: 'grant-paid',
    async run(h, env, ctx) {
      await grant(h, env, ctx, 'reserved');
      const batchId = await batch(ctx);
      await ctx.ts.payouts.executeBatch(batchId, { actor: 'finance' });
      await readModel(ctx, 'paid');
      await settled(h, `${ctx.applicationId} paid`);
    },
  },
  {
    // The activity's year has 100,00 left: op is op (completed).
    name: 'budget-exhausted',
    form: { activity: { startDate: `${EXHAUSTED_YEAR}-05-01`, endDate: `${EXHAUSTED_YEAR}-05-01`, location: 'Kerkstraat' } },
    async run(h, env, ctx) {
      await ctx.ts.ledger.setTotal({ year: EXHAUSTED_YEAR, totalCents: 10_000, key: 'record-histories', actor: 'record-histories' });
      await grant(h, env, ctx, 'rejected_budget_exhausted');
      await completed(h, `${ctx.applicationId} completed`);
    },
  },
  {
    // Withdrawn while the payout is pending: payout cancelled, reservation released (completed).
    name: 'grant-released',
    async run(h, env, ctx) {
      await grant(h, env, ctx, 'reserved');
      await h.executeUpdate(withdrawUpdate, { args: [{ reason: 'De straat is opgebroken' }] });
      await completed(h, `${ctx.applicationId} completed`);
    },
  },
  {
    // The applicant asked for support: reserved starts the support case's workflow (its child); withdrawn with
    // the payout pending, it signals the case's end and waits for the child (behind patched('support-ends-with-initiative')).
    name: 'grant-released-support',
    form: { wantsSupport: true, supportWish: 'Hulp bij de vergunning' },
    async run(h, env, ctx) {
      await grant(h, env, ctx, 'reserved');
      const support = env.client.workflow.getHandle(supportWorkflowId(ctx.applicationId));
      await until(`${ctx.applicationId} support case queued`, async () => (await support.describe().catch(() => undefined))?.status.name === 'RUNNING');
      await settled(support, `${ctx.applicationId} support case waiting`);
      await h.executeUpdate(withdrawUpdate, { args: [{ reason: 'Geen vergunning' }] });
      await completed(h, `${ctx.applicationId} completed`);
      await completed(support, `${ctx.applicationId} support case ended`);
    },
  },
  {
    // Withdrawn after the payout went into a batch: waits for the payment, records it and reclaims it (completed).
    name: 'grant-reclaimed',
    async run(h, env, ctx) {
      await grant(h, env, ctx, 'reserved');
      const batchId = await batch(ctx);
      await h.executeUpdate(withdrawUpdate, { args: [{ reason: 'Te weinig vrijwilligers' }] });
      await readModel(ctx, 'withdrawn');
      await settled(h, `${ctx.applicationId} waiting for the payment`);
      await ctx.ts.payouts.executeBatch(batchId, { actor: 'finance' });
      await completed(h, `${ctx.applicationId} completed`);
    },
  },
  {
    // The whole life after the grant: paid, the reminder a week before the end, activity_held →
    // report_due, a report (50,00 unspent) before the deadline, accepted (settled), the refund in
    // two parts → closed (completed).
    name: 'lifecycle-closed',
    form: followUpForm,
    async run(h, env, ctx) {
      const { endsAt } = await paidAndHeld(h, env, ctx);
      await sleepUntil(env, endsAt + 20 * DAY_MS);
      await h.executeUpdate(submitReportUpdate, { args: [report(40_000)] });
      await readModel(ctx, 'report_received');
      await settled(h, `${ctx.applicationId} report_received`);
      await env.sleep(7 * DAY_MS);
      await h.executeUpdate(reviewReportUpdate, { args: [{ outcome: 'accept', trafficLight: 'green', reviewedBy: PANEL }] });
      await readModel(ctx, 'settled');
      await settled(h, `${ctx.applicationId} settled`);
      await env.sleep(5 * DAY_MS);
      await h.executeUpdate(recordRefundUpdate, { args: [{ amountCents: 2_000, recordedBy: 'finance' }] });
      await settled(h, `${ctx.applicationId} first refund`);
      await env.sleep(5 * DAY_MS);
      await h.executeUpdate(recordRefundUpdate, { args: [{ amountCents: 3_000, recordedBy: 'finance' }] });
      await completed(h, `${ctx.applicationId} completed`);
    },
  },
  {
    // No report: the reminder at the due date, the last one two weeks later and the escalation to the
    // panel; the panel rejects and reclaims the grant → reclaimed (completed).
    name: 'report-reclaimed',
    form: followUpForm,
    input: { reportDeadlineDays: 28 },
    async run(h, env, ctx) {
      const { lastDay } = await paidAndHeld(h, env, ctx);
      // Past the due date and the last reminder, as either rule sets them (the end of the day in Amsterdam, or N × 24 h).
      await sleepUntil(env, endOfAmsterdamDay(lastDay, 28).getTime() + 2 * 60 * 60_000);
      await settled(h, `${ctx.applicationId} first reminder`);
      await sleepUntil(env, endOfAmsterdamDay(lastDay, 42).getTime() + 2 * 60 * 60_000);
      await eventSeen(ctx, 'report_escalated');
      await settled(h, `${ctx.applicationId} escalated`);
      await h.executeUpdate(reviewReportUpdate, { args: [{ outcome: 'reject', note: 'Geen verslag ontvangen.', reclaim: true, reviewedBy: PANEL }] });
      await completed(h, `${ctx.applicationId} completed`);
    },
  },
  {
    // A report, a clarification whose deadline passes (escalated), answered late, then rejected
    // without reclaim → closed (completed).
    name: 'report-clarified',
    form: followUpForm,
    async run(h, env, ctx) {
      await paidAndHeld(h, env, ctx);
      await env.sleep(3 * DAY_MS);
      await h.executeUpdate(submitReportUpdate, { args: [report(45_000)] });
      await readModel(ctx, 'report_received');
      const asked = await h.executeUpdate(reviewReportUpdate, { args: [{ outcome: 'clarify', note: 'Welke bonnen horen bij de tent?', deadlineDays: 7, reviewedBy: PANEL }] });
      await readModel(ctx, 'clarification_requested');
      await settled(h, `${ctx.applicationId} clarification_requested`);
      await sleepUntil(env, Date.parse(asked.reportDeadline!) + 60_000);
      await eventSeen(ctx, 'report_escalated');
      await settled(h, `${ctx.applicationId} escalated`);
      await h.executeUpdate(submitReportUpdate, { args: [report(45_000, 'Beide bonnen van de tent zitten er nu bij, met foto.')] });
      await readModel(ctx, 'report_received');
      await settled(h, `${ctx.applicationId} answered`);
      await h.executeUpdate(reviewReportUpdate, { args: [{ outcome: 'reject', note: 'De bonnen passen niet bij de activiteit.', reviewedBy: PANEL }] });
      await completed(h, `${ctx.applicationId} completed`);
    },
  },
  {
    // A panel member asks for information right after intake, before the first step (the
    // confirmation, then screening) has run: the request waits for screening (behind
    // patched('actions-before-screening'): a timer of 20 s, cancelled), then the answer and the completion.
    name: 'early-request',
    mailServerDown: true,
    async run(h, env, ctx) {
      const early = await h.startUpdate(requestInformationUpdate, { args: [{ missing: 'Een offerte', requestedBy: PANEL }], waitForStage: WorkflowUpdateStage.ACCEPTED });
      ctx.mailServerUp();
      await env.sleep(6_000); // the confirmation's second attempt
      await early.result();
      await h.executeUpdate(provideInformationUpdate, { args: [{ answer: 'De offerte zit erbij.', documentIds: ['doc-offerte'] }] });
      await h.executeUpdate(completeScreeningUpdate, { args: [{ completedBy: PANEL }] });
    },
  },
  {
    // The same, but the first step does not come within 20 s: the completion is refused as
    // not ready (its timer fires); once the confirmation is out it is taken.
    name: 'early-not-ready',
    mailServerDown: true,
    async run(h, env, ctx) {
      const early = await h.startUpdate(completeScreeningUpdate, { args: [{ completedBy: PANEL }], waitForStage: WorkflowUpdateStage.ACCEPTED });
      await env.sleep(21_000);
      const refused = await early.result().then(() => false, () => true);
      if (!refused) throw new Error('early-not-ready: the completion was taken before screening');
      ctx.mailServerUp();
      await env.sleep(20_000); // the confirmation's attempt at 35 s
      await readModel(ctx, 'screening');
      await h.executeUpdate(completeScreeningUpdate, { args: [{ completedBy: PANEL }] });
    },
  },
];

/**
 * Recorded again once the deadlines a person sees ended at the end of an Amsterdam day
 * (patched('amsterdam-deadlines')): `initiative-<name>-amsterdam`, the same steps with the
 * marker and the new timers; the files without the suffix keep the histories from before.
 */
for (const name of ['lapse', 'report-reclaimed', 'report-clarified']) {
  const scenario = scenarios.find((s) => s.name === name)!;
  scenarios.push({ ...scenario, name: `${name}-amsterdam` });
}

/** Panel members seeded for the meeting scenarios; the first one chairs. */
const panel = ['lid-1', 'lid-2', 'lid-3', 'lid-4', 'lid-5'];
const [chair, m2, m3, m4] = panel as [string, string, string, string, string];

interface MeetingScenario {
  /** meeting-<name>.json; the workflow id is meeting-<name>. */
  name: string;
  /** Applications on the agenda (their ids; initiative workflow ids initiative-<id>), oldest first. */
  agenda: string[];
  /** Of those, the ones whose initiative history is recorded too (initiative-<id>.json). */
  recordInitiatives: string[];
  /** Changes to the meeting's input. */
  input?: Partial<MeetingInput>;
  run(meeting: MeetingHandle, input: MeetingInput, env: TestWorkflowEnvironment): Promise<void>;
}

const meetingScenarios: MeetingScenario[] = [
  {
    // Votes (one changed), a recusal, an invitation; the chair closes early: approved,
    // partially approved, rejected.
    name: 'chair-close',
    agenda: ['meeting-approved', 'meeting-partial', 'meeting-rejected'],
    recordInitiatives: ['meeting-partial', 'meeting-rejected'],
    async run(h) {
      const vote = (memberId: string, applicationId: string, vote: 'approve' | 'partial' | 'reject', extra = {}) =>
        h.executeUpdate(castVoteUpdate, { args: [{ memberId, applicationId, vote, ...extra }] });
      await vote(chair, 'meeting-approved', 'approve');
      await vote(m2, 'meeting-approved', 'reject', { reasons: 'Eerst een vergunning' });
      await vote(m3, 'meeting-approved', 'approve');
      await vote(m2, 'meeting-approved', 'approve'); // changed: the last vote counts
      await h.executeUpdate(inviteApplicantUpdate, { args: [{ memberId: m3, applicationId: 'meeting-partial' }] });
      for (const member of [chair, m2, m3]) {
        await vote(member, 'meeting-partial', 'partial', { amountCents: 30_000, struckLines: [0], reasons: 'Een kleinere tent volstaat.' });
      }
      await h.executeUpdate(declareRecusalUpdate, { args: [{ memberId: m4, applicationId: 'meeting-rejected', reason: 'Mijn buurvrouw' }] });
      for (const member of [chair, m2, m3]) await vote(member, 'meeting-rejected', 'reject', { reasons: 'Geen activiteit voor de buurt.' });
      await h.executeUpdate(closeMeetingUpdate, { args: [{ memberId: chair }] });
    },
  },
  {
    // No quorum (two votes; three votes of which one recused): both roll over when the
    // meeting closes by itself at the end of the day.
    name: 'automatic-rollover',
    agenda: ['meeting-rollover', 'meeting-recused'],
    recordInitiatives: ['meeting-rollover'],
    async run(h, input, env) {
      for (const member of [chair, m2]) await h.executeUpdate(castVoteUpdate, { args: [{ memberId: member, applicationId: 'meeting-rollover', vote: 'approve' }] });
      for (const member of [chair, m2, m3]) await h.executeUpdate(castVoteUpdate, { args: [{ memberId: member, applicationId: 'meeting-recused', vote: 'approve' }] });
      await h.executeUpdate(declareRecusalUpdate, { args: [{ memberId: m3, applicationId: 'meeting-recused', reason: 'Mijn broer organiseert het' }] });
      await env.sleep(Date.parse(input.endsAt) + 60_000 - (await env.currentTimeMs()));
    },
  },
  {
    // Four updates a run (behind patched('meeting-continue-as-new')): votes, a recusal and an
    // invitation over three runs, the chair closes in the last. meeting-continue-as-new.json is
    // the first run (ending in continue-as-new), meeting-continue-as-new-last-run.json the last.
    name: 'continue-as-new',
    agenda: ['meeting-can-approved', 'meeting-can-rejected'],
    recordInitiatives: [],
    input: { updatesPerRun: 4 },
    async run(h) {
      // As MeetingCommands sends them: again while a run is about to continue as new.
      const vote = (memberId: string, applicationId: string, vote: 'approve' | 'reject', extra = {}) =>
        sendMeetingUpdate(h, castVoteUpdate, { memberId, applicationId, vote, ...extra });
      for (const member of [chair, m2, m3]) await vote(member, 'meeting-can-approved', 'approve');
      await sendMeetingUpdate(h, inviteApplicantUpdate, { memberId: m2, applicationId: 'meeting-can-rejected' });
      await sendMeetingUpdate(h, declareRecusalUpdate, { memberId: m4, applicationId: 'meeting-can-rejected', reason: 'Mijn buurvrouw' });
      for (const member of [chair, m2, m3]) await vote(member, 'meeting-can-rejected', 'reject', { reasons: 'Geen activiteit voor de buurt.' });
      await sendMeetingUpdate(h, closeMeetingUpdate, { memberId: chair });
    },
  },
  {
    // Nothing ready at the cut-off: an empty agenda, closed automatically.
    name: 'empty-agenda',
    agenda: [],
    recordInitiatives: [],
    async run(_h, input, env) {
      await env.sleep(Date.parse(input.endsAt) + 60_000 - (await env.currentTimeMs()));
    },
  },
];

/** The application every scenario submits. */
const form: ApplicationInput = {
  applicant: { name: 'Sanne de Vries', email: 'sanne@example.nl', phone: '070 123 4567', address: { street: 'Kerkstraat 1', postalCode: '2271 AB', city: 'Voorburg' } },
  title: 'Straatfeest Kerkstraat',
  description: 'Een straatfeest voor alle bewoners van de Kerkstraat.',
  purposes: ['cohesion'],
  wijken: ['Voorburg-Midden'],
  targetGroup: 'Bewoners van de Kerkstraat',
  expectedParticipants: 120,
  volunteers: 8,
  activity: { startDate: '2027-05-01', endDate: '2027-05-01', location: 'Kerkstraat' },
  budgetLines: [{ description: 'Huur partytent', amountCents: 45_000 }],
  amountRequestedCents: 45_000,
  coFunding: [],
  wantsSupport: false,
  iban: 'NL91ABNA0417164300',
  accountHolder: 'S. de Vries',
  privacyConsent: true,
};

/** Stores the application as intake does, starts its workflow and waits until it is in screening. */
async function submit(
  ts: TimeSkipping,
  applicationId: string,
  n: number,
  changes: Scenario['form'] = {},
  input: Partial<InitiativeInput> = {},
  inScreening = true,
): Promise<{ handle: Handle; reference: string }> {
  const resolved = typeof changes === 'function' ? changes(await ts.env.currentTimeMs()) : changes;
  const { handle, reference } = await submitApplication(ts, { applicationId, number: n, form: { ...form, ...resolved }, input, inScreening });
  return { handle, reference };
}

/** Until the workflow has no activity running and no workflow task to do (or it has completed). */
async function settled(handle: WorkflowHandle, what: string): Promise<void> {
  await until(what, async () => {
    const desc = await handle.describe();
    return desc.status.name !== 'RUNNING' || ((desc.raw.pendingActivities ?? []).length === 0 && !desc.raw.pendingWorkflowTask);
  });
}

function writeHistory(name: string, history: Awaited<ReturnType<WorkflowHandle['fetchHistory']>>): string {
  const file = join(outDir, `${name}.json`);
  writeFileSync(file, `${JSON.stringify(JSON.parse(historyToJSON(history)), null, 2)}\n`);
  return file;
}

const args = process.argv.slice(2);
const force = args.includes('--force');
const only = args.filter((a) => !a.startsWith('--'));
/** Whether to record this history file (base name): asked for, and missing unless --force. */
const wanted = (name: string) => (only.length === 0 || only.includes(name)) && (force || !existsSync(join(outDir, `${name}.json`)));

async function main(): Promise<void> {
  const logger = createLogger(process.env.LOG_LEVEL ?? 'warn', 'record-histories');
  const dir = mkdtempSync(join(tmpdir(), 'buurtfonds-record-'));
  const ferret = await startFerretDB({ dir });
  let ts: TimeSkipping | undefined;
  try {
    const recorder = (ts = await startTimeSkipping({
      logger,
      mongoUri: ferret.uri,
      dbName: 'record_histories',
      taskQueue,
      catchMail: false,
      runWorker: false,
      activities: (real) => ({
        ...real,
        async notifyApplicant(input) {
          if (input.template === 'confirmation' && mailServerDownFor.has(input.applicationId)) throw new Error('the mail server is down (record-histories)');
          return real.notifyApplicant(input);
        },
      }),
    }));
    const { env: testEnv, models: db } = recorder;
    mkdirSync(outDir, { recursive: true });
    await recorder.worker.runUntil(async () => {
      for (const [i, scenario] of scenarios.entries()) {
        if (!wanted(`initiative-${scenario.name}`)) continue;
        if (scenario.mailServerDown) mailServerDownFor.add(scenario.name);
        const { handle, reference } = await submit(recorder, scenario.name, i + 1, scenario.form, scenario.input, !scenario.mailServerDown);
        const mailServerUp = () => void mailServerDownFor.delete(scenario.name);
        await scenario.run(handle, testEnv, { ts: recorder, applicationId: scenario.name, reference, mailServerUp });
        const history = await handle.fetchHistory();
        const file = writeHistory(`initiative-${scenario.name}`, history);
        const { status } = await handle.describe();
        console.log(`${file}: ${history.events?.length ?? 0} events, workflow ${status.name}`);
        if (status.name === 'RUNNING') await handle.terminate('recorded');
      }

      await db.StaffUser.create(
        panel.map((id, i) => ({ _id: id, email: `${id}@buurtfonds.test`, name: `Panellid ${i + 1}`, role: 'panel' as const, chair: i === 0, active: true, passwordHash: 'not-used' })),
      );
      let n = scenarios.length;
      for (const scenario of meetingScenarios) {
        const name = `meeting-${scenario.name}`;
        if (![name, ...scenario.recordInitiatives.map((id) => `initiative-${id}`)].some(wanted)) continue;
        // Only this scenario's applications may be ready at the cut-off.
        await db.Application.deleteMany({ status: 'ready_for_meeting' });
        const initiatives: Handle[] = [];
        for (const id of scenario.agenda) {
          const { handle: h } = await submit(recorder, id, ++n);
          await h.executeUpdate(completeScreeningUpdate, { args: [{ completedBy: PANEL }] });
          initiatives.push(h);
        }
        const now = await testEnv.currentTimeMs();
        const planned = planMeeting(CALENDAR, amsterdamDate(new Date(now + 10 * DAY_MS)));
        const input: MeetingInput = { meetingId: name, date: planned.date, startsAt: planned.startsAt, cutoffAt: planned.cutoffAt, endsAt: planned.endsAt, quorum: 3, flagAfterRollovers: 2, ...scenario.input };
        const meeting = await testEnv.client.workflow.start<typeof panelMeetingWorkflow>('panelMeetingWorkflow', { taskQueue, workflowId: name, args: [input] });
        await testEnv.sleep(Date.parse(input.cutoffAt) + 60_000 - now);
        await until(`${name} open`, async () => (await meeting.query(meetingStateQuery)).status === 'open');
        for (const id of scenario.agenda) {
          await until(`${id} scheduled`, async () => (await db.Application.findById(id, { status: 1 }).lean())?.status === 'scheduled');
        }
        await settled(meeting, `${name} agenda sent`);
        await scenario.run(meeting, input, testEnv);
        // Not meeting.result(): the time-skipping client would let the clock run while it waits.
        await until(`${name} completed`, async () => (await meeting.describe()).status.name === 'COMPLETED');
        for (const [i, h] of initiatives.entries()) await settled(h, `${scenario.agenda[i]} decided or rolled over`);

        // The first run; and the last one when the meeting continued as new.
        const firstRun = testEnv.client.workflow.getHandle(name, meeting.firstExecutionRunId);
        const lastRunId = (await meeting.describe()).runId;
        const outputs: [string, WorkflowHandle][] = [
          [name, firstRun],
          ...(lastRunId !== meeting.firstExecutionRunId ? [[`${name}-last-run`, testEnv.client.workflow.getHandle(name, lastRunId)] as [string, WorkflowHandle]] : []),
          ...scenario.recordInitiatives.map((id): [string, WorkflowHandle] => [`initiative-${id}`, initiatives[scenario.agenda.indexOf(id)]!]),
        ];
        // The last run is recorded with the first (asked before the first is written).
        const write = outputs.filter(([base]) => wanted(base === `${name}-last-run` ? name : base));
        for (const [base, h] of write) {
          const history = await h.fetchHistory();
          const file = writeHistory(base, history);
          console.log(`${file}: ${history.events?.length ?? 0} events, workflow ${(await h.describe()).status.name}`);
        }
        await terminateRunning(initiatives, 'recorded');
      }
    });
  } finally {
    await ts?.stop();
    await ferret.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
