/** The events of a support case as stored (collection `support_events`; see src/db/support-models.ts). Types only and constants: importable anywhere. */
import type { ChainEntry } from '../db/chain.ts';
import type { SupportNoteKind, SupportState } from '../domain/report.ts';

export const supportEventKinds = ['queued', 'claimed', 'released', 'handed_over', 'note', 'reminder_sent', 'flagged'] as const;
export type SupportEventKind = (typeof supportEventKinds)[number];

/** A welfare worker as the case names them. */
export interface SupportWorker {
  id: string;
  name: string;
  organisation?: string;
}

export interface SupportEventDoc extends ChainEntry {
  /** `support-<applicationId>:<seq>` */
  _id: string;
  applicationId: string;
  kind: SupportEventKind;
  /** When it happened: the API's clock, or workflow time for the worker's events (the chain's `at` is when it was written). */
  occurredAt: string;
  /** `staff:<id>` for a person, `workflow` for the support workflow. */
  actor: string;
  requestId?: string;
  /** queued: why, what the initiator asked for, who is responsible, and what the queue shows of the initiative. */
  queued?: Pick<SupportState, 'reason' | 'wish' | 'organisation'> & { reference: string; title: string; wijken: string[] };
  /** claimed, handed_over: who has it now. */
  worker?: SupportWorker;
  /** released, handed_over: who had it. */
  from?: SupportWorker;
  note?: { id: string; kind: SupportNoteKind; text: string; by: SupportWorker };
  /** reminder_sent, flagged: the waiting period it belongs to (the seq of the entry that began it) and who was told. */
  period?: number;
  recipients?: string[];
}

