/**
 * What can be done with a stored application, for the API routes and the web pages
 * alike: read it (as its applicant or as staff), list them, add and open documents,
 * and the panel's and applicant's actions, which go to the initiative workflow.
 * Callers authorise first (the route table); this module checks state, not people.
 */
import type { Readable } from 'node:stream';
import { canWithdraw } from '../domain/status.ts';
import { AppError, ValidationError } from '../domain/errors.ts';
import { requiredIssue, ruleIssue } from '../domain/field-issues.ts';
import { warningMessages, type Locale } from '../domain/messages.ts';
import type { ReportInput, ReportReviewInput } from '../domain/report.ts';
import { insertOnce, type ApplicationDoc, type DocumentDoc, type EventDoc, type Models, type PayoutDoc, type StoredDocument } from '../db/models.ts';
import { applicationIdsPage, documentsOfApplication, eventsOfApplication, insertDocuments, insertEvent, removeDocumentsOfApplication } from '../db/keys.ts';
import type { ReportTally } from '../reports/tally.ts';
import type { DocumentStore } from '../documents/store.ts';
import { commitFiles, removeOrphans, toStoredDocuments, type IngestedFile } from '../api/uploads.ts';
import { supportView } from '../support/case.ts';
import type { SupportService } from '../support/service.ts';
import type { PayoutService } from '../payouts/service.ts';
import { applicationNotReady, type InitiativeCommands } from './initiatives.ts';
import type { ApplicationStatus } from '../domain/status.ts';

export interface ApplicationServiceDeps {
  models: Models;
  store: DocumentStore;
  initiatives: InitiativeCommands;
  payouts: PayoutService;
  support: SupportService;
  /** The list's totals per status, wijk and year, kept as applications change (src/reports/tally.ts). */
  tally: Pick<ReportTally, 'count'>;
}

export interface ApplicationListQuery {
  status?: ApplicationStatus;
  wijk?: string;
  year?: number;
  page: number;
  pageSize: number;
}

/** Who acts: `staff:<id>` or `applicant` (audit and timeline actor), and which side uploads. */
export interface Actor {
  actor: string;
  uploadedBy: StoredDocument['uploadedBy'];
}

/** The list's order: newest first, then by id. */
const newestFirst = (a: { createdAt: Date; _id: string }, b: { createdAt: Date; _id: string }) =>
  new Date(b.createdAt).getTime() - new Date(a.createdAt).getTime() || (a._id < b._id ? -1 : a._id > b._id ? 1 : 0);

/** Statuses in which a report is expected from the initiator. */
const REPORTABLE: readonly ApplicationStatus[] = ['activity_held', 'report_due', 'clarification_requested'];

export class ApplicationService {
  private readonly deps: ApplicationServiceDeps;
  constructor(deps: ApplicationServiceDeps) {
    this.deps = deps;
  }

  async load(id: string): Promise<ApplicationDoc> {
    const app = await this.deps.models.Application.findById(id).lean();
    if (!app) throw new AppError(404, 'not_found');
    return app;
  }

  /** The application with its timeline, documents, payout and support case; the applicant sees the case without the workers' notes. */
  async view(id: string, reader: 'applicant' | 'staff'): Promise<ApplicationView> {
    const { models } = this.deps;
    const app = await this.load(id);
    const [events, documents, payout, support] = await Promise.all([
      eventsOfApplication(models, id),
      documentsOfApplication(models, id),
      this.deps.payouts.byApplication(app.reference),
      this.deps.support.get(id),
    ]);
    return { ...applicationView(app, events, documents, payout), support: supportView(support, reader === 'applicant') };
  }

  /** A page of applications; `casesOf`: only those this welfare worker may read (the `welfare_case` rule, `caseScoped`). */
  async list(q: ApplicationListQuery, casesOf?: string) {
    const { Application } = this.deps.models;
    const filter: Record<string, unknown> = {};
    if (q.status) filter.status = q.status;
    if (q.wijk) filter.wijken = q.wijk;
    if (q.year) filter.year = q.year;
    const projection = { _id: 1, reference: 1, status: 1, title: 1, wijken: 1, amountRequestedCents: 1, createdAt: 1, year: 1 };
    const skip = (q.page - 1) * q.pageSize;
    let items: Pick<ApplicationDoc, '_id' | 'reference' | 'status' | 'title' | 'wijken' | 'amountRequestedCents' | 'createdAt' | 'year'>[];
    let total: number;
    if (casesOf) {
      // A welfare worker's few cases: read by id, filtered and paged here.
      const ids = await this.deps.support.readableBy(casesOf);
      const all = (ids.length ? await Application.find({ _id: { $in: ids }, ...filter }, projection).lean() : []).sort(newestFirst);
      [items, total] = [all.slice(skip, skip + q.pageSize), all.length];
    } else {
      // The page's ids from the list keys (src/db/keys.ts), then the applications by id (a key
      // that a crash left behind, its application moved on, is skipped); the total from the
      // tally's counts, not from counting the keys (which grows with the list).
      const [ids, counted] = await Promise.all([applicationIdsPage(this.deps.models, q, { skip, limit: q.pageSize }), this.deps.tally.count(q)]);
      const found = new Map((ids.length ? await Application.find({ _id: { $in: ids } }, projection).lean() : []).map((a) => [a._id, a]));
      items = ids.map((id) => found.get(id)).filter((a): a is NonNullable<typeof a> => !!a && (!q.status || a.status === q.status) && (!q.wijk || a.wijken.includes(q.wijk)) && (!q.year || a.year === q.year));
      total = counted;
    }
    return {
      items: items.map((a) => ({
        id: a._id,
        reference: a.reference,
        status: a.status,
        title: a.title,
        wijken: a.wijken,
        amountRequestedCents: a.amountRequestedCents,
        createdAt: new Date(a.createdAt).toISOString(),
      })),
      page: q.page,
      pageSize: q.pageSize,
      total,
    };
  }

  /** A stored document of the application and a stream of its bytes; 404 when it is not this application's or its blob is gone. */
  async openDocument(id: string, documentId: string): Promise<{ document: DocumentDoc; stream: () => Readable }> {
    const { models, store } = this.deps;
    const document = await models.Document.findById(documentId).lean();
    if (!document || document.applicationId !== id || !(await store.has(document.sha256))) throw new AppError(404, 'not_found');
    return { document, stream: () => store.open(document.sha256) };
  }

  /** Adds documents to an application that is still open (before a decision); report documents after it. */
  async addDocuments(id: string, files: IngestedFile[], by: Actor, context: StoredDocument['context'] = 'additional'): Promise<StoredDocument[]> {
    if (files.length === 0) throw new ValidationError('documents', [requiredIssue('documents')]);
    return this.attach(await this.load(id), files, by, context);
  }

  async requestInformation(id: string, body: { missing: string; deadlineDays?: number }, by: string) {
    return this.step(id, () => this.deps.initiatives.requestInformation(id, { ...body, requestedBy: by }));
  }

  /** The applicant answers the open request with text, documents or both; documents are taken back if the workflow refuses. */
  async answerInformation(id: string, body: { answer?: string }, files: IngestedFile[], by: Actor) {
    const app = await this.load(id);
    if (!body.answer && files.length === 0) {
      throw new ValidationError('information_answer', [ruleIssue('answer', 'answer_or_documents_required')]);
    }
    if (app.status !== 'awaiting_information') throw new AppError(409, 'invalid_state', [{ code: 'no_open_request' }]);
    const docs = files.length ? await this.attach(app, files, by, 'information') : [];
    return this.undoOnFailure(docs, () =>
      this.deps.initiatives.provideInformation(id, { ...(body.answer ? { answer: body.answer } : {}), documentIds: docs.map((d) => d.id) }),
    );
  }

  async completeScreening(id: string, by: string) {
    return this.step(id, () => this.deps.initiatives.completeScreening(id, by));
  }

  async withdraw(id: string, body: { reason?: string }) {
    return this.step(id, () => this.deps.initiatives.withdraw(id, body));
  }

  /**
   * A step of the application's workflow (which takes it from the moment the application is
   * stored). A `submitted` application without a workflow yet (intake stopped between storing
   * it and starting it; resumeUnstarted starts it) is not ready rather than closed: try again.
   */
  private async step<T>(id: string, run: () => Promise<T>): Promise<T> {
    const app = await this.load(id);
    try {
      return await run();
    } catch (err) {
      if (app.status === 'submitted' && err instanceof AppError && err.details.some((d) => d.code === 'workflow_closed')) throw applicationNotReady();
      throw err;
    }
  }

  async submitReport(id: string, body: ReportInput, files: IngestedFile[], by: Actor) {
    const app = await this.load(id);
    if (!REPORTABLE.includes(app.status)) throw new AppError(409, 'invalid_state', [{ code: 'no_report_expected' }]);
    const docs = files.length ? await this.attach(app, files, by, 'report') : [];
    return this.undoOnFailure(docs, () => this.deps.initiatives.submitReport(id, { ...body, documentIds: docs.map((d) => d.id) }));
  }

  async reviewReport(id: string, body: ReportReviewInput, by: string) {
    await this.load(id);
    return this.deps.initiatives.reviewReport(id, { ...body, reviewedBy: by });
  }

  async recordRefund(id: string, amountCents: number, by: string) {
    await this.load(id);
    return this.deps.initiatives.recordRefund(id, { amountCents, recordedBy: by });
  }

  /**
   * Waits (briefly) until the read model shows what a workflow update just did, so the
   * page a person lands on after an action shows its result. The projection is written
   * by an activity right after the update; when it is slower, the page says so itself.
   */
  async settled(id: string, done: (app: ApplicationDoc) => boolean, timeoutMs = 3_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const app = await this.deps.models.Application.findById(id).lean();
      if (app && done(app)) return true;
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private async attach(app: ApplicationDoc, files: IngestedFile[], by: Actor, context: StoredDocument['context']): Promise<StoredDocument[]> {
    const { models, store } = this.deps;
    if (context !== 'report' && !canWithdraw(app.status)) {
      throw new AppError(409, 'invalid_state', [{ code: 'application_closed' }]);
    }
    await commitFiles(store, files);
    const docs = toStoredDocuments(app._id, files, by.uploadedBy, context);
    await insertDocuments(models, docs.map(({ id, ...d }) => ({ _id: id, ...d })));
    await insertEvent(models, {
      _id: `documents:${docs[0]!.id}`,
      applicationId: app._id,
      at: new Date().toISOString(),
      type: 'documents_added',
      actor: by.actor,
      documentIds: docs.map((d) => d.id),
    });
    return docs;
  }

  private async undoOnFailure<T>(docs: StoredDocument[], fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (docs.length) {
        const { models, store } = this.deps;
        const ids = docs.map((d) => d.id);
        await models.Event.deleteOne({ _id: `documents:${ids[0]}` });
        await removeDocumentsOfApplication(models, docs[0]!.applicationId, ids);
        await removeOrphans(store, models, docs.map((d) => d.sha256));
      }
      throw error;
    }
  }
}

export function documentView(d: StoredDocument | DocumentDoc) {
  const { _id, applicationId: _a, ...rest } = d as DocumentDoc & { id?: string; applicationId: string };
  return { ...rest, id: (d as StoredDocument).id ?? _id, uploadedAt: new Date(d.uploadedAt).toISOString() };
}

/** Workflow events carry their sequence number at the end of their id ("initiative-…:7"). */
function eventSeq(id: string): number {
  const n = Number(id.slice(id.lastIndexOf(':') + 1));
  return Number.isFinite(n) ? n : 0;
}

/** The warning in the submit response when the activity's budget year cannot cover the request. */
export function budgetWarningView(w: { year: number; remainingCents: number }, locale: Locale) {
  return { code: 'budget_exhausted' as const, year: w.year, remainingCents: w.remainingCents, message: warningMessages[locale].budget_exhausted(w.year, w.remainingCents) };
}

export type ApplicationView = Omit<ReturnType<typeof applicationView>, 'support'> & { support: ReturnType<typeof supportView> };

export function applicationView(a: ApplicationDoc, events: EventDoc[], documents: DocumentDoc[], payout: PayoutDoc | null = null) {
  // The `submitted` event is the application itself (written in one insert at intake).
  const submitted = { id: `${a.workflowId}:1`, at: new Date(a.createdAt).toISOString(), type: 'submitted' as const, status: 'submitted' as const, actor: 'applicant' };
  const timeline = [submitted, ...events.filter((e) => e._id !== submitted.id).map(({ _id, applicationId: _a, ...e }) => ({ id: _id, ...e }))]
    .sort((x, y) => x.at.localeCompare(y.at) || eventSeq(x.id) - eventSeq(y.id));
  return {
    id: a._id,
    reference: a.reference,
    status: a.status,
    year: a.year,
    createdAt: new Date(a.createdAt).toISOString(),
    updatedAt: new Date(a.updatedAt).toISOString(),
    applicant: a.applicant,
    title: a.title,
    description: a.description,
    purposes: a.purposes,
    wijken: a.wijken,
    targetGroup: a.targetGroup,
    expectedParticipants: a.expectedParticipants,
    volunteers: a.volunteers,
    activity: a.activity,
    budgetLines: a.budgetLines,
    amountRequestedCents: a.amountRequestedCents,
    coFunding: a.coFunding,
    wantsSupport: a.wantsSupport,
    ...(a.supportWish ? { supportWish: a.supportWish } : {}),
    iban: a.iban,
    accountHolder: a.accountHolder,
    privacyConsent: a.privacyConsent,
    ...(a.previousApplicationId ? { previousApplicationId: a.previousApplicationId, whatChanged: a.whatChanged } : {}),
    workflowId: a.workflowId,
    timeline,
    documents: documents.map(documentView),
    informationRequests: a.informationRequests,
    openRequests: a.informationRequests.filter((r) => r.state === 'open'),
    meeting: a.meeting ?? null,
    decision: a.decision ?? null,
    ...(a.rollovers ? { rollovers: a.rollovers } : {}),
    payout: payout
      ? {
          endToEndId: payout._id,
          amountCents: payout.amountCents,
          budgetYear: payout.year,
          status: payout.status,
          ...(payout.batchId ? { batchId: payout.batchId } : {}),
          ...(payout.paidAt ? { paidAt: new Date(payout.paidAt).toISOString() } : {}),
        }
      : null,
    ...(a.budgetWarning ? { budgetWarning: a.budgetWarning } : {}),
    ...(a.erasedAt ? { erasedAt: new Date(a.erasedAt).toISOString() } : {}),
    support: null,
    report: a.report ?? null,
    review: a.review ?? null,
    settlement: a.settlement ?? null,
  };
}
