/**
 * The budget ledger: one append-only journal per budget year (`budget-<year>`), each
 * entry carrying the year's balances after it. Writing an entry and updating the
 * balances is therefore one insert: a crash cannot leave one without the other, and
 * two writers cannot both spend the last euro (see src/db/chain.ts for why this is
 * atomic on FerretDB, where a conditional update is not).
 *
 * The fold also keeps, per year, the gross movements per booking month (Amsterdam) for
 * the monitoring's `budgetYear`, and per application its movements, so `onMovement` (the
 * incremental monitoring summary, src/reports/tally.ts) is told each movement with the
 * application's movements before it. `onMovement` runs after the entry is stored, also
 * when a retry finds its entry (like the audit record): a crash between the two is
 * repaired by the activity's retry.
 */
import { addMovementKey } from '../db/keys.ts';
import { insertOnce, type LedgerEntryDoc, type Models } from '../db/models.ts';
import { recordAudit } from '../services/audit.ts';
import { Chain, chainEntryId, idRange, type AppendResult } from '../db/chain.ts';
import {
  applyMovement,
  balancesProblems,
  emptyBalances,
  remainingCents,
  sameBalances,
  type ApplicationShare,
  type Balances,
  type LedgerRefusal,
  type MovementKind,
} from '../domain/ledger.ts';
import { amsterdamDate } from '../domain/dates.ts';

export interface MovementMeta {
  actor: string;
  requestId?: string;
  note?: string;
}

export class LedgerRefused extends Error {
  readonly code: LedgerRefusal;
  readonly balances: Balances;
  constructor(code: LedgerRefusal, balances: Balances) {
    super(`ledger refused: ${code}`);
    this.name = 'LedgerRefused';
    this.code = code;
    this.balances = balances;
  }
}

interface YearState {
  year: number;
  chain: Chain<LedgerEntryDoc>;
  balances: Balances;
  shares: Map<string, ApplicationShare>;
  wijken: Map<string, string[]>;
  /** The public figures per wijk and the number of grants, kept up to date entry by entry (not summed per request). */
  perWijk: Map<string, { grants: number; grantedCents: number }>;
  grants: number;
  /** Gross movements per booking month (Amsterdam), `YYYY-MM`. */
  perMonth: Map<string, MonthMovements>;
  /** Each application's entries, in journal order. */
  byApplication: Map<string, LedgerEntryDoc[]>;
}

export interface MonthMovements {
  month: string;
  reservedCents: number;
  releasedCents: number;
  paidCents: number;
  reclaimedCents: number;
  refundedCents: number;
}

const movementField: Partial<Record<MovementKind, Exclude<keyof MonthMovements, 'month'>>> = {
  reserve: 'reservedCents',
  release: 'releasedCents',
  pay: 'paidCents',
  reclaim: 'reclaimedCents',
  refund: 'refundedCents',
};

/** Told every movement of an application once it is stored (again after a retry): the entry and the application's entries before it. */
export type MovementListener = (entry: LedgerEntryDoc, earlier: readonly LedgerEntryDoc[]) => Promise<void>;

/** What one application adds to the per-wijk figures: its net grant split evenly over its wijken. */
function addToWijken(y: YearState, applicationId: string, share: ApplicationShare, sign: 1 | -1): void {
  const net = share.committedCents + share.paidCents;
  if (net <= 0) return;
  y.grants += sign;
  // Split evenly over the wijken it serves, so the wijk figures add up to the total.
  const wijken = y.wijken.get(applicationId) ?? [];
  const names = wijken.length ? wijken : ['Gemeentebreed'];
  names.forEach((wijk, i) => {
    const part = Math.floor(net / names.length) + (i < net % names.length ? 1 : 0);
    const w = y.perWijk.get(wijk) ?? { grants: 0, grantedCents: 0 };
    w.grants += sign;
    w.grantedCents += sign * part;
    if (w.grants === 0 && w.grantedCents === 0) y.perWijk.delete(wijk);
    else y.perWijk.set(wijk, w);
  });
}

export type ReserveResult =
  | { outcome: 'reserved'; entryId: string; year: number; amountCents: number; balances: Balances }
  | { outcome: 'exhausted'; year: number; remainingCents: number; balances: Balances };

export interface BudgetSummary {
  year: number;
  totalCents: number;
  committedCents: number;
  paidCents: number;
  remainingCents: number;
  releasedCents: number;
  reclaimedCents: number;
  refundedCents: number;
  grants: number;
  pace: { shareUsed: number; shareOfYearGone: number; ratio: number | null; asOf: string };
  perWijk: { wijk: string; grants: number; grantedCents: number }[];
  /** Number of journal entries: a new grant changes it, so it doubles as a version for caches. */
  entries: number;
}

export interface JournalCheck {
  ok: boolean;
  years: { year: number; entries: number; balances: Balances; problems: string[] }[];
}

const zeroShare: ApplicationShare = { committedCents: 0, paidCents: 0 };
const round4 = (x: number) => Math.round(x * 10_000) / 10_000;

export class BudgetLedger {
  private readonly models: Models;
  private readonly defaultTotalCents: number;
  private readonly years = new Map<number, YearState>();
  private readonly onMovement: MovementListener | undefined;

  constructor(deps: { models: Models; defaultTotalCents: number; onMovement?: MovementListener }) {
    this.models = deps.models;
    this.defaultTotalCents = deps.defaultTotalCents;
    this.onMovement = deps.onMovement;
  }

  /** Opens the year's journal with the default total if nobody has yet. */
  async open(year: number): Promise<Balances> {
    return (await this.opened(year)).balances;
  }

  /** Reserves a grant once per application: a retry returns the first reservation. */
  async reserve(args: { applicationId: string; year: number; amountCents: number; wijken: string[] } & MovementMeta): Promise<ReserveResult> {
    const y = await this.opened(args.year);
    const result = await this.move(y, `reserve:${args.applicationId}`, 'reserve', args.amountCents, args);
    if ('refused' in result) {
      if (result.refused !== 'budget_exhausted') throw new LedgerRefused(result.refused, y.balances);
      return { outcome: 'exhausted', year: args.year, remainingCents: remainingCents(y.balances), balances: y.balances };
    }
    return { outcome: 'reserved', entryId: result.entry._id, year: args.year, amountCents: result.entry.amountCents, balances: result.entry.balances };
  }

  /** Gives (part of) a reservation back; without an amount, all of what is still reserved. */
  async release(args: { applicationId: string; year: number; key: string; amountCents?: number } & MovementMeta): Promise<LedgerEntryDoc> {
    const y = await this.opened(args.year);
    const amount = args.amountCents ?? this.share(y, args.applicationId).committedCents;
    return this.moveOrThrow(y, `release:${args.applicationId}:${args.key}`, 'release', amount, args);
  }

  /** Marks the reservation paid (once per application). */
  async pay(args: { applicationId: string; year: number } & MovementMeta): Promise<LedgerEntryDoc> {
    const y = await this.opened(args.year);
    const key = `pay:${args.applicationId}`;
    const earlier = y.chain.entryByKey(key);
    if (earlier) {
      await this.told(y, earlier);
      return earlier;
    }
    return this.moveOrThrow(y, key, 'pay', this.share(y, args.applicationId).committedCents, args);
  }

  /** Paid money taken back (`reclaim`) or paid back by the initiator (`refund`). */
  async returnPaid(args: { kind: 'reclaim' | 'refund'; applicationId: string; year: number; key: string; amountCents?: number } & MovementMeta): Promise<LedgerEntryDoc> {
    const y = await this.opened(args.year);
    const amount = args.amountCents ?? this.share(y, args.applicationId).paidCents;
    return this.moveOrThrow(y, `${args.kind}:${args.applicationId}:${args.key}`, args.kind, amount, args);
  }

  /** Sets the year's total; refused below what is committed and paid. Same total: nothing written. */
  async setTotal(args: { year: number; totalCents: number; key: string } & MovementMeta): Promise<{ balances: Balances; changed: boolean }> {
    const y = await this.opened(args.year);
    // Decided on the journal's end like every movement, so two saves of one total write one entry.
    const result = await this.move(y, `set_total:${args.year}:${args.key}`, 'set_total', args.totalCents, args);
    if ('refused' in result) {
      if (result.refused === 'unchanged') return { balances: y.balances, changed: false };
      throw new LedgerRefused(result.refused, y.balances);
    }
    return { balances: result.entry.balances, changed: result.created };
  }

  /** The year's balances now (a year nobody has written to yet has the default total). */
  async balances(year: number): Promise<Balances> {
    const y = this.state(year);
    const entries = await y.chain.read();
    return entries.length ? y.balances : emptyBalances(this.defaultTotalCents);
  }

  /** One application's share of a year as the journal has it. */
  async shareOf(year: number, applicationId: string): Promise<ApplicationShare> {
    const y = this.state(year);
    await y.chain.read();
    return this.share(y, applicationId);
  }

  /** Whether the year's journal has the entry with this idempotency key. */
  async hasEntry(year: number, key: string): Promise<boolean> {
    const y = this.state(year);
    await y.chain.read();
    return y.chain.entryByKey(key) !== undefined;
  }

  /** The public figures of a year. */
  async summary(year: number, now: Date): Promise<BudgetSummary> {
    const y = this.state(year);
    const entries = await y.chain.read();
    const b = entries.length ? y.balances : emptyBalances(this.defaultTotalCents);
    const { perWijk, grants } = y;
    const used = b.committedCents + b.paidCents;
    const shareUsed = b.totalCents > 0 ? used / b.totalCents : used > 0 ? 1 : 0;
    const shareOfYearGone = yearShareGone(year, now);
    return {
      year,
      ...b,
      remainingCents: remainingCents(b),
      grants,
      pace: {
        shareUsed: round4(shareUsed),
        shareOfYearGone: round4(shareOfYearGone),
        ratio: shareOfYearGone > 0 ? round4(shareUsed / shareOfYearGone) : null,
        asOf: amsterdamDate(now),
      },
      perWijk: [...perWijk].map(([wijk, w]) => ({ wijk, ...w })).sort((a, b) => a.wijk.localeCompare(b.wijk, 'nl')),
      entries: entries.length,
    };
  }

  /** The year's balances and its gross movements per booking month, from the fold (not summed per request). */
  async monthly(year: number): Promise<{ balances: Balances; perMonth: MonthMovements[] }> {
    const y = this.state(year);
    const entries = await y.chain.read();
    return {
      balances: entries.length ? y.balances : emptyBalances(this.defaultTotalCents),
      perMonth: [...y.perMonth.values()].map((m) => ({ ...m })).sort((a, b) => a.month.localeCompare(b.month)),
    };
  }

  /** The year's journal, oldest first. */
  async journal(year: number): Promise<readonly LedgerEntryDoc[]> {
    return this.state(year).chain.read();
  }

  /**
   * Proves the ledger from the database itself (not this process's cache): per year,
   * positions 1..n without a gap, an `open` first, every entry allowed by the rules on
   * what came before, its stored balances equal to the sum of the journal so far, and
   * committed + paid ≤ total after every entry.
   */
  async check(): Promise<JournalCheck> {
    return journalCheck(await this.checkers());
  }

  /** Every year's journal checked from its first entry: one read of the whole ledger (in `_id`, i.e. position, order). */
  async checkers(): Promise<Map<number, JournalChecker>> {
    const byYear = new Map<number, JournalChecker>();
    for await (const e of this.models.LedgerEntry.find({}).sort({ _id: 1 }).lean<LedgerEntryDoc[]>().cursor()) {
      let c = byYear.get(e.year);
      if (!c) byYear.set(e.year, (c = new JournalChecker(e.year)));
      c.add(e);
    }
    return byYear;
  }

  /** Checks what was appended to a year's journal since the checker's last entry (an `_id` range after it). */
  async checkAppended(checker: JournalChecker): Promise<void> {
    const chain = `budget-${checker.year}`;
    const after = { _id: { $gt: chainEntryId(chain, checker.entries), $lt: idRange(chain)._id.$lt } };
    for (const e of await this.models.LedgerEntry.find(after as never).sort({ _id: 1 }).lean<LedgerEntryDoc[]>()) checker.add(e);
  }

  /** Writes the audit records that a crash right after a ledger write left out. */
  async repairAudit(): Promise<number> {
    const entries = await this.models.LedgerEntry.find({}).lean();
    const have = new Set((await this.models.Audit.find({ _id: { $in: entries.map(auditId) } }, { _id: 1 }).lean()).map((a) => a._id));
    let written = 0;
    for (const e of entries) if (!have.has(auditId(e)) && (await this.audit(e, undefined))) written += 1;
    return written;
  }

  private state(year: number): YearState {
    let y = this.years.get(year);
    if (!y) {
      const state: YearState = {
        year,
        balances: emptyBalances(0),
        shares: new Map(),
        wijken: new Map(),
        perWijk: new Map(),
        grants: 0,
        perMonth: new Map(),
        byApplication: new Map(),
        chain: undefined as never,
      };
      state.chain = new Chain<LedgerEntryDoc>(this.models.LedgerEntry.collection as never, `budget-${year}`, {
        onEntry: (e) => this.fold(state, e),
        onReset: () => {
          state.balances = emptyBalances(0);
          state.shares.clear();
          state.wijken.clear();
          state.perWijk.clear();
          state.grants = 0;
          state.perMonth.clear();
          state.byApplication.clear();
        },
      });
      this.years.set(year, state);
      y = state;
    }
    return y;
  }

  private fold(y: YearState, e: LedgerEntryDoc): void {
    if (e.applicationId) {
      const before = this.share(y, e.applicationId);
      const r = applyMovement(y.balances, before, e);
      addToWijken(y, e.applicationId, before, -1);
      if (!('refused' in r)) y.shares.set(e.applicationId, r.share);
      if (e.kind === 'reserve' && e.wijken) y.wijken.set(e.applicationId, e.wijken);
      addToWijken(y, e.applicationId, this.share(y, e.applicationId), 1);
      const list = y.byApplication.get(e.applicationId);
      if (list) list.push(e);
      else y.byApplication.set(e.applicationId, [e]);
    }
    const field = movementField[e.kind];
    if (field) {
      const month = amsterdamDate(new Date(e.at)).slice(0, 7);
      let m = y.perMonth.get(month);
      if (!m) y.perMonth.set(month, (m = { month, reservedCents: 0, releasedCents: 0, paidCents: 0, reclaimedCents: 0, refundedCents: 0 }));
      m[field] += e.amountCents;
    }
    y.balances = e.balances;
  }

  /** Tells the listener about a stored movement of an application (see the header). */
  private async told(y: YearState, e: LedgerEntryDoc): Promise<void> {
    if (!this.onMovement || !e.applicationId) return;
    const all = y.byApplication.get(e.applicationId) ?? [];
    const at = all.findIndex((x) => x._id === e._id);
    await this.onMovement(e, at < 0 ? all : all.slice(0, at));
  }

  private share(y: YearState, applicationId: string): ApplicationShare {
    return y.shares.get(applicationId) ?? zeroShare;
  }

  /** Every year's journal starts with an `open` entry holding the default total. */
  private async opened(year: number): Promise<YearState> {
    const y = this.state(year);
    if (y.chain.known.length === 0) {
      const r = await this.move(y, `open:${year}`, 'open', this.defaultTotalCents, { actor: 'system' });
      if ('refused' in r) throw new LedgerRefused(r.refused, y.balances);
    }
    return y;
  }

  private async move(
    y: YearState,
    key: string,
    kind: MovementKind,
    amountCents: number,
    meta: MovementMeta & { applicationId?: string; wijken?: string[] },
  ): Promise<AppendResult<LedgerEntryDoc, LedgerRefusal>> {
    let before: Balances | undefined;
    const result = await y.chain.append<LedgerRefusal>(key, () => {
      before = y.balances;
      const r = applyMovement(y.balances, meta.applicationId ? this.share(y, meta.applicationId) : zeroShare, { kind, amountCents, applicationId: meta.applicationId });
      if ('refused' in r) return { refuse: r.refused };
      return {
        write: {
          year: y.year,
          kind,
          amountCents,
          actor: meta.actor,
          balances: r.balances,
          ...(meta.applicationId ? { applicationId: meta.applicationId } : {}),
          ...(meta.wijken ? { wijken: meta.wijken } : {}),
          ...(meta.requestId ? { requestId: meta.requestId } : {}),
          ...(meta.note ? { note: meta.note } : {}),
        },
      };
    });
    // Also after a retry that found its entry: the first attempt may have crashed before its audit.
    if ('entry' in result) {
      await this.audit(result.entry, result.created ? before : undefined);
      await this.told(y, result.entry);
    }
    return result;
  }

  private async moveOrThrow(y: YearState, key: string, kind: MovementKind, amountCents: number, meta: MovementMeta & { applicationId?: string }): Promise<LedgerEntryDoc> {
    const result = await this.move(y, key, kind, amountCents, meta);
    if ('refused' in result) throw new LedgerRefused(result.refused, y.balances);
    return result.entry;
  }

  /**
   * The entry's application key (its movements are found by it: the privacy export) and its
   * audit record, both after the entry: a crash before them leaves the audit record missing,
   * and `repairAudit` (at start) writes both.
   */
  private async audit(e: LedgerEntryDoc, before: Balances | undefined): Promise<boolean> {
    await addMovementKey(this.models, e);
    return recordAudit(this.models, {
      _id: auditId(e),
      at: e.at,
      actor: e.actor,
      action: e.kind === 'set_total' || e.kind === 'open' ? `budget.${e.kind}` : `ledger.${e.kind}`,
      target: e.applicationId ? `application:${e.applicationId}` : `budget:${e.year}`,
      ...(before ? { before } : {}),
      after: { entryId: e._id, amountCents: e.amountCents, balances: e.balances },
      ...(e.requestId ? { requestId: e.requestId } : {}),
    });
  }
}

const auditId = (e: LedgerEntryDoc) => `ledger:${e._id}`;

/**
 * The check of one year's journal, entry by entry in position order: each must be the next
 * position (an `open` first), allowed by the rules on what came before, with stored balances
 * equal to the sum so far and within the total. Kept between calls, it checks only what was
 * appended since (the readiness probe, src/budget/ledger-watch.ts).
 */
export class JournalChecker {
  readonly year: number;
  readonly problems: string[] = [];
  entries = 0;
  balances = emptyBalances(0);
  private readonly shares = new Map<string, ApplicationShare>();

  constructor(year: number) {
    this.year = year;
  }

  add(e: LedgerEntryDoc): void {
    const i = this.entries++;
    const where = `entry ${e._id}`;
    if (e.seq !== i + 1) this.problems.push(`${where}: position ${e.seq}, expected ${i + 1}`);
    if ((i === 0) !== (e.kind === 'open')) this.problems.push(`${where}: ${e.kind} ${i === 0 ? 'cannot open a journal' : 'after the opening'}`);
    const r = applyMovement(this.balances, (e.applicationId && this.shares.get(e.applicationId)) || zeroShare, e);
    if ('refused' in r) {
      this.problems.push(`${where}: ${e.kind} of ${e.amountCents} not allowed (${r.refused})`);
      return;
    }
    if (e.applicationId) this.shares.set(e.applicationId, r.share);
    this.balances = r.balances;
    if (!sameBalances(this.balances, e.balances)) this.problems.push(`${where}: stored balances differ from the journal's sum`);
    for (const p of balancesProblems(e.balances)) this.problems.push(`${where}: ${p}`);
  }

  result(): JournalCheck['years'][number] {
    return { year: this.year, entries: this.entries, balances: this.balances, problems: [...this.problems] };
  }
}

/** The verdict over checked journals. */
export function journalCheck(checkers: ReadonlyMap<number, JournalChecker>): JournalCheck {
  const years = [...checkers.values()].sort((a, b) => a.year - b.year).map((c) => c.result());
  return { ok: years.every((y) => y.problems.length === 0), years };
}

/** The check of one year's journal, as pure function of its entries in position order. */
export function checkJournal(year: number, entries: readonly LedgerEntryDoc[]): JournalCheck['years'][number] {
  const checker = new JournalChecker(year);
  for (const e of entries) checker.add(e);
  return checker.result();
}

/** The share of a calendar year gone at `now`, counted in whole Amsterdam days (today included). */
export function yearShareGone(year: number, now: Date): number {
  const today = amsterdamDate(now);
  const thisYear = Number(today.slice(0, 4));
  if (thisYear < year) return 0;
  if (thisYear > year) return 1;
  const dayOfYear = (Date.UTC(year, Number(today.slice(5, 7)) - 1, Number(today.slice(8, 10))) - Date.UTC(year, 0, 1)) / 86_400_000 + 1;
  const daysInYear = (Date.UTC(year + 1, 0, 1) - Date.UTC(year, 0, 1)) / 86_400_000;
  return dayOfYear / daysInYear;
}
