/**
 * The follow-up stage of initiativeWorkflow (workflows/follow-up.ts) after the payout,
 * on the real time-skipping test server with the real activities, budget ledger and
 * payout register against a real database (FerretDB) and a real SMTP server: report
 * reminders at the due date and two weeks later, escalation to the panel and admin,
 * the clarification loop and its deadline, rejection with and without reclaiming the
 * grant, a refund in two parts, and the updates the workflow refuses (InvalidState).
 *
 * Each initiative is brought to `paid` the way production does (screening, the
 * meeting's signals, finance's batch and its execution). Every notification activity
 * records the test server's time at which the workflow scheduled it (notificationLog),
 * so a reminder is checked at its timer, not just "eventually". The staff are
 * followUpStaff: the panel/admin and some who must not get mail.
 *
 * Time skips only while a test awaits `env.sleep` (test/helpers/time-skipping-suite.ts).
 */
import { describe, expect, it } from 'vitest';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Activities } from '../../activities/index.ts';
import { activityYear } from '../../src/domain/application.ts';
import { addCalendarDays, amsterdamDate, DAY_MS, endOfAmsterdamDay, formatDate, startOfAmsterdamDay } from '../../src/domain/dates.ts';
import { formatEuros } from '../../src/domain/money.ts';
import { payoutEndToEndId } from '../../src/domain/payouts.ts';
import type { ReportInput } from '../../src/domain/report.ts';
import type { InitiativeInput, InitiativeState } from '../../workflows/initiative.ts';
import { recordRefundUpdate, reviewReportUpdate, submitReportUpdate, type ReviewReportArgs } from '../../workflows/follow-up.ts';
import { eventually } from '../helpers/context.ts';
import type { CapturedMail } from '../helpers/mail.ts';
import { DEBTOR } from '../helpers/time-skipping.ts';
import { instantAt, nextChange } from '../helpers/summer-time.ts';
import { expectRefused, followUpStaff, notificationLog, REQUESTED_CENTS as GRANTED, SCREENER as PANEL, STAFF_NOTIFIED, timeSkippingSuite, type Submitted } from '../helpers/time-skipping-suite.ts';

const MINUTE_MS = 60 * 1000;
const HOUR_MS = 60 * MINUTE_MS;
const FINANCE = 'financien@buurtfonds.test';

const notifications = notificationLog();
const { expectSentAt } = notifications;

/** Ledger activities a test holds (per application) until it releases them; `reached` counts the calls that arrived. */
interface Gate {
  reached: number;
  release: () => void;
  open: Promise<void>;
}
const gates = new Map<string, Gate>();
function hold(key: string): Gate {
  let release!: () => void;
  const open = new Promise<void>((r) => (release = r));
  const gate = { reached: 0, release, open };
  gates.set(key, gate);
  return gate;
}
async function passGate(key: string): Promise<void> {
  const gate = gates.get(key);
  if (!gate) return;
  gate.reached += 1;
  await gate.open;
}

const suite = timeSkippingSuite({
  name: 'follow-up',
  activities: (real): Activities => ({
    ...real,
    ...notifications.activities(real),
    async refundGrant(input) {
      await passGate(`refundGrant:${input.applicationId}`);
      return real.refundGrant(input);
    },
    async reclaimGrant(input) {
      await passGate(`reclaimGrant:${input.applicationId}`);
      return real.reclaimGrant(input);
    },
  }),
  staff: followUpStaff,
  async beforeTerminate() {
    for (const g of gates.values()) g.release();
    gates.clear();
    // Let activities still running finish first: their writes would otherwise land during the next test.
    for (const h of suite.started) await suite.idle(h).catch(() => undefined);
  },
  // Every scenario leaves books that prove themselves.
  checkBooks: true,
});
const { statusOf, settled, finished, sleepUntil, timeline, mailsTo, waitForMail, decide } = suite;

// ---------------------------------------------------------------------------------

interface Paid extends Submitted {
  year: number;
  /** The activity's (last) day, YYYY-MM-DD. */
  lastDay: string;
  /** When the activity is over: 00:00 in Amsterdam after its last day, ms. */
  endsAt: number;
  /** The report deadline: the end (Amsterdam) of the day reportDeadlineDays after the last day, ms. */
  due: number;
  /** The last reminder and escalation: the end of the 14th day after the due day, ms. */
  last: number;
}

/**
 * Submits an application whose one-day activity is `inDays` after the test server's
 * now, screens it, grants it in full at a meeting, and has finance batch and execute its
 * payout; returns once the workflow is in `paid` with nothing running.
 */
async function paidInitiative(label: string, inDays: number, input: Partial<InitiativeInput> = {}): Promise<Paid> {
  const date = amsterdamDate(new Date((await suite.env.currentTimeMs()) + inDays * DAY_MS));
  // With the welfare support the fixture asks for: its case's workflow ends with the initiative.
  const app = await suite.submit(label, { form: { title: `Buurtinitiatief ${label}`, activity: { startDate: date, endDate: date, location: 'Kerkstraat' } }, input });
  await decide(app, 'reserved', { meetingInDays: 2 });
  const batch = await suite.payouts.createBatch({ actor: 'finance' });
  expect(batch.endToEndIds).toEqual([payoutEndToEndId(app.reference)]);
  await suite.payouts.executeBatch(batch.id, { actor: 'finance' });
  await statusOf(app, 'paid');
  const year = activityYear({ startDate: date });
  expect(await settled(app.handle)).toMatchObject({ status: 'paid', grant: { budgetYear: year, reservedCents: GRANTED, paid: { batchId: batch.id } } });
  const days = input.reportDeadlineDays ?? 56;
  const endsAt = startOfAmsterdamDay(addCalendarDays(date, 1)).getTime();
  return { ...app, year, lastDay: date, endsAt, due: endOfAmsterdamDay(date, days).getTime(), last: endOfAmsterdamDay(date, days + 14).getTime() };
}

/** Sleeps past the end of the activity: returns once the workflow is in report_due. */
async function activityOver(app: Paid): Promise<InitiativeState> {
  await sleepUntil(app.endsAt + MINUTE_MS);
  await statusOf(app.applicationId, 'report_due');
  return settled(app.handle);
}

function report(costLines: ReportInput['costLines'], overrides: Partial<ReportInput> = {}) {
  return {
    text: 'De activiteit is doorgegaan met veel buren en mooi weer.',
    participants: 95,
    volunteers: 6,
    selfAssessment: 'orange' as const,
    costLines,
    documentIds: ['doc-foto', 'doc-bon'],
    ...overrides,
  };
}

async function submitReport(app: Paid, costLines: ReportInput['costLines'], overrides: Partial<ReportInput> & { documentIds?: string[] } = {}) {
  return app.handle.executeUpdate(submitReportUpdate, { args: [report(costLines, overrides)] });
}

async function review(app: Paid, args: Omit<ReviewReportArgs, 'reviewedBy'>) {
  return app.handle.executeUpdate(reviewReportUpdate, { args: [{ reviewedBy: PANEL, ...args }] });
}

async function refund(app: Paid, amountCents: number) {
  return app.handle.executeUpdate(recordRefundUpdate, { args: [{ amountCents, recordedBy: FINANCE }] });
}

/** The event types after `paid` (the follow-up part of the timeline). */
async function followUpTypes(applicationId: string) {
  const types = (await timeline(applicationId)).map((e) => e.type);
  return types.slice(types.indexOf('paid') + 1);
}

async function movements(app: Paid) {
  return (await suite.ledger.journal(app.year)).filter((e) => e.applicationId === app.applicationId).map((e) => [e.kind, e.amountCents] as const);
}

/** Waits for `subject` to reach every active panel member and the admin; checks nobody else got it. */
async function staffMailed(subject: string, times = 1): Promise<CapturedMail[]> {
  await eventually(async () => suite.mail.mails.filter((m) => m.subject === subject).length >= STAFF_NOTIFIED.length * times, 15_000, `staff mail ${subject}`);
  const mails = suite.mail.mails.filter((m) => m.subject === subject);
  expect(mails.flatMap((m) => m.to).sort()).toEqual(STAFF_NOTIFIED.flatMap((s) => Array<string>(times).fill(s)).sort());
  return mails;
}

function templatesOf(applicationId: string): string[] {
  return [...notifications.sent].filter(([key]) => key.startsWith(`${applicationId}:`)).map(([, n]) => n.template);
}

const subjects = (ref: string) => ({
  due: `Herinnering: uw verslag over ${ref}`,
  overdue: `Laatste herinnering: uw verslag over ${ref}`,
  clarification: `Vraag over uw verslag ${ref}`,
  accepted: `Uw verslag over ${ref} is goedgekeurd`,
  rejected: `Uw verslag over ${ref} is niet goedgekeurd`,
  reclaimed: `De subsidie voor ${ref} wordt teruggevorderd`,
  staffReport: `Verslag ${ref} wacht op beoordeling`,
  staffEscalated: `Verslag ${ref} ontbreekt: besluit nodig`,
});

/** What a refused update must leave alone: the workflow's state, the timeline, the read model, the ledger, the outbox, the history's events. */
async function snapshot(app: Paid) {
  const state = await settled(app.handle);
  const doc = await suite.models.Application.findById(app.applicationId).lean();
  return {
    state,
    timeline: (await timeline(app.applicationId)).map((e) => e._id),
    readModel: { status: doc?.status, statusSeq: doc?.statusSeq, report: doc?.report, review: doc?.review, settlement: doc?.settlement },
    ledger: await movements(app),
    outbox: await suite.models.Outbox.countDocuments({ applicationId: app.applicationId }),
    // A rejected update costs a workflow task (scheduled, started, completed) but records nothing else: no update accepted, no command.
    history: ((await app.handle.fetchHistory()).events ?? [])
      .filter((e) => !e.workflowTaskScheduledEventAttributes && !e.workflowTaskStartedEventAttributes && !e.workflowTaskCompletedEventAttributes)
      .map((e) => String(e.eventId)),
  };
}

// ---------------------------------------------------------------------------------

describe('follow-up: report reminders and escalation', () => {
  it('reminds at the due date and 14 days later, then escalates: report_overdue, a report_escalated note, the active panel and admin e-mailed; a late report is still taken', async () => {
    const app = await paidInitiative('herinnering', 3, { reportDeadlineDays: 28 });
    const s = subjects(app.reference);
    const { last } = app;
    const due = await activityOver(app);
    expect(due.followUp).toMatchObject({ reportDeadline: new Date(app.due).toISOString() });

    await sleepUntil(app.due - HOUR_MS);
    await settled(app.handle);
    expect(mailsTo(app.email).map((m) => m.subject)).not.toContain(s.due);

    await sleepUntil(app.due + MINUTE_MS);
    const reminder = await waitForMail(app.email, s.due);
    expectSentAt(`${app.applicationId}:report_due`, app.due);
    // The reminder goes out as the term's last day ends (Amsterdam) and names that day.
    expect(reminder.text).toContain(`De termijn voor het verslag over "Buurtinitiatief herinnering" (${app.reference}) liep tot en met ${formatDate(new Date(app.due))}.`);

    await sleepUntil(last - HOUR_MS);
    const before = await settled(app.handle);
    expect(before.status).toBe('report_due');
    expect(before.followUp?.escalatedAt).toBeUndefined();
    expect(mailsTo(app.email).map((m) => m.subject)).not.toContain(s.overdue);
    expect(await followUpTypes(app.applicationId)).toEqual(['activity_held', 'report_due']);

    await sleepUntil(last + MINUTE_MS);
    const overdue = await waitForMail(app.email, s.overdue);
    expectSentAt(`${app.applicationId}:report_overdue`, last);
    expect(overdue.text).toContain(`had er op ${formatDate(new Date(app.due))} moeten zijn. Dit is de laatste herinnering`);
    const staff = await staffMailed(s.staffEscalated);
    expectSentAt(`${app.applicationId}:report_escalated`, last);
    expect(staff[0]!.text).toContain(`Het verslag over "Buurtinitiatief herinnering" (${app.reference}) is na de laatste herinnering niet binnengekomen`);
    expect(staff[0]!.text).toContain(`/api/v1/applications/${app.applicationId}`);

    const escalated = await settled(app.handle);
    expect(escalated.status).toBe('report_due'); // escalation is a note, not a status
    expect(Date.parse(escalated.followUp!.escalatedAt!) - last).toBeLessThan(MINUTE_MS);
    const events = await timeline(app.applicationId);
    expect(await followUpTypes(app.applicationId)).toEqual(['activity_held', 'report_due', 'report_escalated']);
    const note = events.at(-1)!;
    expect(note.status).toBeUndefined();
    expect(Date.parse(note.at)).toBeGreaterThanOrEqual(last);
    expect((await suite.models.Application.findById(app.applicationId).lean())?.status).toBe('report_due');

    // The report still comes in after the escalation: received, the escalation cleared.
    const late = await submitReport(app, [{ description: 'Alles', amountCents: GRANTED }]);
    expect(late.escalatedAt).toBeUndefined();
    await statusOf(app.applicationId, 'report_received');
    await staffMailed(s.staffReport);
    expect(await followUpTypes(app.applicationId)).toEqual(['activity_held', 'report_due', 'report_escalated', 'report_received']);
    // One reminder of each kind, ever.
    expect(templatesOf(app.applicationId).filter((t) => t.startsWith('report_'))).toEqual(['report_due', 'report_overdue', 'report_escalated', 'report_received']);
  });

  it('a report before the due date: no reminders, no escalation, even long after the deadline', async () => {
    const app = await paidInitiative('op-tijd', 2);
    const s = subjects(app.reference);
    await activityOver(app);
    await suite.env.sleep(10 * DAY_MS);
    const r = await submitReport(app, [{ description: 'Partytent', amountCents: 45_000 }]);
    expect(r.report).toMatchObject({ actualCostsCents: 45_000, unspentCents: GRANTED - 45_000 });
    await statusOf(app.applicationId, 'report_received');
    await staffMailed(s.staffReport);

    await sleepUntil(app.due + 15 * DAY_MS); // past the due date and the last reminder
    const state = await settled(app.handle);
    expect(state.status).toBe('report_received');
    expect(state.followUp?.escalatedAt).toBeUndefined();
    expect(state.followUp?.reportDeadline).toBeUndefined();
    const subjectsSent = mailsTo(app.email).map((m) => m.subject);
    expect(subjectsSent).not.toContain(s.due);
    expect(subjectsSent).not.toContain(s.overdue);
    expect(suite.mail.mails.filter((m) => m.subject === s.staffEscalated)).toEqual([]);
    expect(templatesOf(app.applicationId)).not.toContain('report_due');
    expect(templatesOf(app.applicationId)).not.toContain('report_overdue');
    expect(templatesOf(app.applicationId)).not.toContain('report_escalated');
    expect(await followUpTypes(app.applicationId)).toEqual(['activity_held', 'report_due', 'report_received']);
  });
});

describe('follow-up: the clarification loop', () => {
  it('clarify → e-mail with the question and deadline → the applicant reports again → report_received → accept with nothing unspent → closed', async () => {
    const app = await paidInitiative('verduidelijking', 2);
    const s = subjects(app.reference);
    await activityOver(app);
    await suite.env.sleep(5 * DAY_MS);
    // Spent more than granted: nothing to pay back.
    await submitReport(app, [
      { description: 'Partytent', amountCents: 45_000 },
      { description: 'Springkussen', amountCents: 16_000 },
    ]);
    await statusOf(app.applicationId, 'report_received');

    const tClarify = await suite.env.currentTimeMs();
    const question = 'Welke bonnetjes horen bij de partytent? Wij zien er maar één.';
    const asked = await review(app, { outcome: 'clarify', note: question, deadlineDays: 10 });
    // The end of the 10th day (Amsterdam) after the review.
    const deadline = endOfAmsterdamDay(new Date(asked.review!.reviewedAt), 10).getTime();
    expect(asked.reportDeadline).toBe(new Date(deadline).toISOString());
    expect(asked.report!.clarifications).toEqual([{ requestedAt: asked.review!.reviewedAt, question, deadline: asked.reportDeadline }]);
    expect(asked.review).toMatchObject({ outcome: 'clarify', trafficLight: 'orange', note: question }); // the initiator's own light
    await statusOf(app.applicationId, 'clarification_requested');
    const clarification = await waitForMail(app.email, s.clarification);
    expect(clarification.text).toContain(question);
    expect(clarification.text).toContain(`Stuur uw aangevulde verslag uiterlijk ${formatDate(new Date(asked.reportDeadline!))} via:`);
    expectSentAt(`${app.applicationId}:clarification:1`, tClarify);
    // The initiator has the turn: the panel cannot review now.
    await expectRefused(review(app, { outcome: 'accept' }));

    await suite.env.sleep(4 * DAY_MS);
    const tAnswer = await suite.env.currentTimeMs();
    const answer = 'Het tweede bonnetje van de partytent zit er nu bij, samen met de foto van de opbouw.';
    const again = await submitReport(app, [{ description: 'Partytent (twee bonnen)', amountCents: 45_000 }, { description: 'Springkussen', amountCents: 16_000 }], { text: answer }, );
    expect(again.reportDeadline).toBeUndefined();
    expect(again.report).toMatchObject({ text: answer, actualCostsCents: 61_000, unspentCents: 0 });
    expect(again.report!.clarifications).toEqual([{ requestedAt: asked.review!.reviewedAt, question, deadline: asked.reportDeadline, answeredAt: again.report!.submittedAt, answer }]);
    expect(Date.parse(again.report!.submittedAt) - tAnswer).toBeLessThan(MINUTE_MS);
    await statusOf(app.applicationId, 'report_received');
    await staffMailed(s.staffReport, 2); // once per report

    // The clarification deadline passes after the answer: nothing happens.
    await sleepUntil(deadline + DAY_MS);
    expect(await followUpTypes(app.applicationId)).toEqual(['activity_held', 'report_due', 'report_received', 'clarification_requested', 'report_received']);

    const accepted = await review(app, { outcome: 'accept', trafficLight: 'green' });
    expect(accepted.settlement).toMatchObject({ refundDueCents: 0 });
    const result = await finished(app.handle);
    expect(result).toMatchObject({ status: 'closed', followUp: { settlement: { refundDueCents: 0 }, review: { outcome: 'accept', trafficLight: 'green' } } });
    const mailAccepted = await waitForMail(app.email, s.accepted);
    expect(mailAccepted.text).toContain('Het dossier is hiermee gesloten.');
    expect(mailAccepted.text).not.toContain('terugbetalen');
    expect(await followUpTypes(app.applicationId)).toEqual(['activity_held', 'report_due', 'report_received', 'clarification_requested', 'report_received', 'report_accepted', 'closed']);
    expect(await movements(app)).toEqual([
      ['reserve', GRANTED],
      ['pay', GRANTED],
    ]);
    const doc = await statusOf(app.applicationId, 'closed');
    expect(doc.report).toMatchObject({ text: answer, clarifications: [{ question, answer }] });
    expect(doc.settlement).toMatchObject({ refundDueCents: 0, closedAt: expect.any(String) });
  });

  it('a clarification not answered by its deadline: a report_escalated note (clarification) and the panel and admin are e-mailed', async () => {
    const app = await paidInitiative('geen-antwoord', 2);
    const s = subjects(app.reference);
    await activityOver(app);
    await submitReport(app, [{ description: 'Partytent', amountCents: 45_000 }]);
    await statusOf(app.applicationId, 'report_received');
    const asked = await review(app, { outcome: 'clarify', note: 'Hoeveel vrijwilligers waren er echt?', deadlineDays: 7 });
    const deadline = Date.parse(asked.reportDeadline!);

    await sleepUntil(deadline - HOUR_MS);
    expect((await settled(app.handle)).followUp?.escalatedAt).toBeUndefined();
    expect(suite.mail.mails.filter((m) => m.subject === s.staffEscalated)).toEqual([]);

    await sleepUntil(deadline + MINUTE_MS);
    await staffMailed(s.staffEscalated);
    expectSentAt(`${app.applicationId}:clarification_escalated`, deadline);
    const state = await settled(app.handle);
    expect(state.status).toBe('clarification_requested');
    expect(Date.parse(state.followUp!.escalatedAt!) - deadline).toBeLessThan(MINUTE_MS);
    const note = (await timeline(app.applicationId)).at(-1)!;
    expect(note).toMatchObject({ type: 'report_escalated', note: 'clarification' });
    expect(note.status).toBeUndefined();
    expect(await followUpTypes(app.applicationId)).toEqual(['activity_held', 'report_due', 'report_received', 'clarification_requested', 'report_escalated']);
    // No second escalation, no reminders to the applicant.
    await suite.env.sleep(30 * DAY_MS);
    expect(await followUpTypes(app.applicationId)).toEqual(['activity_held', 'report_due', 'report_received', 'clarification_requested', 'report_escalated']);
    expect(templatesOf(app.applicationId).filter((t) => t === 'report_escalated')).toHaveLength(1);

    // A late answer is still taken: report_received, the escalation cleared.
    const late = await submitReport(app, [{ description: 'Partytent', amountCents: 45_000 }], { volunteers: 4, text: 'Het waren er vier, niet zes: twee buren haakten af.' });
    expect(late.escalatedAt).toBeUndefined();
    await statusOf(app.applicationId, 'report_received');
  });
});

describe('follow-up: rejection and reclaim', () => {
  it('after escalation without a report only reject is possible; reject with reclaim → reclaimed, the paid grant reclaimed in the ledger', async () => {
    const app = await paidInitiative('terugvordering', 2, { reportDeadlineDays: 14 });
    const s = subjects(app.reference);
    const before = await suite.ledger.balances(app.year);
    await activityOver(app);
    // Not before the escalation.
    await expectRefused(review(app, { outcome: 'reject', note: 'Geen verslag.', reclaim: true }));
    await sleepUntil(app.last + MINUTE_MS);
    await staffMailed(s.staffEscalated);
    const escalated = await snapshot(app);
    expect(escalated.state.followUp?.escalatedAt).toBeDefined();
    await expectRefused(review(app, { outcome: 'accept' }));
    await expectRefused(review(app, { outcome: 'clarify', note: 'Waar is het verslag?' }));
    await expectRefused(review(app, { outcome: 'reject', reclaim: true })); // a reason is required
    expect(await snapshot(app)).toEqual(escalated);

    const tReject = await suite.env.currentTimeMs();
    const reason = 'Ondanks twee herinneringen geen verslag ontvangen.';
    const rejected = await review(app, { outcome: 'reject', note: reason, reclaim: true });
    expect(rejected.settlement).toMatchObject({ refundDueCents: 0, reclaimedCents: GRANTED });
    const result = await finished(app.handle);
    expect(result).toMatchObject({ status: 'reclaimed', followUp: { review: { outcome: 'reject', trafficLight: 'red', note: reason, reviewedBy: PANEL }, settlement: { reclaimedCents: GRANTED } } });
    expect(result.followUp?.report).toBeUndefined();

    expect(await movements(app)).toEqual([
      ['reserve', GRANTED],
      ['pay', GRANTED],
      ['reclaim', GRANTED],
    ]);
    expect(await suite.ledger.shareOf(app.year, app.applicationId)).toEqual({ committedCents: 0, paidCents: 0 });
    expect(await suite.ledger.balances(app.year)).toMatchObject({ reclaimedCents: before.reclaimedCents + GRANTED, paidCents: before.paidCents - GRANTED }); // paid is net of what came back
    const entry = (await suite.ledger.journal(app.year)).find((e) => e.applicationId === app.applicationId && e.kind === 'reclaim')!;
    expect(entry).toMatchObject({ key: `reclaim:${app.applicationId}:report`, actor: PANEL });

    const mailReclaimed = await waitForMail(app.email, s.reclaimed);
    expect(mailReclaimed.text).toContain(`Het panel vordert de subsidie van ${formatEuros(GRANTED)} voor "Buurtinitiatief terugvordering" (${app.reference}) terug. De reden:\n${reason}`);
    expect(mailReclaimed.text).toContain(`Betaal het bedrag terug op rekening ${DEBTOR.iban} ten name van de gemeente, onder vermelding van ${app.reference}.`);
    expectSentAt(`${app.applicationId}:reclaimed`, tReject);

    const events = await timeline(app.applicationId);
    expect(await followUpTypes(app.applicationId)).toEqual(['activity_held', 'report_due', 'report_escalated', 'grant_reclaimed']);
    expect(events.at(-1)).toMatchObject({ type: 'grant_reclaimed', status: 'reclaimed', actor: PANEL, note: reason });
    const doc = await statusOf(app.applicationId, 'reclaimed');
    expect(doc).toMatchObject({ report: null, review: { outcome: 'reject', trafficLight: 'red' }, settlement: { refundDueCents: 0, reclaimedCents: GRANTED, closedAt: expect.any(String) } });
  });

  it('reject without reclaim → closed: the grant stays paid, the applicant gets the reason', async () => {
    const app = await paidInitiative('afgekeurd', 2);
    const s = subjects(app.reference);
    await activityOver(app);
    await submitReport(app, [{ description: 'Partytent', amountCents: 30_000 }]);
    await statusOf(app.applicationId, 'report_received');
    const reason = 'Het verslag beschrijft een ander feest dan het aangevraagde.';
    const rejected = await review(app, { outcome: 'reject', note: reason, trafficLight: 'red' });
    expect(rejected.settlement).toMatchObject({ refundDueCents: 0 });
    expect(rejected.settlement?.reclaimedCents).toBeUndefined();
    const result = await finished(app.handle);
    expect(result).toMatchObject({ status: 'closed', followUp: { review: { outcome: 'reject', trafficLight: 'red', note: reason } } });
    expect(await movements(app)).toEqual([
      ['reserve', GRANTED],
      ['pay', GRANTED],
    ]);
    expect(await suite.ledger.shareOf(app.year, app.applicationId)).toEqual({ committedCents: 0, paidCents: GRANTED });
    const m = await waitForMail(app.email, s.rejected);
    expect(m.text).toContain(`Het panel heeft het verslag over "Buurtinitiatief afgekeurd" (${app.reference}) niet goedgekeurd. De reden:\n${reason}`);
    expect(mailsTo(app.email).map((x) => x.subject)).not.toContain(s.reclaimed);
    expect((await timeline(app.applicationId)).at(-1)).toMatchObject({ type: 'report_rejected', status: 'closed', actor: PANEL, note: reason });
    expect(await statusOf(app.applicationId, 'closed')).toMatchObject({ settlement: { refundDueCents: 0, closedAt: expect.any(String) }, review: { outcome: 'reject' } });
  });
});

describe('follow-up: two panel members reviewing at once', () => {
  // While a reject-with-reclaim is being booked in the ledger, a second review (here: an
  // accept) is refused: the review in progress is marked before its first await.
  it('refuses an accept while a reject-with-reclaim is being booked: one outcome, one mail, the workflow completes', async () => {
    const app = await paidInitiative('gelijktijdig', 2);
    const s = subjects(app.reference);
    await activityOver(app);
    await submitReport(app, [{ description: 'Partytent', amountCents: 30_000 }]);
    await statusOf(app.applicationId, 'report_received');
    await settled(app.handle);

    const gate = hold(`reclaimGrant:${app.applicationId}`);
    const reject = review(app, { outcome: 'reject', note: 'De bonnetjes zijn niet van deze activiteit.', reclaim: true });
    await eventually(async () => gate.reached === 1, 15_000, 'reclaim booking');
    const accept = review(app, { outcome: 'accept' }).then(
      () => 'accepted',
      (e: unknown) => (e instanceof WorkflowUpdateFailedError && e.cause instanceof ApplicationFailure ? e.cause.type : String(e)),
    );
    await new Promise((r) => setTimeout(r, 1_000));
    gate.release();
    await reject;
    const acceptOutcome = await accept;
    await eventually(async () => mailsTo(app.email).some((m) => m.subject === s.reclaimed), 15_000, 'reclaim mail');
    const state = await settled(app.handle);

    expect(acceptOutcome).toBe('InvalidState');
    expect(state.status).toBe('reclaimed');
    expect(state.followUp?.settlement).toMatchObject({ refundDueCents: 0, reclaimedCents: GRANTED });
    await eventually(async () => (await app.handle.describe()).status.name === 'COMPLETED', 15_000, 'the workflow completed');
    expect(mailsTo(app.email).map((m) => m.subject)).not.toContain(s.accepted);
    expect(await followUpTypes(app.applicationId)).toEqual(['activity_held', 'report_due', 'report_received', 'grant_reclaimed']);
    expect(await movements(app)).toEqual([
      ['reserve', GRANTED],
      ['pay', GRANTED],
      ['reclaim', GRANTED],
    ]);
  });
});

describe('follow-up: refunds', () => {
  it('a refund in two parts: still settled after the first, closed only after the second; never more than is due', async () => {
    const app = await paidInitiative('terugbetaling', 2);
    await activityOver(app);
    await submitReport(app, [{ description: 'Partytent', amountCents: GRANTED - 10_000 }]);
    await statusOf(app.applicationId, 'report_received');
    // Before the acceptance no refund is expected.
    await expectRefused(refund(app, 10_000));
    const accepted = await review(app, { outcome: 'accept' });
    expect(accepted.settlement).toMatchObject({ refundDueCents: 10_000 });
    await statusOf(app.applicationId, 'settled');
    const m = await waitForMail(app.email, subjects(app.reference).accepted);
    expect(m.text).toContain(`Er is ${formatEuros(10_000)} niet uitgegeven. Wilt u dat bedrag terugbetalen op rekening ${DEBTOR.iban}`);

    const atSettled = await snapshot(app);
    await expectRefused(refund(app, 10_001)); // more than is due
    await expectRefused(refund(app, 0));
    expect(await snapshot(app)).toEqual(atSettled);

    await suite.env.sleep(3 * DAY_MS);
    const first = await refund(app, 4_000);
    expect(first.settlement).toMatchObject({ refundDueCents: 10_000, refundReceivedCents: 4_000 });
    const half = await settled(app.handle);
    expect(half.status).toBe('settled');
    expect(half.followUp?.settlement?.closedAt).toBeUndefined();
    expect((await app.handle.describe()).status.name).toBe('RUNNING');
    expect(await movements(app)).toEqual([
      ['reserve', GRANTED],
      ['pay', GRANTED],
      ['refund', 4_000],
    ]);
    expect(await suite.models.Application.findById(app.applicationId).lean()).toMatchObject({ status: 'settled', settlement: { refundReceivedCents: 4_000 } });

    const afterFirst = await snapshot(app);
    await expectRefused(refund(app, 6_001)); // only 6,000 still open
    expect(await snapshot(app)).toEqual(afterFirst);

    await suite.env.sleep(5 * DAY_MS);
    await refund(app, 6_000);
    const result = await finished(app.handle);
    expect(result).toMatchObject({ status: 'closed', followUp: { settlement: { refundDueCents: 10_000, refundReceivedCents: 10_000, closedAt: expect.any(String) } } });
    expect(await movements(app)).toEqual([
      ['reserve', GRANTED],
      ['pay', GRANTED],
      ['refund', 4_000],
      ['refund', 6_000],
    ]);
    expect(await suite.ledger.shareOf(app.year, app.applicationId)).toEqual({ committedCents: 0, paidCents: GRANTED - 10_000 });
    const events = await timeline(app.applicationId);
    expect(await followUpTypes(app.applicationId)).toEqual(['activity_held', 'report_due', 'report_received', 'report_accepted', 'refund_received', 'refund_received', 'closed']);
    expect(events.filter((e) => e.type === 'refund_received').map((e) => [e.note, e.actor, e.status])).toEqual([
      ['4000', FINANCE, undefined],
      ['6000', FINANCE, undefined],
    ]);
    expect(await statusOf(app.applicationId, 'closed')).toMatchObject({ settlement: { refundDueCents: 10_000, refundReceivedCents: 10_000 } });
  });

  // A refund is counted before its ledger write, so a second one recorded meanwhile is
  // checked against what is then still open.
  it('refuses a second refund larger than what is still open while the first is being booked', async () => {
    const app = await paidInitiative('dubbel', 2);
    await activityOver(app);
    await submitReport(app, [{ description: 'Partytent', amountCents: GRANTED - 10_000 }]);
    await statusOf(app.applicationId, 'report_received');
    await review(app, { outcome: 'accept' });
    await statusOf(app.applicationId, 'settled');
    await settled(app.handle);

    const gate = hold(`refundGrant:${app.applicationId}`);
    const first = refund(app, 6_000);
    await eventually(async () => gate.reached === 1, 15_000, 'first refund booking');
    // The first is being booked: only 4,000 is still open.
    const second = refund(app, 6_000).then(
      () => 'accepted',
      (e: unknown) => (e instanceof WorkflowUpdateFailedError && e.cause instanceof ApplicationFailure ? e.cause.type : String(e)),
    );
    await new Promise((r) => setTimeout(r, 1_000));
    gate.release();
    await first;
    const secondOutcome = await second;
    const state = await settled(app.handle);

    expect(secondOutcome).toBe('InvalidState');
    expect(state).toMatchObject({ status: 'settled', followUp: { settlement: { refundDueCents: 10_000, refundReceivedCents: 6_000 } } });
    expect(await movements(app)).toEqual([
      ['reserve', GRANTED],
      ['pay', GRANTED],
      ['refund', 6_000],
    ]);
    expect(await followUpTypes(app.applicationId)).toEqual(['activity_held', 'report_due', 'report_received', 'report_accepted', 'refund_received']);
    // The rest comes in: closed.
    await refund(app, 4_000);
    expect(await finished(app.handle)).toMatchObject({ status: 'closed', followUp: { settlement: { refundReceivedCents: 10_000 } } });
  });
});

describe('follow-up: refused updates (InvalidState) change nothing', () => {
  it('refuses a report before the activity ended, a review or refund before there is a report, an accept without a report, a second report', async () => {
    const app = await paidInitiative('geweigerd', 20);
    const costs = [{ description: 'Partytent', amountCents: 45_000 }];

    // In paid, before the activity ended: no report, no review, no refund.
    const paid = await snapshot(app);
    await expectRefused(submitReport(app, costs));
    await expectRefused(review(app, { outcome: 'accept' }));
    await expectRefused(review(app, { outcome: 'reject', note: 'Te vroeg', reclaim: true }));
    await expectRefused(refund(app, 1_000));
    expect(await snapshot(app)).toEqual(paid);
    expect(paid.state.status).toBe('paid');

    // In report_due before the escalation: no review (not even reject), no refund, no report with bad cents.
    await activityOver(app);
    const due = await snapshot(app);
    expect(due.state.status).toBe('report_due');
    await expectRefused(review(app, { outcome: 'accept' })); // accept without a report
    await expectRefused(review(app, { outcome: 'clarify', note: 'Wat is er gebeurd?' }));
    await expectRefused(review(app, { outcome: 'reject', note: 'Geen verslag', reclaim: true }));
    await expectRefused(refund(app, 1_000));
    await expectRefused(submitReport(app, [{ description: 'Partytent', amountCents: 450.5 }]));
    await expectRefused(submitReport(app, [{ description: 'Partytent', amountCents: -1 }]));
    expect(await snapshot(app)).toEqual(due);

    // With a report in: no second report, no refund before the acceptance, no reject/clarify without a note.
    await submitReport(app, costs);
    await statusOf(app.applicationId, 'report_received');
    const received = await snapshot(app);
    await expectRefused(submitReport(app, costs));
    await expectRefused(refund(app, 1_000));
    await expectRefused(review(app, { outcome: 'reject', reclaim: true }));
    await expectRefused(review(app, { outcome: 'clarify' }));
    expect(await snapshot(app)).toEqual(received);

    expect(await movements(app)).toEqual([
      ['reserve', GRANTED],
      ['pay', GRANTED],
    ]);
    expect(await followUpTypes(app.applicationId)).toEqual(['activity_held', 'report_due', 'report_received']);
  });
});

// Last in the file: these move the test server's clock months ahead, to the daylight-saving changes.
describe('follow-up: report and clarification deadlines end with the day the e-mails name, across the summer-time changes', () => {
  it('an activity a week before the last Sunday of October, report due 28 days after it: no reminder one minute before the end of the named Amsterdam day, the reminder naming that day one minute after; the last reminder 14 days on likewise', async () => {
    const sunday = nextChange('october', await suite.env.currentTimeMs(), 12);
    await sleepUntil(instantAt(addCalendarDays(sunday, -10), '12:00:00.000', 2));
    const app = await paidInitiative('wintertijd', 3, { reportDeadlineDays: 28 });
    const s = subjects(app.reference);
    expect(app.lastDay).toBe(addCalendarDays(sunday, -7));
    // Due three weeks after the change, at 23:59:59.999 winter time (UTC+1); 28 × 24 h from the end of the
    // activity (00:00 summer time) would end an hour early, at 23:00.
    const dueDay = addCalendarDays(app.lastDay, 28);
    const due = instantAt(dueDay, '23:59:59.999', 1);
    const state = await activityOver(app);
    expect(state.followUp?.reportDeadline).toBe(new Date(due).toISOString());
    expect((await timeline(app.applicationId)).find((e) => e.type === 'report_due')?.note).toBe(new Date(due).toISOString()); // what the status page names

    await sleepUntil(due - MINUTE_MS);
    await settled(app.handle);
    expect(mailsTo(app.email).map((m) => m.subject)).not.toContain(s.due);
    await sleepUntil(due + MINUTE_MS);
    const reminder = await waitForMail(app.email, s.due);
    expectSentAt(`${app.applicationId}:report_due`, due);
    const named = formatDate(new Date(`${dueDay}T12:00:00Z`));
    expect(reminder.text).toContain(`(${app.reference}) liep tot en met ${named}. Wij hebben het nog niet ontvangen.`);

    const lastDay = addCalendarDays(dueDay, 14);
    const last = instantAt(lastDay, '23:59:59.999', 1);
    await sleepUntil(last - MINUTE_MS);
    expect((await settled(app.handle)).followUp?.escalatedAt).toBeUndefined();
    expect(mailsTo(app.email).map((m) => m.subject)).not.toContain(s.overdue);
    await sleepUntil(last + MINUTE_MS);
    const overdue = await waitForMail(app.email, s.overdue);
    expectSentAt(`${app.applicationId}:report_overdue`, last);
    expect(overdue.text).toContain(`had er op ${named} moeten zijn.`);
    await staffMailed(s.staffEscalated);
  });

  it('a 7-day clarification asked late on the Saturday before the last Sunday of March: not escalated one minute before the end of the named Amsterdam day, escalated one minute after', async () => {
    const sunday = nextChange('march', await suite.env.currentTimeMs(), 10);
    const saturday = addCalendarDays(sunday, -1);
    await sleepUntil(instantAt(addCalendarDays(sunday, -8), '12:00:00.000', 1));
    const app = await paidInitiative('zomertijd', 2);
    const s = subjects(app.reference);
    await activityOver(app);
    await submitReport(app, [{ description: 'Partytent', amountCents: 45_000 }]);
    await statusOf(app.applicationId, 'report_received');

    // 23:30 winter time on the Saturday: 7 × 24 h from here would end at 00:30 on the Sunday after.
    await sleepUntil(instantAt(saturday, '23:30:00.000', 1));
    const asked = await review(app, { outcome: 'clarify', note: 'Hoe laat begon het feest?', deadlineDays: 7 });
    expect(amsterdamDate(new Date(asked.review!.reviewedAt))).toBe(saturday);
    const lastDay = addCalendarDays(saturday, 7);
    const end = instantAt(lastDay, '23:59:59.999', 2);
    expect(asked.reportDeadline).toBe(new Date(end).toISOString());
    const mail = await waitForMail(app.email, s.clarification);
    expect(mail.text).toContain(`Stuur uw aangevulde verslag uiterlijk ${formatDate(new Date(`${lastDay}T12:00:00Z`))} via:`);

    await sleepUntil(end - MINUTE_MS);
    expect((await settled(app.handle)).followUp?.escalatedAt).toBeUndefined();
    expect(suite.mail.mails.filter((m) => m.subject === s.staffEscalated)).toEqual([]);
    await sleepUntil(end + MINUTE_MS);
    await staffMailed(s.staffEscalated);
    expectSentAt(`${app.applicationId}:clarification_escalated`, end);
    const state = await settled(app.handle);
    expect(Date.parse(state.followUp!.escalatedAt!)).toBeGreaterThanOrEqual(end);
    expect(Date.parse(state.followUp!.escalatedAt!)).toBeLessThan(end + MINUTE_MS);
  });
});
