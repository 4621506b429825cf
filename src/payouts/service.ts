/**
 * Payouts: one instruction per reserved grant, collected into SEPA credit-transfer
 * batches. Which batch a payout is in, whether a batch was executed and whether a
 * payout was cancelled are facts in one append-only register (the `payouts` chain,
 * see src/db/chain.ts): a batch is one inserted entry listing its payouts, decided on
 * the whole register before it, so two racing batch requests cannot both take a
 * payout, and a withdrawal cannot cancel a payout that is already in a file. The
 * `status`/`batchId` fields on the payout documents are a projection of the register,
 * repaired by `reconcile` after a crash.
 */
import { createHash } from 'node:crypto';
import { recordAudit } from '../services/audit.ts';
import { Chain } from '../db/chain.ts';
import { addPayoutKeys, movePayoutKeys, payoutIds, removePayoutKeys } from '../db/keys.ts';
import { insertOnce, type Models, type PayoutDoc, type PayoutEventDoc } from '../db/models.ts';
import { AppError } from '../domain/errors.ts';
import { amsterdamDate } from '../domain/dates.ts';
import { payoutEndToEndId } from '../domain/payouts.ts';
import type { PaidNotice } from '../domain/workflow-types.ts';
import { renderPain001, sepaText, type Debtor } from './sepa.ts';

export interface PayoutServiceDeps {
  models: Models;
  debtor: Debtor;
  fundName: string;
  /** Tells the initiative that its payout was executed (a Temporal signal; idempotent). */
  notifyPaid(notice: PaidNotice): Promise<void>;
  /** Whether the ledger has recorded the payment of this application (reconcile re-signals those that have not). */
  paymentRecorded(applicationId: string, year: number): Promise<boolean>;
  onNotifyError?: (err: unknown, applicationId: string) => void;
  now?: () => Date;
}

type PayoutState = { state: 'batched' | 'paid'; batchId: string } | { state: 'cancelled' };

export interface BatchSummary {
  id: string;
  createdAt: Date;
  createdBy: string;
  requestedExecutionDate: string;
  numberOfTransactions: number;
  controlSumCents: number;
  sha256: string;
  endToEndIds: string[];
  executed: { at: Date; by: string } | null;
}

export class PayoutService {
  private readonly deps: PayoutServiceDeps;
  private readonly register: Chain<PayoutEventDoc>;
  private readonly states = new Map<string, PayoutState>();
  private readonly batches = new Map<string, { event: PayoutEventDoc; executed?: PayoutEventDoc }>();
  /** Register entries whose payouts this process has brought in line (project); later ones are still to do. */
  private projected = 0;

  constructor(deps: PayoutServiceDeps) {
    this.deps = deps;
    this.register = new Chain<PayoutEventDoc>(deps.models.PayoutEvent.collection as never, 'payouts', {
      onEntry: (e) => this.fold(e),
      onReset: () => {
        this.states.clear();
        this.batches.clear();
      },
    });
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  /** Creates the payout instruction of a reserved grant, once (its end-to-end id is its key). */
  async createInstruction(args: { applicationId: string; year: number; amountCents: number }): Promise<PayoutDoc> {
    const { Application, Payout, Audit } = this.deps.models;
    const app = await Application.findById(args.applicationId, { reference: 1, iban: 1, accountHolder: 1, title: 1 }).lean();
    if (!app) throw new Error(`application ${args.applicationId} not found`);
    const id = payoutEndToEndId(app.reference);
    const doc: PayoutDoc = {
      _id: id,
      applicationId: args.applicationId,
      reference: app.reference,
      year: args.year,
      amountCents: args.amountCents,
      iban: app.iban,
      accountHolder: app.accountHolder,
      remittance: sepaText(`${this.deps.fundName} ${app.reference} ${app.title}`, 140),
      createdAt: this.now(),
      status: 'pending',
    };
    // Its keys first (finance's lists find payouts by them); a retry that finds the payout of an
    // earlier attempt removes the keys of its own creation time.
    await addPayoutKeys(this.deps.models, doc);
    if (!(await insertOnce(Payout, doc))) {
      const stored = await Payout.findById(id, { createdAt: 1 }).lean();
      if (stored && new Date(stored.createdAt).getTime() !== doc.createdAt.getTime()) await removePayoutKeys(this.deps.models, doc);
    }
    await recordAudit(this.deps.models, { _id: `payout:${id}:created`, at: doc.createdAt, actor: 'system', action: 'payout.created', target: `application:${args.applicationId}`, after: { endToEndId: id, amountCents: doc.amountCents, status: 'pending' } });
    return (await Payout.findById(id).lean())!;
  }

  /**
   * Cancels a payout that is not in a batch yet (withdrawal after a grant). Returns
   * false when it is already in a batch: then the money goes out and comes back by a reclaim.
   */
  async cancel(args: { applicationId: string; reference: string; actor: string }): Promise<{ cancelled: boolean; state?: PayoutState }> {
    const id = payoutEndToEndId(args.reference);
    const result = await this.register.append<PayoutState>(`cancel:${id}`, () => {
      const s = this.states.get(id);
      if (s && s.state !== 'cancelled') return { refuse: s };
      return { write: { kind: 'cancel', endToEndIds: [id], actor: args.actor } };
    });
    if ('refused' in result) return { cancelled: false, state: result.refused };
    await this.project();
    return { cancelled: true };
  }

  /** Collects every pending payout into one new batch. Two racing requests never share a payout. */
  async createBatch(args: { actor: string; requestId?: string }): Promise<BatchSummary> {
    const { Payout } = this.deps.models;
    await this.register.read();
    const candidates = (await this.byIds((await payoutIds(this.deps.models, { status: 'pending' })).ids)).filter((p) => p.status === 'pending' && !this.states.has(p._id));
    const createdAt = new Date(Math.floor(this.now().getTime() / 1000) * 1000);
    const requestedExecutionDate = nextBusinessDay(createdAt);
    let xml = '';
    const result = await this.register.append<'no_pending_payouts'>(`batch:${createdAt.toISOString()}:${args.requestId ?? Math.random()}`, (entries) => {
      const payouts = candidates.filter((p) => !this.states.has(p._id));
      if (payouts.length === 0) return { refuse: 'no_pending_payouts' };
      const batchId = `PB-${amsterdamDate(createdAt).slice(0, 4)}-${String(entries.filter((e) => e.kind === 'batch').length + 1).padStart(4, '0')}`;
      const rendered = renderPain001({
        messageId: batchId,
        createdAt,
        requestedExecutionDate,
        debtor: this.deps.debtor,
        transfers: payouts.map((p) => ({ endToEndId: p._id, amountCents: p.amountCents, creditorName: p.accountHolder, creditorIban: p.iban, remittance: p.remittance })),
      });
      xml = rendered.xml;
      return {
        write: {
          kind: 'batch',
          batchId,
          endToEndIds: payouts.map((p) => p._id),
          actor: args.actor,
          ...(args.requestId ? { requestId: args.requestId } : {}),
          batch: {
            messageId: batchId,
            createdAt,
            requestedExecutionDate,
            debtor: { ...this.deps.debtor },
            numberOfTransactions: rendered.numberOfTransactions,
            controlSumCents: rendered.controlSumCents,
            sha256: sha256(rendered.xml),
          },
        },
      };
    });
    if ('refused' in result) throw new AppError(409, 'no_pending_payouts');
    const event = result.entry;
    await this.storeFile(event, xml);
    await this.project();
    return this.summary(event.batchId!);
  }

  /** The batch and its SEPA file (the stored bytes; rendered again only if a crash lost them). */
  async getBatch(batchId: string): Promise<{ summary: BatchSummary; xml: string }> {
    await this.register.read();
    const b = this.batches.get(batchId);
    if (!b) throw new AppError(404, 'batch_not_found');
    const stored = await this.deps.models.PayoutBatch.findById(batchId).lean();
    const xml = stored?.xml ?? (await this.storeFile(b.event, await this.renderAgain(b.event)));
    return { summary: this.summary(batchId), xml };
  }

  async listBatches(): Promise<BatchSummary[]> {
    await this.register.read();
    return [...this.batches.keys()].reverse().map((id) => this.summary(id));
  }

  /** Finance confirms the bank executed the batch: each payout is paid, once. */
  async executeBatch(batchId: string, args: { actor: string; requestId?: string }): Promise<BatchSummary> {
    const result = await this.register.append<'batch_not_found'>(`executed:${batchId}`, () => {
      if (!this.batches.has(batchId)) return { refuse: 'batch_not_found' };
      return { write: { kind: 'executed', batchId, endToEndIds: this.batches.get(batchId)!.event.endToEndIds, actor: args.actor, ...(args.requestId ? { requestId: args.requestId } : {}) } };
    });
    if ('refused' in result) throw new AppError(404, 'batch_not_found');
    if (!result.created) throw new AppError(409, 'batch_already_executed');
    await this.project();
    await this.signalPaid(batchId);
    return this.summary(batchId);
  }

  /**
   * Payouts, oldest first, by their keys (src/db/keys.ts) or, for a batch, by the register;
   * a page of them when `page` is given. A key a crash left behind is skipped.
   */
  async list(filter: { status?: PayoutDoc['status']; year?: number; batchId?: string }, page?: { skip: number; limit: number }): Promise<{ payouts: PayoutDoc[]; total: number }> {
    await this.project();
    const matches = (p: PayoutDoc) => (!filter.status || p.status === filter.status) && (!filter.year || p.year === filter.year);
    if (filter.batchId) {
      const all = (await this.byIds(this.batches.get(filter.batchId)?.event.endToEndIds ?? [])).filter(matches);
      return { payouts: page ? all.slice(page.skip, page.skip + page.limit) : all, total: all.length };
    }
    const { ids, total } = await payoutIds(this.deps.models, filter, page);
    const found = new Map((await this.byIds(ids)).map((p) => [p._id, p]));
    return { payouts: ids.map((id) => found.get(id)).filter((p): p is PayoutDoc => !!p && matches(p)), total };
  }

  /** Payouts by id, oldest first. */
  private async byIds(ids: readonly string[]): Promise<PayoutDoc[]> {
    if (!ids.length) return [];
    const docs = await this.deps.models.Payout.find({ _id: { $in: [...new Set(ids)] } }).lean();
    return docs.sort((a, b) => new Date(a.createdAt).getTime() - new Date(b.createdAt).getTime() || (a._id < b._id ? -1 : 1));
  }

  async byApplication(reference: string): Promise<PayoutDoc | null> {
    return this.deps.models.Payout.findById(payoutEndToEndId(reference)).lean();
  }

  /**
   * Completes what a crash may have left half done: batch files not stored, payout
   * documents not showing the register's state, audit records missing, initiatives of
   * an executed batch not told. Safe to run any time, any number of times.
   */
  async reconcile(): Promise<void> {
    await this.register.read();
    for (const { event } of this.batches.values()) {
      if (!(await this.deps.models.PayoutBatch.exists({ _id: event.batchId! }))) await this.storeFile(event, await this.renderAgain(event));
    }
    await this.project();
    for (const [batchId, b] of this.batches) if (b.executed) await this.signalPaid(batchId, true);
  }

  private fold(e: PayoutEventDoc): void {
    if (e.kind === 'batch') {
      this.batches.set(e.batchId!, { event: e });
      for (const id of e.endToEndIds) this.states.set(id, { state: 'batched', batchId: e.batchId! });
    } else if (e.kind === 'executed') {
      this.batches.get(e.batchId!)!.executed = e;
      for (const id of e.endToEndIds) this.states.set(id, { state: 'paid', batchId: e.batchId! });
    } else {
      for (const id of e.endToEndIds) this.states.set(id, { state: 'cancelled' });
    }
  }

  /** Brings the payout documents and the audit log in line with the register. */
  private async project(): Promise<void> {
    const { Payout, Audit } = this.deps.models;
    const entries = await this.register.read();
    // Only the payouts named by register entries not yet projected by this process (at
    // start-up: all of them once), by id, not a read of every payout.
    const ids = [...new Set(entries.slice(this.projected).flatMap((e) => e.endToEndIds))];
    const stale = (ids.length ? await Payout.find({ _id: { $in: ids } }, { status: 1, applicationId: 1, year: 1, createdAt: 1 }).lean() : []).filter((p) => p.status === 'pending' || p.status === 'batched');
    for (const p of stale) {
      const s = this.states.get(p._id);
      if (!s || s.state === p.status) continue;
      const batch = 'batchId' in s ? this.batches.get(s.batchId) : undefined;
      const at = s.state === 'paid' ? batch!.executed!.at : s.state === 'batched' ? batch!.event.at : entries.find((e) => e.key === `cancel:${p._id}`)!.at;
      await movePayoutKeys(this.deps.models, p, s.state, () => Payout.updateOne({ _id: p._id }, { $set: { status: s.state, ...('batchId' in s ? { batchId: s.batchId } : {}), ...(s.state === 'paid' ? { paidAt: at } : {}) } }));
      await recordAudit(this.deps.models, {
        _id: `payout:${p._id}:${s.state}`,
        at,
        actor: (s.state === 'paid' ? batch!.executed!.actor : s.state === 'batched' ? batch!.event.actor : 'system') ?? 'system',
        action: `payout.${s.state}`,
        target: `application:${p.applicationId}`,
        before: { status: p.status },
        after: { status: s.state, ...('batchId' in s ? { batchId: s.batchId } : {}) },
      });
    }
    this.projected = Math.max(this.projected, entries.length);
  }

  private async signalPaid(batchId: string, onlyUnrecorded = false): Promise<void> {
    const b = this.batches.get(batchId)!;
    const payouts = await this.deps.models.Payout.find({ _id: { $in: b.event.endToEndIds } }, { applicationId: 1, year: 1 }).lean();
    const executedAt = new Date(b.executed!.at).toISOString();
    const executedBy = b.executed!.actor;
    for (const p of payouts) {
      if (onlyUnrecorded && (await this.deps.paymentRecorded(p.applicationId, p.year))) continue;
      // One initiative that cannot be told (e.g. its workflow was terminated by hand) must
      // not keep the others from being told; `reconcile` tries again later.
      await this.deps.notifyPaid({ applicationId: p.applicationId, endToEndId: p._id, batchId, executedAt, executedBy }).catch((err: unknown) => this.deps.onNotifyError?.(err, p.applicationId));
    }
  }

  private async renderAgain(event: PayoutEventDoc): Promise<string> {
    const payouts = await this.deps.models.Payout.find({ _id: { $in: event.endToEndIds } }).lean();
    const byId = new Map(payouts.map((p) => [p._id, p]));
    const b = event.batch!;
    const { xml } = renderPain001({
      messageId: b.messageId,
      createdAt: new Date(b.createdAt),
      requestedExecutionDate: b.requestedExecutionDate,
      debtor: b.debtor,
      transfers: event.endToEndIds.map((id) => {
        const p = byId.get(id)!;
        return { endToEndId: p._id, amountCents: p.amountCents, creditorName: p.accountHolder, creditorIban: p.iban, remittance: p.remittance };
      }),
    });
    if (sha256(xml) !== b.sha256) throw new Error(`batch ${event.batchId}: the file rendered again differs from the one created`);
    return xml;
  }

  private async storeFile(event: PayoutEventDoc, xml: string): Promise<string> {
    const b = event.batch!;
    await insertOnce(this.deps.models.PayoutBatch, { _id: event.batchId!, xml, sha256: b.sha256, createdAt: new Date(b.createdAt) });
    await recordAudit(this.deps.models, {
      _id: `payout-batch:${event.batchId}:created`,
      at: event.at,
      actor: event.actor,
      action: 'payout_batch.created',
      target: `payout-batch:${event.batchId}`,
      after: { numberOfTransactions: b.numberOfTransactions, controlSumCents: b.controlSumCents, sha256: b.sha256 },
      ...(event.requestId ? { requestId: event.requestId } : {}),
    });
    return xml;
  }

  private summary(batchId: string): BatchSummary {
    const { event, executed } = this.batches.get(batchId)!;
    const b = event.batch!;
    return {
      id: batchId,
      createdAt: new Date(b.createdAt),
      createdBy: event.actor,
      requestedExecutionDate: b.requestedExecutionDate,
      numberOfTransactions: b.numberOfTransactions,
      controlSumCents: b.controlSumCents,
      sha256: b.sha256,
      endToEndIds: event.endToEndIds,
      executed: executed ? { at: executed.at, by: executed.actor } : null,
    };
  }
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** The next working day (Monday to Friday) after `at`, in Amsterdam. */
export function nextBusinessDay(at: Date): string {
  const d = new Date(`${amsterdamDate(at)}T12:00:00Z`);
  do d.setUTCDate(d.getUTCDate() + 1);
  while (d.getUTCDay() === 0 || d.getUTCDay() === 6);
  return d.toISOString().slice(0, 10);
}
