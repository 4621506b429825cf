import mongoose, { Schema, type Connection, type Model } from 'mongoose';
import type { ApplicationInput } from '../domain/application.ts';
import type { ApplicationStatus, InformationRequest, TimelineEvent } from '../domain/status.ts';

export interface StoredDocument {
  id: string;
  fileName: string;
  contentType: string;
  size: number;
  sha256: string;
  uploadedAt: Date;
  uploadedBy: 'applicant' | 'staff';
  context: 'intake' | 'information' | 'additional';
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
  accessTokenHashes: string[];
  documents: StoredDocument[];
  timeline: TimelineEvent[];
  informationRequests: InformationRequest[];
  workflowId: string;
  /** Set once the initiative workflow is known to run; a reconciler starts it for any application without. */
  workflowStartedAt?: Date;
  idempotencyKey?: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface CounterDoc {
  _id: string;
  seq: number;
}

export interface IdempotencyDoc {
  _id: string;
  requestHash: string;
  applicationId: string;
  createdAt: Date;
}

export type StaffRole = 'panel' | 'welfare' | 'admin';

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
  attempts: number;
  lastError?: string;
  sentAt?: Date;
  messageId?: string;
  createdAt: Date;
}

export interface BudgetYearDoc {
  _id: number; // the budget year
  totalCents: number;
  committedCents: number;
  paidCents: number;
  updatedAt: Date;
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
    accessTokenHashes: { type: [String], default: [] },
    documents: { type: Schema.Types.Mixed, default: [] },
    timeline: { type: Schema.Types.Mixed, default: [] },
    informationRequests: { type: Schema.Types.Mixed, default: [] },
    workflowId: { type: String, required: true },
    workflowStartedAt: Date,
    idempotencyKey: String,
  },
  { timestamps: true, versionKey: false, minimize: false },
);
applicationSchema.index({ status: 1, createdAt: -1 });
applicationSchema.index({ year: 1, createdAt: -1 });
applicationSchema.index({ workflowStartedAt: 1, createdAt: 1 });

const counterSchema = new Schema<CounterDoc>({ _id: String, seq: Number }, { versionKey: false });

const idempotencySchema = new Schema<IdempotencyDoc>(
  { _id: String, requestHash: { type: String, required: true }, applicationId: { type: String, required: true }, createdAt: Date },
  { versionKey: false },
);

const staffSchema = new Schema<StaffUserDoc>(
  {
    _id: String,
    email: { type: String, required: true, unique: true, lowercase: true },
    name: { type: String, required: true },
    role: { type: String, enum: ['panel', 'welfare', 'admin'], required: true },
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
    lastError: String,
    sentAt: Date,
    messageId: String,
    createdAt: { type: Date, default: () => new Date() },
  },
  { versionKey: false, minimize: false },
);

const budgetYearSchema = new Schema<BudgetYearDoc>(
  {
    _id: Number,
    totalCents: { type: Number, required: true },
    committedCents: { type: Number, default: 0 },
    paidCents: { type: Number, default: 0 },
    updatedAt: { type: Date, default: () => new Date() },
  },
  { versionKey: false },
);

export interface Models {
  connection: Connection;
  Application: Model<ApplicationDoc>;
  Counter: Model<CounterDoc>;
  Idempotency: Model<IdempotencyDoc>;
  StaffUser: Model<StaffUserDoc>;
  Outbox: Model<OutboxDoc>;
  BudgetYear: Model<BudgetYearDoc>;
}

export function createModels(connection: Connection): Models {
  return {
    connection,
    Application: connection.model<ApplicationDoc>('Application', applicationSchema, 'applications'),
    Counter: connection.model<CounterDoc>('Counter', counterSchema, 'counters'),
    Idempotency: connection.model<IdempotencyDoc>('Idempotency', idempotencySchema, 'idempotency_keys'),
    StaffUser: connection.model<StaffUserDoc>('StaffUser', staffSchema, 'staff_users'),
    Outbox: connection.model<OutboxDoc>('Outbox', outboxSchema, 'outbox'),
    BudgetYear: connection.model<BudgetYearDoc>('BudgetYear', budgetYearSchema, 'budget_years'),
  };
}

/** Opens a connection (one per process, or per test file with its own database name). */
export async function connectDatabase(uri: string, dbName?: string): Promise<Models> {
  const connection = mongoose.createConnection(uri, {
    dbName,
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
