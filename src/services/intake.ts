import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { formatReference, type ApplicationInput } from '../domain/application.ts';
import { amsterdamYear } from '../domain/dates.ts';
import { AppError } from '../domain/errors.ts';
import { isDuplicateKeyError, type ApplicationDoc, type Models } from '../db/models.ts';
import type { DocumentStore } from '../documents/store.ts';
import { commitFiles, removeOrphans, toStoredDocuments, type IngestedFile } from '../api/uploads.ts';
import { createAccessToken, hashToken } from '../auth/tokens.ts';
import { initiativeWorkflowId, type InitiativeStarter } from '../temporal/starter.ts';
import type { Config } from '../config.ts';

export interface IntakeDeps {
  models: Models;
  store: DocumentStore;
  starter: InitiativeStarter;
  config: Config;
  logger: Logger;
  now?: () => Date;
}

export interface SubmitResult {
  application: ApplicationDoc;
  accessToken: string;
  replayed: boolean;
}

/** How long a retry waits for a concurrent first request with the same Idempotency-Key. */
const IN_PROGRESS_WAIT_MS = 5_000;
/** An Idempotency-Key claim this old without an application is abandoned (its request crashed). */
const ABANDONED_AFTER_MS = 30_000;

/**
 * Intake without multi-document transactions. Order of writes:
 *   1. idempotency claim (unique key) → 2. blobs into the content-addressed store →
 *   3. reference ($inc) → 4. application → 5. workflow start → 6. workflowStartedAt.
 * A failure in 4 or 5 undoes 1, 2 and 4; a crash between 4 and 5 leaves an
 * application without workflowStartedAt, which `resumeUnstarted` completes.
 */
export class IntakeService {
  private readonly deps: IntakeDeps;
  constructor(deps: IntakeDeps) {
    this.deps = deps;
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  async submit(input: ApplicationInput, files: IngestedFile[], opts: { idempotencyKey?: string; requestHash: string }): Promise<SubmitResult> {
    const { models } = this.deps;
    if (input.previousApplicationId && !(await models.Application.exists({ _id: input.previousApplicationId }))) {
      throw new AppError(422, 'previous_application_not_found', [{ path: 'previousApplicationId', code: 'previous_application_not_found' }]);
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

    let application: ApplicationDoc;
    const accessToken = createAccessToken(applicationId);
    try {
      await commitFiles(this.deps.store, files);
      const submittedAt = this.now();
      const year = amsterdamYear(submittedAt);
      const reference = await this.nextReference(year);
      const workflowId = initiativeWorkflowId(applicationId);
      application = (
        await models.Application.create({
          ...input,
          _id: applicationId,
          reference,
          year,
          status: 'submitted',
          statusSeq: 1,
          accessTokenHashes: [hashToken(accessToken)],
          documents: toStoredDocuments(files, 'applicant', 'intake', submittedAt),
          timeline: [{ id: `${workflowId}:1`, at: submittedAt.toISOString(), type: 'submitted', status: 'submitted', actor: 'applicant' }],
          informationRequests: [],
          workflowId,
          idempotencyKey: opts.idempotencyKey,
          createdAt: submittedAt,
        })
      ).toObject();
    } catch (err) {
      await undoClaim();
      await removeOrphans(this.deps.store, models, files.map((f) => f.sha256));
      throw err;
    }

    try {
      await this.startWorkflow(application);
    } catch (err) {
      this.deps.logger.error({ err, applicationId }, 'initiative workflow did not start; intake undone');
      await models.Application.deleteOne({ _id: applicationId });
      await undoClaim();
      await removeOrphans(this.deps.store, models, files.map((f) => f.sha256));
      throw new AppError(503, 'service_unavailable', [{ code: 'workflow_start_failed' }], { 'Retry-After': '5' });
    }
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
    });
    await this.deps.models.Application.updateOne({ _id: app._id }, { $set: { workflowStartedAt: this.now() } }).catch((err: unknown) => {
      // Harmless: the reconciler sets it on its next pass (the start itself is idempotent).
      this.deps.logger.warn({ err, applicationId: app._id }, 'could not mark workflow as started');
    });
  }

  private async claimKey(
    key: string,
    requestHash: string,
    applicationId: string,
  ): Promise<{ kind: 'new'; applicationId: string } | { kind: 'replay'; application: ApplicationDoc }> {
    const { Idempotency, Application } = this.deps.models;
    try {
      await Idempotency.create({ _id: key, requestHash, applicationId, createdAt: this.now() });
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
        if (!application.workflowStartedAt) await this.startWorkflow(application);
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
    await this.deps.models.Application.updateOne({ _id: application._id }, { $push: { accessTokenHashes: hashToken(accessToken) } });
    return { application, accessToken, replayed: true };
  }

  /** VW-2026-0042: a per-year counter, one atomic single-document $inc. */
  async nextReference(year: number): Promise<string> {
    const { Counter } = this.deps.models;
    for (let attempt = 0; ; attempt++) {
      try {
        const counter = await Counter.findOneAndUpdate(
          { _id: `application-reference-${year}` },
          { $inc: { seq: 1 } },
          { upsert: true, returnDocument: 'after' },
        ).lean();
        return formatReference(this.deps.config.fund.referencePrefix, year, counter!.seq);
      } catch (err) {
        // Two first-of-the-year upserts can race on the insert; the loser simply increments.
        if (!isDuplicateKeyError(err) || attempt >= 5) throw err;
      }
    }
  }

  /** Starts the workflow of any application whose intake crashed between storing it and starting it. */
  async resumeUnstarted(olderThanMs = ABANDONED_AFTER_MS): Promise<number> {
    const cutoff = new Date(this.now().getTime() - olderThanMs);
    const pending = await this.deps.models.Application.find(
      { workflowStartedAt: { $exists: false }, createdAt: { $lt: cutoff } },
      { _id: 1, reference: 1, createdAt: 1 },
    ).lean();
    for (const app of pending) {
      await this.startWorkflow(app);
      this.deps.logger.info({ applicationId: app._id }, 'resumed intake: workflow started');
    }
    return pending.length;
  }
}
