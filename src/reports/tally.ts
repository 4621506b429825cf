/**
 * The monitoring summary, kept up to date as things happen instead of summed from every
 * application on each request (issue #11: at 100,000 applications that read took a minute).
 *
 * The figures of a submission year are sums over its applications (figures.ts,
 * `Aggregate`): what an application counts for can be taken out and put back. So every
 * change of what an application counts for is a delta, "this row before, this row after",
 * appended to the year's chain in `report_tallies`:
 *   - `new:<application>` (no before): the application as intake stored it; written by
 *     intake once its workflow has started (an undone intake writes none), and again by the
 *     application's first status projection, which repairs a crash in between;
 *   - `status:<application>:<seq>`: the status projection (activities/applications.ts)
 *     writes it BEFORE it updates the application, decided on the application as read:
 *     a retry after a crash between the two reads the same application, decides the same
 *     delta under the same key, and finds it written; a projection that is stale (the
 *     application is further) writes none. Only what the figures use is compared: a
 *     projection that changes none of it writes nothing;
 *   - `ledger:<entry>`: a payment, reclaim or refund (the ledger's `onMovement`, after the
 *     entry is stored, again when a retry finds its entry): the application's money before
 *     and after the movement, both rows otherwise alike, so only the money moves.
 * Erasure changes none of the figures (erasure.ts keeps them) and writes no delta.
 *
 * Writing. Entry n of year Y is `tally-Y:<n>`: a writer inserts at the end it knows and
 * moves on when the position is taken (the chain idea of src/db/chain.ts, without its
 * decide step: a delta is unconditional, so a writer needs the chain's end, not its
 * entries). `key` has a unique index: an insert refused while its position is free was
 * refused for its key, so the delta is already counted. That holds for keys written
 * long ago too, which an in-memory list of keys (`Chain`) would not know once the chain
 * is read from a snapshot. Deltas of one process are queued and inserted together.
 *
 * Reading. The year's newest snapshot `tally-Y-snapshot:<p>` (the fold of entries 1..p,
 * one `_id` range read, descending, limit 1) plus the entries after p (an `_id` range),
 * folded; this process keeps the fold and reads only what came after it. A reader that
 * has folded `snapshotEvery` entries past the snapshot it started from stores a new one
 * (a unique insert; the content is the sum of entries 1..p, so concurrent writers agree);
 * a writer whose entries cross a multiple of `snapshotEvery` folds (and so stores one) in
 * the background, so the tail a fresh process reads stays short even when nobody reads.
 * A summary therefore reads the entries since the last snapshot at most, never the
 * applications or the journals, and is always current: `asOf` is the time of the request.
 *
 * The same fold also counts the applications per status and wijk (`listCountKey`): the
 * staff's list takes its total from `count` (src/services/applications.ts) instead of
 * counting its keys, which grew with the list (bench/scale: 1.2 ms at 1,000, 12 ms at
 * 100,000).
 *
 * Start-up (`backfillTally`, from src/start.ts like the key backfills): a database from
 * before this summary (or before its counts: marker v2) gets, once, a snapshot per year at
 * its chain's end computed from every application and journal: the one full read, at
 * start-up. It must finish
 * before a process of this version changes anything (start.ts runs it before the api
 * listens; start the worker after the api on such an upgrade).
 */
import type { Logger } from 'pino';
import { chainEntryId, idRange } from '../db/chain.ts';
import { insertOnce, isDuplicateKeyError, type LedgerEntryDoc, type Models, type TallyDoc } from '../db/models.ts';
import { addKeys, keyId, refsUnder } from '../db/keys.ts';
import { amsterdamMonthOf, countedProjection, countRow, listCountKey, moneyByApplication, noMoney, rowOf, type Aggregate, type CountedRow, type Doc, type Figures, type Money } from './figures.ts';

/** The fields of an application the figures use, and its projection's sequence number (activities/applications.ts). */
export const tallyProjection = { ...countedProjection, statusSeq: 1 } as const;

const monthOfYear = new Map<number, (t: number) => number>();

/** What an application counts for, from its stored fields (`tallyProjection`) and its money. */
export function countedRowOf(doc: { _id: string; year: number }, money: Money = noMoney()): CountedRow {
  let monthOf = monthOfYear.get(doc.year);
  if (!monthOf) monthOfYear.set(doc.year, (monthOf = amsterdamMonthOf(doc.year)));
  const r = rowOf(doc as unknown as Doc, new Map([[doc._id, money]]), monthOf);
  return {
    status: r.status,
    month: r.month,
    wijken: r.wijken,
    purposes: r.purposes,
    requestedCents: r.requestedCents,
    ...(r.decision ? { decision: r.decision } : {}),
    decidedGrantCents: r.decidedGrantCents,
    expectedParticipants: r.expectedParticipants,
    expectedVolunteers: r.expectedVolunteers,
    ...(r.report ? { report: { participants: r.report.participants, volunteers: r.report.volunteers } } : {}),
    ...(r.trafficLight ? { trafficLight: r.trafficLight } : {}),
    money: { paidCents: money.paidCents, reclaimedCents: money.reclaimedCents, refundedCents: money.refundedCents },
  };
}

/** The rows of a money delta: the application's place (month, wijken, purposes) and its money; nothing else, so only the money moves. */
export function moneyRow(row: CountedRow, money: Money): CountedRow {
  return {
    status: 'submitted',
    month: row.month,
    wijken: row.wijken,
    purposes: row.purposes,
    requestedCents: 0,
    decidedGrantCents: 0,
    expectedParticipants: 0,
    expectedVolunteers: 0,
    money: { paidCents: money.paidCents, reclaimedCents: money.reclaimedCents, refundedCents: money.refundedCents },
  };
}

export const tallyKey = {
  created: (applicationId: string) => `new:${applicationId}`,
  status: (applicationId: string, seq: number) => `status:${applicationId}:${seq}`,
  movement: (entryId: string) => `ledger:${entryId}`,
};

const chainName = (year: number) => `tally-${year}`;
const snapshotPrefix = (year: number) => `tally-${year}-snapshot`;
const snapshotId = (year: number, seq: number) => chainEntryId(snapshotPrefix(year), seq);
/**
 * Marks that the snapshots of the data stored before were written: v1 the summary's
 * figures, v2 also the staff list's counts per status and wijk (`listCountKey`).
 */
export const TALLY_MIGRATED = 'migration:tally:v2';
/** The years that have a chain: a key each (`tally-year:<year>`), written before the year's first delta. */
const yearKey = (year: number) => ({ _id: keyId('tally-year', [], String(year)), ref: String(year) });

/** How a snapshot stores the aggregate (FerretDB v1 stores no arrays directly in arrays). */
type Groups = { key: string; figures: Figures[] }[];
const toGroups = (agg: Aggregate): Groups => [...agg].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, figures]) => ({ key, figures }));
const fromGroups = (groups: Groups | undefined): Aggregate => new Map((groups ?? []).map((g) => [g.key, g.figures]));

export function foldDelta(agg: Aggregate, d: Pick<TallyDoc, 'before' | 'after'>): void {
  if (d.before) countRow(agg, d.before as CountedRow, -1);
  if (d.after) countRow(agg, d.after as CountedRow, 1);
}

const sameRow = (a: CountedRow, b: CountedRow) => JSON.stringify(a) === JSON.stringify(b);

interface Append {
  key: string;
  before?: CountedRow;
  after?: CountedRow;
  resolve: (created: boolean) => void;
  reject: (err: unknown) => void;
}
interface Writer {
  tip?: number;
  /** This process wrote (or found) the year's key. */
  yearKeyed?: boolean;
  queue: Append[];
  running: boolean;
}
interface Reader {
  loaded: boolean;
  agg: Aggregate;
  upTo: number;
  snapshotAt: number;
  running?: Promise<void>;
  queued?: Promise<void>;
}

/** Deltas inserted together at most. */
const GROUP = 64;

/** The first write error of a failed (ordered) insert: how many documents went in before it, and its code. */
function firstWriteError(err: unknown): { index: number; code: unknown } {
  const we = (err as { writeErrors?: unknown }).writeErrors;
  const first = (Array.isArray(we) ? we[0] : we) as { index?: number; code?: unknown; err?: { index?: number; code?: unknown } } | undefined;
  if (!first) return { index: 0, code: (err as { code?: unknown }).code };
  return { index: first.index ?? first.err?.index ?? 0, code: first.code ?? first.err?.code };
}

export class ReportTally {
  private readonly models: Models;
  private readonly snapshotEvery: number;
  private readonly logger: Logger | undefined;
  private readonly writers = new Map<number, Writer>();
  private readonly readers = new Map<number, Reader>();

  constructor(opts: { models: Models; snapshotEvery?: number; logger?: Logger }) {
    this.models = opts.models;
    this.snapshotEvery = opts.snapshotEvery ?? 500;
    this.logger = opts.logger;
  }

  /** Appends a delta to the year's chain once per key: true when written now, false when it was there. Equal rows write nothing. */
  record(year: number, key: string, before: CountedRow | undefined, after: CountedRow | undefined): Promise<boolean> {
    if (before && after && sameRow(before, after)) return Promise.resolve(false);
    let w = this.writers.get(year);
    if (!w) this.writers.set(year, (w = { queue: [], running: false }));
    const writer = w;
    return new Promise((resolve, reject) => {
      writer.queue.push({ key, ...(before ? { before } : {}), ...(after ? { after } : {}), resolve, reject });
      if (!writer.running) void this.write(year, writer);
    });
  }

  /** A new application, as intake stored it (see the header). */
  recordCreated(doc: Parameters<typeof countedRowOf>[0]): Promise<boolean> {
    return this.record(doc.year, tallyKey.created(doc._id), undefined, countedRowOf(doc));
  }

  /**
   * A payment, reclaim or refund (the ledger's `onMovement`): the application's money before
   * and after it, from its earlier movements in the journal. Other movements do not count.
   */
  async recordMovement(entry: LedgerEntryDoc, earlier: readonly LedgerEntryDoc[]): Promise<void> {
    if (!entry.applicationId || !(entry.kind === 'pay' || entry.kind === 'reclaim' || entry.kind === 'refund')) return;
    const app = (await this.models.Application.collection.findOne({ _id: entry.applicationId } as never, { projection: tallyProjection })) as
      | { _id: string; year: number }
      | null;
    if (!app) throw new Error(`ledger entry ${entry._id}: application ${entry.applicationId} not found`);
    const before = moneyByApplication(earlier).get(entry.applicationId) ?? noMoney();
    const after = moneyByApplication([...earlier, entry]).get(entry.applicationId)!;
    const place = countedRowOf(app);
    await this.record(app.year, tallyKey.movement(entry._id), moneyRow(place, before), moneyRow(place, after));
  }

  private async write(year: number, w: Writer): Promise<void> {
    w.running = true;
    try {
      while (w.queue.length) {
        const batch = w.queue.splice(0, GROUP);
        try {
          await this.insert(year, w, batch);
        } catch (err) {
          w.tip = undefined; // read the end again
          for (const op of batch) op.reject(err);
        }
      }
    } finally {
      w.running = false;
    }
  }

  /** Inserts a group at the end of the chain, moving on past positions others took; settles every op. */
  private async insert(year: number, w: Writer, batch: Append[]): Promise<void> {
    const { Tally } = this.models;
    // The same key twice in a group: the later ones share the first's answer.
    const first = new Map<string, Append>();
    let pending: Append[] = [];
    for (const op of batch) {
      const earlier = first.get(op.key);
      if (!earlier) {
        first.set(op.key, op);
        pending.push(op);
        continue;
      }
      const { resolve, reject } = earlier;
      earlier.resolve = (created) => {
        resolve(created);
        op.resolve(false);
      };
      earlier.reject = (err) => {
        reject(err);
        op.reject(err);
      };
    }
    if (!w.yearKeyed) {
      await addKeys(this.models, [yearKey(year)]);
      w.yearKeyed = true;
    }
    while (pending.length) {
      w.tip ??= await this.end(year);
      const from = w.tip + 1;
      const at = new Date();
      const docs: TallyDoc[] = pending.map((op, i) => ({
        _id: chainEntryId(chainName(year), from + i),
        key: op.key,
        year,
        seq: from + i,
        ...(op.before ? { before: op.before } : {}),
        ...(op.after ? { after: op.after } : {}),
        at,
      }));
      try {
        await Tally.collection.insertMany(docs as never[], { ordered: true });
        const was = w.tip;
        w.tip += docs.length;
        for (const op of pending) op.resolve(true);
        // Crossed a multiple of `snapshotEvery`: fold in the background, which stores a snapshot, so
        // a process that reads later finds one near the end even if nobody read meanwhile.
        if (Math.floor(w.tip / this.snapshotEvery) > Math.floor(was / this.snapshotEvery)) {
          this.aggregate(year).catch((err: unknown) => this.logger?.warn({ err, year }, 'reports: tally snapshot failed; the next read tries again'));
        }
        return;
      } catch (err) {
        const { index, code } = firstWriteError(err);
        for (const op of pending.slice(0, index)) op.resolve(true);
        w.tip += index;
        if (code !== 11000 && !isDuplicateKeyError(err)) throw err;
        const refused = pending[index]!;
        const holder = (await Tally.collection.findOne({ _id: docs[index]!._id } as never, { projection: { key: 1 } })) as { key: string } | null;
        if (holder && holder.key !== refused.key) {
          // Position taken by another process: read where the chain ends now, try again there.
          w.tip = await this.end(year);
          pending = pending.slice(index);
        } else {
          // Position free (or holding this very key): the key is in the chain already.
          refused.resolve(false);
          if (holder) w.tip = Math.max(w.tip, from + index);
          pending = pending.slice(index + 1);
        }
      }
    }
  }

  /** The last position of the year's chain (0 when empty). */
  private end(year: number): Promise<number> {
    return chainEnd(this.models, year);
  }

  /** The year's aggregate with every delta written before the call (a copy). */
  async aggregate(year: number): Promise<Aggregate> {
    const r = await this.folded(year);
    return new Map([...r.agg].map(([k, fs]) => [k, fs.map((f) => ({ ...f, trafficLights: { ...f.trafficLights } }))]));
  }

  /**
   * How many applications the staff's list has under a filter (status, wijk, submission
   * year; each given or any), with every delta written before the call: the list's total
   * without counting its keys one by one (src/services/applications.ts). Any year: the
   * sum over the years that have a chain (their keys, one small range read).
   */
  async count(f: { status?: string; wijk?: string; year?: number }): Promise<number> {
    const key = listCountKey(f.status, f.wijk);
    const years = f.year === undefined ? (await refsUnder(this.models, 'tally-year', [])).map((k) => Number(k.ref)) : [f.year];
    const counts = await Promise.all(years.map(async (y) => (await this.folded(y)).agg.get(key)?.[0]?.applications ?? 0));
    return counts.reduce((a, b) => a + b, 0);
  }

  /** This process's fold of the year, caught up with every delta written before the call. */
  private async folded(year: number): Promise<Reader> {
    let r = this.readers.get(year);
    if (!r) this.readers.set(year, (r = { loaded: false, agg: new Map(), upTo: 0, snapshotAt: 0 }));
    await this.catchUp(year, r);
    return r;
  }

  /** Forgets this process's fold of a year (or all): the next read starts from the newest stored snapshot. */
  forget(year?: number): void {
    if (year === undefined) this.readers.clear();
    else this.readers.delete(year);
  }

  /** How far this process has folded the year (for tests and logs). */
  position(year: number): { upTo: number; snapshotAt: number } | undefined {
    const r = this.readers.get(year);
    return r && { upTo: r.upTo, snapshotAt: r.snapshotAt };
  }

  /** One fold at a time per year; a caller arriving while one runs waits for the next (which starts after its call). */
  private catchUp(year: number, r: Reader): Promise<void> {
    if (r.queued) return r.queued;
    const before = r.running ?? Promise.resolve();
    const next: Promise<void> = before
      .catch(() => undefined)
      .then(() => {
        r.queued = undefined;
        r.running = next;
        return this.fold(year, r);
      })
      .finally(() => {
        if (r.running === next) r.running = undefined;
      });
    r.queued = next;
    return next;
  }

  private async fold(year: number, r: Reader): Promise<void> {
    const { Tally } = this.models;
    if (!r.loaded) {
      const [snapshot] = (await Tally.collection.find(idRange(snapshotPrefix(year)) as never).sort({ _id: -1 }).limit(1).toArray()) as unknown as TallyDoc[];
      r.agg = fromGroups(snapshot?.groups as Groups | undefined);
      r.upTo = r.snapshotAt = snapshot?.seq ?? 0;
      r.loaded = true;
    }
    const range = idRange(chainName(year));
    const tail = (await Tally.collection
      .find({ _id: { $gt: chainEntryId(chainName(year), r.upTo), $lt: range._id.$lt } } as never)
      .sort({ _id: 1 })
      .toArray()) as unknown as TallyDoc[];
    for (const d of tail) {
      if (d.seq !== r.upTo + 1) break; // a gap: read on from it next time
      foldDelta(r.agg, d);
      r.upTo = d.seq;
    }
    if (r.upTo - r.snapshotAt >= this.snapshotEvery) {
      const seq = r.upTo;
      await insertOnce(Tally, { _id: snapshotId(year, seq), key: snapshotId(year, seq), year, seq, groups: toGroups(r.agg), at: new Date() });
      r.snapshotAt = seq;
      this.logger?.debug({ year, seq }, 'reports: tally snapshot stored');
    }
  }
}

/** The last position of a year's chain (0 when empty): one `_id` range read, descending, limit 1. */
async function chainEnd(models: Models, year: number): Promise<number> {
  const last = (await models.Tally.collection.find(idRange(chainName(year)) as never, { projection: { seq: 1 } }).sort({ _id: -1 }).limit(1).toArray()) as { seq?: number }[];
  return last[0]?.seq ?? 0;
}

/**
 * Writes, once per database (per version of what is counted), a snapshot at the end of
 * every submission year's chain (position 0 for a database from before this summary)
 * from the applications and journals stored: the sum of every delta so far, with the
 * groups a newer version counts and older snapshots lack. Reads both collections once,
 * at start-up, before anything of this version writes (see the header); the years'
 * keys too.
 */
export async function backfillTally(models: Models): Promise<number> {
  if (await models.Tally.exists({ _id: TALLY_MIGRATED })) return 0;
  const journal = await models.LedgerEntry.collection.find({}, { projection: { kind: 1, amountCents: 1, applicationId: 1 } }).toArray();
  const money = moneyByApplication(journal as unknown as LedgerEntryDoc[]);
  const years = new Map<number, Aggregate>();
  let counted = 0;
  for await (const d of models.Application.collection.find({}, { projection: tallyProjection })) {
    const doc = d as unknown as { _id: string; year: number };
    let agg = years.get(doc.year);
    if (!agg) years.set(doc.year, (agg = new Map()));
    countRow(agg, countedRowOf(doc, money.get(doc._id)));
    counted += 1;
  }
  const at = new Date();
  for (const [year, agg] of years) {
    await addKeys(models, [yearKey(year)]);
    const seq = await chainEnd(models, year);
    const snapshot: TallyDoc = { _id: snapshotId(year, seq), key: snapshotId(year, seq), year, seq, groups: toGroups(agg), at };
    await models.Tally.collection.replaceOne({ _id: snapshot._id } as never, snapshot as never, { upsert: true });
  }
  await insertOnce(models.Tally, { _id: TALLY_MIGRATED, key: TALLY_MIGRATED, at });
  return counted;
}
