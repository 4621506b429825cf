/**
 * An append-only chain of entries with contiguous sequence numbers: the way this
 * service makes a read-decide-write atomic on a database whose updates are not
 * isolated (FerretDB v1, see models.ts) and that has no multi-document transactions.
 *
 * Entry n of chain c has `_id` `c:<n>`. A writer reads the chain up to its tip,
 * decides, and inserts entry tip+1. The unique `_id` lets exactly one writer win each
 * position; a loser reads what won and decides again. So every entry was decided on
 * the complete history before it, and one insert is the whole write: a crash leaves
 * either the entry or nothing. Each entry also has a unique `key` (its idempotency
 * key): a retried write finds its earlier entry instead of writing a second one.
 *
 * Within one process, appends to a chain are queued and written in groups: the
 * requests waiting when a write starts are decided one after the other, each on the
 * chain including the ones before it, and inserted together in position order (one
 * round trip instead of one per request). Writers in one process therefore never
 * contend; across processes (api and worker) they resolve by retry: an insert that
 * finds its position taken rolls this process's view back to what is stored, and the
 * requests not written are decided again.
 */
import type { Collection } from 'mongodb';
import { isDuplicateKeyError } from './models.ts';

export interface ChainEntry {
  _id: string;
  chain: string;
  seq: number;
  key: string;
  at: Date;
}

/** What the decide step returns: an entry to write, or a refusal (nothing is written). */
export type Decision<E extends ChainEntry, R> = { write: Omit<E, '_id' | 'chain' | 'seq' | 'at' | 'key'>; refuse?: undefined } | { write?: undefined; refuse: R };

export type AppendResult<E, R> = { entry: E; created: boolean } | { refused: R };

/** Positions asked for per query when catching up on what another process wrote. */
const PAGE = 32;
/** Requests decided and inserted together at most. */
const GROUP = 64;

export function chainEntryId(chain: string, seq: number): string {
  return `${chain}:${String(seq).padStart(9, '0')}`;
}

/** The filter for every `_id` that starts with `prefix:`, answered from the `_id` index. */
export function idRange(prefix: string): { _id: { $gte: string; $lt: string } } {
  return prefixRange(`${prefix}:`);
}

/** The filter for every `_id` that starts with `prefix` (up to the prefix with its last character's successor). */
export function prefixRange(prefix: string): { _id: { $gte: string; $lt: string } } {
  const last = prefix.charCodeAt(prefix.length - 1);
  return { _id: { $gte: prefix, $lt: prefix.slice(0, -1) + String.fromCharCode(last + 1) } };
}

/** What the owner of a chain keeps folded from its entries. */
export interface ChainFold<E> {
  /** Sees every entry once, in order. */
  onEntry(entry: E): void;
  /** Forget everything: the entries are folded again from the first (after a lost race). */
  onReset(): void;
}

interface AppendOp<E extends ChainEntry> {
  kind: 'append';
  key: string;
  decide: (entries: readonly E[]) => Decision<E, unknown>;
  readsAtArrival: number;
  resolve: (result: AppendResult<E, unknown>) => void;
  reject: (err: unknown) => void;
}
interface ReadOp<E extends ChainEntry> {
  kind: 'read';
  resolve: (entries: readonly E[]) => void;
  reject: (err: unknown) => void;
}
type Op<E extends ChainEntry> = AppendOp<E> | ReadOp<E>;
type Written<E extends ChainEntry> = { op: AppendOp<E>; entry: E };

/**
 * The entries of one chain as this process knows them: complete from 1 up to the tip
 * it has seen (entries are immutable, so this cache is never wrong, only possibly
 * behind; reading catches up by asking for the next positions by `_id`).
 */
export class Chain<E extends ChainEntry> {
  readonly name: string;
  private readonly collection: Collection<E>;
  private readonly fold: ChainFold<E>;
  private entries: E[] | undefined;
  private readonly byKey = new Map<string, E>();
  private readonly ops: Op<E>[] = [];
  private running = false;
  /** Counts reads of the chain's end; a refusal needs one that began after its request arrived. */
  private reads = 0;

  constructor(collection: Collection<E>, name: string, fold: ChainFold<E>) {
    this.collection = collection;
    this.name = name;
    this.fold = fold;
  }

  /** All entries up to the tip as of now. */
  read(): Promise<readonly E[]> {
    return new Promise((resolve, reject) => this.enqueue({ kind: 'read', resolve, reject }));
  }

  /** Entries known without going to the database (call `read` first for the latest). */
  get known(): readonly E[] {
    return this.entries ?? [];
  }

  entryByKey(key: string): E | undefined {
    return this.byKey.get(key);
  }

  /**
   * Decides on the whole chain and appends. `decide` is called with the entries up to
   * the tip (possibly again, after losing a position to another writer); it must be a
   * pure function of them and of the owner's fold. A key seen before returns the earlier
   * entry, not a refusal. A refusal is decided on a read of the chain made after the
   * request arrived.
   */
  append<R>(key: string, decide: (entries: readonly E[]) => Decision<E, R>): Promise<AppendResult<E, R>> {
    return new Promise((resolve, reject) =>
      this.enqueue({ kind: 'append', key, decide, readsAtArrival: this.reads, resolve: resolve as AppendOp<E>['resolve'], reject }),
    );
  }

  private enqueue(op: Op<E>): void {
    this.ops.push(op);
    if (!this.running) void this.run();
  }

  private async run(): Promise<void> {
    this.running = true;
    // Requests made in the same turn (e.g. a page's Promise.all of two reads) join the first group.
    await Promise.resolve();
    while (this.ops.length) {
      const group = this.ops.splice(0, GROUP);
      const written: Written<E>[] = [];
      try {
        await this.process(group, written);
      } catch (err) {
        // Decided but not written: forget them. Everything still open in the group fails.
        if (written.length) {
          this.rollBack(written[0]!.entry.seq);
          for (const w of written) w.op.reject(err);
        }
        for (const op of group) op.reject(err);
      }
    }
    this.running = false;
  }

  /**
   * Works through the group: an op is taken out of `group` when it is settled or decided
   * (then it waits in `written` for the insert of the group's entries).
   */
  private async process(group: Op<E>[], written: Written<E>[]): Promise<void> {
    if (!this.entries) await this.refresh();
    const flush = async () => {
      if (written.length === 0) return;
      const batch = written.splice(0);
      group.unshift(...(await this.commit(batch)));
    };
    // Until every op is settled: a flush can hand ops back (lost positions) to decide again.
    while (group.length || written.length) {
      if (group.length === 0) {
        await flush();
        continue;
      }
      const op = group[0]!;
      if (op.kind === 'read') {
        await flush();
        if (group[0] !== op) continue;
        await this.refresh();
        // One read serves every read waiting next to it in the group: they all arrived before it began.
        while (group[0]?.kind === 'read') (group.shift() as ReadOp<E>).resolve(this.entries!);
        continue;
      }
      const earlier = this.byKey.get(op.key);
      if (earlier) {
        if (written.some((w) => w.entry === earlier)) {
          await flush(); // the same key twice in one group: answer once the first is stored
          continue;
        }
        group.shift();
        op.resolve({ entry: earlier, created: false });
        continue;
      }
      const decision = op.decide(this.entries!);
      if (decision.write === undefined) {
        // Refuse only on what is stored (not on this group's unwritten entries) and on a
        // read made after the request arrived; one read serves all that arrived before it.
        if (written.length) {
          await flush();
          continue;
        }
        if (this.reads <= op.readsAtArrival) {
          await this.refresh();
          continue;
        }
        group.shift();
        op.resolve({ refused: decision.refuse });
        continue;
      }
      const seq = this.entries!.length + 1;
      const entry = { ...decision.write, key: op.key, _id: chainEntryId(this.name, seq), chain: this.name, seq, at: new Date() } as E;
      this.accept(entry);
      written.push({ op, entry });
      group.shift();
    }
  }

  /**
   * Inserts a group of decided entries in position order. On a lost position the view
   * goes back to what is stored and the requests whose entry did not land are returned,
   * to be decided again; any other failure fails them.
   */
  private async commit(batch: Written<E>[]): Promise<AppendOp<E>[]> {
    try {
      await this.collection.insertMany(
        batch.map((w) => w.entry as never),
        { ordered: true },
      );
      for (const w of batch) w.op.resolve({ entry: w.entry, created: true });
      return [];
    } catch (err) {
      try {
        this.rollBack(batch[0]!.entry.seq);
        await this.refresh();
      } catch (readErr) {
        for (const w of batch) w.op.reject(readErr);
        return [];
      }
      const retry: AppendOp<E>[] = [];
      for (const w of batch) {
        const stored = this.byKey.get(w.entry.key);
        if (stored) w.op.resolve({ entry: stored, created: stored._id === w.entry._id && new Date(stored.at).getTime() === w.entry.at.getTime() });
        else if (isDuplicateKeyError(err)) retry.push(w.op);
        else w.op.reject(err);
      }
      const positionTaken = this.entries!.length >= batch[0]!.entry.seq;
      if (retry.length && !positionTaken) {
        // Not a lost position: keys are unique across the collection, so another chain holds one.
        const other = (await this.collection.findOne({ key: { $in: retry.map((op) => op.key) } } as never)) as E | null;
        const error = new Error(other ? `key ${other.key} is already used in chain ${other.chain}` : 'insert refused as a duplicate, but nothing holds it', { cause: err });
        for (const op of retry) op.reject(error);
        return [];
      }
      return retry;
    }
  }

  /** Forgets the entries from position `fromSeq` on (not stored after all) and folds again. */
  private rollBack(fromSeq: number): void {
    const entries = this.entries!;
    for (const e of entries.splice(fromSeq - 1)) this.byKey.delete(e.key);
    this.fold.onReset();
    for (const e of entries) this.fold.onEntry(e);
  }

  private accept(entry: E): void {
    (this.entries ??= []).push(entry);
    this.byKey.set(entry.key, entry);
    this.fold.onEntry(entry);
  }

  /**
   * Loads the chain once (its own `_id` range: the entries of other chains in the same
   * collection are not read), then reads on from the end by position, by `_id`.
   */
  private async refresh(): Promise<E[]> {
    this.reads += 1;
    if (!this.entries) {
      const all = (await this.collection.find(idRange(this.name) as never).sort({ _id: 1 }).toArray()) as E[];
      this.entries = [];
      for (const entry of all) {
        if (entry.seq !== this.entries.length + 1) break; // read the rest by position below
        this.accept(entry);
      }
    }
    // Usually nothing is new: one read of the next position. When something is (another
    // process wrote), the rest comes in pages: an `$in` of 32 ids costs a few times one
    // read, not 32 times.
    const next = (await this.collection.findOne({ _id: chainEntryId(this.name, this.entries.length + 1) } as never)) as E | null;
    if (!next) return this.entries;
    this.accept(next);
    for (;;) {
      const from = this.entries.length + 1;
      const ids = Array.from({ length: PAGE }, (_, i) => chainEntryId(this.name, from + i));
      const page = ((await this.collection.find({ _id: { $in: ids } } as never).toArray()) as E[]).sort((a, b) => a.seq - b.seq);
      for (const entry of page) {
        if (entry.seq !== this.entries.length + 1) break;
        this.accept(entry);
      }
      if (page.length < PAGE) return this.entries;
    }
  }
}
