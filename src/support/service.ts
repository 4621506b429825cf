/**
 * Support cases: the welfare workers' queue, claims, releases, hand-overs and notes
 * (the API), and the queue, reminder and flag facts of the support workflow (the
 * worker). One chain per case (`support-<applicationId>` in `support_events`, see
 * src/db/chain.ts): every change is decided on the whole case and written as one
 * insert, so two workers claiming at once get one claim and one refusal naming the
 * winner, also across processes and on FerretDB v1.
 *
 * Claims, releases and hand-overs are in the audit log (the entry's id is the audit
 * record's id, so a retry or `reconcile` writes it once). After a claim the support
 * workflow is signalled (it completes); after a release it is signalled with start, so
 * the wait and its timers begin again.
 */
import { randomUUID } from 'node:crypto';
import { recordAudit } from '../services/audit.ts';
import type { Logger } from 'pino';
import type { Model } from 'mongoose';
import { Chain } from '../db/chain.ts';
import { insertOnce, type Models } from '../db/models.ts';
import { supportEventModel } from '../db/support-models.ts';
import { AppError } from '../domain/errors.ts';
import { isFinal, type ApplicationStatus } from '../domain/status.ts';
import type { SupportNoteKind } from '../domain/report.ts';
import type { SupportTiming, SupportWorkflowInput } from '../domain/workflow-types.ts';
import { foldSupport, welfareMayRead, type SupportCase, type SupportCaseState } from './case.ts';
import type { SupportEventDoc, SupportWorker } from './events.ts';
import { organisationFor, type WijkOrganisations } from './organisations.ts';

/** The API's side of the support workflow (src/support/temporal.ts). */
export interface SupportWorkflows {
  /** Tells the waiting workflow the case was claimed (nothing when it no longer runs). */
  claimed(applicationId: string, at: string): Promise<void>;
  /** Begins a new wait: signals the workflow, starting it when it no longer runs. */
  requeue(input: SupportWorkflowInput, at: string): Promise<void>;
  /** Whether the workflow of this case is running. */
  running(applicationId: string): Promise<boolean>;
  /** Starts the case's workflow (a run already there is used, never a second). */
  start(input: SupportWorkflowInput): Promise<void>;
}

export interface SupportServiceDeps {
  models: Models;
  organisations: WijkOrganisations;
  /** Absent in the worker (it is the workflow). */
  workflows?: SupportWorkflows;
  logger?: Logger;
  now?: () => Date;
}

/** Who acts: a staff member (admin may release or hand over a case they do not hold). */
export interface SupportActor {
  id: string;
  role: 'welfare' | 'admin' | 'panel' | 'finance';
  requestId?: string;
}

export interface QueueFilter {
  wijk?: string;
  organisation?: string;
  state?: SupportCaseState;
}

type Refusal =
  | { code: 'no_case' }
  | { code: 'already_claimed'; claimedBy: NonNullable<SupportCase['claimedBy']> }
  | { code: 'not_claimed' }
  | { code: 'not_the_claimer' }
  | { code: 'same_worker' }
  | { code: 'bad_target'; reason: 'unknown_user' | 'not_a_welfare_worker' | 'inactive' }
  | { code: 'stale' };

type Write = Omit<SupportEventDoc, '_id' | 'chain' | 'seq' | 'at' | 'key'>;

/** The application or its case is not there (an activity does not retry this). */
export class SupportNotFound extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SupportNotFound';
  }
}

export function supportChainName(applicationId: string): string {
  return `support-${applicationId}`;
}

/** Granted and not yet over: the statuses in which the panel can still ask for support. */
const FLAGGABLE: ReadonlySet<string> = new Set(['reserved', 'paid', 'activity_held', 'report_due', 'report_received', 'clarification_requested']);

export class SupportService {
  private readonly deps: SupportServiceDeps;
  private readonly chains = new Map<string, Chain<SupportEventDoc>>();
  private model: Promise<Model<SupportEventDoc>> | undefined;

  constructor(deps: SupportServiceDeps) {
    this.deps = deps;
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  private events(): Promise<Model<SupportEventDoc>> {
    return (this.model ??= supportEventModel(this.deps.models.connection).catch((err: unknown) => {
      this.model = undefined;
      throw err;
    }));
  }

  private async chain(applicationId: string): Promise<Chain<SupportEventDoc>> {
    const model = await this.events();
    let chain = this.chains.get(applicationId);
    if (!chain) {
      // The case is folded from the entries on each decision (a few dozen at most), so the chain keeps no fold of its own.
      chain = new Chain<SupportEventDoc>(model.collection as never, supportChainName(applicationId), { onEntry() {}, onReset() {} });
      this.chains.set(applicationId, chain);
    }
    return chain;
  }

  /** The case now, or undefined when the initiative has none. */
  async get(applicationId: string): Promise<SupportCase | undefined> {
    const chain = await this.chain(applicationId);
    const c = foldSupport(await chain.read());
    if (!c) this.chains.delete(applicationId); // no cache for ids that have no case
    return c;
  }

  /** Appends on the case; a refusal `no_case` forgets the chain (nothing to cache). */
  private async append(applicationId: string, key: string, decide: (c: SupportCase) => Write | Refusal): Promise<{ entry: SupportEventDoc; created: boolean } | { refused: Refusal }> {
    const chain = await this.chain(applicationId);
    const result = await chain.append<Refusal>(`${chain.name}:${key}`, (entries) => {
      const c = foldSupport(entries);
      if (!c) return { refuse: { code: 'no_case' } };
      const d = decide(c);
      return 'code' in d ? { refuse: d } : { write: d };
    });
    if ('refused' in result && result.refused.code === 'no_case') this.chains.delete(applicationId);
    return result;
  }

  // -------------------------------------------------------------------------------
  // The API

  /** The queue: every case of an initiative still going, oldest first. One read of all support events. */
  async queue(filter: QueueFilter = {}): Promise<SupportCase[]> {
    const cases = await this.allCases();
    const statuses = await this.statuses(cases.map((c) => c.applicationId));
    return cases
      .filter((c) => !isFinal(statuses.get(c.applicationId) ?? 'reserved'))
      .filter((c) => (filter.wijk ? c.wijken.includes(filter.wijk) : true))
      .filter((c) => (filter.organisation ? c.organisation === filter.organisation : true))
      .filter((c) => (filter.state ? c.state === filter.state : true))
      .sort((a, b) => a.queuedAt.localeCompare(b.queuedAt) || a.reference.localeCompare(b.reference));
  }

  /** Whether this welfare worker may read the application (`welfareMayRead`); false when it has no case. */
  async mayRead(userId: string, applicationId: string): Promise<boolean> {
    const [worker, c] = await Promise.all([this.worker(userId), this.get(applicationId)]);
    return c !== undefined && welfareMayRead(c, worker);
  }

  /** The applications this welfare worker may read (`welfareMayRead`). One read of all support events. */
  async readableBy(userId: string): Promise<string[]> {
    const [worker, cases] = await Promise.all([this.worker(userId), this.allCases()]);
    return cases.filter((c) => welfareMayRead(c, worker)).map((c) => c.applicationId);
  }

  /** Every case there is, folded from one read of all support events. */
  private async allCases(): Promise<SupportCase[]> {
    const model = await this.events();
    const byChain = new Map<string, SupportEventDoc[]>();
    for (const e of (await model.find({}).lean()) as SupportEventDoc[]) {
      const list = byChain.get(e.chain) ?? [];
      list.push(e);
      byChain.set(e.chain, list);
    }
    const cases: SupportCase[] = [];
    for (const entries of byChain.values()) {
      entries.sort((a, b) => a.seq - b.seq);
      // Only the contiguous start of a chain is certain (a later position can be read before an earlier one lands).
      const prefix = entries.filter((e, i) => e.seq === i + 1);
      const c = foldSupport(prefix);
      if (c) cases.push(c);
    }
    return cases;
  }

  private async statuses(ids: string[]): Promise<Map<string, ApplicationStatus>> {
    if (ids.length === 0) return new Map();
    const docs = await this.deps.models.Application.find({ _id: { $in: ids } }, { status: 1 }).lean();
    return new Map(docs.map((d) => [d._id, d.status]));
  }

  private async worker(id: string): Promise<SupportWorker & { role?: string; active?: boolean }> {
    const user = await this.deps.models.StaffUser.findById(id, { name: 1, organisation: 1, role: 1, active: 1 }).lean();
    if (!user) throw new AppError(401, 'unauthenticated', [{ code: 'account_inactive' }]);
    return { id: user._id, name: user.name, ...(user.organisation ? { organisation: user.organisation } : {}), role: user.role, active: user.active };
  }

  private refusal(r: Refusal): AppError {
    switch (r.code) {
      case 'no_case':
        return new AppError(404, 'not_found', [{ code: 'no_support_case' }]);
      case 'already_claimed':
        return new AppError(409, 'already_claimed', [
          { code: 'already_claimed', claimedBy: { name: r.claimedBy.name, ...(r.claimedBy.organisation ? { organisation: r.claimedBy.organisation } : {}) }, claimedAt: r.claimedBy.at },
        ]);
      case 'not_claimed':
        return new AppError(409, 'not_claimed', [{ code: 'not_claimed' }]);
      case 'not_the_claimer':
        return new AppError(403, 'not_the_claimer', [{ code: 'not_the_claimer' }]);
      case 'same_worker':
        return new AppError(422, 'invalid_handover_target', [{ path: 'toUserId', code: 'already_the_claimer' }]);
      case 'bad_target':
        return new AppError(422, 'invalid_handover_target', [{ path: 'toUserId', code: r.reason }]);
      case 'stale':
        return new AppError(409, 'invalid_state', [{ code: 'stale' }]);
    }
  }

  private async audit(entry: SupportEventDoc, action: string, change: { before?: unknown; after?: unknown }): Promise<void> {
    await recordAudit(this.deps.models, {
      _id: entry._id,
      at: new Date(entry.occurredAt),
      actor: entry.actor,
      action,
      target: `application:${entry.applicationId}`,
      ...change,
      ...(entry.requestId ? { requestId: entry.requestId } : {}),
    });
  }

  /** A welfare worker takes the case. The same worker claiming again gets the case as it is. */
  async claim(applicationId: string, actor: SupportActor): Promise<SupportCase> {
    const worker = await this.worker(actor.id);
    const at = this.now().toISOString();
    const result = await this.append(applicationId, `claim:${randomUUID()}`, (c) => {
      if (c.claimedBy?.id === worker.id) return { code: 'same_worker' };
      if (c.claimedBy) return { code: 'already_claimed', claimedBy: c.claimedBy };
      return { applicationId, kind: 'claimed', occurredAt: at, actor: `staff:${worker.id}`, ...req(actor), worker: plain(worker) };
    });
    if ('refused' in result) {
      if (result.refused.code !== 'same_worker') throw this.refusal(result.refused);
      return (await this.get(applicationId))!;
    }
    await this.audit(result.entry, 'support.claimed', { after: { claimedBy: result.entry.worker } });
    await this.signal(applicationId, () => this.deps.workflows?.claimed(applicationId, at));
    return (await this.get(applicationId))!;
  }

  /**
   * The panel flags a granted initiative for support (the applicant did not ask): its
   * case is queued with reason `flagged`. A case already there is returned as it is.
   */
  async flag(applicationId: string, actor: SupportActor): Promise<{ case: SupportCase; created: boolean }> {
    const app = await this.deps.models.Application.findById(applicationId, { status: 1 }).lean();
    if (!app) throw new AppError(404, 'not_found');
    const existing = await this.get(applicationId);
    if (existing) return { case: existing, created: false };
    if (!FLAGGABLE.has(app.status)) throw new AppError(409, 'invalid_state', [{ code: 'not_granted', reason: `cannot flag for support in status ${app.status}` }]);
    if (!this.deps.workflows) throw new Error('support workflows are started through the api');
    await this.deps.workflows.start({ applicationId, reason: 'flagged' });
    // The workflow queues the case at once (its first activity); wait for it, briefly.
    const deadline = Date.now() + 15_000;
    for (;;) {
      const c = await this.get(applicationId);
      if (c) {
        await recordAudit(this.deps.models, {
          _id: `support:${applicationId}:flagged`,
          at: this.now(),
          actor: `staff:${actor.id}`,
          action: 'support.flagged',
          target: `application:${applicationId}`,
          after: { reason: 'flagged' },
          ...(actor.requestId ? { requestId: actor.requestId } : {}),
        });
        return { case: c, created: true };
      }
      if (Date.now() > deadline) throw new AppError(503, 'service_unavailable', [{ code: 'support_not_queued' }], { 'Retry-After': '5' });
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Gives the case back to the queue: the claimer, or an admin. A new wait (and its timers) begins. */
  async release(applicationId: string, actor: SupportActor): Promise<SupportCase> {
    const at = this.now().toISOString();
    const result = await this.append(applicationId, `release:${randomUUID()}`, (c) => {
      if (!c.claimedBy) return { code: 'not_claimed' };
      if (c.claimedBy.id !== actor.id && actor.role !== 'admin') return { code: 'not_the_claimer' };
      return { applicationId, kind: 'released', occurredAt: at, actor: `staff:${actor.id}`, ...req(actor), from: workerOf(c.claimedBy) };
    });
    if ('refused' in result) throw this.refusal(result.refused);
    await this.audit(result.entry, 'support.released', { before: { claimedBy: result.entry.from } });
    const c = (await this.get(applicationId))!;
    await this.signal(applicationId, () => this.deps.workflows?.requeue({ applicationId, reason: c.reason, ...(c.wish ? { wish: c.wish } : {}) }, at));
    return c;
  }

  /** The claimer (or an admin) passes the case to another active welfare worker. */
  async handover(applicationId: string, actor: SupportActor, toUserId: string): Promise<SupportCase> {
    const target = await this.deps.models.StaffUser.findById(toUserId, { name: 1, organisation: 1, role: 1, active: 1 }).lean();
    const at = this.now().toISOString();
    const result = await this.append(applicationId, `handover:${randomUUID()}`, (c) => {
      if (!c.claimedBy) return { code: 'not_claimed' };
      if (c.claimedBy.id !== actor.id && actor.role !== 'admin') return { code: 'not_the_claimer' };
      if (!target) return { code: 'bad_target', reason: 'unknown_user' };
      if (target.role !== 'welfare') return { code: 'bad_target', reason: 'not_a_welfare_worker' };
      if (!target.active) return { code: 'bad_target', reason: 'inactive' };
      if (target._id === c.claimedBy.id) return { code: 'same_worker' };
      const to: SupportWorker = { id: target._id, name: target.name, ...(target.organisation ? { organisation: target.organisation } : {}) };
      return { applicationId, kind: 'handed_over', occurredAt: at, actor: `staff:${actor.id}`, ...req(actor), from: workerOf(c.claimedBy), worker: to };
    });
    if ('refused' in result) throw this.refusal(result.refused);
    await this.audit(result.entry, 'support.handed_over', { before: { claimedBy: result.entry.from }, after: { claimedBy: result.entry.worker } });
    return (await this.get(applicationId))!;
  }

  /** A short dated note by the worker who holds the case (contact, advice, referral, other). */
  async addNote(applicationId: string, actor: SupportActor, note: { kind: SupportNoteKind; text: string }): Promise<SupportCase['notes'][number]> {
    const worker = await this.worker(actor.id);
    const at = this.now().toISOString();
    const id = randomUUID();
    const result = await this.append(applicationId, `note:${id}`, (c) => {
      if (!c.claimedBy) return { code: 'not_claimed' };
      if (c.claimedBy.id !== worker.id) return { code: 'not_the_claimer' };
      return { applicationId, kind: 'note', occurredAt: at, actor: `staff:${worker.id}`, ...req(actor), note: { id, kind: note.kind, text: note.text, by: plain(worker) } };
    });
    if ('refused' in result) throw this.refusal(result.refused);
    return { id, at, by: worker.id, byName: worker.name, kind: note.kind, text: note.text };
  }

  /** A failed signal does not fail the request: the case is written, and the workflow re-reads it before every step. */
  private async signal(applicationId: string, send: () => Promise<void> | undefined): Promise<void> {
    try {
      await send();
    } catch (err) {
      this.deps.logger?.warn({ err, applicationId, workflowId: supportChainName(applicationId) }, 'could not signal the support workflow; reconcile retries');
    }
  }

  /**
   * Completes what a crash or an outage left half done: the audit record of every claim,
   * release and hand-over, and a running workflow for every case waiting for a worker
   * (a release whose signal-with-start failed, or that reached a run just completing).
   */
  async reconcile(): Promise<{ audits: number; restarted: number }> {
    const model = await this.events();
    const moves = (await model.find({ kind: { $in: ['claimed', 'released', 'handed_over'] } }).lean()) as SupportEventDoc[];
    const have = new Set((await this.deps.models.Audit.find({ _id: { $in: moves.map((m) => m._id) } }, { _id: 1 }).lean()).map((a) => a._id));
    let audits = 0;
    for (const e of moves.filter((m) => !have.has(m._id))) {
      if (e.kind === 'claimed') await this.audit(e, 'support.claimed', { after: { claimedBy: e.worker } });
      else if (e.kind === 'released') await this.audit(e, 'support.released', { before: { claimedBy: e.from } });
      else await this.audit(e, 'support.handed_over', { before: { claimedBy: e.from }, after: { claimedBy: e.worker } });
      audits++;
    }
    let restarted = 0;
    const workflows = this.deps.workflows;
    if (workflows) {
      for (const c of await this.queue({ state: 'unclaimed' })) {
        if (await workflows.running(c.applicationId)) continue;
        await workflows.requeue({ applicationId: c.applicationId, reason: c.reason, ...(c.wish ? { wish: c.wish } : {}) }, this.now().toISOString());
        restarted++;
      }
    }
    return { audits, restarted };
  }

  // -------------------------------------------------------------------------------
  // The support workflow's activities

  /** Puts the initiative in the queue once (a retry or a later run finds the first entry). */
  async open(args: { applicationId: string; reason: 'requested' | 'flagged'; wish?: string; at: string }): Promise<SupportTiming> {
    const app = await this.deps.models.Application.findById(args.applicationId, { reference: 1, title: 1, wijken: 1, supportWish: 1, status: 1 }).lean();
    if (!app) throw new SupportNotFound(`application ${args.applicationId} not found`);
    const chain = await this.chain(args.applicationId);
    const wish = args.wish ?? app.supportWish;
    await chain.append<never>(`${chain.name}:queued`, () => ({
      write: {
        applicationId: args.applicationId,
        kind: 'queued',
        occurredAt: args.at,
        actor: 'workflow',
        queued: {
          reason: args.reason,
          ...(wish ? { wish } : {}),
          organisation: organisationFor(this.deps.organisations, app.wijken),
          reference: app.reference,
          title: app.title,
          wijken: app.wijken,
        },
      },
    }));
    return this.timing(args.applicationId, app.status);
  }

  /** The case as the timers see it. */
  async timing(applicationId: string, knownStatus?: ApplicationStatus): Promise<SupportTiming> {
    const c = await this.get(applicationId);
    if (!c) throw new SupportNotFound(`no support case for ${applicationId}`);
    const status = knownStatus ?? (await this.deps.models.Application.findById(applicationId, { status: 1 }).lean())?.status;
    return timingOf(c, status !== undefined && isFinal(status));
  }

  /**
   * The reminder or the flag of the current wait, once: written only while the case is
   * still unclaimed in that wait. Returns the entry (new or from an earlier attempt) to
   * tell its recipients, or none when there is nothing to send.
   */
  async markWait(args: { applicationId: string; kind: 'reminder_sent' | 'flagged'; period: number; at: string; recipients: string[] }): Promise<{ entry?: SupportEventDoc; case: SupportCase; timing: SupportTiming }> {
    const app = await this.deps.models.Application.findById(args.applicationId, { status: 1 }).lean();
    const ended = app !== null && isFinal(app.status);
    if (ended) {
      const c = (await this.get(args.applicationId))!;
      return { case: c, timing: timingOf(c, true) };
    }
    const result = await this.append(args.applicationId, `${args.kind === 'reminder_sent' ? 'reminder' : 'flagged'}:${args.period}`, (c) => {
      if (c.claimedBy || c.period !== args.period) return { code: 'stale' };
      return { applicationId: args.applicationId, kind: args.kind, occurredAt: args.at, actor: 'workflow', period: args.period, recipients: args.recipients };
    });
    if ('refused' in result && result.refused.code === 'no_case') throw new SupportNotFound(`no support case for ${args.applicationId}`);
    const c = (await this.get(args.applicationId))!;
    return { ...('entry' in result ? { entry: result.entry } : {}), case: c, timing: timingOf(c, false) };
  }
}

function timingOf(c: SupportCase, ended: boolean): SupportTiming {
  return {
    state: ended ? 'ended' : c.state,
    organisation: c.organisation,
    waitingSince: c.waitingSince,
    period: c.period,
    reminderSent: c.reminderSentAt !== undefined,
    flagged: c.flaggedAt !== undefined,
  };
}

function req(actor: SupportActor): { requestId?: string } {
  return actor.requestId ? { requestId: actor.requestId } : {};
}

function plain(w: SupportWorker): SupportWorker {
  return { id: w.id, name: w.name, ...(w.organisation ? { organisation: w.organisation } : {}) };
}

function workerOf(claimedBy: NonNullable<SupportCase['claimedBy']>): SupportWorker {
  return { id: claimedBy.id, name: claimedBy.name, ...(claimedBy.organisation ? { organisation: claimedBy.organisation } : {}) };
}
