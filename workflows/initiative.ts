/**
 * initiativeWorkflow: one per application (id `initiative-<applicationId>`). It is
 * the source of truth for where the application is; the read model in MongoDB is
 * projected from it by the idempotent `recordProgress` activity.
 *
 * Stages so far: submitted → screening ⇄ awaiting_information → ready_for_meeting →
 * scheduled → approved | partially_approved | rejected; a grant then reserves its
 * amount in the budget year of the activity (→ reserved, or rejected_budget_exhausted
 * when that year cannot cover it), creates its payout and waits for finance to report
 * the payout executed (→ paid). Withdrawn / lapsed from any open state; a withdrawal
 * after a grant gives the money back to the budget (release, or reclaim once paid).
 */
import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  getExternalWorkflowHandle,
  patched,
  startChild,
  defineQuery,
  defineUpdate,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
  type ChildWorkflowHandle,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities } from '../activities/index.ts';
import { DAY_MS, endOfAmsterdamDay } from '../src/domain/dates.ts';
import type { DecisionNotice, MeetingNotice } from '../src/domain/decisions.ts';
import { AMSTERDAM_DEADLINES, SUPPORT_ENDS_WITH_INITIATIVE, type PaidNotice } from '../src/domain/workflow-types.ts';
import { decisionSignal, invitedSignal, payoutExecutedSignal, rolledOverSignal, scheduledSignal } from './initiative-signals.ts';
import { statusSearchAttribute } from '../src/domain/search-attributes.ts';
import { followUp, type FollowUpState } from './follow-up.ts';
import { supportEndedSignal, supportWorkflow, supportWorkflowId } from './support.ts';
import { canScreen, canWithdraw, type ApplicationStatus, type InformationRequest, type TimelineEvent } from '../src/domain/status.ts';

const { recordProgress } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/** Ledger and payout register: short, idempotent database writes. */
const { supportNeeded, reserveBudget, createPayout, cancelPayout, releaseBudget, recordPayment, reclaimGrant } = proxyActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

const { notifyApplicant } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' },
});

export interface InitiativeInput {
  applicationId: string;
  /** Time the application was stored, ISO 8601 (the `submitted` event already in the read model). */
  submittedAt: string;
  informationDeadlineDays: number;
  informationReminderDays: number;
  /** Days after the activity's last day within which the report is due (default 56: eight weeks). */
  reportDeadlineDays?: number;
}

export interface GrantState {
  budgetYear: number;
  reservedCents: number;
  endToEndId?: string;
  paid?: { batchId: string; executedAt: string };
  /** After a withdrawal: how the money went back to the budget. */
  returned?: 'released' | 'reclaimed';
}

export interface InitiativeState {
  status: ApplicationStatus;
  openRequest?: InformationRequest;
  meeting?: MeetingNotice;
  decision?: DecisionNotice;
  rollovers?: number;
  grant?: GrantState;
  followUp?: FollowUpState;
}

export interface RequestInformationArgs {
  missing: string;
  deadlineDays?: number;
  requestedBy: string;
}
export interface ProvideInformationArgs {
  answer?: string;
  documentIds: string[];
}
export interface CompleteScreeningArgs {
  completedBy: string;
}
export interface WithdrawArgs {
  reason?: string;
}

/** Error type of a refused update: the API answers 409 `invalid_state`. */
export const INVALID_STATE = 'InvalidState';
/**
 * Error type of a screening action that came right after intake and whose wait for the
 * first step ran out (FIRST_STEP_WAIT): the API answers 503 `application_not_ready`, try again.
 */
export const NOT_READY = 'NotReady';
/** How long a screening action sent before the first step has moved the application into screening waits for it. */
const FIRST_STEP_WAIT = '20 seconds';

export const requestInformationUpdate = defineUpdate<InformationRequest, [RequestInformationArgs]>('requestInformation');
export const provideInformationUpdate = defineUpdate<InitiativeState, [ProvideInformationArgs]>('provideInformation');
export const completeScreeningUpdate = defineUpdate<InitiativeState, [CompleteScreeningArgs]>('completeScreening');
export const withdrawUpdate = defineUpdate<InitiativeState, [WithdrawArgs]>('withdraw');
export const stateQuery = defineQuery<InitiativeState>('state');

function refuse(message: string): never {
  throw ApplicationFailure.create({ type: INVALID_STATE, message, nonRetryable: true });
}

/** What recordPayment books of an executed payout: its batch, and who reported it executed (when the signal says). */
function paymentOf(n: PaidNotice): { batchId: string; executedBy?: string } {
  return { batchId: n.batchId, ...(n.executedBy ? { executedBy: n.executedBy } : {}) };
}

export async function initiativeWorkflow(input: InitiativeInput): Promise<InitiativeState> {
  const { applicationId } = input;
  let status = 'submitted' as ApplicationStatus;
  let seq = 1; // seq 1 is the `submitted` event written at intake
  const requests: InformationRequest[] = [];
  let openRequest: InformationRequest | undefined;
  let meeting: MeetingNotice | undefined;
  let decision: DecisionNotice | undefined;
  let rollovers = 0;
  let grant: GrantState | undefined;
  let paidNotice: PaidNotice | undefined;
  const followUpState: FollowUpState = {};
  let followUpStarted = false;
  /** The support case's workflow this run started as its child (ABANDON), if it did. */
  let supportChild: ChildWorkflowHandle<typeof supportWorkflow> | undefined;

  const state = (): InitiativeState => ({
    status,
    ...(openRequest ? { openRequest } : {}),
    ...(meeting ? { meeting } : {}),
    ...(decision ? { decision } : {}),
    ...(rollovers ? { rollovers } : {}),
    ...(grant ? { grant: { ...grant } } : {}),
    ...(followUpStarted ? { followUp: { ...followUpState } } : {}),
  });
  const snapshot = () => ({
    informationRequests: requests.map((r) => ({ ...r })),
    meeting: meeting ?? null,
    decision: decision ?? null,
    rollovers,
    ...(followUpStarted
      ? { report: followUpState.report ?? null, review: followUpState.review ?? null, settlement: followUpState.settlement ?? null }
      : {}),
  });

  // Projections run one after another, in the order they were made: FerretDB v1 can
  // lose one of two overlapping writes to the same document (see src/db/models.ts).
  let projections: Promise<void> = Promise.resolve();
  function project(input: Parameters<typeof recordProgress>[0]): Promise<void> {
    const done = projections.then(() => recordProgress(input));
    projections = done.catch(() => undefined);
    return done;
  }
  const nowIso = () => new Date().toISOString(); // workflow time: deterministic

  /** Changes state synchronously (so later validators see it), then projects it. */
  async function transition(next: ApplicationStatus, event: Omit<TimelineEvent, 'id' | 'at' | 'status'>): Promise<void> {
    status = next;
    seq += 1;
    const mySeq = seq;
    upsertSearchAttributes([{ key: statusSearchAttribute, value: next }]);
    await project({
      applicationId,
      seq: mySeq,
      status: next,
      event: { id: `${workflowInfo().workflowId}:${mySeq}`, at: nowIso(), status: next, ...event },
      ...snapshot(),
    });
  }

  /** Records an event that does not change the status. */
  async function note(event: Omit<TimelineEvent, 'id' | 'at' | 'status'>): Promise<void> {
    seq += 1;
    const mySeq = seq;
    await project({
      applicationId,
      seq: mySeq,
      status,
      event: { id: `${workflowInfo().workflowId}:${mySeq}`, at: nowIso(), ...event },
      ...snapshot(),
    });
  }

  setHandler(stateQuery, state);

  /**
   * Screening actions are accepted from the moment the application is stored (validators
   * let `submitted` through: canScreen): one that comes before the first step (the confirmation, then
   * screening) has run waits for that step, up to FIRST_STEP_WAIT (then NOT_READY: try
   * again). Its handler then checks the status as usual: a withdrawal or another action
   * may have come first.
   */
  async function firstStep(action: string): Promise<void> {
    if (!patched('actions-before-screening')) return;
    if (!(await condition(() => status !== 'submitted', FIRST_STEP_WAIT))) {
      throw ApplicationFailure.create({ type: NOT_READY, message: `cannot ${action} yet: the application is not in screening yet`, nonRetryable: true });
    }
  }

  // After the payout: the activity, the report, the review, the settlement (workflows/follow-up.ts).
  const runFollowUp = followUp({
    applicationId,
    budgetYear: () => grant!.budgetYear,
    paidCents: () => grant!.reservedCents,
    reportDeadlineDays: input.reportDeadlineDays ?? 56,
    clarificationDays: input.informationDeadlineDays,
    status: () => status,
    transition,
    note,
    state: followUpState,
    refuse,
  });

  setHandler(
    requestInformationUpdate,
    async ({ missing, deadlineDays, requestedBy }) => {
      if (status === 'submitted') await firstStep('request information');
      if (status !== 'screening') refuse(`cannot request information in status ${status}`);
      const now = Date.now();
      const days = deadlineDays ?? input.informationDeadlineDays;
      // A reminder only makes sense at least a day after the request and a day before the deadline.
      const reminderDays = Math.min(input.informationReminderDays, days - 1);
      const request: InformationRequest = {
        id: uuid4(),
        missing,
        requestedBy,
        requestedAt: new Date(now).toISOString(),
        // The end of the Nth day in Amsterdam (the day the e-mail names); requests made before this rule: N × 24 h.
        deadline: (patched(AMSTERDAM_DEADLINES) ? endOfAmsterdamDay(new Date(now), days) : new Date(now + days * DAY_MS)).toISOString(),
        ...(reminderDays >= 1 ? { remindAt: new Date(now + reminderDays * DAY_MS).toISOString() } : {}),
        state: 'open',
      };
      requests.push(request);
      openRequest = request;
      await transition('awaiting_information', { type: 'information_requested', actor: requestedBy, note: missing });
      await notifyApplicant({
        key: `${applicationId}:information_request:${request.id}`,
        applicationId,
        template: 'information_request',
        vars: { missing, deadline: request.deadline },
      });
      return { ...request };
    },
    {
      validator: ({ missing, deadlineDays }) => {
        if (!canScreen(status)) refuse(`cannot request information in status ${status}`);
        if (typeof missing !== 'string' || missing.trim() === '') refuse('missing must be a non-empty text');
        if (deadlineDays !== undefined && (!Number.isInteger(deadlineDays) || deadlineDays < 1)) refuse('deadlineDays must be a positive integer');
      },
    },
  );

  setHandler(
    provideInformationUpdate,
    async ({ answer, documentIds }) => {
      const request = openRequest;
      if (status !== 'awaiting_information' || !request) refuse(`no open information request in status ${status}`);
      request.state = 'answered';
      request.answeredAt = nowIso();
      if (answer) request.answer = answer;
      request.documentIds = documentIds ?? [];
      openRequest = undefined;
      await transition('screening', { type: 'information_provided', actor: 'applicant', ...(answer ? { note: answer } : {}), documentIds: documentIds ?? [] });
      return state();
    },
    {
      validator: ({ answer, documentIds }) => {
        if (status !== 'awaiting_information' || !openRequest) refuse(`no open information request in status ${status}`);
        if (!answer && (documentIds ?? []).length === 0) refuse('an answer or documents are required');
      },
    },
  );

  setHandler(
    completeScreeningUpdate,
    async ({ completedBy }) => {
      if (status === 'submitted') await firstStep('complete screening');
      if (status !== 'screening') refuse(`cannot complete screening in status ${status}`);
      await transition('ready_for_meeting', { type: 'screening_completed', actor: completedBy });
      return state();
    },
    {
      validator: (_args) => {
        if (!canScreen(status)) refuse(`cannot complete screening in status ${status}`);
      },
    },
  );

  setHandler(
    withdrawUpdate,
    async ({ reason }) => {
      if (!canWithdraw(status)) refuse(`cannot withdraw in status ${status}`);
      if (openRequest) {
        openRequest.state = 'cancelled';
        openRequest = undefined;
      }
      await transition('withdrawn', { type: 'withdrawn', actor: 'applicant', ...(reason ? { note: reason } : {}) });
      await notifyApplicant({ key: `${applicationId}:withdrawn`, applicationId, template: 'withdrawn', vars: reason ? { reason } : {} });
      return state();
    },
    {
      validator: (_args) => {
        if (!canWithdraw(status)) refuse(`cannot withdraw in status ${status}`);
      },
    },
  );

  setHandler(scheduledSignal, async (m) => {
    if (status !== 'ready_for_meeting') return; // withdrawn, or already on an agenda
    meeting = m;
    await transition('scheduled', { type: 'meeting_scheduled', note: m.date });
    await notifyApplicant({ key: `${applicationId}:meeting:${m.meetingId}`, applicationId, template: 'meeting_scheduled', vars: { meetingAt: m.startsAt } });
  });

  setHandler(invitedSignal, async (m) => {
    if (status !== 'scheduled' || meeting?.meetingId !== m.meetingId) return;
    await note({ type: 'invited_to_explain', note: m.date });
    await notifyApplicant({ key: `${applicationId}:invited:${m.meetingId}`, applicationId, template: 'invited_to_explain', vars: { meetingAt: m.startsAt } });
  });

  setHandler(rolledOverSignal, async (r) => {
    if (status !== 'scheduled' || meeting?.meetingId !== r.meetingId) return;
    rollovers = r.rollovers;
    meeting = undefined;
    await transition('ready_for_meeting', { type: 'rolled_over', note: r.flagged ? 'flagged' : String(r.rollovers) });
  });

  // Kept even if it arrives before this workflow has seen its payout created (finance
  // can batch and execute a payout whose creation the worker has not reported yet).
  setHandler(payoutExecutedSignal, (n) => {
    if (n.applicationId === applicationId) paidNotice ??= n;
  });

  setHandler(decisionSignal, async (d) => {
    if (status !== 'scheduled' || meeting?.meetingId !== d.meetingId) return;
    decision = d;
    await transition(d.outcome, { type: 'decided', actor: `meeting:${d.meetingId}` });
    await notifyApplicant({
      key: `${applicationId}:decision:${d.meetingId}`,
      applicationId,
      template: d.outcome,
      vars: { grantedCents: d.grantedCents, requestedCents: d.requestedCents, reasons: d.reasons.join('\n') },
      struckLines: d.struckLines,
    });
  });

  await notifyApplicant({ key: `${applicationId}:confirmation`, applicationId, template: 'confirmation' });
  if (status === 'submitted') await transition('screening', { type: 'status_changed' });

  /** Reserves the grant in the activity's budget year and creates its payout; false when the year cannot cover it. */
  async function reserveGrant(d: DecisionNotice): Promise<boolean> {
    const r = await reserveBudget({ applicationId, amountCents: d.grantedCents, actor: `meeting:${d.meetingId}` });
    if (r.outcome === 'exhausted') {
      if (status === 'withdrawn') return false;
      await transition('rejected_budget_exhausted', { type: 'budget_exhausted', note: String(r.year) });
      await notifyApplicant({
        key: `${applicationId}:budget_exhausted`,
        applicationId,
        template: 'rejected_budget_exhausted',
        vars: { grantedCents: d.grantedCents, budgetYear: r.year, remainingCents: r.remainingCents },
      });
      return false;
    }
    grant = { budgetYear: r.year, reservedCents: r.amountCents };
    const { endToEndId } = await createPayout({ applicationId, year: r.year, amountCents: r.amountCents });
    grant.endToEndId = endToEndId;
    if (status !== 'withdrawn') await transition('reserved', { type: 'budget_reserved', note: String(r.year) });
    // Welfare support runs alongside (its own workflow, outliving this one if need be).
    if (status === 'reserved' && patched('support-queue')) {
      const need = await supportNeeded({ applicationId, flagged: false });
      if (need) {
        try {
          supportChild = await startChild(supportWorkflow, { workflowId: supportWorkflowId(applicationId), args: [{ applicationId, ...need }], parentClosePolicy: 'ABANDON' });
        } catch (err) {
          if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        }
      }
    }
    return true;
  }

  /** Withdrawn after a grant: a payout not yet in a batch is cancelled and released; otherwise it is reclaimed once paid. */
  async function returnGrant(g: GrantState): Promise<void> {
    const { cancelled } = await cancelPayout({ applicationId });
    if (cancelled) {
      await releaseBudget({ applicationId, year: g.budgetYear, reason: 'withdrawn', actor: 'applicant' });
      g.returned = 'released';
      await note({ type: 'budget_released', note: String(g.budgetYear) });
      return;
    }
    await condition(() => paidNotice !== undefined);
    if (!g.paid) {
      await recordPayment({ applicationId, year: g.budgetYear, ...paymentOf(paidNotice!) });
      g.paid = { batchId: paidNotice!.batchId, executedAt: paidNotice!.executedAt };
    }
    await reclaimGrant({ applicationId, year: g.budgetYear, reason: 'withdrawn', actor: 'applicant' });
    g.returned = 'reclaimed';
    await note({ type: 'grant_reclaimed', note: String(g.budgetYear) });
  }

  /**
   * Tells the support case's running workflow (the child this run started, or a later run
   * after a release or the panel's flag) that the initiative is over: it reads the case
   * (`ended`: the read model's status is final by now) and completes. The child started
   * here is waited for, so it completes before this workflow does.
   */
  async function endSupportWait(): Promise<void> {
    try {
      await getExternalWorkflowHandle(supportWorkflowId(applicationId)).signal(supportEndedSignal, { at: nowIso() });
    } catch {
      // No run of the case is going (claimed, or there is no case): nothing waits.
    }
    if (supportChild) await supportChild.result().catch(() => undefined);
  }

  for (;;) {
    if (status === 'withdrawn' && grant && !grant.returned) {
      await returnGrant(grant);
      continue;
    }
    if (status === 'withdrawn' || status === 'lapsed' || status === 'rejected' || status === 'rejected_budget_exhausted') break;
    if (status === 'closed' || status === 'reclaimed') break;
    if (status === 'paid' && grant?.paid && !followUpStarted && patched('follow-up')) {
      followUpStarted = true;
      await runFollowUp();
      continue;
    }
    // Workflows decided before the ledger existed keep waiting, as their histories say.
    if ((status === 'approved' || status === 'partially_approved') && decision && !grant && patched('budget-ledger')) {
      await reserveGrant(decision);
      continue;
    }
    if (status === 'reserved' && grant && paidNotice && !grant.paid) {
      const n = paidNotice;
      await recordPayment({ applicationId, year: grant.budgetYear, ...paymentOf(n) });
      grant.paid = { batchId: n.batchId, executedAt: n.executedAt };
      if (status === 'reserved') {
        await transition('paid', { type: 'paid', note: n.batchId });
        await notifyApplicant({ key: `${applicationId}:paid`, applicationId, template: 'paid', vars: { grantedCents: grant.reservedCents } });
      }
      continue;
    }
    const request = openRequest;
    if (status === 'awaiting_information' && request) {
      const stillOpen = () => openRequest === request && status === 'awaiting_information';
      if (request.remindAt && !request.reminderSentAt) {
        const resolved = await condition(() => !stillOpen(), Math.max(Date.parse(request.remindAt) - Date.now(), 1));
        if (resolved) continue;
        request.reminderSentAt = nowIso();
        await notifyApplicant({
          key: `${applicationId}:information_reminder:${request.id}`,
          applicationId,
          template: 'information_reminder',
          vars: { missing: request.missing, deadline: request.deadline },
        });
        if (stillOpen()) await note({ type: 'information_reminder_sent' });
        continue;
      }
      const resolved = await condition(() => !stillOpen(), Math.max(Date.parse(request.deadline) - Date.now(), 1));
      if (resolved) continue;
      request.state = 'lapsed';
      openRequest = undefined;
      await transition('lapsed', { type: 'lapsed' });
      await notifyApplicant({ key: `${applicationId}:lapsed`, applicationId, template: 'lapsed' });
      break;
    }
    const current = status;
    const currentRequest = openRequest;
    const currentPaid = paidNotice;
    await condition(() => status !== current || openRequest !== currentRequest || paidNotice !== currentPaid);
  }
  // Let update handlers that are still running (e.g. the withdraw e-mail) finish before completing.
  await condition(allHandlersFinished);
  // A granted initiative's support case ends with it (before this rule its wait found out at its next timer, and after the flag never).
  if (grant && patched(SUPPORT_ENDS_WITH_INITIATIVE)) await endSupportWait();
  return state();
}

