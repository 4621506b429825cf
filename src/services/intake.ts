import { activityYear } from '../domain/application.ts';
import { remainingCents } from '../domain/ledger.ts';
import type { BudgetLedger } from '../budget/ledger.ts';
import type { ReportTally } from '../reports/tally.ts';
import { createHash, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { applicationInputSchema, formatReference, type ApplicationInput } from '../domain/application.ts';
import { amsterdamYear } from '../domain/dates.ts';
import { AppError } from '../domain/errors.ts';
import { insertOnce, isDuplicateKeyError, submittedApplication, type ApplicationDoc, type Models } from '../db/models.ts';
import { prefixRange } from '../db/chain.ts';
import { addApplicationKeys, applicationIdsWithStatus, insertDocuments, removeDocumentsOfApplication, removeApplicationKeys, insertAccessToken, insertIdempotencyClaim } from '../db/keys.ts';
import type { DocumentStore } from '../documents/store.ts';
import { commitFiles, removeOrphans, toStoredDocuments, type IngestedFile } from '../api/uploads.ts';
import { createAccessToken, hashToken } from '../auth/tokens.ts';
import type { InitiativeStarter } from '../temporal/starter.ts';
import type { Config } from '../config.ts';

export interface IntakeDeps {
  models: Models;
  store: DocumentStore;
  starter: InitiativeStarter;
  config: Config;
  logger: Logger;
  ledger: BudgetLedger;
  tally: ReportTally;
  now?: () => Date;
}

export interface SubmitResult {
  application: ApplicationDoc;
  accessToken: string;
  replayed: boolean;
}

/** What an Idempotency-Key is bound to: the validated form and the files (name and content). */
export function requestHash(input: ApplicationInput, files: readonly Pick<IngestedFile, 'fileName' | 'sha256'>[]): string {
  return createHash('sha256')
    .update(JSON.stringify(input))
    .update(JSON.stringify(files.map((f) => [f.fileName, f.sha256])))
    .digest('hex');
}

/** How long a retry waits for a concurrent first request with the same Idempotency-Key. */
const IN_PROGRESS_WAIT_MS = 5_000;
/** An Idempotency-Key claim this old without an application is abandoned (its request crashed). */
const ABANDONED_AFTER_MS = 30_000;

/**
 * Intake without multi-document transactions (FerretDB v1). Order of writes, each
 * an insert with a unique key:
 *   1. idempotency claim → 2. blobs into the content-addressed store → 3. reference
 *   claim → 4. documents, access token, `submitted` event → 5. application → 6. workflow start
 *   → 7. the monitoring summary's `new` delta (src/reports/tally.ts).
 * The application (5) is what makes the rest visible; a failure up to 6 undoes all
 * of it. A crash between 5 and 6 leaves an application in `submitted` with no
 * workflow, which `resumeUnstarted` starts (the start is idempotent by workflow id).
 * A crash before 7 (or a failure of 7) is made good by the workflow's first status
 * projection, which writes the same delta under the same key.
 */
export class IntakeService {
  private readonly deps: IntakeDeps;
  /** The application form's rules for this fund (its wijken, its maximum, today in Amsterdam): the API and the pages validate with it. */
  readonly inputSchema: ReturnType<typeof applicationInputSchema>;
  constructor(deps: IntakeDeps) {
    this.deps = deps;
    const { fund } = deps.config;
    this.inputSchema = applicationInputSchema({ wijken: fund.wijken, maxAmountCents: fund.maxAmountCents, now: () => this.now() });
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  async submit(input: ApplicationInput, files: IngestedFile[], opts: { idempotencyKey?: string; requestHash: string }): Promise<SubmitResult> {
    const { models } = this.deps;
    if (input.previousApplicationId) {
      // A re-application refers to the same applicant's rejected application (someone else's is "not found").
      const previous = await models.Application.findById(input.previousApplicationId, { status: 1, applicant: 1 }).lean();
      if (!previous || previous.applicant.email.toLowerCase() !== input.applicant.email.toLowerCase()) {
        throw new AppError(422, 'previous_application_not_found', [{ path: 'previousApplicationId', code: 'previous_application_not_found' }]);
      }
      if (previous.status !== 'rejected' && previous.status !== 'rejected_budget_exhausted') {
        throw new AppError(422, 'previous_application_not_rejected', [{ path: 'previousApplicationId', code: 'previous_application_not_rejected' }]);
      }
    }

    let applicationId: string = randomUUID();
    if (opts.idempotencyKey) {
      const claim = await this.claimKey(opts.idempotencyKey, opts.requestHash, applicationId);
      if (claim.kind === 'replay') return this.replay(claim.application);
      applicationId = claim.applicationId;
    }

    const undoClaim = async () => {
      if (opts.idempotencyKey) await models.Idempotency.deleteOne({ _id: opts.idempotencyKey, applicationId });
    };

    const accessToken = createAccessToken(applicationId);
    let listed: ApplicationDoc | undefined;
    const undoAll = async () => {
      await models.Application.deleteOne({ _id: applicationId });
      if (listed) await removeApplicationKeys(models, listed);
      await removeDocumentsOfApplication(models, applicationId);
      await undoClaim();
      await removeOrphans(this.deps.store, models, files.map((f) => f.sha256));
    };

    let application: ApplicationDoc;
    try {
      await commitFiles(this.deps.store, files);
      const submittedAt = this.now();
      const year = amsterdamYear(submittedAt);
      const reference = await this.nextReference(year);
      const documents = toStoredDocuments(applicationId, files, 'applicant', 'intake', submittedAt);
      await insertDocuments(models, documents.map(({ id, ...d }) => ({ _id: id, ...d })));
      // The first token and the `submitted` event live in the application document itself
      // (its one write at intake); tokens of idempotent replays are documents of their own.
      application = submittedApplication({
        id: applicationId,
        form: input,
        reference,
        year,
        submittedAt,
        accessTokenHash: hashToken(accessToken),
        ...(opts.idempotencyKey ? { idempotencyKey: opts.idempotencyKey } : {}),
      });
      // Op is op: still accepted when the activity's budget year cannot cover it, but warned.
      const budgetYear = activityYear(input.activity);
      const left = remainingCents(await this.deps.ledger.balances(budgetYear));
      if (left < input.amountRequestedCents) application.budgetWarning = { year: budgetYear, remainingCents: left };
      // The input is validated by zod already; the schema still checks the stored shape.
      await new models.Application(application).validate();
      listed = application;
      await addApplicationKeys(models, application);
      await models.Application.collection.insertOne(application as never);
    } catch (err) {
      await undoAll();
      throw err;
    }

    try {
      await this.startWorkflow(application);
    } catch (err) {
      this.deps.logger.error({ err, applicationId }, 'initiative workflow did not start; intake undone');
      await undoAll();
      throw new AppError(503, 'service_unavailable', [{ code: 'workflow_start_failed' }], { 'Retry-After': '5' });
    }
    // Counted once it can no longer be undone; the first status projection repairs a failure here.
    await this.deps.tally
      .recordCreated(application)
      .catch((err: unknown) => this.deps.logger.warn({ err, applicationId }, 'monitoring summary: new application not recorded; its first projection will'));
    return { application, accessToken, replayed: false };
  }

  private async startWorkflow(app: Pick<ApplicationDoc, '_id' | 'reference' | 'createdAt'>): Promise<void> {
    const { fund } = this.deps.config;
    await this.deps.starter.start({
      applicationId: app._id,
      reference: app.reference,
      submittedAt: new Date(app.createdAt).toISOString(),
      informationDeadlineDays: fund.infoDeadlineDays,
      informationReminderDays: fund.infoReminderDays,
      reportDeadlineDays: fund.reportDeadlineDays,
    });
  }

  private async claimKey(
    key: string,
    requestHash: string,
    applicationId: string,
  ): Promise<{ kind: 'new'; applicationId: string } | { kind: 'replay'; application: ApplicationDoc }> {
    const { Idempotency, Application } = this.deps.models;
    try {
      await insertIdempotencyClaim(this.deps.models, { _id: key, requestHash, applicationId, createdAt: this.now() });
      return { kind: 'new', applicationId };
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
    }
    const deadline = Date.now() + IN_PROGRESS_WAIT_MS;
    for (;;) {
      const claim = await Idempotency.findById(key).lean();
      if (!claim) return this.claimKey(key, requestHash, applicationId); // the first request failed and let go
      if (claim.requestHash !== requestHash) throw new AppError(422, 'idempotency_key_reused', [{ code: 'idempotency_key_reused' }]);
      const application = await Application.findById(claim.applicationId).lean();
      if (application) {
        // Idempotent: a no-op when the first request started it.
        await this.startWorkflow(application);
        return { kind: 'replay', application };
      }
      if (this.now().getTime() - new Date(claim.createdAt).getTime() > ABANDONED_AFTER_MS) {
        return { kind: 'new', applicationId: claim.applicationId };
      }
      if (Date.now() > deadline) {
        throw new AppError(409, 'idempotency_key_in_progress', [{ code: 'idempotency_key_in_progress' }], { 'Retry-After': '1' });
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** A retry gets the same application and a fresh access token (tokens are stored only as hashes). */
  private async replay(application: ApplicationDoc): Promise<SubmitResult> {
    const accessToken = createAccessToken(application._id);
    await insertAccessToken(this.deps.models, { _id: hashToken(accessToken), applicationId: application._id, createdAt: this.now() });
    return { application, accessToken, replayed: true };
  }

  /** Highest sequence number per year this process claimed or saw claimed. */
  private readonly lastSeq = new Map<number, number>();

  /**
   * VW-2026-0042: sequential per year. Each number is claimed by inserting it under a
   * unique _id (the one write FerretDB v1 makes atomic); a taken number moves on to the next.
   * Concurrent submissions in this process take consecutive numbers from `lastSeq` instead
   * of all racing for the same one (each lost race is a write, and on FerretDB's SQLite a
   * slow one); a number another process took sends us back to the database.
   */
  async nextReference(year: number): Promise<string> {
    const { ReferenceClaim } = this.deps.models;
    // Numbers are claimed one after the other without gaps (a claim that fails is not taken), so
    // the year's claims counted (from the `_id` index: `<year>-<seq>`) are its highest number; a
    // number taken meanwhile only moves the loop below on.
    const readLast = async () => {
      const claims = await ReferenceClaim.collection.count(prefixRange(`${year}-`) as never);
      this.lastSeq.set(year, Math.max(this.lastSeq.get(year) ?? 0, claims));
    };
    if (!this.lastSeq.has(year)) await readLast();
    for (;;) {
      const seq = this.lastSeq.get(year)! + 1;
      this.lastSeq.set(year, seq); // before the await: the next caller here takes seq + 1
      let claimed: boolean;
      try {
        claimed = await insertOnce(ReferenceClaim, { _id: `${year}-${seq}`, year, seq, createdAt: this.now() });
      } catch (err) {
        this.lastSeq.delete(year); // not claimed: let the next caller start from the database again
        throw err;
      }
      if (claimed) return formatReference(this.deps.config.fund.referencePrefix, year, seq);
      await readLast();
    }
  }

  /**
   * Starts the workflow of any application still in `submitted` after a while: its
   * intake crashed between storing it and starting it (for the others the start is a no-op).
   */
  async resumeUnstarted(olderThanMs = ABANDONED_AFTER_MS): Promise<number> {
    const cutoff = new Date(this.now().getTime() - olderThanMs);
    // The few still `submitted` (by their list keys), not a read of every application.
    const ids = await applicationIdsWithStatus(this.deps.models, 'submitted');
    const pending = ids.length
      ? (await this.deps.models.Application.find({ _id: { $in: ids } }, { _id: 1, reference: 1, createdAt: 1, statusSeq: 1 }).lean()).filter(
          (a) => a.statusSeq === 1 && new Date(a.createdAt).getTime() < cutoff.getTime(),
        )
      : [];
    for (const app of pending) {
      await this.startWorkflow(app);
      this.deps.logger.info({ applicationId: app._id }, 'resumed intake: workflow started');
    }
    return pending.length;
  }
}
