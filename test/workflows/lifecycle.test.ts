/**
 * The whole life of ONE initiative, from submission to a closed file, on the real
 * time-skipping test server (about six months of timers pass in seconds) with the real
 * activities, the real budget ledger and payout register against a real database
 * (FerretDB) and a real SMTP server: intake, screening, a meeting's partial grant, the
 * reservation, finance's batch and its execution (paid), the reminder a week before the
 * activity ends, activity_held → report_due at the end of its last day, the report,
 * the panel's acceptance with unspent money to pay back, and the refund that closes it.
 *
 * Every e-mail is checked at the test server's time it was sent: each notification
 * activity records the server's scheduled time of its attempt (`Context.current().info`),
 * which is the workflow time at which the workflow decided to send it.
 *
 * The time-skipping helper wires no `refundIban` (the runtime passes
 * `config.payouts.debtor.iban`); the notifyApplicant wrapper below adds the same account
 * (the helper's DEBTOR) to the e-mail's variables, as the real notification would.
 *
 * Time skips only while the test awaits `env.sleep`; it never calls `handle.result()`
 * on the time-skipping client (that lets the server skip time for every workflow).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { Context } from '@temporalio/activity';
import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Activities } from '../../activities/index.ts';
import type { NotifyApplicantInput } from '../../activities/notifications.ts';
import type { BudgetLedger } from '../../src/budget/ledger.ts';
import type { Models } from '../../src/db/models.ts';
import { createLogger } from '../../src/logger.ts';
import { activityYear } from '../../src/domain/application.ts';
import { amsterdamDate, DAY_MS, endOfAmsterdamDay, formatDate } from '../../src/domain/dates.ts';
import { formatEuros } from '../../src/domain/money.ts';
import { payoutEndToEndId } from '../../src/domain/payouts.ts';
import type { PayoutService } from '../../src/payouts/service.ts';
import { completeScreeningUpdate, stateQuery, type initiativeWorkflow, type InitiativeState } from '../../workflows/initiative.ts';
import { decisionSignal, scheduledSignal } from '../../workflows/initiative-signals.ts';
import { recordRefundUpdate, reviewReportUpdate, submitReportUpdate } from '../../workflows/follow-up.ts';
import { eventually } from '../helpers/context.ts';
import { validApplication } from '../helpers/fixtures.ts';
import type { CapturedMail, startMailCatcher } from '../helpers/mail.ts';
import { DEBTOR, FUND, startTimeSkipping, submitApplication, terminateRunning, type InitiativeHandle as Handle, type TimeSkippingWithMail } from '../helpers/time-skipping.ts';

const MINUTE_MS = 60 * 1000;
const HOUR_MS = 60 * MINUTE_MS;
const PANEL = 'panel1@buurtfonds.test';
const REQUESTED = 60_050; // validApplication(): partytent 450,00 + springkussen 150,50
const GRANTED = 45_000; // the springkussen struck
const COST_LINES = [
  { description: 'Huur partytent', amountCents: 38_250 },
  { description: 'Koffie, thee en limonade', amountCents: 2_500 },
];
const ACTUAL = 40_750;
const UNSPENT = GRANTED - ACTUAL; // 42,50

const suffix = randomBytes(4).toString('hex');
const taskQueue = `lifecycle-test-${suffix}`;
const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent', 'buurtfonds-test');

/** Staff who get the panel e-mails (active panel and admin), and some who must not. */
const STAFF = [
  { _id: `p1-${suffix}`, email: PANEL, name: 'Panellid Een', role: 'panel' as const, chair: true, active: true },
  { _id: `p2-${suffix}`, email: 'panel2@buurtfonds.test', name: 'Panellid Twee', role: 'panel' as const, chair: false, active: true },
  { _id: `a1-${suffix}`, email: 'admin@buurtfonds.test', name: 'Beheerder', role: 'admin' as const, chair: false, active: true },
  { _id: `p3-${suffix}`, email: 'oud-panellid@buurtfonds.test', name: 'Oud-panellid', role: 'panel' as const, chair: false, active: false },
  { _id: `w1-${suffix}`, email: 'welzijn1@buurtfonds.test', name: 'Welzijnswerker', role: 'welfare' as const, chair: false, active: true },
  { _id: `f1-${suffix}`, email: 'financien@buurtfonds.test', name: 'Financiën', role: 'finance' as const, chair: false, active: true },
];
const STAFF_NOTIFIED = [PANEL, 'panel2@buurtfonds.test', 'admin@buurtfonds.test'];

let suite: TimeSkippingWithMail;
let env: TestWorkflowEnvironment;
/** A client without time skipping: reading a result through it does not move the test server's clock. */
let plainClient: Client;
let models: Models;
let ledger: BudgetLedger;
let payouts: PayoutService;
let mail: Awaited<ReturnType<typeof startMailCatcher>>;
const started: Handle[] = [];

/** Notification key → template and the test server's time at which the workflow scheduled it (first attempt). */
const notified = new Map<string, { template: string; at: number }>();
function noteSent(key: string, template: string): void {
  if (!notified.has(key)) notified.set(key, { template, at: Context.current().info.scheduledTimestampMs });
}

beforeAll(async () => {
  suite = await startTimeSkipping({
    logger,
    mongoUri: inject('mongoUri'),
    workflowBundlePath: inject('workflowBundlePath'),
    dbName: `t_life_${suffix}`,
    taskQueue,
    catchMail: true,
    activities: (real): Activities => ({
      ...real,
      async notifyApplicant(input) {
        noteSent(input.key, input.template);
        // The fund's refund account, as src/runtime.ts wires it (refundIban = the debtor's IBAN).
        return real.notifyApplicant({ ...input, vars: { ...input.vars, fundIban: DEBTOR.iban } as NotifyApplicantInput['vars'] });
      },
      async notifyPanel(input) {
        noteSent(input.key, input.template);
        return real.notifyPanel(input);
      },
    }),
    runWorker: true,
  });
  ({ env, models, mail, ledger, payouts } = suite);
  plainClient = new Client({ connection: env.connection, namespace: env.namespace ?? 'default' });
  await models.StaffUser.create(STAFF.map((s) => ({ ...s, passwordHash: 'not-used' })));
});

afterEach(async () => {
  await terminateRunning(started, 'test finished');
});

afterAll(async () => {
  await suite?.stop();
});

// ---------------------------------------------------------------------------------

async function sleepUntil(at: number): Promise<void> {
  const now = await env.currentTimeMs();
  if (at > now) await env.sleep(at - now);
}

async function statusOf(applicationId: string, status: string) {
  return eventually(async () => {
    const a = await models.Application.findById(applicationId).lean();
    return a?.status === status ? a : undefined;
  }, 20_000, `${applicationId} ${status}`);
}

/** Until the workflow has no activity running and no workflow task to do; then its state. */
async function settled(handle: Handle): Promise<InitiativeState> {
  await eventually(async () => {
    const d = await handle.describe();
    return d.status.name !== 'RUNNING' || ((d.raw.pendingActivities ?? []).length === 0 && !d.raw.pendingWorkflowTask);
  }, 20_000, `${handle.workflowId} settled`);
  return handle.query(stateQuery);
}

async function timeline(applicationId: string) {
  const events = await models.Event.find({ applicationId }).lean();
  const seq = (id: string) => Number(id.slice(id.lastIndexOf(':') + 1));
  return events.sort((a, b) => seq(a._id) - seq(b._id));
}

function mailsTo(email: string): CapturedMail[] {
  return mail.mails.filter((m) => m.to.includes(email));
}

async function waitForMail(email: string, subject: string): Promise<CapturedMail> {
  return mail.waitFor((m) => m.to.includes(email) && m.subject === subject);
}

/** The notification `key` was sent at the test server's `expected` time (its timer, or the step that caused it), not before and at most a minute after. */
function expectSentAt(key: string, expected: number): void {
  const n = notified.get(key);
  expect(n, `notification ${key}`).toBeDefined();
  expect(n!.at, `${key} sent at ${new Date(n!.at).toISOString()}, expected ${new Date(expected).toISOString()}`).toBeGreaterThanOrEqual(expected);
  expect(n!.at - expected, `${key} sent at ${new Date(n!.at).toISOString()}, expected ${new Date(expected).toISOString()}`).toBeLessThan(MINUTE_MS);
}

// ---------------------------------------------------------------------------------

describe('initiativeWorkflow: one initiative from submission to closed', () => {
  it('lifecycle: submitted → screening → partial grant → reserved → paid → report reminder → activity_held → report_due → report_received → settled (refund due) → refund in → closed, six months in seconds', async () => {
    const t0 = await env.currentTimeMs();
    // A two-day activity about four months after "now"; it is charged to the year it starts in.
    const startDate = amsterdamDate(new Date(t0 + 118 * DAY_MS));
    const endDate = amsterdamDate(new Date(t0 + 119 * DAY_MS));
    const budgetYear = activityYear({ startDate });
    const activityEndsAt = endOfAmsterdamDay(endDate).getTime();
    const remindAt = activityEndsAt - 7 * DAY_MS;
    const due = activityEndsAt + 56 * DAY_MS; // the default reportDeadlineDays
    const yearBefore = await ledger.balances(budgetYear);

    // --- Intake: stored as intake does, the workflow confirms and starts screening.
    const email = `leven-${suffix}@example.nl`;
    // Without the welfare hand-off (its own supportWorkflow, a child that outlives this workflow): this is the money's life.
    const form = validApplication({ wantsSupport: false });
    const { applicationId, workflowId, reference, handle } = await submitApplication(suite, {
      number: 1,
      form: { ...form, title: 'Buurtfeest Vlietwijk', applicant: { ...form.applicant, email }, activity: { startDate, endDate, location: 'Vlietpark' } },
      started,
    });
    const subject = {
      confirmation: `Uw aanvraag ${reference} is ontvangen`,
      scheduled: (meetingAt: string) => `Uw aanvraag ${reference} wordt besproken op ${formatDate(new Date(meetingAt))}`,
      partial: `Uw aanvraag ${reference} is gedeeltelijk toegekend`,
      paid: `Het bedrag voor ${reference} is overgemaakt`,
      upcoming: `Uw activiteit ${reference} is bijna: vergeet de foto's en bonnetjes niet`,
      due: `Herinnering: uw verslag over ${reference}`,
      overdue: `Laatste herinnering: uw verslag over ${reference}`,
      accepted: `Uw verslag over ${reference} is goedgekeurd`,
      staffReport: `Verslag ${reference} wacht op beoordeling`,
    };
    await waitForMail(email, subject.confirmation);
    expectSentAt(`${applicationId}:confirmation`, t0);

    // --- Screening: three days later the panel completes it.
    await env.sleep(3 * DAY_MS);
    expect(await handle.executeUpdate(completeScreeningUpdate, { args: [{ completedBy: PANEL }] })).toEqual({ status: 'ready_for_meeting' });

    // --- The meeting: on the agenda (scheduled), a week later the decision: partially granted.
    const tScheduled = await env.currentTimeMs();
    const meetingId = `meeting-lifecycle-${suffix}`;
    const startsAt = new Date(tScheduled + 7 * DAY_MS).toISOString();
    await handle.signal(scheduledSignal, { meetingId, date: amsterdamDate(new Date(startsAt)), startsAt });
    await statusOf(applicationId, 'scheduled');
    await waitForMail(email, subject.scheduled(startsAt));
    expectSentAt(`${applicationId}:meeting:${meetingId}`, tScheduled);

    await sleepUntil(Date.parse(startsAt) + 2 * HOUR_MS);
    const tDecided = await env.currentTimeMs();
    await handle.signal(decisionSignal, {
      meetingId,
      outcome: 'partially_approved',
      grantedCents: GRANTED,
      requestedCents: REQUESTED,
      reasons: ['Het springkussen valt buiten de regeling.'],
      struckLines: [1],
      decidedAt: new Date(tDecided).toISOString(),
    });
    await statusOf(applicationId, 'reserved');
    const partial = await waitForMail(email, subject.partial);
    expect(partial.text).toContain(`u ontvangt ${formatEuros(GRANTED)} van de gevraagde ${formatEuros(REQUESTED)}`);
    expect(partial.text).toContain('Niet toegekend: Springkussen.');
    expectSentAt(`${applicationId}:decision:${meetingId}`, tDecided);
    expect(await settled(handle)).toMatchObject({ status: 'reserved', grant: { budgetYear, reservedCents: GRANTED, endToEndId: payoutEndToEndId(reference) } });

    // --- Finance: a batch the next day, reported executed by the bank two days later → paid.
    await env.sleep(DAY_MS);
    const batch = await payouts.createBatch({ actor: 'finance' });
    expect(batch.endToEndIds).toEqual([payoutEndToEndId(reference)]);
    await env.sleep(2 * DAY_MS);
    const tPaid = await env.currentTimeMs();
    await payouts.executeBatch(batch.id, { actor: 'finance' });
    await statusOf(applicationId, 'paid');
    const paidMail = await waitForMail(email, subject.paid);
    expect(paidMail.text).toContain(`Wij hebben ${formatEuros(GRANTED)} voor "Buurtfeest Vlietwijk" (${reference}) overgemaakt`);
    expectSentAt(`${applicationId}:paid`, tPaid);
    expect(await settled(handle)).toMatchObject({ status: 'paid', grant: { paid: { batchId: batch.id } }, followUp: {} });

    // --- A week before the activity's last day ends: the reminder about photos and receipts.
    await sleepUntil(remindAt - HOUR_MS);
    await settled(handle);
    expect(mailsTo(email).map((m) => m.subject)).not.toContain(subject.upcoming);
    await sleepUntil(remindAt + MINUTE_MS);
    const upcoming = await waitForMail(email, subject.upcoming);
    expect(upcoming.text).toContain(`Over een week is "Buurtfeest Vlietwijk" (${reference}) voorbij.`);
    expectSentAt(`${applicationId}:report_upcoming`, remindAt);
    expect((await settled(handle)).status).toBe('paid');

    // --- The end of the last day (midnight in Amsterdam): activity_held, then report_due with the deadline.
    await sleepUntil(activityEndsAt - HOUR_MS);
    expect((await settled(handle)).status).toBe('paid');
    await sleepUntil(activityEndsAt + MINUTE_MS);
    await statusOf(applicationId, 'report_due');
    const dueState = await settled(handle);
    expect(dueState).toMatchObject({ status: 'report_due', followUp: { reportDeadline: new Date(due).toISOString() } });
    const held = (await timeline(applicationId)).slice(-2);
    expect(held.map((e) => [e.type, e.status])).toEqual([
      ['activity_held', 'activity_held'],
      ['report_due', 'report_due'],
    ]);
    for (const e of held) {
      expect(Date.parse(e.at)).toBeGreaterThanOrEqual(activityEndsAt);
      expect(Date.parse(e.at) - activityEndsAt).toBeLessThan(MINUTE_MS);
    }
    expect(held[1]!.note).toBe(new Date(due).toISOString());

    // --- Five weeks after the activity (before the deadline): the report, cheaper than granted.
    await sleepUntil(activityEndsAt + 35 * DAY_MS);
    const tReport = await env.currentTimeMs();
    const reported = await handle.executeUpdate(submitReportUpdate, {
      args: [
        {
          text: 'Het buurtfeest was een succes: veel buren leerden elkaar voor het eerst kennen.',
          participants: 140,
          volunteers: 9,
          selfAssessment: 'green',
          costLines: COST_LINES,
          documentIds: ['doc-foto-1', 'doc-bonnetjes'],
        },
      ],
    });
    expect(reported.report).toMatchObject({ actualCostsCents: ACTUAL, unspentCents: UNSPENT, documentIds: ['doc-foto-1', 'doc-bonnetjes'] });
    expect(reported.reportDeadline).toBeUndefined();
    await statusOf(applicationId, 'report_received');
    for (const to of STAFF_NOTIFIED) await waitForMail(to, subject.staffReport);
    expectSentAt(`${applicationId}:report_received:${reported.report!.submittedAt}`, tReport);

    // --- A week later the panel accepts it: settled, 42,50 to pay back to the fund's account.
    await env.sleep(7 * DAY_MS);
    const tReview = await env.currentTimeMs();
    const reviewed = await handle.executeUpdate(reviewReportUpdate, { args: [{ outcome: 'accept', trafficLight: 'green', reviewedBy: PANEL }] });
    expect(reviewed).toMatchObject({ review: { outcome: 'accept', trafficLight: 'green', reviewedBy: PANEL }, settlement: { refundDueCents: UNSPENT } });
    await statusOf(applicationId, 'settled');
    const accepted = await waitForMail(email, subject.accepted);
    expect(accepted.text).toContain(`Het panel heeft het goedgekeurd.`);
    expect(accepted.text).toContain(`Er is ${formatEuros(UNSPENT)} niet uitgegeven. Wilt u dat bedrag terugbetalen op rekening ${DEBTOR.iban} ten name van de gemeente, onder vermelding van ${reference}?`);
    expectSentAt(`${applicationId}:settled`, tReview);
    expect(await settled(handle)).toMatchObject({ status: 'settled' }); // waits for the money

    // --- Ten days later finance records the refund: the ledger gets it back, the file closes, the workflow completes.
    await env.sleep(10 * DAY_MS);
    const tRefund = await env.currentTimeMs();
    await handle.executeUpdate(recordRefundUpdate, { args: [{ amountCents: UNSPENT, recordedBy: 'finance@buurtfonds.test' }] });
    const closedDoc = await statusOf(applicationId, 'closed');
    await eventually(async () => (await handle.describe()).status.name === 'COMPLETED', 20_000, `${workflowId} completed`);
    const result = await plainClient.workflow.getHandle<typeof initiativeWorkflow>(workflowId).result();
    expect(result).toMatchObject({
      status: 'closed',
      decision: { outcome: 'partially_approved', grantedCents: GRANTED },
      grant: { budgetYear, reservedCents: GRANTED, paid: { batchId: batch.id } },
      followUp: { report: { actualCostsCents: ACTUAL, unspentCents: UNSPENT }, review: { outcome: 'accept' }, settlement: { refundDueCents: UNSPENT, refundReceivedCents: UNSPENT } },
    });

    // Nothing is left to fire: past the report deadline and the last reminder, no reminders.
    await sleepUntil(due + 15 * DAY_MS);
    const tEnd = await env.currentTimeMs();
    expect(tEnd - t0).toBeGreaterThan(180 * DAY_MS); // six months of workflow time

    // The timeline: every status in order, at the times it happened.
    const events = await timeline(applicationId);
    expect(events.map((e) => e.type)).toEqual([
      'submitted',
      'status_changed',
      'screening_completed',
      'meeting_scheduled',
      'decided',
      'budget_reserved',
      'paid',
      'activity_held',
      'report_due',
      'report_received',
      'report_accepted',
      'refund_received',
      'closed',
    ]);
    expect(events.filter((e) => e.status).map((e) => e.status)).toEqual([
      'submitted',
      'screening',
      'ready_for_meeting',
      'scheduled',
      'partially_approved',
      'reserved',
      'paid',
      'activity_held',
      'report_due',
      'report_received',
      'settled',
      'closed',
    ]);
    const at = (type: string) => Date.parse(events.find((e) => e.type === type)!.at);
    expect(at('paid')).toBeGreaterThanOrEqual(tPaid);
    expect(at('report_received') - tReport).toBeLessThan(MINUTE_MS);
    expect(at('report_accepted') - tReview).toBeLessThan(MINUTE_MS);
    expect(at('refund_received') - tRefund).toBeLessThan(MINUTE_MS);
    expect(at('closed') - tRefund).toBeLessThan(MINUTE_MS);
    expect(events.find((e) => e.type === 'report_received')).toMatchObject({ status: 'report_received', actor: 'applicant', documentIds: ['doc-foto-1', 'doc-bonnetjes'] });
    expect(events.find((e) => e.type === 'report_accepted')).toMatchObject({ status: 'settled', actor: PANEL, note: 'green' });
    const refundEvent = events.find((e) => e.type === 'refund_received')!;
    expect(refundEvent).toMatchObject({ actor: 'finance@buurtfonds.test', note: String(UNSPENT) });
    expect(refundEvent.status).toBeUndefined(); // a note, not a status change

    // Every e-mail to the applicant, in order; no report_due / report_overdue reminder.
    expect(mailsTo(email).map((m) => m.subject)).toEqual([
      subject.confirmation,
      subject.scheduled(startsAt),
      subject.partial,
      subject.paid,
      subject.upcoming,
      subject.accepted,
    ]);
    const templates = [...notified.values()].map((n) => n.template);
    expect(templates).not.toContain('report_due');
    expect(templates).not.toContain('report_overdue');
    expect(templates).not.toContain('report_escalated');
    // The staff e-mail about the report: active panel members and the admin, nobody else.
    const staffMails = mail.mails.filter((m) => m.subject === subject.staffReport);
    expect(staffMails.flatMap((m) => m.to).sort()).toEqual([...STAFF_NOTIFIED].sort());
    expect(staffMails.find((m) => m.to.includes('admin@buurtfonds.test'))!.text).toContain(`Het verslag over "Buurtfeest Vlietwijk" (${reference}) is binnen en wacht op uw beoordeling`);

    // The ledger: reserved, paid, the unspent part refunded; the books prove themselves.
    const entries = (await ledger.journal(budgetYear)).filter((e) => e.applicationId === applicationId);
    expect(entries.map((e) => [e.kind, e.amountCents])).toEqual([
      ['reserve', GRANTED],
      ['pay', GRANTED],
      ['refund', UNSPENT],
    ]);
    expect(entries[2]).toMatchObject({ actor: 'finance@buurtfonds.test' });
    expect(await ledger.shareOf(budgetYear, applicationId)).toEqual({ committedCents: 0, paidCents: ACTUAL });
    expect(await ledger.balances(budgetYear)).toMatchObject({ paidCents: yearBefore.paidCents + ACTUAL, refundedCents: yearBefore.refundedCents + UNSPENT, committedCents: yearBefore.committedCents });
    const check = await ledger.check();
    expect(check.years.flatMap((y) => y.problems)).toEqual([]);
    expect(check.ok).toBe(true);

    // The read model: the report, the review and the settlement as the workflow projected them.
    expect(closedDoc).toMatchObject({
      status: 'closed',
      report: {
        text: 'Het buurtfeest was een succes: veel buren leerden elkaar voor het eerst kennen.',
        participants: 140,
        volunteers: 9,
        selfAssessment: 'green',
        costLines: COST_LINES,
        documentIds: ['doc-foto-1', 'doc-bonnetjes'],
        actualCostsCents: ACTUAL,
        unspentCents: UNSPENT,
        submittedAt: reported.report!.submittedAt,
      },
      review: { outcome: 'accept', trafficLight: 'green', reviewedBy: PANEL, reviewedAt: reviewed.review!.reviewedAt },
      settlement: { refundDueCents: UNSPENT, refundReceivedCents: UNSPENT, settledAt: reviewed.settlement!.settledAt },
    });
    const s = closedDoc.settlement!;
    expect(Date.parse(s.refundReceivedAt!) - tRefund).toBeLessThan(MINUTE_MS);
    expect(Date.parse(s.closedAt!) - tRefund).toBeLessThan(MINUTE_MS);
    expect(Date.parse(s.closedAt!)).toBeGreaterThanOrEqual(Date.parse(s.refundReceivedAt!));
    expect(await models.Application.findById(applicationId).lean()).toMatchObject({ status: 'closed', settlement: { closedAt: s.closedAt } });
  });
});
