/** What the panel decided about one application, as the initiative workflow and the applicant receive it. */
export interface DecisionNotice {
  meetingId: string;
  outcome: 'approved' | 'partially_approved' | 'rejected';
  grantedCents: number;
  requestedCents: number;
  /** Reasons of the votes that carried the outcome (required for partial and reject votes). */
  reasons: string[];
  /** Indexes into the application's budget lines that the panel struck. */
  struckLines: number[];
  decidedAt: string;
}

export interface MeetingNotice {
  meetingId: string;
  date: string;
  startsAt: string;
}
