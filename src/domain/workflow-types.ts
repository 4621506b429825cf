/**
 * The inputs, states and results the workflows (workflows/) share with their activities
 * (activities/) and the API (src/): the one place both sides import them from, so that
 * nothing in activities/ imports workflows/ (test/activities/imports.test.ts).
 *
 * Types and plain constants only: workflow code imports this module, and the workflow
 * bundler refuses anything that needs Node.
 */
import type { Vote, VoteKind } from './decision.ts';

/**
 * patched() id of the deadlines a person sees ending at the end of an Amsterdam day
 * (endOfAmsterdamDay in src/domain/dates.ts): information requests, the report's due date
 * and last reminder, clarifications, support reminders and flags. Workflows whose histories
 * set a deadline before it keep days × 24 h there (test/workflows/replay.test.ts).
 */
export const AMSTERDAM_DEADLINES = 'amsterdam-deadlines';

// --- panelMeetingWorkflow (workflows/meeting.ts) ---------------------------------------------

export interface MeetingInput {
  meetingId: string;
  date: string;
  startsAt: string;
  cutoffAt: string;
  endsAt: string;
  quorum: number;
  /** Share of the votes a majority must exceed (absent: a simple majority). */
  majority?: number;
  /** After this many rollovers an item is flagged to the admin. */
  flagAfterRollovers: number;
  /**
   * Updates (votes, recusals, invitations, the close) one run takes before it continues as new
   * (default MEETING_UPDATES_PER_RUN): Temporal refuses more than 2,000 per run.
   */
  updatesPerRun?: number;
  /** Set by the meeting itself when it continues as new: everything so far (the agenda is frozen). */
  carried?: MeetingCarried;
}

/** What a meeting run hands the next one when it continues as new. */
export interface MeetingCarried {
  state: MeetingState;
  /** The members were sent the agenda (notifyMeetingMembers) by an earlier run. */
  announced: boolean;
  /** Runs before this one. */
  runs: number;
}

/** Refusal code of an update that reached a meeting run about to continue as new: send it again. */
export const MEETING_SWITCHING_RUN = 'meeting_switching_run';

/** Updates per meeting run by default: safely below Temporal's 2,000 (`history.maxTotalUpdates`). */
export const MEETING_UPDATES_PER_RUN = 1_500;

export interface AgendaEntry {
  applicationId: string;
  requestedCents: number;
  budgetLineCount: number;
  /** Times this application was rolled over before this meeting. */
  rollovers: number;
  invited: boolean;
}

export interface FrozenAgenda {
  items: AgendaEntry[];
  members: { id: string; name: string }[];
  chairId?: string;
}

export interface CastVoteArgs {
  memberId: string;
  applicationId: string;
  vote: VoteKind;
  amountCents?: number;
  struckLines?: number[];
  reasons?: string;
}
export interface RecusalArgs {
  memberId: string;
  applicationId: string;
  reason: string;
}
export interface CloseArgs {
  memberId: string;
}
export interface InviteArgs {
  memberId: string;
  applicationId: string;
}

export interface CastVote extends Vote {
  applicationId: string;
  at: string;
}
export interface Recusal extends RecusalArgs {
  at: string;
}

export interface ItemOutcome {
  applicationId: string;
  outcome: 'approved' | 'partially_approved' | 'rejected' | 'rollover';
  grantedCents: number;
  reasons: string[];
  struckLines: number[];
  rolloverReason?: 'no_quorum' | 'deferred';
  flagged: boolean;
}

export interface MeetingState {
  meetingId: string;
  status: 'waiting_for_cutoff' | 'open' | 'closed';
  agenda: AgendaEntry[];
  members: { id: string; name: string }[];
  chairId?: string;
  /** Every vote cast, in order (a member's last vote on an item counts). */
  votes: CastVote[];
  recusals: Recusal[];
  closedAt?: string;
  closedBy?: string;
  outcomes: ItemOutcome[];
}

/** Error type of a refused vote, recusal or close. */
export const MEETING_REFUSED = 'MeetingRefused';

// --- initiativeWorkflow (workflows/initiative.ts) --------------------------------------------

/** Finance reported the batch with this payout as executed by the bank (the payoutExecuted signal). */
export interface PaidNotice {
  applicationId: string;
  endToEndId: string;
  batchId: string;
  executedAt: string;
  /**
   * Who reported the batch executed (the register's actor, `staff:<id>`): the actor of the
   * ledger's pay entry. Absent in signals sent before it was added (the entry says `finance`).
   */
  executedBy?: string;
}

// --- supportWorkflow (workflows/support.ts) --------------------------------------------------

export const SUPPORT_REMINDER_DAYS = 7;
/** patched() id: a granted initiative that ends signals its support case's workflow (supportEnded) and waits for its child. */
export const SUPPORT_ENDS_WITH_INITIATIVE = 'support-ends-with-initiative';
export const SUPPORT_FLAG_DAYS = 14;

export interface SupportWorkflowInput {
  applicationId: string;
  reason: 'requested' | 'flagged';
  /** What the applicant asked help with (default: the application's supportWish). */
  wish?: string;
  /** Days from the start of a wait to the reminder and to the flag (7 and 14 unless given). */
  reminderDays?: number;
  flagDays?: number;
}

/** The case as far as the timers care (what the activities return). */
export interface SupportTiming {
  /** `ended`: the initiative is over (withdrawn, reclaimed, closed): no more reminders. */
  state: 'unclaimed' | 'claimed' | 'ended';
  organisation: string;
  /** Start of the current wait (queued, or the last release), ISO 8601. */
  waitingSince: string;
  /** Seq of the case entry that began the current wait. */
  period: number;
  reminderSent: boolean;
  flagged: boolean;
}

export interface SupportOutcome {
  outcome: 'claimed' | 'ended';
  timing: SupportTiming;
}

/** A reminder or flag step of a wait (remindSupportWorkers, flagSupportCase). */
export interface WaitStepInput {
  applicationId: string;
  /** The wait the timer belongs to (SupportTiming.period). */
  period: number;
  /** Workflow time of the step, ISO 8601. */
  at: string;
  /** Days waited (for the e-mail). */
  days: number;
}

/** What the account-lock workflow is started with (workflows/account-lock.ts → activities/notifications.ts). */
export interface AccountLockedInput {
  /** The lock's id: `<account hash>:<n>@<locked at, ms>`, unique over time. */
  lockId: string;
  userId: string;
  /** How many failures locked it. */
  failures: number;
  /** ISO 8601. */
  lockedUntil: string;
}
