/** Status names of an initiative, exactly as the API shows them (ARCHITECTURE.md). */
export const applicationStatuses = [
  'submitted',
  'screening',
  'awaiting_information',
  'ready_for_meeting',
  'scheduled',
  'approved',
  'partially_approved',
  'rejected',
  'rejected_budget_exhausted',
  'withdrawn',
  'lapsed',
  'reserved',
  'paid',
  'activity_held',
  'report_due',
  'report_received',
  'clarification_requested',
  'settled',
  'closed',
  'reclaimed',
] as const;

export type ApplicationStatus = (typeof applicationStatuses)[number];

/**
 * Statuses in which the applicant can no longer withdraw: rejected, closed, or the
 * activity has taken place. Until then a grant can be given back (the workflow
 * releases the reservation, or reclaims a payout already made).
 */
const afterDecision: ReadonlySet<ApplicationStatus> = new Set([
  'rejected',
  'rejected_budget_exhausted',
  'withdrawn',
  'lapsed',
  'activity_held',
  'report_due',
  'report_received',
  'clarification_requested',
  'settled',
  'closed',
  'reclaimed',
]);

export function canWithdraw(status: ApplicationStatus): boolean {
  return !afterDecision.has(status);
}

/**
 * Statuses in which the panel screens (asks for information, marks complete): screening,
 * and submitted, the first seconds after intake (the workflow holds the action until its
 * first step has moved the application into screening).
 */
export function canScreen(status: ApplicationStatus): boolean {
  return status === 'screening' || status === 'submitted';
}

/** Statuses in which the initiative workflow has nothing left to do. */
export function isFinal(status: ApplicationStatus): boolean {
  return status === 'withdrawn' || status === 'lapsed' || status === 'rejected' || status === 'rejected_budget_exhausted' || status === 'closed' || status === 'reclaimed';
}

export type TimelineEventType =
  | 'submitted'
  | 'status_changed'
  | 'information_requested'
  | 'information_reminder_sent'
  | 'information_provided'
  | 'documents_added'
  | 'screening_completed'
  | 'withdrawn'
  | 'lapsed'
  | 'meeting_scheduled'
  | 'invited_to_explain'
  | 'rolled_over'
  | 'decided'
  | 'budget_reserved'
  | 'budget_exhausted'
  | 'paid'
  | 'budget_released'
  | 'grant_reclaimed'
  | 'activity_held'
  | 'report_due'
  | 'report_received'
  | 'clarification_requested'
  | 'report_accepted'
  | 'report_rejected'
  | 'refund_received'
  | 'report_escalated'
  | 'closed'
  | 'personal_data_erased';

export interface TimelineEvent {
  id: string;
  at: string; // ISO 8601, UTC
  type: TimelineEventType;
  status?: ApplicationStatus;
  actor?: string;
  note?: string;
  documentIds?: string[];
}

export interface InformationRequest {
  id: string;
  missing: string;
  requestedBy: string;
  requestedAt: string;
  deadline: string;
  /** Absent when the deadline is too short for a reminder. */
  remindAt?: string;
  reminderSentAt?: string;
  state: 'open' | 'answered' | 'lapsed' | 'cancelled';
  answeredAt?: string;
  answer?: string;
  documentIds?: string[];
}
