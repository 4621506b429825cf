/**
 * One budget year's journal (`budget-<year>:<n>`, collection `ledger_entries`) as the
 * ledger reads and writes it, with a cost that does not grow with the year (issue #11).
 *
 * The fold. What the year's pages and reports need (balances, the figures per wijk, the
 * number of grants, gross movements per month, committed + paid per day for the pace
 * chart) is folded from the entries one by one, and every entry carries what its fold
 * needs: the year's balances after it and, for an application's entry, the application's
 * share before and after it and its wijken. So the fold needs no earlier entry.
 *
 * Snapshots. A process that has folded `snapshotEvery` entries past the snapshot it
 * started from (or stored) stores the fold as `budget-<year>-snapshot:<n>` (collection
 * `ledger_snapshots`, a unique insert: its content is a pure function of entries 1..n,
 * so two processes storing it agree). A fresh process reads the newest snapshot (an
 * `_id` range, descending, limit 1) and the entries after it (an `_id` range), never
 * the whole year. A year without a snapshot is folded from entry 1 (it is short, or it
 * is migrated: below). Before a snapshot is stored, the audit records of the entries
 * since the previous one are checked (one `$in` per 1,000) and any a crash left out
 * written: every entry up to the newest snapshot has its audit record, so the start-up
 * repair (`vouchAudits` from the ledger's `repairAudit`) reads only the tail.
 *
 * An application's own entries (its share, its idempotency keys `reserve:<A>`,
 * `pay:<A>`, `release:<A>:<k>`, …, the monitoring's `earlier`) are read on demand by key:
 * `movement:<A>:<entry>` (src/db/keys.ts), the year's own entries (`open:<year>`,
 * `set_total:<year>:<k>`) by `ledger-year:<year>:<entry>`. The key is written BEFORE the
 * entry is inserted and names the position the writer is about to take, so every stored
 * entry has its key: the entries of A at positions up to the end this process has folded
 * are all found (they were stored before it learnt that end, and their keys before them).
 * A key whose position went to another application's entry, or stayed empty (a crash, a
 * lost race), is skipped: readers check the entry's application and position. This
 * process keeps the entries it read per owner and adds every entry it folds after that,
 * so they stay complete up to its end (a bounded number of owners is kept). A reservation,
 * which can only be its application's first entry, is decided without that read: if the
 * application has one already (a retry), the unique `key` refuses the insert, and a refusal
 * is only given after the read.
 *
 * Writing is the chain of src/db/chain.ts: requests are decided on the journal's end
 * (balances as folded, the application's share from its entries) and inserted at the
 * next positions, in groups; the unique `_id` lets one writer take each position, and a
 * writer that loses one reads the tail it missed, folds it and decides again. A refusal
 * is decided on a read of the end made after the request arrived. `key` has a unique
 * index too: a retry finds its entry among the owner's entries and gets it back.
 *
 * Upgrade from journals without shares on their entries: `backfillLedger` (src/budget/
 * ledger.ts, run by src/start.ts before the api opens the budget year or listens) writes
 * the owner keys of every entry and a snapshot at each journal's end (one full fold, at
 * start-up). Stop every process of the older version first and start the worker after
 * the api: an entry without shares found after a snapshot cannot be folded (an error
 * naming this header).
 */
import type { Collection } from 'mongodb';
import { addKeys, keyId, movementKey, refsUnder } from '../db/keys.ts';
import { chainEntryId, idRange } from '../db/chain.ts';
import { insertOnce, isDuplicateKeyError, type KeyDoc, type LedgerEntryDoc, type LedgerSnapshotDoc, type Models } from '../db/models.ts';
import { emptyBalances, type ApplicationShare, type Balances, type LedgerRefusal, type MovementKind } from '../domain/ledger.ts';
import { amsterdamDate } from '../domain/dates.ts';

export interface MonthMovements {
  month: string;
  reservedCents: number;
  releasedCents: number;
  paidCents: number;
  reclaimedCents: number;
  refundedCents: number;
}

/** Committed + paid after the last entry (in position order) of an Amsterdam day, and that entry's position. */
export interface DayUse {
  day: string;
  seq: number;
  usedCents: number;
}

/** The fold of a year's journal up to position `seq`. */
export interface YearFigures {
  seq: number;
  balances: Balances;
  perWijk: Map<string, { grants: number; grantedCents: number }>;
  grants: number;
  perMonth: Map<string, MonthMovements>;
  perDay: Map<string, DayUse>;
}

export const emptyFigures = (): YearFigures => ({ seq: 0, balances: emptyBalances(0), perWijk: new Map(), grants: 0, perMonth: new Map(), perDay: new Map() });

export const zeroShare: ApplicationShare = { committedCents: 0, paidCents: 0 };

/** What a stored movement does to its application's share (the rules of src/domain/ledger.ts, for entries they allowed). */
export function nextShare(s: ApplicationShare, e: Pick<LedgerEntryDoc, 'kind' | 'amountCents'>): ApplicationShare {
  const a = e.amountCents;
  switch (e.kind) {
    case 'reserve':
      return { ...s, committedCents: s.committedCents + a };
    case 'release':
      return { ...s, committedCents: s.committedCents - a };
    case 'pay':
      return { committedCents: s.committedCents - a, paidCents: s.paidCents + a };
    case 'reclaim':
    case 'refund':
      return { ...s, paidCents: s.paidCents - a };
    default:
      return s;
  }
}

/** An application's share after its entries (in position order). */
export const shareAfter = (entries: readonly LedgerEntryDoc[]): ApplicationShare => entries.reduce<ApplicationShare>((s, e) => e.shareAfter ?? nextShare(s, e), zeroShare);

/** An application's wijken: on its reservation (and, since snapshots, on each of its entries). */
export const wijkenOf = (entries: readonly LedgerEntryDoc[]): string[] | undefined => entries.findLast((e) => e.wijken)?.wijken;

const movementField: Partial<Record<MovementKind, Exclude<keyof MonthMovements, 'month'>>> = {
  reserve: 'reservedCents',
  release: 'releasedCents',
  pay: 'paidCents',
  reclaim: 'reclaimedCents',
  refund: 'refundedCents',
};

/** What one application adds to the per-wijk figures: its net grant split evenly over its wijken. */
function addToWijken(f: YearFigures, wijken: readonly string[], share: ApplicationShare, sign: 1 | -1): void {
  const net = share.committedCents + share.paidCents;
  if (net <= 0) return;
  f.grants += sign;
  // Split evenly over the wijken it serves, so the wijk figures add up to the total.
  const names = wijken.length ? wijken : ['Gemeentebreed'];
  names.forEach((wijk, i) => {
    const part = Math.floor(net / names.length) + (i < net % names.length ? 1 : 0);
    const w = f.perWijk.get(wijk) ?? { grants: 0, grantedCents: 0 };
    w.grants += sign;
    w.grantedCents += sign * part;
    if (w.grants === 0 && w.grantedCents === 0) f.perWijk.delete(wijk);
    else f.perWijk.set(wijk, w);
  });
}

/** An application's entry as the fold sees it: its share before and after, its wijken. */
export interface ShareMove {
  before: ApplicationShare;
  after: ApplicationShare;
  wijken: readonly string[];
}

/** Folds one entry (the next position) into the figures; `move` for an application's entry. */
export function foldEntry(f: YearFigures, e: LedgerEntryDoc, move: ShareMove | undefined): void {
  if (move) {
    addToWijken(f, move.wijken, move.before, -1);
    addToWijken(f, move.wijken, move.after, 1);
  }
  const field = movementField[e.kind];
  const day = amsterdamDate(new Date(e.at));
  if (field) {
    const month = day.slice(0, 7);
    let m = f.perMonth.get(month);
    if (!m) f.perMonth.set(month, (m = { month, reservedCents: 0, releasedCents: 0, paidCents: 0, reclaimedCents: 0, refundedCents: 0 }));
    m[field] += e.amountCents;
  }
  f.perDay.set(day, { day, seq: e.seq, usedCents: e.balances.committedCents + e.balances.paidCents });
  f.balances = e.balances;
  f.seq = e.seq;
}

/** The move an entry that carries its shares makes (undefined for the year's own entries). */
export function carriedMove(e: LedgerEntryDoc): ShareMove | undefined {
  if (!e.applicationId) return undefined;
  if (!e.shareBefore || !e.shareAfter) throw new Error(`ledger entry ${e._id} carries no shares and follows a snapshot: written by an older version after the upgrade (see src/budget/journal.ts)`);
  return { before: e.shareBefore, after: e.shareAfter, wijken: e.wijken ?? [] };
}

/**
 * The shares of every application of a journal folded from entry 1, for entries that do not
 * carry theirs (written before snapshots): what the fold kept for every application before.
 */
export class FullShares {
  private readonly apps = new Map<string, { share: ApplicationShare; wijken: string[] | undefined }>();

  move(e: LedgerEntryDoc): ShareMove | undefined {
    if (!e.applicationId) return undefined;
    const had = this.apps.get(e.applicationId);
    const before = had?.share ?? zeroShare;
    const wijken = e.wijken ?? had?.wijken;
    const after = e.shareAfter ?? nextShare(before, e);
    this.apps.set(e.applicationId, { share: after, wijken });
    return { before, after, wijken: wijken ?? [] };
  }
}

export const snapshotPrefix = (year: number) => `budget-${year}-snapshot`;

export function toSnapshot(year: number, f: YearFigures): LedgerSnapshotDoc {
  const byName = <T>(m: Map<string, T>) => [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    _id: chainEntryId(snapshotPrefix(year), f.seq),
    year,
    seq: f.seq,
    balances: { ...f.balances },
    grants: f.grants,
    perWijk: byName(f.perWijk).map(([wijk, w]) => ({ wijk, ...w })),
    perMonth: byName(f.perMonth).map(([, m]) => ({ ...m })),
    perDay: byName(f.perDay).map(([, d]) => ({ ...d })),
    at: new Date(),
  };
}

export function fromSnapshot(s: LedgerSnapshotDoc): YearFigures {
  return {
    seq: s.seq,
    balances: { ...s.balances },
    grants: s.grants,
    perWijk: new Map(s.perWijk.map(({ wijk, grants, grantedCents }) => [wijk, { grants, grantedCents }])),
    perMonth: new Map(s.perMonth.map((m) => [m.month, { ...m }])),
    perDay: new Map(s.perDay.map((d) => [d.day, { ...d }])),
  };
}

/** The newest snapshot of a year (one `_id` range read, descending, limit 1). */
export async function newestSnapshot(models: Models, year: number): Promise<LedgerSnapshotDoc | undefined> {
  const [s] = await models.LedgerSnapshot.collection.find(idRange(snapshotPrefix(year)) as never).sort({ _id: -1 }).limit(1).toArray();
  return s as LedgerSnapshotDoc | undefined;
}

/** The entries of a year's journal after position `after` (an `_id` range), in position order. */
export async function entriesAfter(models: Models, year: number, after: number): Promise<LedgerEntryDoc[]> {
  const chain = `budget-${year}`;
  const range = { _id: { $gt: chainEntryId(chain, after), $lt: idRange(chain)._id.$lt } };
  return (await models.LedgerEntry.collection.find(range as never).sort({ _id: 1 }).toArray()) as unknown as LedgerEntryDoc[];
}

/** Whose an entry is: its application, or the year ('') for `open` and `set_total`. */
export const YEAR_OWNER = '';
export const ownerOf = (e: Pick<LedgerEntryDoc, 'applicationId'>): string => e.applicationId ?? YEAR_OWNER;

/** The key by which an entry is found under its owner (written before the entry). */
export function ownerKey(e: Pick<LedgerEntryDoc, '_id' | 'applicationId' | 'year'>): KeyDoc {
  return e.applicationId ? movementKey(e.applicationId, e._id) : { _id: keyId('ledger-year', [String(e.year)], e._id), ref: e._id };
}

/** The years that have a journal: the refs of every `ledger-year` key (each journal's own entries, a few per year). */
export async function journalYears(models: Models): Promise<number[]> {
  const years = new Set((await refsUnder(models, 'ledger-year', [])).map((k) => Number(/^budget-(\d+):/.exec(k.ref)?.[1])));
  return [...years].filter(Number.isInteger).sort((a, b) => a - b);
}

export const auditId = (e: Pick<LedgerEntryDoc, '_id'>) => `ledger:${e._id}`;

/**
 * Writes the audit records missing for these entries (each with the balances before it), checked
 * 1,000 at a time by `_id`. Returns how many were written.
 */
export async function vouchAudits(
  models: Models,
  list: readonly { entry: LedgerEntryDoc; before: Balances }[],
  audit: (e: LedgerEntryDoc, before: Balances) => Promise<boolean>,
): Promise<number> {
  let written = 0;
  for (let i = 0; i < list.length; i += 1000) {
    const chunk = list.slice(i, i + 1000);
    const found = await models.Audit.collection.find({ _id: { $in: chunk.map((c) => auditId(c.entry)) } } as never, { projection: { _id: 1 } }).toArray();
    const have = new Set(found.map((a) => a._id as unknown as string));
    for (const c of chunk) if (!have.has(auditId(c.entry)) && (await audit(c.entry, c.before))) written += 1;
  }
  return written;
}

/** What a request to write decides, on the balances at the end and its owner's share and wijken. */
export type Decide = (
  balances: Balances,
  share: ApplicationShare,
  wijken: readonly string[] | undefined,
) => { write: Omit<LedgerEntryDoc, '_id' | 'chain' | 'seq' | 'at' | 'key'>; refuse?: undefined } | { write?: undefined; refuse: LedgerRefusal };

/** An append's outcome: the entry (written now or found by its key) with its owner's entries before it, or a refusal on the balances then. */
export type Appended = { entry: LedgerEntryDoc; created: boolean; earlier: LedgerEntryDoc[] } | { refused: LedgerRefusal; balances: Balances };

interface AppendOp {
  kind: 'append';
  key: string;
  owner: string;
  /** The owner's first entry if it is new (a reservation): see `append`. */
  first: boolean;
  decide: Decide;
  readsAtArrival: number;
  resolve: (r: Appended) => void;
  reject: (err: unknown) => void;
}
interface ReadOp {
  kind: 'read';
  readsAtArrival: number;
  /** Also the entries of this owner. */
  owner?: string;
  /** Store a snapshot at the end now (the migration). */
  snapshot?: boolean;
  resolve: (r: { figures: YearFigures; entries: LedgerEntryDoc[] }) => void;
  reject: (err: unknown) => void;
}
type Op = AppendOp | ReadOp;
type Pending = { op: AppendOp; entry: LedgerEntryDoc };

/** Requests decided and inserted together at most. */
const GROUP = 64;
/** Owners whose entries a process keeps at most (the ones read longest ago are dropped first). */
const OWNERS_KEPT = 20_000;

export interface JournalOptions {
  models: Models;
  year: number;
  snapshotEvery: number;
  /** Writes an entry's audit record unless it exists (`before`: the balances before the entry). */
  audit: (e: LedgerEntryDoc, before: Balances) => Promise<boolean>;
  /** A snapshot that could not be stored (the next fold tries again). */
  onSnapshotError?: (err: unknown, year: number) => void;
}

export class YearJournal {
  readonly year: number;
  readonly name: string;
  private readonly options: JournalOptions;
  private readonly entries: Collection;
  private figures = emptyFigures();
  private loaded = false;
  private snapshotAt = 0;
  /** Set while the fold started at entry 1 and has stored no snapshot: shares for entries that carry none. */
  private full: FullShares | undefined;
  /** The entries folded since the snapshot the fold started from or stored last, with the balances before each. */
  private sinceSnapshot: { entry: LedgerEntryDoc; before: Balances }[] = [];
  private readonly owners = new Map<string, LedgerEntryDoc[]>();
  private readonly ops: Op[] = [];
  private running = false;
  /** Counts reads of the journal's end; a refusal needs one that began after its request arrived. */
  private reads = 0;

  constructor(options: JournalOptions) {
    this.options = options;
    this.year = options.year;
    this.name = `budget-${options.year}`;
    this.entries = options.models.LedgerEntry.collection as unknown as Collection;
  }

  /** The last position this process has folded, if it has loaded the journal. */
  get known(): number | undefined {
    return this.loaded ? this.figures.seq : undefined;
  }

  /** The fold up to the journal's end as of now (the object is this process's: read, do not keep). */
  async read(): Promise<YearFigures> {
    return (await this.request({})).figures;
  }

  /** An owner's entries up to the end as of now, in position order. */
  async entriesOf(owner: string): Promise<LedgerEntryDoc[]> {
    return (await this.request({ owner })).entries;
  }

  /** Reads up to the end and stores a snapshot there (unless one is). */
  async settle(): Promise<YearFigures> {
    return (await this.request({ snapshot: true })).figures;
  }

  /**
   * Appends the owner's entry under `key` once: `decide` is called on the journal's end (again
   * after a lost position); a key the owner has already returns that entry. `first`: an entry
   * that can only be its owner's first (a reservation: every other movement follows one), so
   * unless this process has the owner's entries it is decided as the first without reading
   * them by key; if it is not new after all, the unique `key` refuses the insert and the
   * owner's entries are read then (a retry), as they are before any refusal.
   */
  append(key: string, owner: string, decide: Decide, first = false): Promise<Appended> {
    return new Promise((resolve, reject) => this.enqueue({ kind: 'append', key, owner, first, decide, readsAtArrival: this.reads, resolve, reject }));
  }

  private request(r: { owner?: string; snapshot?: boolean }): Promise<{ figures: YearFigures; entries: LedgerEntryDoc[] }> {
    return new Promise((resolve, reject) => this.enqueue({ kind: 'read', readsAtArrival: this.reads, ...r, resolve, reject }));
  }

  private enqueue(op: Op): void {
    this.ops.push(op);
    if (this.running) return;
    this.running = true;
    void this.drain();
  }

  /** Works through the queue a group at a time; requests made in the same turn join the first group. */
  private async drain(): Promise<void> {
    await Promise.resolve();
    // `running` goes false in the same turn as the last look at the queue: a request made after it starts a new drain.
    for (let group = this.ops.splice(0, GROUP); group.length || (this.running = false); group = this.ops.splice(0, GROUP)) {
      const pending: Pending[] = [];
      await this.process(group, pending).catch((err: unknown) => {
        for (const op of [...pending.map((p) => p.op), ...group]) op.reject(err);
      });
      // Drop the owners read longest ago (a Map iterates in the order they were read).
      if (this.owners.size > OWNERS_KEPT) for (const owner of [...this.owners.keys()].slice(0, this.owners.size - OWNERS_KEPT)) this.owners.delete(owner);
    }
  }

  /** Settles every op of the group; decided ones wait in `pending` for their insert. */
  private async process(group: Op[], pending: Pending[]): Promise<void> {
    if (!this.loaded) await this.load();
    while (group.length || pending.length) {
      const op = group[0];
      if (!op) {
        await this.flush(group, pending);
        continue;
      }
      if (op.kind === 'read') {
        // Reads see everything written before them: what this group decided is stored first.
        if (pending.length) {
          await this.flush(group, pending);
          continue;
        }
        // One read of the end made after the request arrived (the load's, or one now) serves every read waiting next to it.
        if (this.reads <= op.readsAtArrival) await this.catchUp();
        while (group[0]?.kind === 'read') {
          const r = group.shift() as ReadOp;
          if (r.snapshot) await this.snapshot(true);
          if (r.owner !== undefined) await this.ensureOwners([r.owner]);
          r.resolve({ figures: this.figures, entries: r.owner === undefined ? [] : [...this.owners.get(r.owner)!] });
        }
        continue;
      }
      await this.ensureOwners(group.flatMap((o) => (o.kind === 'append' && !o.first ? [o.owner] : [])));
      const assumedNew = !this.owners.has(op.owner);
      const stored = this.owners.get(op.owner) ?? [];
      const found = stored.find((e) => e.key === op.key);
      if (found) {
        group.shift();
        op.resolve({ entry: found, created: false, earlier: stored.filter((e) => e.seq < found.seq) });
        continue;
      }
      const mine = pending.filter((p) => p.op.owner === op.owner).map((p) => p.entry);
      if (mine.some((e) => e.key === op.key)) {
        await this.flush(group, pending); // the same key twice in one group: answer once the first is stored
        continue;
      }
      const history = [...stored, ...mine];
      const balances = pending.at(-1)?.entry.balances ?? this.figures.balances;
      const decision = op.decide(balances, shareAfter(history), wijkenOf(history));
      if (decision.write === undefined) {
        // Refuse only on the owner's entries, on what is stored and on a read made after the request arrived.
        if (assumedNew) {
          await this.ensureOwners([op.owner]);
          continue;
        }
        if (pending.length) {
          await this.flush(group, pending);
          continue;
        }
        if (this.reads <= op.readsAtArrival) {
          await this.catchUp();
          continue;
        }
        group.shift();
        op.resolve({ refused: decision.refuse, balances });
        continue;
      }
      const seq = this.figures.seq + pending.length + 1;
      pending.push({ op, entry: { ...decision.write, key: op.key, _id: chainEntryId(this.name, seq), chain: this.name, seq, at: new Date() } });
      group.shift();
    }
  }

  /** Inserts the decided entries (their owner keys first) in position order; a lost position hands the requests back to decide again. */
  private async flush(group: Op[], pending: Pending[]): Promise<void> {
    const batch = pending.splice(0);
    if (!batch.length) return;
    try {
      await addKeys(this.options.models, batch.map((p) => ownerKey(p.entry)));
      await this.entries.insertMany(
        batch.map((p) => p.entry as never),
        { ordered: true },
      );
    } catch (err) {
      try {
        group.unshift(...(await this.recover(batch, err)));
      } catch (readErr) {
        for (const p of batch) p.op.reject(readErr);
      }
      return;
    }
    this.accept(batch.map((p) => p.entry));
    for (const p of batch) p.op.resolve({ entry: p.entry, created: true, earlier: this.earlierOf(p.op.owner, p.entry) });
    await this.snapshot(false);
  }

  /**
   * After a failed insert: reads what is stored and settles what landed (ordered: a prefix of the
   * batch). A lost position hands the rest back to decide again; a free one means the first
   * entry's key is taken: by an earlier entry of its owner (a retry decided as its first: it gets
   * that entry) or in another year's journal (an error).
   */
  private async recover(batch: Pending[], err: unknown): Promise<AppendOp[]> {
    const read = new Map((await this.catchUp()).map((e) => [e._id, e]));
    let landed = 0;
    for (const p of batch) {
      const e = read.get(p.entry._id);
      if (!e || e.key !== p.entry.key || new Date(e.at).getTime() !== p.entry.at.getTime()) break;
      p.op.resolve({ entry: e, created: true, earlier: this.earlierOf(p.op.owner, e) });
      landed += 1;
    }
    const rest = batch.slice(landed);
    if (!rest.length) return [];
    if (!isDuplicateKeyError(err)) {
      for (const p of rest) p.op.reject(err);
      return [];
    }
    const [first, ...others] = rest as [Pending, ...Pending[]];
    if (this.figures.seq >= first.entry.seq) return rest.map((p) => p.op);
    await this.ensureOwners([first.op.owner]);
    const stored = this.owners.get(first.op.owner)!.find((e) => e.key === first.entry.key);
    if (stored) first.op.resolve({ entry: stored, created: false, earlier: this.earlierOf(first.op.owner, stored) });
    else {
      // Keys are unique across the collection: another year's journal holds it (an error path: a scan).
      const other = (await this.entries.findOne({ key: first.entry.key })) as LedgerEntryDoc | null;
      first.op.reject(new Error(other ? `key ${other.key} is already used in chain ${other.chain}` : 'insert refused as a duplicate, but nothing holds it', { cause: err }));
    }
    return others.map((p) => p.op);
  }

  /** The owner's entries before this one (none kept: it is the owner's first). */
  private earlierOf(owner: string, e: LedgerEntryDoc): LedgerEntryDoc[] {
    return (this.owners.get(owner) ?? []).filter((x) => x.seq < e.seq);
  }

  /** The newest snapshot, then the entries after it. */
  private async load(): Promise<void> {
    const snapshot = await newestSnapshot(this.options.models, this.year);
    this.figures = snapshot ? fromSnapshot(snapshot) : emptyFigures();
    this.snapshotAt = this.figures.seq;
    this.full = snapshot ? undefined : new FullShares();
    this.sinceSnapshot = [];
    this.owners.clear();
    this.loaded = true;
    await this.catchUp();
  }

  /** Reads the entries after the last folded position: usually one `_id` lookup that finds nothing. */
  private async catchUp(): Promise<LedgerEntryDoc[]> {
    this.reads += 1;
    const next = (await this.entries.findOne({ _id: chainEntryId(this.name, this.figures.seq + 1) } as never)) as LedgerEntryDoc | null;
    if (!next) return [];
    const read = this.accept([next, ...(await entriesAfter(this.options.models, this.year, next.seq))]);
    await this.snapshot(false);
    return read;
  }

  /** Folds stored entries in position order (stops at a gap) and adds them to the owners kept; returns those folded. */
  private accept(entries: readonly LedgerEntryDoc[]): LedgerEntryDoc[] {
    const folded: LedgerEntryDoc[] = [];
    for (const e of entries) {
      if (e.seq !== this.figures.seq + 1) break;
      const before = this.figures.balances;
      foldEntry(this.figures, e, this.full ? this.full.move(e) : carriedMove(e));
      this.sinceSnapshot.push({ entry: e, before });
      this.owners.get(ownerOf(e))?.push(e);
      folded.push(e);
    }
    return folded;
  }

  /** Reads by key the entries of the owners not kept yet (all stored up to the folded end have their key). */
  private async ensureOwners(owners: readonly string[]): Promise<void> {
    const missing = [...new Set(owners)].filter((o) => !this.owners.has(o));
    if (!missing.length) return;
    const upTo = this.figures.seq;
    const lists = await Promise.all(
      missing.map(async (owner) => {
        const keys = owner === YEAR_OWNER ? await refsUnder(this.options.models, 'ledger-year', [String(this.year)]) : await refsUnder(this.options.models, 'movement', [owner]);
        const ids = [...new Set(keys.map((k) => k.ref).filter((ref) => ref.startsWith(`${this.name}:`)))];
        const found = ids.length ? ((await this.entries.find({ _id: { $in: ids } } as never).toArray()) as unknown as LedgerEntryDoc[]) : [];
        return found.filter((e) => ownerOf(e) === owner && e.seq <= upTo).sort((a, b) => a.seq - b.seq);
      }),
    );
    missing.forEach((owner, i) => this.owners.set(owner, lists[i]!));
  }

  /**
   * Stores a snapshot at the folded end when `snapshotEvery` entries have been folded since the
   * last (or now, `force`), after the audit records of those entries are vouched for.
   */
  private async snapshot(force: boolean): Promise<void> {
    const { seq } = this.figures;
    if (seq === this.snapshotAt || (!force && seq - this.snapshotAt < this.options.snapshotEvery)) return;
    try {
      const doc = toSnapshot(this.year, this.figures);
      if (!(await this.options.models.LedgerSnapshot.exists({ _id: doc._id }))) {
        await vouchAudits(this.options.models, this.sinceSnapshot, this.options.audit);
        await insertOnce(this.options.models.LedgerSnapshot, doc);
      }
      this.snapshotAt = seq;
      this.sinceSnapshot = [];
      this.full = undefined;
    } catch (err) {
      if (force) throw err;
      this.options.onSnapshotError?.(err, this.year);
    }
  }
}
