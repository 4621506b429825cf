/**
 * A support case folded from its chain of events, and what each reader may see of it.
 * Pure (no I/O): the service, the API and the application view share it.
 */
import { z } from 'zod';
import { supportNoteKinds, type SupportState } from '../domain/report.ts';
import { supportEventKinds, type SupportEventDoc, type SupportEventKind } from './events.ts';

export type SupportCaseState = 'unclaimed' | 'claimed';

export interface SupportCase extends SupportState {
  applicationId: string;
  reference: string;
  title: string;
  wijken: string[];
  state: SupportCaseState;
  /** Start of the current wait for a worker: when it was queued, or its last release. Reminder and flag count from here. */
  waitingSince: string;
  /** Seq of the entry that began the current wait (the reminder and flag of a wait are keyed by it). */
  period: number;
  history: { at: string; type: SupportEventKind; actor: string; byName?: string; toName?: string }[];
}

/** The case as its entries say, or undefined before it was queued. Entries in seq order. */
export function foldSupport(entries: readonly SupportEventDoc[]): SupportCase | undefined {
  let c: SupportCase | undefined;
  for (const e of entries) {
    if (!c) {
      if (e.kind !== 'queued' || !e.queued) continue;
      c = {
        applicationId: e.applicationId,
        reference: e.queued.reference,
        title: e.queued.title,
        wijken: e.queued.wijken,
        reason: e.queued.reason,
        ...(e.queued.wish ? { wish: e.queued.wish } : {}),
        organisation: e.queued.organisation,
        queuedAt: e.occurredAt,
        notes: [],
        state: 'unclaimed',
        waitingSince: e.occurredAt,
        period: e.seq,
        history: [{ at: e.occurredAt, type: e.kind, actor: e.actor }],
      };
      continue;
    }
    const who = e.worker ?? e.note?.by ?? e.from;
    c.history.push({
      at: e.occurredAt,
      type: e.kind,
      actor: e.actor,
      ...(e.kind === 'handed_over' ? { byName: e.from?.name, toName: e.worker?.name } : who ? { byName: who.name } : {}),
    });
    switch (e.kind) {
      case 'claimed':
      case 'handed_over':
        if (e.worker) {
          c.claimedBy = { id: e.worker.id, name: e.worker.name, ...(e.worker.organisation ? { organisation: e.worker.organisation } : {}), at: e.occurredAt };
          c.state = 'claimed';
        }
        break;
      case 'released':
        delete c.claimedBy;
        c.state = 'unclaimed';
        // A new wait: its own reminder and flag.
        c.waitingSince = e.occurredAt;
        c.period = e.seq;
        delete c.reminderSentAt;
        delete c.flaggedAt;
        break;
      case 'note':
        if (e.note) c.notes.push({ id: e.note.id, at: e.occurredAt, by: e.note.by.id, byName: e.note.by.name, kind: e.note.kind, text: e.note.text });
        break;
      case 'reminder_sent':
        if (e.period === c.period) c.reminderSentAt = e.occurredAt;
        break;
      case 'flagged':
        if (e.period === c.period) c.flaggedAt = e.occurredAt;
        break;
      case 'queued':
        break;
    }
  }
  return c;
}

/**
 * Whether a welfare worker may read the application behind a case (least privilege: the
 * `welfare_case` rule, src/api/auth.ts): the case is in their organisation's queue, or
 * they or a colleague of their organisation hold it (a case may be claimed or handed
 * over across organisations). It stays readable after the initiative ends; the
 * retention erasure removes the personal data in time.
 */
export function welfareMayRead(c: SupportCase, worker: { id: string; organisation?: string }): boolean {
  if (c.claimedBy?.id === worker.id) return true;
  return worker.organisation !== undefined && (c.organisation === worker.organisation || c.claimedBy?.organisation === worker.organisation);
}

// ---------------------------------------------------------------------------------
// Views

const claimedBySchema = z.object({ id: z.string(), name: z.string(), organisation: z.string().optional(), at: z.string() });
const noteSchema = z
  .object({ id: z.string(), at: z.string(), by: z.string(), byName: z.string(), kind: z.enum(supportNoteKinds), text: z.string() })
  .meta({ id: 'SupportNote' });

/** What staff (welfare, panel, admin) see of a case: everything, notes included. */
export const supportStaffViewSchema = z
  .object({
    state: z.enum(['unclaimed', 'claimed']),
    reason: z.enum(['requested', 'flagged']),
    wish: z.string().optional(),
    organisation: z.string().meta({ description: "The welfare organisation responsible for the initiative's wijk (WIJK_ORGANISATIONS)" }),
    queuedAt: z.string(),
    waitingSince: z.string().meta({ description: 'Start of the current wait for a worker (queued, or the last release); the reminder (7 days) and the flag (14 days) count from here' }),
    claimedBy: claimedBySchema.nullable(),
    reminderSentAt: z.string().optional(),
    flaggedAt: z.string().optional(),
    notes: z.array(noteSchema),
  })
  .meta({ id: 'SupportStaffView' });

/** What the applicant sees: whether someone has it and who (name and organisation only); no notes. */
export const supportApplicantViewSchema = z
  .object({
    state: z.enum(['unclaimed', 'claimed']),
    reason: z.enum(['requested', 'flagged']),
    wish: z.string().optional(),
    organisation: z.string(),
    queuedAt: z.string(),
    claimedBy: z.object({ name: z.string(), organisation: z.string().optional() }).nullable(),
  })
  .meta({ id: 'SupportApplicantView' });

export const supportCaseViewSchema = supportStaffViewSchema
  .extend({
    applicationId: z.string(),
    reference: z.string(),
    title: z.string(),
    wijken: z.array(z.string()),
    history: z.array(z.object({ at: z.string(), type: z.enum(supportEventKinds), actor: z.string(), byName: z.string().optional(), toName: z.string().optional() })),
  })
  .meta({ id: 'SupportCase' });

export const supportQueueItemSchema = z
  .object({
    applicationId: z.string(),
    reference: z.string(),
    title: z.string(),
    wijken: z.array(z.string()),
    organisation: z.string(),
    reason: z.enum(['requested', 'flagged']),
    wish: z.string().optional(),
    state: z.enum(['unclaimed', 'claimed']),
    queuedAt: z.string(),
    waitingSince: z.string(),
    claimedBy: claimedBySchema.nullable(),
    reminderSentAt: z.string().optional(),
    flaggedAt: z.string().optional(),
  })
  .meta({ id: 'SupportQueueItem' });

export type SupportStaffView = z.infer<typeof supportStaffViewSchema>;
export type SupportApplicantView = z.infer<typeof supportApplicantViewSchema>;

/**
 * The `support` field of an application: null without a case; for the applicant the
 * state, reason, wish, organisation and who helps (name and organisation only), never
 * the notes or the worker's id; for staff the whole state with the notes.
 */
export function supportView(c: SupportCase | null | undefined, forApplicant: true): SupportApplicantView | null;
export function supportView(c: SupportCase | null | undefined, forApplicant: false): SupportStaffView | null;
export function supportView(c: SupportCase | null | undefined, forApplicant: boolean): SupportApplicantView | SupportStaffView | null;
export function supportView(c: SupportCase | null | undefined, forApplicant: boolean): SupportApplicantView | SupportStaffView | null {
  if (!c) return null;
  const common = { state: c.state, reason: c.reason, ...(c.wish ? { wish: c.wish } : {}), organisation: c.organisation, queuedAt: c.queuedAt };
  if (forApplicant) {
    return { ...common, claimedBy: c.claimedBy ? { name: c.claimedBy.name, ...(c.claimedBy.organisation ? { organisation: c.claimedBy.organisation } : {}) } : null };
  }
  return {
    ...common,
    waitingSince: c.waitingSince,
    claimedBy: c.claimedBy ? { ...c.claimedBy } : null,
    ...(c.reminderSentAt ? { reminderSentAt: c.reminderSentAt } : {}),
    ...(c.flaggedAt ? { flaggedAt: c.flaggedAt } : {}),
    notes: c.notes.map((n) => ({ ...n })),
  };
}

/** GET /api/v1/support/:applicationId: the staff view with what the case is about and its history. */
export function supportCaseView(c: SupportCase): z.infer<typeof supportCaseViewSchema> {
  return {
    applicationId: c.applicationId,
    reference: c.reference,
    title: c.title,
    wijken: c.wijken,
    ...supportView(c, false)!,
    history: c.history.map((h) => ({ ...h })),
  };
}

export function supportQueueItem(c: SupportCase): z.infer<typeof supportQueueItemSchema> {
  return {
    applicationId: c.applicationId,
    reference: c.reference,
    title: c.title,
    wijken: c.wijken,
    organisation: c.organisation,
    reason: c.reason,
    ...(c.wish ? { wish: c.wish } : {}),
    state: c.state,
    queuedAt: c.queuedAt,
    waitingSince: c.waitingSince,
    claimedBy: c.claimedBy ? { ...c.claimedBy } : null,
    ...(c.reminderSentAt ? { reminderSentAt: c.reminderSentAt } : {}),
    ...(c.flaggedAt ? { flaggedAt: c.flaggedAt } : {}),
  };
}
