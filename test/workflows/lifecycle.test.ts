/**
 * The whole life of ONE initiative, from submission to a closed file, on the real
 * time-skipping test server (about six months of timers pass in seconds) with the real
 * activities, the real budget ledger and payout register against a real database
 * (FerretDB) and a real SMTP server: intake, screening, a meeting's partial grant, the
 * reservation (and the welfare support the applicant asked for: the case queued, its
 * reminder to the wijk's welfare workers after a week and its flag to the admin after two,
 * nobody taking it), finance's batch and its execution (paid), the reminder a week before the
 * activity ends, activity_held → report_due at the end of its last day, the report,
 * the panel's acceptance with unspent money to pay back, and the refund that closes it and
 * ends the support case's wait (its workflow, the initiative's child, completes first).
 *
 * Every e-mail is checked at the test server's time it was sent: each notification
 * activity records the server's scheduled time of its attempt (notificationLog), which is
 * the workflow time at which the workflow decided to send it. notificationLog also adds
 * the fund's refund account to the applicant's e-mails, as the runtime wires it.
 *
 * Time skips only while the test awaits `env.sleep` (test/helpers/time-skipping-suite.ts).
 */
import { describe, expect, it } from 'vitest';
import type { Activities } from '../../activities/index.ts';
import { activityYear } from '../../src/domain/application.ts';
import { addCalendarDays, amsterdamDate, DAY_MS, endOfAmsterdamDay, formatDate, startOfAmsterdamDay } from '../../src/domain/dates.ts';
import { formatEuros } from '../../src/domain/money.ts';
import { payoutEndToEndId } from '../../src/domain/payouts.ts';
import { completeScreeningUpdate } from '../../workflows/initiative.ts';
import { decisionSignal, scheduledSignal } from '../../workflows/initiative-signals.ts';
import { recordRefundUpdate, reviewReportUpdate, submitReportUpdate } from '../../workflows/follow-up.ts';
import { DEBTOR } from '../helpers/time-skipping.ts';
import { followUpStaff, notificationLog, REQUESTED_CENTS as REQUESTED, SCREENER as PANEL, STAFF_NOTIFIED, timeSkippingSuite, WELFARE_WORKER } from '../helpers/time-skipping-suite.ts';
import { eventually } from '../helpers/context.ts';

const MINUTE_MS = 60 * 1000;
const HOUR_MS = 60 * MINUTE_MS;
const GRANTED = 45_000; // the springkussen struck
const COST_LINES = [
  { description: 'Huur partytent', amountCents: 38_250 },
  { description: 'Koffie, thee en limonade', amountCents: 2_500 },
];
const ACTUAL = 40_750;
const UNSPENT = GRANTED - ACTUAL; // 42,50

const notifications = notificationLog();
const { expectSentAt } = notifications;

const suite = timeSkippingSuite({
  name: 'lifecycle',
  activities: (real): Activities => ({ ...real, ...notifications.activities(real) }),
  staff: followUpStaff,
});
const { suffix, statusOf, settled, finished, sleepUntil, timeline, mailsTo, waitForMail, supportCase, supportHandle } = suite;
const ADMIN = 'admin@buurtfonds.test';
const SUPPORT_WISH = 'Hulp bij het aanvragen van de vergunning';

// ---------------------------------------------------------------------------------

describe('initiativeWorkflow: one initiative from submission to closed', () => {
  it('lifecycle: submitted → screening → partial grant → reserved → paid → report reminder → activity_held → report_due → report_received → settled (refund due) → refund in → closed, six months in seconds; the support case queued at the grant, reminded, flagged and ended with the file', async () => {
    const t0 = await suite.env.currentTimeMs();
    // A two-day activity about four months after "now"; it is charged to the year it starts in.
    const startDate = amsterdamDate(new Date(t0 + 118 * DAY_MS));
    const endDate = amsterdamDate(new Date(t0 + 119 * DAY_MS));
    const budgetYear = activityYear({ startDate });
    // Over at 00:00 in Amsterdam after the last day; the reminder at 00:00 a week before; the report due
    // at the end of the 56th day (the default reportDeadlineDays) after the last day.
    const activityEndsAt = startOfAmsterdamDay(addCalendarDays(endDate, 1)).getTime();
    const remindAt = startOfAmsterdamDay(addCalendarDays(endDate, -6)).getTime();
    const due = endOfAmsterdamDay(endDate, 56).getTime();
    const yearBefore = await suite.ledger.balances(budgetYear);

    // --- Intake: stored as intake does, the workflow confirms and starts screening. The applicant asks for support.
    const { applicationId, reference, email, handle } = await suite.submit('leven', {
      form: { wantsSupport: true, supportWish: SUPPORT_WISH, title: 'Buurtfeest Vlietwijk', activity: { startDate, endDate, location: 'Vlietpark' } },
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
      supportReminder: `Ondersteuningsvraag ${reference} wacht al 7 dagen op een opbouwwerker`,
      supportFlag: `Ondersteuningsvraag ${reference} is na 14 dagen nog niet opgepakt`,
    };
    await waitForMail(email, subject.confirmation);
    expectSentAt(`${applicationId}:confirmation`, t0);

    // --- Screening: three days later the panel completes it.
    await suite.env.sleep(3 * DAY_MS);
    expect(await handle.executeUpdate(completeScreeningUpdate, { args: [{ completedBy: PANEL }] })).toEqual({ status: 'ready_for_meeting' });

    // --- The meeting: on the agenda (scheduled), a week later the decision: partially granted.
    const tScheduled = await suite.env.currentTimeMs();
    const meetingId = `meeting-lifecycle-${suffix}`;
    const startsAt = new Date(tScheduled + 7 * DAY_MS).toISOString();
    await handle.signal(scheduledSignal, { meetingId, date: amsterdamDate(new Date(startsAt)), startsAt });
    await statusOf(applicationId, 'scheduled');
    await waitForMail(email, subject.scheduled(startsAt));
    expectSentAt(`${applicationId}:meeting:${meetingId}`, tScheduled);

    await sleepUntil(Date.parse(startsAt) + 2 * HOUR_MS);
    const tDecided = await suite.env.currentTimeMs();
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

    // --- Reserved: the support the applicant asked for is queued for the wijk's organisation (SenW for Voorburg-Midden).
    const queued = await eventually(() => supportCase(applicationId), 20_000, `${reference} queued for support`);
    expect(queued).toMatchObject({ state: 'unclaimed', reason: 'requested', wish: SUPPORT_WISH, organisation: 'SenW', reference });
    expect(Date.parse(queued.queuedAt) - tDecided).toBeGreaterThanOrEqual(0);
    expect(Date.parse(queued.queuedAt) - tDecided).toBeLessThan(MINUTE_MS);
    const support = supportHandle(applicationId);
    expect((await support.describe()).status.name).toBe('RUNNING');
    // Nobody takes it: the welfare workers are reminded at the end of the 7th day, the admin is told at the end of the 14th.
    const supportRemindAt = endOfAmsterdamDay(new Date(queued.waitingSince), 7).getTime();
    const supportFlagAt = endOfAmsterdamDay(new Date(queued.waitingSince), 14).getTime();

    // --- Finance: a batch the next day, reported executed by the bank two days later → paid.
    await suite.env.sleep(DAY_MS);
    const batch = await suite.payouts.createBatch({ actor: 'finance' });
    expect(batch.endToEndIds).toEqual([payoutEndToEndId(reference)]);
    await suite.env.sleep(2 * DAY_MS);
    const tPaid = await suite.env.currentTimeMs();
    await suite.payouts.executeBatch(batch.id, { actor: 'finance' });
    await statusOf(applicationId, 'paid');
    const paidMail = await waitForMail(email, subject.paid);
    expect(paidMail.text).toContain(`Wij hebben ${formatEuros(GRANTED)} voor "Buurtfeest Vlietwijk" (${reference}) overgemaakt`);
    expectSentAt(`${applicationId}:paid`, tPaid);
    expect(await settled(handle)).toMatchObject({ status: 'paid', grant: { paid: { batchId: batch.id } }, followUp: {} });

    // --- The support case's reminder and flag, each at its time.
    await sleepUntil(supportRemindAt + MINUTE_MS);
    await waitForMail(WELFARE_WORKER, subject.supportReminder);
    expect(mailsTo(ADMIN).map((m) => m.subject)).not.toContain(subject.supportFlag);
    await sleepUntil(supportFlagAt + MINUTE_MS);
    await waitForMail(ADMIN, subject.supportFlag);
    const waited = (await supportCase(applicationId))!;
    expect(waited).toMatchObject({ state: 'unclaimed', reminderSentAt: expect.any(String), flaggedAt: expect.any(String) });
    for (const [at, expected] of [
      [waited.reminderSentAt!, supportRemindAt],
      [waited.flaggedAt!, supportFlagAt],
    ] as const) {
      expect(Date.parse(at)).toBeGreaterThanOrEqual(expected);
      expect(Date.parse(at) - expected).toBeLessThan(MINUTE_MS);
    }
    expect((await support.describe()).status.name).toBe('RUNNING'); // still waiting for a worker

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
    const tReport = await suite.env.currentTimeMs();
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
    await suite.env.sleep(7 * DAY_MS);
    const tReview = await suite.env.currentTimeMs();
    const reviewed = await handle.executeUpdate(reviewReportUpdate, { args: [{ outcome: 'accept', trafficLight: 'green', reviewedBy: PANEL }] });
    expect(reviewed).toMatchObject({ review: { outcome: 'accept', trafficLight: 'green', reviewedBy: PANEL }, settlement: { refundDueCents: UNSPENT } });
    await statusOf(applicationId, 'settled');
    const accepted = await waitForMail(email, subject.accepted);
    expect(accepted.text).toContain(`Het panel heeft het goedgekeurd.`);
    expect(accepted.text).toContain(`Er is ${formatEuros(UNSPENT)} niet uitgegeven. Wilt u dat bedrag terugbetalen op rekening ${DEBTOR.iban} ten name van de gemeente, onder vermelding van ${reference}?`);
    expectSentAt(`${applicationId}:settled`, tReview);
    expect(await settled(handle)).toMatchObject({ status: 'settled' }); // waits for the money

    // --- Ten days later finance records the refund: the ledger gets it back, the file closes, the workflow completes.
    await suite.env.sleep(10 * DAY_MS);
    const tRefund = await suite.env.currentTimeMs();
    await handle.executeUpdate(recordRefundUpdate, { args: [{ amountCents: UNSPENT, recordedBy: 'finance@buurtfonds.test' }] });
    const closedDoc = await statusOf(applicationId, 'closed');
    const result = await finished(handle);
    // The file is closed: the support case's wait ends with it, its workflow completing before the initiative's.
    expect(await finished(support)).toMatchObject({ outcome: 'ended', timing: { state: 'ended', reminderSent: true, flagged: true } });
    const [initiativeClosed, supportClosed] = await Promise.all([handle.describe(), support.describe()]).then((ds) => ds.map((d) => d.closeTime!.getTime()));
    expect(supportClosed).toBeLessThanOrEqual(initiativeClosed!);
    expect(supportClosed! - tRefund).toBeLessThan(MINUTE_MS);
    expect(result).toMatchObject({
      status: 'closed',
      decision: { outcome: 'partially_approved', grantedCents: GRANTED },
      grant: { budgetYear, reservedCents: GRANTED, paid: { batchId: batch.id } },
      followUp: { report: { actualCostsCents: ACTUAL, unspentCents: UNSPENT }, review: { outcome: 'accept' }, settlement: { refundDueCents: UNSPENT, refundReceivedCents: UNSPENT } },
    });

    // Nothing is left to fire: past the report deadline and the last reminder, no reminders.
    await sleepUntil(due + 15 * DAY_MS);
    const tEnd = await suite.env.currentTimeMs();
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
    const templates = [...notifications.sent.values()].map((n) => n.template);
    expect(templates).not.toContain('report_due');
    expect(templates).not.toContain('report_overdue');
    expect(templates).not.toContain('report_escalated');
    // The support e-mails: the reminder to the wijk's welfare worker, the flag to the admin, once each.
    expect(mailsTo(WELFARE_WORKER).map((m) => m.subject)).toEqual([subject.supportReminder]);
    expect(mailsTo(ADMIN).filter((m) => m.subject === subject.supportFlag)).toHaveLength(1);
    expect((await supportCase(applicationId))!.history.map((h) => h.type)).toEqual(['queued', 'reminder_sent', 'flagged']);
    // The staff e-mail about the report: active panel members and the admin, nobody else.
    const staffMails = suite.mail.mails.filter((m) => m.subject === subject.staffReport);
    expect(staffMails.flatMap((m) => m.to).sort()).toEqual([...STAFF_NOTIFIED].sort());
    expect(staffMails.find((m) => m.to.includes('admin@buurtfonds.test'))!.text).toContain(`Het verslag over "Buurtfeest Vlietwijk" (${reference}) is binnen en wacht op uw beoordeling`);

    // The ledger: reserved, paid, the unspent part refunded; the books prove themselves.
    const entries = (await suite.ledger.journal(budgetYear)).filter((e) => e.applicationId === applicationId);
    expect(entries.map((e) => [e.kind, e.amountCents])).toEqual([
      ['reserve', GRANTED],
      ['pay', GRANTED],
      ['refund', UNSPENT],
    ]);
    expect(entries[2]).toMatchObject({ actor: 'finance@buurtfonds.test' });
    expect(await suite.ledger.shareOf(budgetYear, applicationId)).toEqual({ committedCents: 0, paidCents: ACTUAL });
    expect(await suite.ledger.balances(budgetYear)).toMatchObject({ paidCents: yearBefore.paidCents + ACTUAL, refundedCents: yearBefore.refundedCents + UNSPENT, committedCents: yearBefore.committedCents });
    const check = await suite.ledger.check();
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
    expect(await suite.models.Application.findById(applicationId).lean()).toMatchObject({ status: 'closed', settlement: { closedAt: s.closedAt } });
  });
});
