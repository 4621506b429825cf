/**
 * After the payout: the initiator's report, the panel's review, and the welfare
 * support that runs alongside. Pure types and schemas, shared by the workflow, the
 * activities, the API and the monitoring reports.
 */
import { z } from 'zod';

/** The traffic-light monitor the partners use. */
export const trafficLights = ['green', 'orange', 'red'] as const;
export type TrafficLight = (typeof trafficLights)[number];

export const costLineSchema = z
  .object({
    description: z.string().trim().min(1).max(200),
    amountCents: z.number().int().min(0).max(100_000_00),
  })
  .strict();

/** What the initiator sends as the report (the JSON part of the multipart request). */
export const reportInputSchema = z
  .object({
    text: z.string().trim().min(20).max(10_000),
    participants: z.number().int().min(0).max(100_000),
    volunteers: z.number().int().min(0).max(10_000),
    selfAssessment: z.enum(trafficLights),
    costLines: z.array(costLineSchema).min(1).max(100),
  })
  .strict();
export type ReportInput = z.infer<typeof reportInputSchema>;

/** A report as the workflow and the read model hold it. */
export interface InitiativeReport extends ReportInput {
  submittedAt: string; // ISO 8601, UTC
  actualCostsCents: number;
  /** paid − actual costs when positive, else 0. */
  unspentCents: number;
  documentIds: string[];
  /** Answers to clarification requests, in order. */
  clarifications?: { requestedAt: string; question: string; deadline: string; answeredAt?: string; answer?: string }[];
}

export const reviewOutcomes = ['accept', 'clarify', 'reject'] as const;
export type ReviewOutcome = (typeof reviewOutcomes)[number];

/** The panel's review of a report. */
export const reportReviewInputSchema = z
  .object({
    outcome: z.enum(reviewOutcomes),
    /** The panel's traffic light; defaults to the initiator's own assessment. */
    trafficLight: z.enum(trafficLights).optional(),
    /** For clarify: what is unclear; for reject: why. */
    note: z.string().trim().min(1).max(5_000).optional(),
    /** For clarify: days the applicant has to answer (default 14). */
    deadlineDays: z.number().int().min(1).max(90).optional(),
    /** For reject: take the grant back (ledger reclaim of what was paid). */
    reclaim: z.boolean().optional(),
  })
  .strict()
  .refine((r) => r.outcome === 'accept' || (r.note !== undefined && r.note.length > 0), { path: ['note'], message: 'a note is required to clarify or reject' });
export type ReportReviewInput = z.infer<typeof reportReviewInputSchema>;

export interface ReportReview {
  outcome: ReviewOutcome;
  trafficLight: TrafficLight;
  note?: string;
  reviewedBy: string;
  reviewedAt: string;
}

/** How the money ended after the report. */
export interface Settlement {
  /** Unspent money the initiator is asked to pay back (0 when none). */
  refundDueCents: number;
  refundReceivedCents?: number;
  refundReceivedAt?: string;
  reclaimedCents?: number;
  settledAt?: string;
  closedAt?: string;
}

/** Unspent money the applicant still has to pay back (a refund not yet received in full). */
export const refundOpen = (s: Pick<Settlement, 'refundDueCents' | 'refundReceivedCents'> | null | undefined): boolean => !!s && s.refundDueCents > (s.refundReceivedCents ?? 0);

/** Welfare support for one initiative (runs alongside the initiative; not a status). */
export interface SupportState {
  reason: 'requested' | 'flagged';
  wish?: string;
  /** The organisation responsible for the initiative's wijk (who gets the reminder). */
  organisation: string;
  queuedAt: string;
  claimedBy?: { id: string; name: string; organisation?: string; at: string };
  notes: { id: string; at: string; by: string; byName: string; kind: SupportNoteKind; text: string }[];
  reminderSentAt?: string;
  flaggedAt?: string;
}

export const supportNoteKinds = ['contact', 'advice', 'referral', 'other'] as const;
export type SupportNoteKind = (typeof supportNoteKinds)[number];
