/**
 * What initiativeWorkflow does after a grant, on the real time-skipping test server
 * with the real activities, the real budget ledger and payout register against a real
 * database (FerretDB) and a real SMTP server: reserve in the budget year of the
 * activity (or reject with "op is op"), create the payout, record the payment when
 * finance executes the batch, and give the money back on a withdrawal (release
 * before the payout is in a batch, reclaim after). A decision arrives the way the
 * meeting workflow sends it (scheduledSignal, then decisionSignal). No timers are
 * involved, and the tests never call `handle.result()` on the time-skipping client
 * (it would let the test server skip time for every workflow).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { Client, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Activities } from '../../activities/index.ts';
import type { BudgetLedger } from '../../src/budget/ledger.ts';
import type { Models } from '../../src/db/models.ts';
import { createLogger } from '../../src/logger.ts';
import { amsterdamDate, amsterdamYear, DAY_MS } from '../../src/domain/dates.ts';
import type { DecisionNotice } from '../../src/domain/decisions.ts';
import { AppError } from '../../src/domain/errors.ts';
import { formatEuros } from '../../src/domain/money.ts';
import { payoutEndToEndId } from '../../src/domain/payouts.ts';
import type { PayoutService } from '../../src/payouts/service.ts';
import { completeScreeningUpdate, stateQuery, withdrawUpdate, type initiativeWorkflow, type InitiativeState } from '../../workflows/initiative.ts';
import { decisionSignal, scheduledSignal } from '../../workflows/initiative-signals.ts';
import { eventually } from '../helpers/context.ts';
import { validApplication } from '../helpers/fixtures.ts';
import type { startMailCatcher } from '../helpers/mail.ts';
import { startTimeSkipping, submitApplication, terminateRunning, type InitiativeHandle as Handle, type TimeSkippingWithMail } from '../helpers/time-skipping.ts';

const PANEL = 'panel1@buurtfonds.test';
const REQUESTED = 60_050; // validApplication(): 450,00 + 150,50

const suffix = randomBytes(4).toString('hex');
const taskQueue = `budget-test-${suffix}`;
const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent', 'buurtfonds-test');

let suite: TimeSkippingWithMail;
let env: TestWorkflowEnvironment;
/** A client without time skipping: waiting on a result through it does not move the test server's clock. */
let plainClient: Client;
let models: Models;
let ledger: BudgetLedger;
let payouts: PayoutService;
let mail: Awaited<ReturnType<typeof startMailCatcher>>;
const started: WorkflowHandle[] = [];

/** Applications whose reserveBudget attempt fails once right after the real ledger write (a crash before completion). */
const crashAfterReserve = new Set<string>();
/** How often the real reserveBudget ran, per application. */
const reserveCalls = new Map<string, number>();

beforeAll(async () => {
  suite = await startTimeSkipping({
    logger,
    mongoUri: inject('mongoUri'),
    workflowBundlePath: inject('workflowBundlePath'),
    dbName: `t_budget_${suffix}`,
    taskQueue,
    catchMail: true,
    activities: (real): Activities => ({
      ...real,
      async reserveBudget(input) {
        reserveCalls.set(input.applicationId, (reserveCalls.get(input.applicationId) ?? 0) + 1);
        const result = await real.reserveBudget(input);
        if (crashAfterReserve.delete(input.applicationId)) throw new Error('simulated crash after the ledger write, before the activity completed');
        return result;
      },
    }),
    runWorker: true,
  });
  ({ env, models, mail, ledger, payouts } = suite);
  plainClient = new Client({ connection: env.connection, namespace: env.namespace ?? 'default' });
});

afterEach(async () => {
  crashAfterReserve.clear();
  await terminateRunning(started, 'test finished');
  // Payouts a test left pending go into a batch nobody executes, so the next test's
  // batches hold only its own payouts.
  await payouts.createBatch({ actor: 'test-cleanup' }).catch((err: unknown) => {
    if (!(err instanceof AppError && err.code === 'no_pending_payouts')) throw err;
  });
  // Every scenario leaves books that prove themselves.
  const check = await ledger.check();
  expect(check.years.flatMap((y) => y.problems)).toEqual([]);
  expect(check.ok).toBe(true);
});

afterAll(async () => {
  await suite?.stop();
});

// ---------------------------------------------------------------------------------

let referenceSeq = 0;
let meetingSeq = 0;

interface App {
  applicationId: string;
  reference: string;
  email: string;
  handle: Handle;
}

/** Stores an application (activity on `startDate`) as intake does; returns once its workflow has it in screening. */
async function submit(label: string, startDate: string): Promise<App> {
  const email = `${label}-${suffix}@example.nl`;
  const form = validApplication();
  const { applicationId, reference, handle } = await submitApplication(suite, {
    number: ++referenceSeq,
    form: { ...form, title: `Buurtinitiatief ${label}`, applicant: { ...form.applicant, email }, activity: { ...form.activity, startDate, endDate: startDate } },
    started,
  });
  return { applicationId, reference, email, handle };
}

async function application(id: string) {
  return models.Application.findById(id).lean();
}

/** Waits until the read model has this status (projected by the workflow), then until the workflow has no activity running. */
async function statusOf(app: App, status: string) {
  const doc = await eventually(async () => {
    const a = await application(app.applicationId);
    return a?.status === status ? a : undefined;
  }, 20_000, `${app.reference} ${status}`);
  return doc;
}

async function settled(app: App): Promise<InitiativeState> {
  await eventually(async () => {
    const d = await app.handle.describe();
    return d.status.name !== 'RUNNING' || ((d.raw.pendingActivities ?? []).length === 0 && !d.raw.pendingWorkflowTask);
  }, 20_000, `${app.reference} settled`);
  return app.handle.query(stateQuery);
}

/** The workflow's result once it has completed (polled; see the header on why not handle.result()). */
async function finished(app: App): Promise<InitiativeState> {
  await eventually(async () => (await app.handle.describe()).status.name !== 'RUNNING', 20_000, `${app.reference} completed`);
  const handle = plainClient.workflow.getHandle<typeof initiativeWorkflow>(app.handle.workflowId);
  expect((await handle.describe()).status.name).toBe('COMPLETED');
  return handle.result();
}

async function timeline(applicationId: string) {
  const events = await models.Event.find({ applicationId }).lean();
  const seq = (id: string) => Number(id.slice(id.lastIndexOf(':') + 1));
  return events.sort((a, b) => seq(a._id) - seq(b._id));
}

async function timelineTypes(applicationId: string) {
  return (await timeline(applicationId)).map((e) => e.type);
}

/** The journal entries of one application in one year, as [kind, amount]. */
async function movements(year: number, applicationId: string) {
  return (await ledger.journal(year)).filter((e) => e.applicationId === applicationId).map((e) => [e.kind, e.amountCents] as const);
}

function mailsTo(email: string) {
  return mail.mails.filter((m) => m.to.includes(email));
}

/**
 * Screens the application and hands it the meeting's decision the way panelMeetingWorkflow
 * does: scheduled for a meeting, then decided at it (a full grant unless `grantedCents` is
 * less). Returns once the workflow has projected `expected`.
 */
async function decide(app: App, expected: string, grantedCents = REQUESTED): Promise<void> {
  expect(await app.handle.executeUpdate(completeScreeningUpdate, { args: [{ completedBy: PANEL }] })).toEqual({ status: 'ready_for_meeting' });
  const now = await env.currentTimeMs();
  const startsAt = new Date(now + 7 * DAY_MS).toISOString();
  const meetingId = `meeting-budget-${suffix}-${++meetingSeq}`;
  await app.handle.signal(scheduledSignal, { meetingId, date: amsterdamDate(new Date(startsAt)), startsAt });
  await statusOf(app, 'scheduled');
  const decision: DecisionNotice = {
    meetingId,
    outcome: grantedCents < REQUESTED ? 'partially_approved' : 'approved',
    grantedCents,
    requestedCents: REQUESTED,
    reasons: grantedCents < REQUESTED ? ['Het springkussen valt buiten de regeling.'] : [],
    struckLines: grantedCents < REQUESTED ? [1] : [],
    decidedAt: new Date(now).toISOString(),
  };
  await app.handle.signal(decisionSignal, decision);
  await statusOf(app, expected);
}

/** Test-server time's budget year. */
async function currentYear(): Promise<number> {
  return amsterdamYear(new Date(await env.currentTimeMs()));
}

async function payoutOf(app: App) {
  return models.Payout.findById(payoutEndToEndId(app.reference)).lean();
}

async function expectNoPendingPayouts(): Promise<void> {
  const err = await payouts.createBatch({ actor: 'finance' }).then(
    (b) => b,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  expect(err).toMatchObject({ status: 409, code: 'no_pending_payouts' });
}

// ---------------------------------------------------------------------------------

describe('initiativeWorkflow after a grant: the budget ledger', () => {
  it('reserves a grant in the budget year of the activity: next year is charged to next year, also when this year is op', async () => {
    const y = await currentYear();
    // Year Y is exhausted down to one cent less than a grant: "op is op" for Y.
    await ledger.open(y);
    const beforeFill = await ledger.balances(y);
    const remaining = beforeFill.totalCents - beforeFill.committedCents - beforeFill.paidCents;
    const filler = `filler-${suffix}`;
    expect(await ledger.reserve({ applicationId: filler, year: y, amountCents: remaining - (REQUESTED - 1), wijken: [], actor: 'test' })).toMatchObject({ outcome: 'reserved' });
    const yBefore = await ledger.balances(y);
    expect(yBefore.totalCents - yBefore.committedCents - yBefore.paidCents).toBe(REQUESTED - 1);
    const nextBefore = (await ledger.journal(y + 1)).length ? await ledger.balances(y + 1) : undefined;

    const next = await submit('volgend-jaar', `${y + 1}-03-14`);
    const now = await submit('dit-jaar', `${y}-12-31`);

    await decide(next, 'reserved');
    const nextState = await settled(next);
    expect(nextState).toMatchObject({ status: 'reserved', grant: { budgetYear: y + 1, reservedCents: REQUESTED, endToEndId: payoutEndToEndId(next.reference) } });
    expect(await movements(y + 1, next.applicationId)).toEqual([['reserve', REQUESTED]]);
    expect(await movements(y, next.applicationId)).toEqual([]);
    const nextEntry = (await ledger.journal(y + 1)).find((e) => e.applicationId === next.applicationId)!;
    expect(nextEntry).toMatchObject({ key: `reserve:${next.applicationId}`, year: y + 1, wijken: ['Voorburg-Midden'], actor: expect.stringMatching(/^meeting:/) });
    expect(nextEntry.balances.committedCents).toBe((nextBefore?.committedCents ?? 0) + REQUESTED);
    expect(await ledger.balances(y)).toEqual(yBefore); // Y untouched
    expect(await payoutOf(next)).toMatchObject({ applicationId: next.applicationId, year: y + 1, amountCents: REQUESTED, status: 'pending' });
    expect(await timelineTypes(next.applicationId)).toEqual(['submitted', 'status_changed', 'screening_completed', 'meeting_scheduled', 'decided', 'budget_reserved']);
    expect((await timeline(next.applicationId)).at(-1)).toMatchObject({ type: 'budget_reserved', status: 'reserved', note: String(y + 1) });

    // The same grant for an activity in Y does not fit: one cent short.
    await decide(now, 'rejected_budget_exhausted');
    expect(await finished(now)).toMatchObject({ status: 'rejected_budget_exhausted', decision: { outcome: 'approved', grantedCents: REQUESTED } });
    expect(await movements(y, now.applicationId)).toEqual([]);
    expect(await ledger.balances(y)).toEqual(yBefore);
    expect((await timeline(now.applicationId)).at(-1)).toMatchObject({ type: 'budget_exhausted', status: 'rejected_budget_exhausted', note: String(y) });
    const refusal = await mail.waitFor((m) => m.to.includes(now.email) && m.subject.includes('budget'));
    expect(refusal.subject).toBe(`Het budget ${y} is op: ${now.reference} kan niet worden toegekend`);
    expect(refusal.text).toContain(`er is nog ${formatEuros(REQUESTED - 1)} over, niet genoeg voor dit bedrag. Op is op`);
    expect(await payoutOf(now)).toBeNull();
  });

  it('rejects a grant the year cannot cover: rejected_budget_exhausted, budget_exhausted event, the Dutch e-mail, nothing reserved, completed', async () => {
    const year = (await currentYear()) + 2;
    await ledger.setTotal({ year, totalCents: 50_000, key: `klein-${suffix}`, actor: 'test' });
    const before = await ledger.balances(year);
    const entriesBefore = (await ledger.journal(year)).length;
    const app = await submit('op-is-op', `${year}-06-01`);

    await decide(app, 'rejected_budget_exhausted', 55_000); // partially approved, still more than the 500,00 left

    const result = await finished(app);
    expect(result).toEqual({
      status: 'rejected_budget_exhausted',
      meeting: expect.objectContaining({ meetingId: expect.any(String) }),
      decision: expect.objectContaining({ outcome: 'partially_approved', grantedCents: 55_000 }),
    });
    expect(result.grant).toBeUndefined();
    expect(await application(app.applicationId)).toMatchObject({ status: 'rejected_budget_exhausted' });
    const events = await timeline(app.applicationId);
    expect(events.map((e) => e.type)).toEqual(['submitted', 'status_changed', 'screening_completed', 'meeting_scheduled', 'decided', 'budget_exhausted']);
    expect(events.at(-1)).toMatchObject({ type: 'budget_exhausted', status: 'rejected_budget_exhausted', note: String(year) });

    const subjects = mailsTo(app.email).map((m) => m.subject);
    expect(subjects).toEqual([
      `Uw aanvraag ${app.reference} is ontvangen`,
      expect.stringContaining(`Uw aanvraag ${app.reference} wordt besproken op`),
      `Uw aanvraag ${app.reference} is gedeeltelijk toegekend`,
      `Het budget ${year} is op: ${app.reference} kan niet worden toegekend`,
    ]);
    const refusal = mailsTo(app.email).at(-1)!;
    expect(refusal.subject).toContain('budget');
    expect(refusal.subject).toContain(' op');
    expect(refusal.text).toContain(`Het panel was positief over uw aanvraag "Buurtinitiatief op-is-op" (${app.reference}) en wilde ${formatEuros(55_000)} toekennen.`);
    expect(refusal.text).toContain(`voor ${year} op: er is nog ${formatEuros(50_000)} over, niet genoeg voor dit bedrag. Op is op, dus wij kunnen het bedrag niet toekennen.`);
    expect(await models.Outbox.findById(`${app.applicationId}:budget_exhausted`).lean()).toMatchObject({ status: 'sent', template: 'rejected_budget_exhausted' });

    expect(await movements(year, app.applicationId)).toEqual([]);
    expect(await ledger.journal(year)).toHaveLength(entriesBefore);
    expect(await ledger.balances(year)).toEqual(before);
    expect(await payoutOf(app)).toBeNull();
  });

  it('pays a reserved grant when finance executes its batch: pay entry by the one who reported it executed, status paid, the e-mail', async () => {
    const year = (await currentYear()) + 1;
    const app = await submit('betaald', `${year}-04-20`);
    await decide(app, 'reserved', 45_000);
    const before = await ledger.balances(year);

    const batch = await payouts.createBatch({ actor: 'finance' });
    expect(batch.endToEndIds).toEqual([payoutEndToEndId(app.reference)]);
    expect(await settled(app)).toMatchObject({ status: 'reserved' }); // a batch alone pays nothing
    await payouts.executeBatch(batch.id, { actor: `staff:finance-${suffix}` });

    await statusOf(app, 'paid');
    const state = await settled(app);
    expect(state).toMatchObject({ status: 'paid', grant: { budgetYear: year, reservedCents: 45_000, paid: { batchId: batch.id } } });
    expect(await movements(year, app.applicationId)).toEqual([
      ['reserve', 45_000],
      ['pay', 45_000],
    ]);
    expect((await ledger.journal(year)).find((e) => e.key === `pay:${app.applicationId}`)).toMatchObject({ actor: `staff:finance-${suffix}`, note: batch.id });
    const after = await ledger.balances(year);
    expect(after).toEqual({ ...before, committedCents: before.committedCents - 45_000, paidCents: before.paidCents + 45_000 });
    expect(await ledger.shareOf(year, app.applicationId)).toEqual({ committedCents: 0, paidCents: 45_000 });
    expect(await payoutOf(app)).toMatchObject({ status: 'paid', batchId: batch.id });
    expect((await timeline(app.applicationId)).at(-1)).toMatchObject({ type: 'paid', status: 'paid', note: batch.id });
    const paid = await mail.waitFor((m) => m.to.includes(app.email) && m.subject === `Het bedrag voor ${app.reference} is overgemaakt`);
    expect(paid.text).toContain(`Wij hebben ${formatEuros(45_000)} voor "Buurtinitiatief betaald" (${app.reference}) overgemaakt`);
    expect((await app.handle.describe()).status.name).toBe('RUNNING'); // waits for the follow-up
  });

  it('withdrawn while the payout is still pending: payout cancelled, full release, balances back, no later batch pays it', async () => {
    const year = (await currentYear()) + 1;
    const before = await ledger.balances(year);
    const app = await submit('intrekken-open', `${year}-05-01`);
    await decide(app, 'reserved');
    expect(await ledger.balances(year)).toMatchObject({ committedCents: before.committedCents + REQUESTED });
    expect(await payoutOf(app)).toMatchObject({ status: 'pending', amountCents: REQUESTED });

    const withdrawn = await app.handle.executeUpdate(withdrawUpdate, { args: [{ reason: 'De straat is opgebroken' }] });
    expect(withdrawn).toMatchObject({ status: 'withdrawn', grant: { budgetYear: year, reservedCents: REQUESTED } });

    const result = await finished(app);
    expect(result).toMatchObject({ status: 'withdrawn', grant: { budgetYear: year, reservedCents: REQUESTED, returned: 'released' } });
    expect(result.grant?.paid).toBeUndefined();
    expect(await payoutOf(app)).toMatchObject({ status: 'cancelled' });
    expect(await models.PayoutEvent.countDocuments({ kind: 'cancel', endToEndIds: payoutEndToEndId(app.reference) })).toBe(1);
    expect(await movements(year, app.applicationId)).toEqual([
      ['reserve', REQUESTED],
      ['release', REQUESTED],
    ]);
    expect(await ledger.shareOf(year, app.applicationId)).toEqual({ committedCents: 0, paidCents: 0 });
    const after = await ledger.balances(year);
    expect(after).toEqual({ ...before, releasedCents: before.releasedCents + REQUESTED });
    expect(await application(app.applicationId)).toMatchObject({ status: 'withdrawn' });
    const events = await timeline(app.applicationId);
    expect(events.map((e) => e.type)).toEqual(['submitted', 'status_changed', 'screening_completed', 'meeting_scheduled', 'decided', 'budget_reserved', 'withdrawn', 'budget_released']);
    expect(events.at(-1)).toMatchObject({ type: 'budget_released', note: String(year) });
    expect(events.at(-1)!.status).toBeUndefined(); // a note on the withdrawn application, not a status change
    await mail.waitFor((m) => m.to.includes(app.email) && m.subject === `Uw aanvraag ${app.reference} is ingetrokken`);

    // It was the only pending payout: there is nothing to batch.
    await expectNoPendingPayouts();
    // With another grant pending, the next batch holds that one only.
    const other = await submit('intrekken-ander', `${year}-05-02`);
    await decide(other, 'reserved');
    const batch = await payouts.createBatch({ actor: 'finance' });
    expect(batch.endToEndIds).toEqual([payoutEndToEndId(other.reference)]);
    expect(await payoutOf(app)).toMatchObject({ status: 'cancelled' });
    expect((await payoutOf(app))?.batchId).toBeUndefined();
  });

  it('withdrawn after the payout is in a batch: withdrawn at once; once the batch is executed the payment is recorded and reclaimed', async () => {
    const year = (await currentYear()) + 1;
    const before = await ledger.balances(year);
    const app = await submit('intrekken-batch', `${year}-06-06`);
    await decide(app, 'reserved');
    const batch = await payouts.createBatch({ actor: 'finance' });
    expect(batch.endToEndIds).toEqual([payoutEndToEndId(app.reference)]);

    const withdrawn = await app.handle.executeUpdate(withdrawUpdate, { args: [{ reason: 'Te weinig vrijwilligers' }] });
    expect(withdrawn).toMatchObject({ status: 'withdrawn' });
    await statusOf(app, 'withdrawn');
    // The payout is in a file at the bank: it cannot be cancelled, the workflow waits for the payment.
    const waiting = await settled(app);
    expect(waiting).toMatchObject({ status: 'withdrawn', grant: { budgetYear: year, reservedCents: REQUESTED } });
    expect(waiting.grant?.returned).toBeUndefined();
    expect((await app.handle.describe()).status.name).toBe('RUNNING');
    expect(await payoutOf(app)).toMatchObject({ status: 'batched', batchId: batch.id });
    expect(await movements(year, app.applicationId)).toEqual([['reserve', REQUESTED]]);

    await payouts.executeBatch(batch.id, { actor: 'finance' });

    const result = await finished(app);
    expect(result).toMatchObject({ status: 'withdrawn', grant: { budgetYear: year, reservedCents: REQUESTED, paid: { batchId: batch.id }, returned: 'reclaimed' } });
    expect(await movements(year, app.applicationId)).toEqual([
      ['reserve', REQUESTED],
      ['pay', REQUESTED],
      ['reclaim', REQUESTED],
    ]);
    expect(await ledger.shareOf(year, app.applicationId)).toEqual({ committedCents: 0, paidCents: 0 }); // paid net 0
    expect(await ledger.balances(year)).toEqual({ ...before, reclaimedCents: before.reclaimedCents + REQUESTED });
    expect(await payoutOf(app)).toMatchObject({ status: 'paid', batchId: batch.id });
    const events = await timeline(app.applicationId);
    expect(events.map((e) => e.type)).toEqual(['submitted', 'status_changed', 'screening_completed', 'meeting_scheduled', 'decided', 'budget_reserved', 'withdrawn', 'grant_reclaimed']);
    expect(events.at(-1)).toMatchObject({ type: 'grant_reclaimed', note: String(year) });
    expect(events.at(-1)!.status).toBeUndefined();
    expect(await application(app.applicationId)).toMatchObject({ status: 'withdrawn' });
    // No "overgemaakt" mail to someone who withdrew.
    expect(mailsTo(app.email).map((m) => m.subject)).not.toContain(`Het bedrag voor ${app.reference} is overgemaakt`);
  });

  it('does not reserve twice when reserveBudget is retried after a crash following the ledger write', async () => {
    const year = (await currentYear()) + 1;
    const before = await ledger.balances(year);
    const app = await submit('herhaling', `${year}-07-07`);
    crashAfterReserve.add(app.applicationId);

    await decide(app, 'reserved');
    expect(await settled(app)).toMatchObject({ status: 'reserved', grant: { budgetYear: year, reservedCents: REQUESTED } });
    expect(reserveCalls.get(app.applicationId)).toBe(2);
    expect(crashAfterReserve.has(app.applicationId)).toBe(false);
    // Temporal retried the activity: the attempt that completed was the second.
    const history = await app.handle.fetchHistory();
    const scheduled = history.events!.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'reserveBudget');
    expect(scheduled).toHaveLength(1);
    const startedEvent = history.events!.find((e) => e.activityTaskStartedEventAttributes && String(e.activityTaskStartedEventAttributes.scheduledEventId) === String(scheduled[0]!.eventId));
    expect(startedEvent?.activityTaskStartedEventAttributes?.attempt).toBe(2);

    expect(await movements(year, app.applicationId)).toEqual([['reserve', REQUESTED]]);
    expect(await ledger.balances(year)).toEqual({ ...before, committedCents: before.committedCents + REQUESTED });
    expect(await models.Audit.countDocuments({ action: 'ledger.reserve', target: `application:${app.applicationId}` })).toBe(1);
    expect(await models.Payout.countDocuments({ applicationId: app.applicationId })).toBe(1);
    expect((await timelineTypes(app.applicationId)).filter((t) => t === 'budget_reserved')).toHaveLength(1);
  });
});
