import mongoose, { Schema, type Connection, type Model } from 'mongoose';
import { initiativeWorkflowId, type ApplicationInput } from '../domain/application.ts';
import type { ApplicationStatus, InformationRequest, TimelineEvent } from '../domain/status.ts';
import type { DecisionNotice, MeetingNotice } from '../domain/decisions.ts';
import type { ApplicationShare, Balances, MovementKind } from '../domain/ledger.ts';
import type { InitiativeReport, ReportReview, Settlement } from '../domain/report.ts';

export interface StoredDocument {
  id: string;
  applicationId: string;
  fileName: string;
  contentType: string;
  size: number;
  sha256: string;
  uploadedAt: Date;
  uploadedBy: 'applicant' | 'staff';
  context: 'intake' | 'information' | 'additional' | 'report';
}

export interface ApplicationDoc extends Omit<ApplicationInput, 'previousApplicationId' | 'whatChanged'> {
  _id: string;
  reference: string;
  year: number;
  status: ApplicationStatus;
  /** Sequence of the workflow event that last set `status`; a late retry never moves it back. */
  statusSeq: number;
  previousApplicationId?: string;
  whatChanged?: string;
  /** SHA-256 of the access token issued at submission (a replay's tokens are AccessToken documents). */
  accessTokenHash?: string;
  /** Snapshot projected from the workflow (single writer: its recordProgress activity, in order). */
  informationRequests: InformationRequest[];
  meeting?: MeetingNotice | null;
  decision?: DecisionNotice | null;
  rollovers?: number;
  workflowId: string;
  idempotencyKey?: string;
  /** After the payout: the initiator's report, the panel's review, how the money ended (projected from the workflow). */
  report?: InitiativeReport | null;
  review?: ReportReview | null;
  settlement?: Settlement | null;
  /** When the personal data was erased (retention); the figures stay. */
  erasedAt?: Date;
  /** Set at submission when the activity's budget year could not cover the request then (the applicant is warned). */
  budgetWarning?: { year: number; remainingCents: number };
  createdAt: Date;
  updatedAt: Date;
}

/** One claimed reference number; the unique _id makes the claim atomic. */
export interface ReferenceClaimDoc {
  _id: string;
  year: number;
  seq: number;
  createdAt: Date;
}

export interface DocumentDoc extends Omit<StoredDocument, 'id'> {
  _id: string;
}

export interface EventDoc extends Omit<TimelineEvent, 'id'> {
  _id: string;
  applicationId: string;
}

export interface AccessTokenDoc {
  /** SHA-256 of the token; the token itself is never stored. */
  _id: string;
  applicationId: string;
  createdAt: Date;
}

export interface IdempotencyDoc {
  _id: string;
  requestHash: string;
  applicationId: string;
  createdAt: Date;
}

export const staffRoles = ['panel', 'welfare', 'finance', 'admin'] as const;
export type StaffRole = (typeof staffRoles)[number];

export interface StaffUserDoc {
  _id: string;
  email: string;
  name: string;
  role: StaffRole;
  organisation?: string;
  chair: boolean;
  active: boolean;
  passwordHash: string;
  createdAt: Date;
}

/**
 * One failed staff login (src/services/staff-login.ts): inserted, never updated, and
 * counted per account; a successful login or age removes it. `_id`
 * `<account>:<time, 13 digits>:<random>` (`loginFailureId`): an account's failures are an `_id` range.
 */
export interface LoginFailureDoc {
  _id: string;
  /** SHA-256 of the normalised e-mail address typed (known account or not). */
  account: string;
  at: Date;
}

/**
 * A per-account login lock, `_id` `<account>:<n>` (the account's n-th lock): claimed by
 * a unique insert, so api processes that reach the limit at the same time agree on one
 * lock (and one e-mail). An account's locks are the `_id` range `<account>:`.
 */
export interface LoginLockDoc {
  _id: string;
  account: string;
  n: number;
  lockedAt: Date;
  until: Date;
}

export interface OutboxDoc {
  /** Idempotency key: the notification's business key (application id + step). */
  _id: string;
  applicationId?: string;
  to: string;
  template: string;
  locale: 'nl' | 'en';
  vars: Record<string, unknown>;
  subject: string;
  status: 'pending' | 'sent';
  /** Attempts to send, each recorded before it goes to SMTP. */
  attempts: number;
  attemptedAt?: Date;
  /** Why the last attempt failed (none while an attempt runs, and none after one that ended without a result). */
  lastError?: string;
  /** Sent again after an attempt that ended without a result (a crash after SMTP accepted it?): may have arrived twice, with the same Message-ID. */
  possibleDuplicate?: boolean;
  sentAt?: Date;
  messageId?: string;
  createdAt: Date;
}

export interface AgendaItemDoc {
  applicationId: string;
  reference: string;
  title: string;
  applicantName: string;
  wijken: string[];
  purposes: string[];
  expectedParticipants: number;
  amountRequestedCents: number;
  budgetLines: { description: string; amountCents: number }[];
  coFunding: { source: string; amountCents: number }[];
  submittedAt: Date;
  rollovers: number;
  invited: boolean;
  /** The budget year this item would be charged to (its activity's year). */
  budgetYear: number;
  /** What was left in that year's budget when the agenda was frozen. */
  budgetRemainingCents: number;
  fairSpread: {
    applicantGrantedCents: number;
    wijkGrantedCents: Record<string, number>;
    earlierRejection?: { applicationId: string; reference: string; whatChanged?: string };
  };
}

export interface MeetingDoc {
  _id: string; // meeting-<regular date>
  date: string;
  startsAt: Date;
  cutoffAt: Date;
  endsAt: Date;
  status: 'agenda_frozen' | 'closed';
  agenda: AgendaItemDoc[];
  members: { id: string; name: string }[];
  chairId?: string;
  votes?: unknown[];
  recusals?: unknown[];
  outcomes?: unknown[];
  closedAt?: Date;
  closedBy?: string;
  frozenAt: Date;
}

export interface MeetingOverrideDoc {
  _id: string; // the regular date
  action: 'skip' | 'move';
  newDate?: string;
  newTime?: string;
  by: string;
  at: Date;
}

/** An extra meeting the admin added (src/services/meeting-calendar.ts): inserted once, never changed. */
export interface ExtraMeetingDoc {
  _id: string; // meeting-extra-<date>-<HHMM>: ordered by day and time
  date: string;
  time: string;
  startsAt: Date;
  cutoffAt: Date;
  endsAt: Date;
  by: string;
  at: Date;
  requestId?: string;
}

export interface AuditDoc {
  /** Deterministic per fact, so a retried write records it once. */
  _id: string;
  at: Date;
  actor: string;
  action: string;
  target: string;
  before?: unknown;
  after?: unknown;
  requestId?: string;
}

/** One movement in a year's budget journal (see src/db/chain.ts and src/budget/ledger.ts). */
export interface LedgerEntryDoc {
  _id: string; // budget-<year>:<seq>
  chain: string;
  seq: number;
  /** Idempotency key, unique: `reserve:<applicationId>`, `pay:<applicationId>`, … */
  key: string;
  at: Date;
  year: number;
  kind: MovementKind;
  amountCents: number;
  applicationId?: string;
  wijken?: string[];
  actor: string;
  requestId?: string;
  note?: string;
  /** The year's balances after this entry: stored with it, so they change in the same single write. */
  balances: Balances;
  /**
   * An application's share of the year before and after this entry (its `wijken` are then on
   * every entry of it, not only the reservation): what the public figures need, so a fold from
   * a snapshot needs no earlier entry (src/budget/journal.ts). Missing on entries written before.
   */
  shareBefore?: ApplicationShare;
  shareAfter?: ApplicationShare;
}

/**
 * The fold of a year's journal up to position `seq` (src/budget/journal.ts), stored every so
 * many entries as `budget-<year>-snapshot:<seq>`: a process starts from the newest and reads
 * only the entries after it. A pure function of entries 1..seq.
 */
export interface LedgerSnapshotDoc {
  _id: string;
  year: number;
  seq: number;
  balances: Balances;
  grants: number;
  perWijk: { wijk: string; grants: number; grantedCents: number }[];
  perMonth: { month: string; reservedCents: number; releasedCents: number; paidCents: number; reclaimedCents: number; refundedCents: number }[];
  /** Per Amsterdam day with entries: committed + paid after the day's last entry, and that entry's position. */
  perDay: { day: string; seq: number; usedCents: number }[];
  at: Date;
}

/** One payout instruction: a reserved grant to be paid by SEPA credit transfer. */
export interface PayoutDoc {
  _id: string; // the end-to-end id
  applicationId: string;
  reference: string;
  year: number;
  amountCents: number;
  iban: string;
  accountHolder: string;
  remittance: string;
  createdAt: Date;
  /** Projected from the payout register (the chain is the truth; see src/payouts/service.ts). */
  status: 'pending' | 'batched' | 'paid' | 'cancelled';
  batchId?: string;
  paidAt?: Date;
}

/** One fact in the payout register: a batch made, a batch executed, a payout cancelled. */
export interface PayoutEventDoc {
  _id: string; // payouts:<seq>
  chain: string;
  seq: number;
  key: string;
  at: Date;
  kind: 'batch' | 'executed' | 'cancel';
  batchId?: string;
  endToEndIds: string[];
  actor: string;
  requestId?: string;
  /** For a batch: what the file says, so it can be rendered again byte for byte. */
  batch?: {
    messageId: string;
    createdAt: Date;
    requestedExecutionDate: string;
    debtor: { name: string; iban: string; bic?: string };
    numberOfTransactions: number;
    controlSumCents: number;
    sha256: string;
  };
}

/** The SEPA file of a batch, stored once (re-rendered from the register if a crash lost it). */
export interface PayoutBatchDoc {
  _id: string; // batch id
  xml: string;
  sha256: string;
  createdAt: Date;
}

const applicationSchema = new Schema<ApplicationDoc>(
  {
    _id: { type: String, required: true },
    reference: { type: String, required: true, unique: true },
    year: { type: Number, required: true },
    status: { type: String, required: true },
    statusSeq: { type: Number, required: true, default: 0 },
    applicant: { type: Schema.Types.Mixed, required: true },
    title: { type: String, required: true },
    description: { type: String, required: true },
    purposes: { type: [String], required: true },
    wijken: { type: [String], required: true },
    targetGroup: String,
    expectedParticipants: Number,
    volunteers: Number,
    activity: { type: Schema.Types.Mixed, required: true },
    budgetLines: { type: Schema.Types.Mixed, required: true },
    amountRequestedCents: { type: Number, required: true },
    coFunding: { type: Schema.Types.Mixed, default: [] },
    wantsSupport: Boolean,
    supportWish: String,
    iban: { type: String, required: true },
    accountHolder: { type: String, required: true },
    privacyConsent: { type: Boolean, required: true },
    previousApplicationId: String,
    whatChanged: String,
    accessTokenHash: String,
    informationRequests: { type: Schema.Types.Mixed, default: [] },
    meeting: { type: Schema.Types.Mixed, default: null },
    decision: { type: Schema.Types.Mixed, default: null },
    rollovers: { type: Number, default: 0 },
    workflowId: { type: String, required: true },
    idempotencyKey: String,
    budgetWarning: { type: Schema.Types.Mixed, default: undefined },
    report: { type: Schema.Types.Mixed, default: undefined },
    review: { type: Schema.Types.Mixed, default: undefined },
    settlement: { type: Schema.Types.Mixed, default: undefined },
    erasedAt: Date,
  },
  { timestamps: true, versionKey: false, minimize: false },
);
applicationSchema.index({ status: 1, createdAt: -1 });
applicationSchema.index({ year: 1, createdAt: -1 });
applicationSchema.index({ statusSeq: 1, createdAt: 1 });

const referenceClaimSchema = new Schema<ReferenceClaimDoc>({ _id: String, year: Number, seq: Number, createdAt: Date }, { versionKey: false });
referenceClaimSchema.index({ year: 1, seq: -1 });

const documentSchema = new Schema<DocumentDoc>(
  {
    _id: String,
    applicationId: { type: String, required: true, index: true },
    fileName: { type: String, required: true },
    contentType: { type: String, required: true },
    size: { type: Number, required: true },
    sha256: { type: String, required: true, index: true },
    uploadedAt: { type: Date, required: true },
    uploadedBy: { type: String, required: true },
    context: { type: String, required: true },
  },
  { versionKey: false },
);

const eventSchema = new Schema<EventDoc>(
  {
    _id: String,
    applicationId: { type: String, required: true, index: true },
    at: { type: String, required: true },
    type: { type: String, required: true },
    status: String,
    actor: String,
    note: String,
    documentIds: { type: [String], default: undefined },
  },
  { versionKey: false },
);

const accessTokenSchema = new Schema<AccessTokenDoc>(
  { _id: String, applicationId: { type: String, required: true }, createdAt: Date },
  { versionKey: false },
);

const idempotencySchema = new Schema<IdempotencyDoc>(
  { _id: String, requestHash: { type: String, required: true }, applicationId: { type: String, required: true }, createdAt: Date },
  { versionKey: false },
);

const staffSchema = new Schema<StaffUserDoc>(
  {
    _id: String,
    email: { type: String, required: true, unique: true, lowercase: true },
    name: { type: String, required: true },
    role: { type: String, enum: staffRoles, required: true },
    organisation: String,
    chair: { type: Boolean, default: false },
    active: { type: Boolean, default: true },
    passwordHash: { type: String, required: true },
    createdAt: { type: Date, default: () => new Date() },
  },
  { versionKey: false },
);

const outboxSchema = new Schema<OutboxDoc>(
  {
    _id: String,
    applicationId: String,
    to: { type: String, required: true },
    template: { type: String, required: true },
    locale: { type: String, required: true },
    vars: { type: Schema.Types.Mixed, default: {} },
    subject: { type: String, required: true },
    status: { type: String, required: true },
    attempts: { type: Number, default: 0 },
    attemptedAt: Date,
    lastError: String,
    possibleDuplicate: Boolean,
    sentAt: Date,
    messageId: String,
    createdAt: { type: Date, default: () => new Date() },
  },
  { versionKey: false, minimize: false },
);

const loginFailureSchema = new Schema<LoginFailureDoc>({ _id: String, account: { type: String, required: true }, at: { type: Date, required: true } }, { versionKey: false });

const loginLockSchema = new Schema<LoginLockDoc>(
  { _id: String, account: { type: String, required: true }, n: { type: Number, required: true }, lockedAt: { type: Date, required: true }, until: { type: Date, required: true } },
  { versionKey: false },
);

const ledgerEntrySchema = new Schema<LedgerEntryDoc>(
  {
    _id: String,
    chain: { type: String, required: true },
    seq: { type: Number, required: true },
    key: { type: String, required: true, unique: true },
    at: { type: Date, required: true },
    year: { type: Number, required: true },
    kind: { type: String, required: true },
    amountCents: { type: Number, required: true },
    applicationId: String,
    wijken: { type: [String], default: undefined },
    actor: { type: String, required: true },
    requestId: String,
    note: String,
    balances: { type: Schema.Types.Mixed, required: true },
    shareBefore: Schema.Types.Mixed,
    shareAfter: Schema.Types.Mixed,
  },
  { versionKey: false },
);
ledgerEntrySchema.index({ chain: 1, seq: 1 });

const ledgerSnapshotSchema = new Schema<LedgerSnapshotDoc>(
  {
    _id: String,
    year: { type: Number, required: true },
    seq: { type: Number, required: true },
    balances: { type: Schema.Types.Mixed, required: true },
    grants: { type: Number, required: true },
    perWijk: Schema.Types.Mixed,
    perMonth: Schema.Types.Mixed,
    perDay: Schema.Types.Mixed,
    at: { type: Date, required: true },
  },
  { versionKey: false },
);

const payoutSchema = new Schema<PayoutDoc>(
  {
    _id: String,
    applicationId: { type: String, required: true, unique: true },
    reference: { type: String, required: true },
    year: { type: Number, required: true },
    amountCents: { type: Number, required: true },
    iban: { type: String, required: true },
    accountHolder: { type: String, required: true },
    remittance: { type: String, required: true },
    createdAt: { type: Date, required: true },
    status: { type: String, required: true },
    batchId: String,
    paidAt: Date,
  },
  { versionKey: false },
);
payoutSchema.index({ status: 1, createdAt: 1 });

const payoutEventSchema = new Schema<PayoutEventDoc>(
  {
    _id: String,
    chain: { type: String, required: true },
    seq: { type: Number, required: true },
    key: { type: String, required: true, unique: true },
    at: { type: Date, required: true },
    kind: { type: String, required: true },
    batchId: String,
    endToEndIds: { type: [String], required: true },
    actor: { type: String, required: true },
    requestId: String,
    batch: Schema.Types.Mixed,
  },
  { versionKey: false },
);
payoutEventSchema.index({ chain: 1, seq: 1 });

const payoutBatchSchema = new Schema<PayoutBatchDoc>(
  { _id: String, xml: { type: String, required: true }, sha256: { type: String, required: true }, createdAt: { type: Date, required: true } },
  { versionKey: false },
);

const meetingSchema = new Schema<MeetingDoc>(
  {
    _id: String,
    date: { type: String, required: true },
    startsAt: { type: Date, required: true },
    cutoffAt: Date,
    endsAt: Date,
    status: { type: String, required: true },
    agenda: { type: Schema.Types.Mixed, default: [] },
    members: { type: Schema.Types.Mixed, default: [] },
    chairId: String,
    votes: Schema.Types.Mixed,
    recusals: Schema.Types.Mixed,
    outcomes: Schema.Types.Mixed,
    closedAt: Date,
    closedBy: String,
    frozenAt: Date,
  },
  { versionKey: false, minimize: false },
);

const meetingOverrideSchema = new Schema<MeetingOverrideDoc>(
  { _id: String, action: { type: String, required: true }, newDate: String, newTime: String, by: String, at: Date },
  { versionKey: false },
);

const extraMeetingSchema = new Schema<ExtraMeetingDoc>(
  {
    _id: String,
    date: { type: String, required: true },
    time: { type: String, required: true },
    startsAt: { type: Date, required: true },
    cutoffAt: { type: Date, required: true },
    endsAt: { type: Date, required: true },
    by: { type: String, required: true },
    at: { type: Date, required: true },
    requestId: String,
  },
  { versionKey: false },
);

const auditSchema = new Schema<AuditDoc>(
  {
    _id: String,
    at: { type: Date, required: true },
    actor: { type: String, required: true },
    action: { type: String, required: true },
    target: { type: String, required: true, index: true },
    before: Schema.Types.Mixed,
    after: Schema.Types.Mixed,
    requestId: String,
  },
  { versionKey: false },
);

/**
 * The incremental monitoring summary (src/reports/tally.ts): per submission year a chain of
 * deltas `tally-<year>:<position>` and folded snapshots `tally-<year>-snapshot:<position>`.
 * `key` is unique: a delta's idempotency key (a snapshot's and the migration marker's is their `_id`).
 */
export interface TallyDoc {
  _id: string;
  key: string;
  year?: number;
  seq?: number;
  before?: unknown;
  after?: unknown;
  groups?: unknown;
  at: Date;
}

const tallySchema = new Schema<TallyDoc>(
  {
    _id: String,
    key: { type: String, required: true, unique: true },
    year: Number,
    seq: Number,
    before: Schema.Types.Mixed,
    after: Schema.Types.Mixed,
    groups: Schema.Types.Mixed,
    at: { type: Date, required: true },
  },
  { versionKey: false },
);

/** An ordered key of our own (src/db/keys.ts). */
export interface KeyDoc {
  _id: string;
  ref: string;
  /** A number the key carries for sums over a range (e.g. cents granted). */
  n?: number;
}

const keySchema = new Schema<KeyDoc>({ _id: String, ref: { type: String, required: true }, n: Number }, { versionKey: false });

export interface Models {
  connection: Connection;
  Key: Model<KeyDoc>;
  Application: Model<ApplicationDoc>;
  ReferenceClaim: Model<ReferenceClaimDoc>;
  Document: Model<DocumentDoc>;
  Event: Model<EventDoc>;
  AccessToken: Model<AccessTokenDoc>;
  Idempotency: Model<IdempotencyDoc>;
  StaffUser: Model<StaffUserDoc>;
  Outbox: Model<OutboxDoc>;
  LoginFailure: Model<LoginFailureDoc>;
  LoginLock: Model<LoginLockDoc>;
  LedgerEntry: Model<LedgerEntryDoc>;
  LedgerSnapshot: Model<LedgerSnapshotDoc>;
  Payout: Model<PayoutDoc>;
  PayoutEvent: Model<PayoutEventDoc>;
  PayoutBatch: Model<PayoutBatchDoc>;
  Meeting: Model<MeetingDoc>;
  MeetingOverride: Model<MeetingOverrideDoc>;
  ExtraMeeting: Model<ExtraMeetingDoc>;
  Audit: Model<AuditDoc>;
  Tally: Model<TallyDoc>;
}

export function createModels(connection: Connection): Models {
  return {
    connection,
    Key: connection.model<KeyDoc>('Key', keySchema, 'keys'),
    Application: connection.model<ApplicationDoc>('Application', applicationSchema, 'applications'),
    ReferenceClaim: connection.model<ReferenceClaimDoc>('ReferenceClaim', referenceClaimSchema, 'reference_claims'),
    Document: connection.model<DocumentDoc>('Document', documentSchema, 'documents'),
    Event: connection.model<EventDoc>('Event', eventSchema, 'application_events'),
    AccessToken: connection.model<AccessTokenDoc>('AccessToken', accessTokenSchema, 'access_tokens'),
    Idempotency: connection.model<IdempotencyDoc>('Idempotency', idempotencySchema, 'idempotency_keys'),
    StaffUser: connection.model<StaffUserDoc>('StaffUser', staffSchema, 'staff_users'),
    Outbox: connection.model<OutboxDoc>('Outbox', outboxSchema, 'outbox'),
    LoginFailure: connection.model<LoginFailureDoc>('LoginFailure', loginFailureSchema, 'login_failures'),
    LoginLock: connection.model<LoginLockDoc>('LoginLock', loginLockSchema, 'login_locks'),
    LedgerEntry: connection.model<LedgerEntryDoc>('LedgerEntry', ledgerEntrySchema, 'ledger_entries'),
    LedgerSnapshot: connection.model<LedgerSnapshotDoc>('LedgerSnapshot', ledgerSnapshotSchema, 'ledger_snapshots'),
    Payout: connection.model<PayoutDoc>('Payout', payoutSchema, 'payouts'),
    PayoutEvent: connection.model<PayoutEventDoc>('PayoutEvent', payoutEventSchema, 'payout_events'),
    PayoutBatch: connection.model<PayoutBatchDoc>('PayoutBatch', payoutBatchSchema, 'payout_batches'),
    Meeting: connection.model<MeetingDoc>('Meeting', meetingSchema, 'meetings'),
    MeetingOverride: connection.model<MeetingOverrideDoc>('MeetingOverride', meetingOverrideSchema, 'meeting_overrides'),
    ExtraMeeting: connection.model<ExtraMeetingDoc>('ExtraMeeting', extraMeetingSchema, 'extra_meetings'),
    Audit: connection.model<AuditDoc>('Audit', auditSchema, 'audit_log'),
    Tally: connection.model<TallyDoc>('Tally', tallySchema, 'report_tallies'),
  };
}

/**
 * FerretDB v1 (SQLite) applies an update as read, modify, write back the whole
 * document, without isolation: two concurrent updates of one document can both
 * "win" and one is lost, even a conditional one. Only inserts into a unique index
 * are atomic. So every document here has one writer at a time, and everything
 * written concurrently (events, documents, tokens, claims) is its own inserted
 * document with a unique _id, which also makes the write idempotent.
 */
/** Opens a connection (one per process, or per test file with its own database name). */
/** `monitorCommands`: the driver emits `commandStarted` for every command (tests check which queries a path issues). */
export async function connectDatabase(uri: string, dbName?: string, options: { monitorCommands?: boolean } = {}): Promise<Models> {
  const connection = mongoose.createConnection(uri, {
    dbName,
    ...options,
    serverSelectionTimeoutMS: 5_000,
    // FerretDB v1 has no multi-document transactions and no retryable writes.
    retryWrites: false,
  });
  await connection.asPromise();
  const models = createModels(connection);
  await Promise.all(Object.values(models).filter(isModel).map((m) => m.createIndexes()));
  return models;
}

function isModel(v: unknown): v is Model<unknown> {
  return typeof v === 'function' && 'createIndexes' in (v as object);
}

export function isDuplicateKeyError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 11000;
}

/** Inserts a document whose _id is its idempotency key; a second insert of the same key is a no-op. */
export async function insertOnce<T>(model: Model<T>, doc: Partial<T> & { _id: unknown }): Promise<boolean> {
  try {
    // Straight to the driver: the callers pass complete, typed documents, and this is on hot paths.
    await model.collection.insertOne(doc as never);
    return true;
  } catch (err) {
    if (isDuplicateKeyError(err)) return false;
    throw err;
  }
}

/**
 * An application as intake stores it: status `submitted` (sequence 1, which also
 * stands for the `submitted` timeline event), nothing decided yet.
 */
export function submittedApplication(args: {
  id: string;
  form: ApplicationInput;
  reference: string;
  year: number;
  submittedAt: Date;
  accessTokenHash?: string;
  idempotencyKey?: string;
}): ApplicationDoc {
  return {
    ...args.form,
    _id: args.id,
    reference: args.reference,
    year: args.year,
    status: 'submitted',
    statusSeq: 1,
    ...(args.accessTokenHash ? { accessTokenHash: args.accessTokenHash } : {}),
    informationRequests: [],
    meeting: null,
    decision: null,
    rollovers: 0,
    workflowId: initiativeWorkflowId(args.id),
    ...(args.idempotencyKey ? { idempotencyKey: args.idempotencyKey } : {}),
    createdAt: args.submittedAt,
    updatedAt: args.submittedAt,
  };
}
