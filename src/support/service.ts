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
 *
 * Nothing here reads the whole collection: the queue, the applications a welfare worker
 * may read and the moves `reconcile` completes are found by ordered keys
 * (src/support/keys.ts), each case read by its chain's `_id` range and checked.
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
import { applicationOfEntryKey, caseKeys, casesUnder, endedHoldKeys, supportChainName, supportKey } from './keys.ts';
import { addKeys, refsUnder, removeKeys } from '../db/keys.ts';
import type { KeyDoc } from '../db/models.ts';

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

export { supportChainName };

/** Cases read at once when a list folds many (each is one `_id` range, or one `_id` when cached). */
const READ_AT_ONCE = 16;
/** An unaudited key older than this without its entry belongs to a move that was never written. */
const UNWRITTEN_AFTER_MS = 10 * 60_000;

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

  /**
   * The queue: every case of an initiative still going, oldest first. Read from the open
   * cases' keys, each case by its chain; a key of an initiative that ended, or a second key
   * of a case (a repeated queueing), is skipped and removed.
   */
  async queue(filter: QueueFilter = {}): Promise<SupportCase[]> {
    const keys = await refsUnder(this.deps.models, 'support-open', []);
    const ids = [...new Set(keys.map((k) => k.ref))];
    const [cases, statuses] = await Promise.all([this.cases(ids), this.statuses(ids)]);
    const stale: string[] = [];
    const open = new Map<string, SupportCase>();
    for (const k of keys) {
      const c = cases.get(k.ref);
      if (!c) continue; // written before its case: queued in a moment, or reconcile removes it
      if (k._id !== supportKey.open(c.applicationId, c.queuedAt)._id || isFinal(statuses.get(c.applicationId) ?? 'reserved')) stale.push(k._id);
      else open.set(c.applicationId, c);
    }
    await removeKeys(this.deps.models, stale);
    return [...open.values()]
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

  /**
   * The applications this welfare worker may read (`welfareMayRead`): the cases of their
   * organisation, those they hold and those a colleague holds, by key; each case checked.
   */
  async readableBy(userId: string): Promise<string[]> {
    const worker = await this.worker(userId);
    const org = worker.organisation;
    const ids = await casesUnder(this.deps.models, [['support-holder', [worker.id]], ...(org ? ([['support-org', [org]], ['support-holder-org', [org]]] as const) : [])]);
    const cases = await this.cases(ids);
    return ids.filter((id) => {
      const c = cases.get(id);
      return c !== undefined && welfareMayRead(c, worker);
    });
  }

  /** These cases now (those with no case left out), a few at a time. */
  private async cases(ids: readonly string[]): Promise<Map<string, SupportCase>> {
    const found = new Map<string, SupportCase>();
    for (let i = 0; i < ids.length; i += READ_AT_ONCE) {
      for (const c of await Promise.all(ids.slice(i, i + READ_AT_ONCE).map((id) => this.get(id)))) if (c) found.set(c.applicationId, c);
    }
    return found;
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

  /**
   * A claim, release or hand-over, crash-safe: its unaudited key and the keys of the hold it
   * begins (`holder`: who gets the case) before the entry; after it the audit record and the
   * removal of the hold it ends (`settle`). A refusal removes what was written for it.
   */
  private async move(applicationId: string, key: string, holder: SupportWorker | undefined, decide: (c: SupportCase) => Write | Refusal): Promise<{ entry: SupportEventDoc } | { refused: Refusal }> {
    const entryKey = `${supportChainName(applicationId)}:${key}`;
    const before: KeyDoc[] = [supportKey.unaudited(entryKey, this.now()), ...(holder ? supportKey.holder(applicationId, entryKey, holder) : [])];
    await addKeys(this.deps.models, before);
    const result = await this.append(applicationId, key, decide);
    if ('refused' in result) {
      await removeKeys(this.deps.models, before.map((k) => k._id));
      return result;
    }
    await this.settle(result.entry);
    return result;
  }

  /** What follows a move's entry (again, after a crash: `reconcile`). Returns whether its audit record was missing. */
  private async settle(entry: SupportEventDoc): Promise<boolean> {
    const audited =
      entry.kind === 'claimed'
        ? await this.audit(entry, 'support.claimed', { after: { claimedBy: entry.worker } })
        : entry.kind === 'released'
          ? await this.audit(entry, 'support.released', { before: { claimedBy: entry.from } })
          : await this.audit(entry, 'support.handed_over', { before: { claimedBy: entry.from }, after: { claimedBy: entry.worker } });
    const chain = await this.chain(entry.applicationId);
    await removeKeys(this.deps.models, endedHoldKeys(chain.known, entry).map((k) => k._id));
    await removeKeys(this.deps.models, [supportKey.unaudited(entry.key, new Date(entry.at))._id]);
    return audited;
  }

  private async audit(entry: SupportEventDoc, action: string, change: { before?: unknown; after?: unknown }): Promise<boolean> {
    return recordAudit(this.deps.models, {
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
    const result = await this.move(applicationId, `claim:${randomUUID()}`, worker, (c) => {
      if (c.claimedBy?.id === worker.id) return { code: 'same_worker' };
      if (c.claimedBy) return { code: 'already_claimed', claimedBy: c.claimedBy };
      return { applicationId, kind: 'claimed', occurredAt: at, actor: `staff:${worker.id}`, ...req(actor), worker: plain(worker) };
    });
    if ('refused' in result) {
      if (result.refused.code !== 'same_worker') throw this.refusal(result.refused);
      return (await this.get(applicationId))!;
    }
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
    const result = await this.move(applicationId, `release:${randomUUID()}`, undefined, (c) => {
      if (!c.claimedBy) return { code: 'not_claimed' };
      if (c.claimedBy.id !== actor.id && actor.role !== 'admin') return { code: 'not_the_claimer' };
      return { applicationId, kind: 'released', occurredAt: at, actor: `staff:${actor.id}`, ...req(actor), from: workerOf(c.claimedBy) };
    });
    if ('refused' in result) throw this.refusal(result.refused);
    const c = (await this.get(applicationId))!;
    await this.signal(applicationId, () => this.deps.workflows?.requeue({ applicationId, reason: c.reason, ...(c.wish ? { wish: c.wish } : {}) }, at));
    return c;
  }

  /** The claimer (or an admin) passes the case to another active welfare worker. */
  async handover(applicationId: string, actor: SupportActor, toUserId: string): Promise<SupportCase> {
    const target = await this.deps.models.StaffUser.findById(toUserId, { name: 1, organisation: 1, role: 1, active: 1 }).lean();
    const at = this.now().toISOString();
    const to: SupportWorker | undefined = target ? { id: target._id, name: target.name, ...(target.organisation ? { organisation: target.organisation } : {}) } : undefined;
    const result = await this.move(applicationId, `handover:${randomUUID()}`, to, (c) => {
      if (!c.claimedBy) return { code: 'not_claimed' };
      if (c.claimedBy.id !== actor.id && actor.role !== 'admin') return { code: 'not_the_claimer' };
      if (!target) return { code: 'bad_target', reason: 'unknown_user' };
      if (target.role !== 'welfare') return { code: 'bad_target', reason: 'not_a_welfare_worker' };
      if (!target.active) return { code: 'bad_target', reason: 'inactive' };
      if (target._id === c.claimedBy.id) return { code: 'same_worker' };
      return { applicationId, kind: 'handed_over', occurredAt: at, actor: `staff:${actor.id}`, ...req(actor), from: workerOf(c.claimedBy), worker: to };
    });
    if ('refused' in result) throw this.refusal(result.refused);
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
    let audits = 0;
    for (const k of await refsUnder(this.deps.models, 'support-unaudited', [])) {
      const chain = await this.chain(applicationOfEntryKey(k.ref));
      await chain.read();
      const entry = chain.entryByKey(k.ref);
      if (entry) audits += (await this.settle(entry)) ? 1 : 0;
      // Refused, or the process died before the entry: nothing to complete.
      else if (this.now().getTime() - (k.n ?? 0) > UNWRITTEN_AFTER_MS) await removeKeys(this.deps.models, [k._id]);
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
    const ended = isFinal(app.status);
    const existing = await this.get(args.applicationId);
    if (existing) {
      await addKeys(this.deps.models, caseKeys(existing, ended)); // repairs a crash before they were written
      return timingOf(existing, ended);
    }
    const chain = await this.chain(args.applicationId);
    const wish = args.wish ?? app.supportWish;
    const organisation = organisationFor(this.deps.organisations, app.wijken);
    // Its keys first: the queue finds the case once its entry is written.
    const keys = caseKeys({ applicationId: args.applicationId, organisation, queuedAt: args.at }, ended);
    await addKeys(this.deps.models, keys);
    const result = await chain.append<never>(`${chain.name}:queued`, () => ({
      write: {
        applicationId: args.applicationId,
        kind: 'queued',
        occurredAt: args.at,
        actor: 'workflow',
        queued: {
          reason: args.reason,
          ...(wish ? { wish } : {}),
          organisation,
          reference: app.reference,
          title: app.title,
          wijken: app.wijken,
        },
      },
    }));
    // Another attempt queued it first, at another time: the queue key of that one stands.
    if ('entry' in result && result.entry.occurredAt !== args.at) await removeKeys(this.deps.models, [supportKey.open(args.applicationId, args.at)._id]);
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
