/**
 * The initiative after its payout: the activity takes place, the initiator reports
 * (reminders before and after the deadline, escalation to the panel), the panel
 * reviews (accept, ask for clarification, reject), unspent money comes back, and the
 * file is settled and closed. Runs inside initiativeWorkflow (same history, same id);
 * split out to keep each stage readable.
 *
 *   paid ─(activity's last day over)─▶ activity_held ─▶ report_due ─(report)─▶ report_received
 *   report_received ─(clarify)─▶ clarification_requested ─(report again)─▶ report_received
 *   report_received ─(accept)─▶ settled ─(refund received, or none due)─▶ closed
 *   report_received | report_due (escalated) ─(reject, reclaim)─▶ reclaimed
 */
import { ApplicationFailure, condition, defineUpdate, patched, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { DAY_MS, endOfAmsterdamDay } from '../src/domain/dates.ts';
import { AMSTERDAM_DEADLINES } from '../src/domain/workflow-types.ts';
import type { ApplicationStatus, TimelineEvent } from '../src/domain/status.ts';
import type { InitiativeReport, ReportInput, ReportReview, ReviewOutcome, Settlement, TrafficLight } from '../src/domain/report.ts';

const { followUpPlan, refundGrant, reclaimGrant } = proxyActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

const { notifyApplicant, notifyPanel } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' },
});

export interface SubmitReportArgs extends ReportInput {
  documentIds: string[];
}
export interface ReviewReportArgs {
  outcome: ReviewOutcome;
  trafficLight?: TrafficLight;
  note?: string;
  deadlineDays?: number;
  reclaim?: boolean;
  reviewedBy: string;
}
export interface RecordRefundArgs {
  amountCents: number;
  recordedBy: string;
}

export interface FollowUpState {
  report?: InitiativeReport;
  review?: ReportReview;
  settlement?: Settlement;
  /** When the report was escalated to the panel (no report after the last reminder, or no answer to a clarification). */
  escalatedAt?: string;
  /** The deadline of the report, or of the open clarification request. */
  reportDeadline?: string;
}

export const submitReportUpdate = defineUpdate<FollowUpState, [SubmitReportArgs]>('submitReport');
export const reviewReportUpdate = defineUpdate<FollowUpState, [ReviewReportArgs]>('reviewReport');
export const recordRefundUpdate = defineUpdate<FollowUpState, [RecordRefundArgs]>('recordRefund');

type Event = Omit<TimelineEvent, 'id' | 'at' | 'status'>;

export interface FollowUpContext {
  applicationId: string;
  /** The grant's budget year and what was paid out (known once paid; the handlers refuse before). */
  budgetYear(): number;
  paidCents(): number;
  reportDeadlineDays: number;
  clarificationDays: number;
  status(): ApplicationStatus;
  transition(next: ApplicationStatus, event: Event): Promise<void>;
  note(event: Event): Promise<void>;
  /** The state object the workflow shows and projects (mutated here). */
  state: FollowUpState;
  refuse(message: string): never;
}

const REPORT_STATUSES: readonly ApplicationStatus[] = ['activity_held', 'report_due', 'clarification_requested'];

/**
 * Registers the report, review and refund updates (at the workflow's start, so that
 * before the payout they are refused as `InvalidState` rather than unknown); the
 * returned function runs the stage, once paid, until the file is closed (or withdrawn).
 */
export function followUp(ctx: FollowUpContext): () => Promise<void> {
  const { applicationId, state } = ctx;
  const nowIso = () => new Date().toISOString();
  let reviewing = false;
  /** Refunds written to the ledger (the file closes on these, not on those still being booked). */
  let refundBookedCents = 0;

  setHandler(
    submitReportUpdate,
    async (args) => {
      const actualCostsCents = args.costLines.reduce((sum, l) => sum + l.amountCents, 0);
      const { documentIds, ...input } = args;
      state.report = {
        ...input,
        documentIds,
        submittedAt: nowIso(),
        actualCostsCents,
        unspentCents: Math.max(ctx.paidCents() - actualCostsCents, 0),
        ...(state.report?.clarifications ? { clarifications: state.report.clarifications } : {}),
      };
      const open = state.report.clarifications?.find((c) => !c.answeredAt);
      if (open) {
        open.answeredAt = state.report.submittedAt;
        open.answer = args.text;
      }
      state.reportDeadline = undefined;
      state.escalatedAt = undefined;
      await ctx.transition('report_received', { type: 'report_received', actor: 'applicant', documentIds });
      await notifyPanel({ key: `${applicationId}:report_received:${state.report.submittedAt}`, applicationId, template: 'report_received' });
      return { ...state };
    },
    {
      validator: (args) => {
        if (!REPORT_STATUSES.includes(ctx.status())) ctx.refuse(`cannot report in status ${ctx.status()}`);
        if (!Array.isArray(args.costLines) || args.costLines.some((l: { amountCents: number }) => !Number.isSafeInteger(l.amountCents) || l.amountCents < 0)) ctx.refuse('cost lines need whole cents');
      },
    },
  );

  setHandler(
    reviewReportUpdate,
    async (args) => {
      reviewing = true; // until the status moves on, no other review is taken
      const light = args.trafficLight ?? state.report?.selfAssessment ?? 'red';
      state.review = { outcome: args.outcome, trafficLight: light, reviewedBy: args.reviewedBy, reviewedAt: nowIso(), ...(args.note ? { note: args.note } : {}) };
      if (args.outcome === 'clarify') {
        const days = args.deadlineDays ?? ctx.clarificationDays;
        // The end of the Nth day in Amsterdam; clarifications asked before this rule: N × 24 h.
        const deadline = (patched(AMSTERDAM_DEADLINES) ? endOfAmsterdamDay(new Date(), days) : new Date(Date.now() + days * DAY_MS)).toISOString();
        (state.report!.clarifications ??= []).push({ requestedAt: nowIso(), question: args.note!, deadline });
        state.reportDeadline = deadline;
        await ctx.transition('clarification_requested', { type: 'clarification_requested', actor: args.reviewedBy, note: args.note });
        await notifyApplicant({ key: `${applicationId}:clarification:${state.report!.clarifications!.length}`, applicationId, template: 'report_clarification', vars: { missing: args.note, deadline } });
      } else if (args.outcome === 'accept') {
        const refundDueCents = state.report!.unspentCents;
        state.settlement = { refundDueCents, settledAt: nowIso() };
        await ctx.transition('settled', { type: 'report_accepted', actor: args.reviewedBy, note: light });
        await notifyApplicant({ key: `${applicationId}:settled`, applicationId, template: 'report_accepted', vars: { remainingCents: refundDueCents } });
      } else {
        // Rejected (or no report at all after escalation): the grant may be taken back.
        if (args.reclaim) {
          await reclaimGrant({ applicationId, year: ctx.budgetYear(), reason: 'report', actor: args.reviewedBy });
          state.settlement = { refundDueCents: 0, reclaimedCents: ctx.paidCents(), settledAt: nowIso(), closedAt: nowIso() };
          await ctx.transition('reclaimed', { type: 'grant_reclaimed', actor: args.reviewedBy, note: args.note });
          await notifyApplicant({ key: `${applicationId}:reclaimed`, applicationId, template: 'grant_reclaimed', vars: { grantedCents: ctx.paidCents(), reason: args.note } });
        } else {
          state.settlement = { refundDueCents: 0, settledAt: nowIso(), closedAt: nowIso() };
          await ctx.transition('closed', { type: 'report_rejected', actor: args.reviewedBy, note: args.note });
          await notifyApplicant({ key: `${applicationId}:report_rejected`, applicationId, template: 'report_rejected', vars: { reason: args.note } });
        }
      }
      reviewing = false;
      return { ...state };
    },
    {
      validator: (args) => {
        const status = ctx.status();
        if (reviewing) ctx.refuse('another review is being handled');
        const missingReport = (status === 'report_due' || status === 'clarification_requested') && state.escalatedAt !== undefined;
        if (status !== 'report_received' && !(missingReport && args.outcome === 'reject')) {
          ctx.refuse(missingReport ? 'without a (new) report only reject is possible' : `cannot review in status ${status}`);
        }
        if (args.outcome !== 'accept' && !args.note) ctx.refuse('a note is required to clarify or reject');
      },
    },
  );

  setHandler(
    recordRefundUpdate,
    async ({ amountCents, recordedBy }) => {
      const s = state.settlement!;
      // Counted before the ledger write, so a second refund recorded meanwhile is checked against it.
      const total = (s.refundReceivedCents ?? 0) + amountCents;
      s.refundReceivedCents = total;
      s.refundReceivedAt = nowIso();
      await refundGrant({ applicationId, year: ctx.budgetYear(), amountCents, actor: recordedBy, key: `refund-${total}` });
      refundBookedCents += amountCents;
      await ctx.note({ type: 'refund_received', actor: recordedBy, note: String(amountCents) });
      return { ...state };
    },
    {
      validator: ({ amountCents }) => {
        const s = state.settlement;
        if (ctx.status() !== 'settled' || !s) ctx.refuse(`no refund expected in status ${ctx.status()}`);
        const open = s.refundDueCents - (s.refundReceivedCents ?? 0);
        if (!Number.isSafeInteger(amountCents) || amountCents < 1 || amountCents > open) ctx.refuse(`the refund must be between 1 and ${open} cents`);
      },
    },
  );

  const waitFor = (fn: () => boolean, untilIso: string) => condition(fn, Math.max(Date.parse(untilIso) - Date.now(), 1));
  const left = (from: ApplicationStatus) => () => ctx.status() !== from;

  return async function run(): Promise<void> {
    const plan = await followUpPlan({ applicationId });
    // A week before the activity ends: don't forget the photos and receipts.
    if (ctx.status() === 'paid' && Date.parse(plan.remindAt) > Date.now()) {
      if (!(await waitFor(left('paid'), plan.remindAt))) {
        await notifyApplicant({ key: `${applicationId}:report_upcoming`, applicationId, template: 'report_upcoming', vars: { deadline: plan.activityEndsAt } });
      }
    }
    if (ctx.status() === 'paid' && (await waitFor(left('paid'), plan.activityEndsAt))) return; // withdrawn meanwhile
    if (ctx.status() !== 'paid') return;
    await ctx.transition('activity_held', { type: 'activity_held' });
    // Due at the end of the Nth day after the activity's last day (in Amsterdam), the last reminder at the
    // end of the 14th day after that; set before this rule: the midnight the activity ended + N × 24 h, + 14 × 24 h.
    const ended = Date.parse(plan.activityEndsAt);
    const amsterdam = patched(AMSTERDAM_DEADLINES);
    const daysAfter = (days: number) => (amsterdam ? endOfAmsterdamDay(new Date(ended - 1), days) : new Date(ended + days * DAY_MS)).toISOString();
    const due = daysAfter(ctx.reportDeadlineDays);
    const last = daysAfter(ctx.reportDeadlineDays + 14);
    state.reportDeadline = due;
    await ctx.transition('report_due', { type: 'report_due', note: due });

    const reported = () => ctx.status() !== 'report_due';
    // At the due date, and two weeks after it (the last reminder); then the panel is told.
    if (!(await waitFor(reported, due))) {
      await notifyApplicant({ key: `${applicationId}:report_due`, applicationId, template: 'report_due', vars: { deadline: due } });
      if (!(await waitFor(reported, last))) {
        await notifyApplicant({ key: `${applicationId}:report_overdue`, applicationId, template: 'report_overdue', vars: { deadline: due } });
        state.escalatedAt = nowIso();
        await ctx.note({ type: 'report_escalated' });
        await notifyPanel({ key: `${applicationId}:report_escalated`, applicationId, template: 'report_escalated' });
      }
    }
    for (;;) {
      const status = ctx.status();
      if (status === 'closed' || status === 'reclaimed') return;
      if (status === 'settled') {
        const s = state.settlement!;
        await condition(() => refundBookedCents >= s.refundDueCents);
        s.closedAt = nowIso();
        await ctx.transition('closed', { type: 'closed' });
        continue;
      }
      if (status === 'clarification_requested' && state.reportDeadline && !state.escalatedAt) {
        if (!(await waitFor(left('clarification_requested'), state.reportDeadline))) {
          state.escalatedAt = nowIso();
          await ctx.note({ type: 'report_escalated', note: 'clarification' });
          await notifyPanel({ key: `${applicationId}:clarification_escalated`, applicationId, template: 'report_escalated' });
        }
        continue;
      }
      await condition(() => ctx.status() !== status);
    }
  };
}
