/**
 * The budget ledger: one append-only journal per budget year (`budget-<year>`), each
 * entry carrying the year's balances after it. Writing an entry and updating the
 * balances is therefore one insert: a crash cannot leave one without the other, and
 * two writers cannot both spend the last euro (see src/db/chain.ts for why this is
 * atomic on FerretDB, where a conditional update is not).
 *
 * A year is read from its newest snapshot and the entries after it, an application's
 * entries by key (src/budget/journal.ts): no request, and no process's first use of a
 * year, reads the whole journal. Only `journal` (downloads) and the full check do.
 *
 * `onMovement` (the incremental monitoring summary, src/reports/tally.ts) is told each
 * movement with the application's entries before it. It runs after the entry is stored,
 * also when a retry finds its entry (like the audit record): a crash between the two is
 * repaired by the activity's retry.
 */
import type { Logger } from 'pino';
import { backfillKeysOnce } from '../db/keys.ts';
import type { LedgerEntryDoc, Models } from '../db/models.ts';
import { recordAudit } from '../services/audit.ts';
import { chainEntryId, idRange } from '../db/chain.ts';
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
import {
  auditId,
  entriesAfter,
  journalYears,
  newestSnapshot,
  ownerKey,
  shareAfter,
  vouchAudits,
  YEAR_OWNER,
  YearJournal,
  zeroShare,
  type Appended,
  type DayUse,
  type MonthMovements,
} from './journal.ts';

export type { DayUse, MonthMovements };

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

/** Told every movement of an application once it is stored (again after a retry): the entry and the application's entries before it. */
export type MovementListener = (entry: LedgerEntryDoc, earlier: readonly LedgerEntryDoc[]) => Promise<void>;

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

const round4 = (x: number) => Math.round(x * 10_000) / 10_000;

/** The owner of an idempotency key: `open:<year>` and `set_total:<year>:<k>` are the year's, the others `<kind>:<application>…`. */
function ownerOfKey(key: string): string {
  const [kind, who] = key.split(':');
  return kind === 'open' || kind === 'set_total' ? YEAR_OWNER : (who ?? YEAR_OWNER);
}

type Amount = number | ((share: ApplicationShare) => number);

export class BudgetLedger {
  private readonly models: Models;
  private readonly defaultTotalCents: number;
  private readonly snapshotEvery: number;
  private readonly logger: Logger | undefined;
  private readonly years = new Map<number, YearJournal>();
  private readonly onMovement: MovementListener | undefined;

  /** `snapshotEvery`: entries folded past the last snapshot before a process stores the next (500; small in tests). */
  constructor(deps: { models: Models; defaultTotalCents: number; onMovement?: MovementListener; snapshotEvery?: number; logger?: Logger }) {
    this.models = deps.models;
    this.defaultTotalCents = deps.defaultTotalCents;
    this.onMovement = deps.onMovement;
    this.snapshotEvery = deps.snapshotEvery ?? 500;
    this.logger = deps.logger;
  }

  /** Opens the year's journal with the default total if nobody has yet. */
  async open(year: number): Promise<Balances> {
    return (await this.opened(year)).read().then((f) => f.balances);
  }

  /** Reserves a grant once per application: a retry returns the first reservation. */
  async reserve(args: { applicationId: string; year: number; amountCents: number; wijken: string[] } & MovementMeta): Promise<ReserveResult> {
    await this.opened(args.year);
    const result = await this.move(args.year, `reserve:${args.applicationId}`, 'reserve', args.amountCents, args);
    if ('refused' in result) {
      if (result.refused !== 'budget_exhausted') throw new LedgerRefused(result.refused, result.balances);
      return { outcome: 'exhausted', year: args.year, remainingCents: remainingCents(result.balances), balances: result.balances };
    }
    return { outcome: 'reserved', entryId: result.entry._id, year: args.year, amountCents: result.entry.amountCents, balances: result.entry.balances };
  }

  /** Gives (part of) a reservation back; without an amount, all of what is still reserved. */
  async release(args: { applicationId: string; year: number; key: string; amountCents?: number } & MovementMeta): Promise<LedgerEntryDoc> {
    await this.opened(args.year);
    return this.moveOrThrow(args.year, `release:${args.applicationId}:${args.key}`, 'release', args.amountCents ?? ((s) => s.committedCents), args);
  }

  /** Marks the reservation paid (once per application). */
  async pay(args: { applicationId: string; year: number } & MovementMeta): Promise<LedgerEntryDoc> {
    await this.opened(args.year);
    return this.moveOrThrow(args.year, `pay:${args.applicationId}`, 'pay', (s) => s.committedCents, args);
  }

  /** Paid money taken back (`reclaim`) or paid back by the initiator (`refund`). */
  async returnPaid(args: { kind: 'reclaim' | 'refund'; applicationId: string; year: number; key: string; amountCents?: number } & MovementMeta): Promise<LedgerEntryDoc> {
    await this.opened(args.year);
    return this.moveOrThrow(args.year, `${args.kind}:${args.applicationId}:${args.key}`, args.kind, args.amountCents ?? ((s) => s.paidCents), args);
  }

  /** Sets the year's total; refused below what is committed and paid. Same total: nothing written. */
  async setTotal(args: { year: number; totalCents: number; key: string } & MovementMeta): Promise<{ balances: Balances; changed: boolean }> {
    await this.opened(args.year);
    // Decided on the journal's end like every movement, so two saves of one total write one entry.
    const result = await this.move(args.year, `set_total:${args.year}:${args.key}`, 'set_total', args.totalCents, args);
    if ('refused' in result) {
      if (result.refused === 'unchanged') return { balances: result.balances, changed: false };
      throw new LedgerRefused(result.refused, result.balances);
    }
    return { balances: result.entry.balances, changed: result.created };
  }

  /** The year's balances now (a year nobody has written to yet has the default total). */
  async balances(year: number): Promise<Balances> {
    const f = await this.journalOf(year).read();
    return f.seq ? f.balances : emptyBalances(this.defaultTotalCents);
  }

  /** The last position of the year's journal (0: nobody wrote to it yet). */
  async end(year: number): Promise<number> {
    return (await this.journalOf(year).read()).seq;
  }

  /** One application's share of a year as the journal has it (its entries, read by key). */
  async shareOf(year: number, applicationId: string): Promise<ApplicationShare> {
    return shareAfter(await this.journalOf(year).entriesOf(applicationId));
  }

  /** Whether the year's journal has the entry with this idempotency key (looked up among its owner's entries). */
  async hasEntry(year: number, key: string): Promise<boolean> {
    return (await this.journalOf(year).entriesOf(ownerOfKey(key))).some((e) => e.key === key);
  }

  /** The public figures of a year. */
  async summary(year: number, now: Date): Promise<BudgetSummary> {
    const f = await this.journalOf(year).read();
    const b = f.seq ? f.balances : emptyBalances(this.defaultTotalCents);
    const used = b.committedCents + b.paidCents;
    const shareUsed = b.totalCents > 0 ? used / b.totalCents : used > 0 ? 1 : 0;
    const shareOfYearGone = yearShareGone(year, now);
    return {
      year,
      ...b,
      remainingCents: remainingCents(b),
      grants: f.grants,
      pace: {
        shareUsed: round4(shareUsed),
        shareOfYearGone: round4(shareOfYearGone),
        ratio: shareOfYearGone > 0 ? round4(shareUsed / shareOfYearGone) : null,
        asOf: amsterdamDate(now),
      },
      perWijk: [...f.perWijk].map(([wijk, w]) => ({ wijk, ...w })).sort((a, b) => a.wijk.localeCompare(b.wijk, 'nl')),
      entries: f.seq,
    };
  }

  /** The year's balances and its gross movements per booking month, from the fold (not summed per request). */
  async monthly(year: number): Promise<{ balances: Balances; perMonth: MonthMovements[] }> {
    const f = await this.journalOf(year).read();
    return {
      balances: f.seq ? f.balances : emptyBalances(this.defaultTotalCents),
      perMonth: [...f.perMonth.values()].map((m) => ({ ...m })).sort((a, b) => a.month.localeCompare(b.month)),
    };
  }

  /** Committed + paid after the last entry of each Amsterdam day with entries (the pace chart), in position order. */
  async usedPerDay(year: number): Promise<DayUse[]> {
    const f = await this.journalOf(year).read();
    return [...f.perDay.values()].map((d) => ({ ...d })).sort((a, b) => a.seq - b.seq);
  }

  /** Reads the year to its end and stores a snapshot there (the migration; tests). */
  async settle(year: number): Promise<void> {
    await this.journalOf(year).settle();
  }

  /** The year's whole journal, oldest first, read from the database: for downloads and tests only (it grows with the year). */
  async journal(year: number): Promise<readonly LedgerEntryDoc[]> {
    return entriesAfter(this.models, year, 0);
  }

  /** A page of the year's journal by position (an `_id` range) and how many entries it has. */
  async journalPage(year: number, offset: number, limit: number): Promise<{ total: number; entries: LedgerEntryDoc[] }> {
    const total = await this.end(year);
    const chain = `budget-${year}`;
    const range = { _id: { $gt: chainEntryId(chain, offset), $lte: chainEntryId(chain, Math.min(offset + limit, total)) } };
    const entries = offset < total ? ((await this.models.LedgerEntry.collection.find(range as never).sort({ _id: 1 }).toArray()) as unknown as LedgerEntryDoc[]) : [];
    return { total, entries };
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

  /**
   * Writes the audit records that a crash right after a ledger write left out. Bounded: every
   * entry up to a year's newest snapshot has its audit record (checked before the snapshot is
   * stored: src/budget/journal.ts), so only the entries after it are read.
   */
  async repairAudit(): Promise<number> {
    let written = 0;
    for (const year of await journalYears(this.models)) {
      const snapshot = await newestSnapshot(this.models, year);
      let before = snapshot?.balances ?? emptyBalances(0);
      const list = (await entriesAfter(this.models, year, snapshot?.seq ?? 0)).map((entry) => {
        const item = { entry, before };
        before = entry.balances;
        return item;
      });
      written += await vouchAudits(this.models, list, (e, b) => this.audit(e, b));
    }
    return written;
  }

  private journalOf(year: number): YearJournal {
    let j = this.years.get(year);
    if (!j) {
      j = new YearJournal({
        models: this.models,
        year,
        snapshotEvery: this.snapshotEvery,
        audit: (e, before) => this.audit(e, before),
        onSnapshotError: (err, y) => this.logger?.warn({ err, year: y }, 'ledger: snapshot not stored; the next fold tries again'),
      });
      this.years.set(year, j);
    }
    return j;
  }

  /** Every year's journal starts with an `open` entry holding the default total. */
  private async opened(year: number): Promise<YearJournal> {
    const j = this.journalOf(year);
    if (!j.known && (await j.read()).seq === 0) {
      const r = await this.move(year, `open:${year}`, 'open', this.defaultTotalCents, { actor: 'system' });
      if ('refused' in r) throw new LedgerRefused(r.refused, r.balances);
    }
    return j;
  }

  private async move(year: number, key: string, kind: MovementKind, amount: Amount, meta: MovementMeta & { applicationId?: string; wijken?: string[] }): Promise<Appended> {
    let before: Balances | undefined;
    const { applicationId } = meta;
    const result = await this.journalOf(year).append(key, applicationId ?? YEAR_OWNER, (balances, share, wijken) => {
      before = balances;
      const amountCents = typeof amount === 'number' ? amount : amount(share);
      const r = applyMovement(balances, applicationId ? share : zeroShare, { kind, amountCents, ...(applicationId ? { applicationId } : {}) });
      if ('refused' in r) return { refuse: r.refused };
      // An application's entries carry its share before and after and its wijken: the fold needs nothing else.
      const w = kind === 'reserve' ? meta.wijken : wijken;
      return {
        write: {
          year,
          kind,
          amountCents,
          actor: meta.actor,
          balances: r.balances,
          ...(applicationId ? { applicationId, shareBefore: share, shareAfter: r.share } : {}),
          ...(w ? { wijken: [...w] } : {}),
          ...(meta.requestId ? { requestId: meta.requestId } : {}),
          ...(meta.note ? { note: meta.note } : {}),
        },
      };
    }, kind === 'reserve');
    // Also after a retry that found its entry: the first attempt may have crashed before its audit.
    if ('entry' in result) {
      await this.audit(result.entry, result.created ? before : undefined);
      if (this.onMovement && result.entry.applicationId) await this.onMovement(result.entry, result.earlier);
    }
    return result;
  }

  private async moveOrThrow(year: number, key: string, kind: MovementKind, amount: Amount, meta: MovementMeta & { applicationId?: string }): Promise<LedgerEntryDoc> {
    const result = await this.move(year, key, kind, amount, meta);
    if ('refused' in result) throw new LedgerRefused(result.refused, result.balances);
    return result.entry;
  }

  /** The entry's audit record (after the entry: a crash before it is repaired when the next snapshot is stored, or at start by `repairAudit`). */
  private async audit(e: LedgerEntryDoc, before: Balances | undefined): Promise<boolean> {
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

export const LEDGER_MIGRATED = 'migration:ledger-snapshots:v1';

/**
 * Upgrades journals written before snapshots, once per database (a marker in `keys`; a crash
 * half-way does it again, which changes nothing): the owner key of every entry (src/budget/
 * journal.ts), then per year one fold from entry 1 with a snapshot at its end (the audit
 * records of every entry vouched for on the way). Reads the ledger once, at start-up: run it
 * before anything of this version opens a budget year (src/start.ts). Upgrade order: stop
 * the older api and worker, start the api (it runs this before it listens), then the worker.
 */
export async function backfillLedger(models: Models, ledger: BudgetLedger): Promise<number> {
  return backfillKeysOnce(models, LEDGER_MIGRATED, async (add) => {
    const years = new Set<number>();
    for await (const e of models.LedgerEntry.find({}, { _id: 1, applicationId: 1, year: 1 }).lean<Pick<LedgerEntryDoc, '_id' | 'applicationId' | 'year'>[]>().cursor()) {
      years.add(e.year);
      await add(ownerKey(e));
    }
    for (const year of years) await ledger.settle(year);
  });
}

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
