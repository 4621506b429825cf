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
 * Within one process, appends to a chain are queued, so its writers never contend
 * with each other; across processes (api and worker) they resolve by retry.
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

export function chainEntryId(chain: string, seq: number): string {
  return `${chain}:${String(seq).padStart(9, '0')}`;
}

/**
 * The entries of one chain as this process knows them: complete from 1 up to the tip
 * it has seen (entries are immutable, so this cache is never wrong, only possibly
 * behind; `refresh` catches up by reading the next positions by `_id`).
 */
export class Chain<E extends ChainEntry> {
  readonly name: string;
  private readonly collection: Collection<E>;
  private readonly onEntry: (entry: E) => void;
  private entries: E[] | undefined;
  private readonly byKey = new Map<string, E>();
  private queue: Promise<unknown> = Promise.resolve();

  /** `onEntry` sees every entry once, in order: the owner folds its state there. */
  constructor(collection: Collection<E>, name: string, onEntry: (entry: E) => void) {
    this.collection = collection;
    this.name = name;
    this.onEntry = onEntry;
  }

  /** All entries up to the tip as of now. */
  async read(): Promise<readonly E[]> {
    return this.serial(() => this.refresh());
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
   * pure function of them. A key seen before returns the earlier entry, not a refusal.
   */
  async append<R>(key: string, decide: (entries: readonly E[]) => Decision<E, R>): Promise<AppendResult<E, R>> {
    return this.serial(async () => {
      let entries = this.entries ?? (await this.refresh());
      for (;;) {
        const earlier = this.byKey.get(key);
        if (earlier) return { entry: earlier, created: false };
        const decision = decide(entries);
        if (decision.write === undefined) {
          // Decide on the latest state before refusing: another process may have released
          // budget, or this very key may have been written by an earlier attempt.
          const before = entries.length;
          entries = await this.refresh();
          if (entries.length === before) return { refused: decision.refuse as R };
          continue;
        }
        const seq = entries.length + 1;
        const entry = { ...decision.write, key, _id: chainEntryId(this.name, seq), chain: this.name, seq, at: new Date() } as E;
        try {
          await this.collection.insertOne(entry as never);
          this.accept(entry);
          return { entry, created: true };
        } catch (err) {
          if (!isDuplicateKeyError(err)) throw err;
          // Either the position was taken (read on and decide again) or the key exists
          // further down the chain than this process had read (refresh finds it).
          const before = entries.length;
          entries = await this.refresh();
          if (entries.length === before && !this.byKey.has(key)) {
            // Neither: keys are unique across the collection, so another chain holds it.
            const other = (await this.collection.findOne({ key } as never)) as E | null;
            throw new Error(other ? `key ${key} is already used in chain ${other.chain}` : `insert of ${key} refused as a duplicate, but nothing holds it`, { cause: err });
          }
        }
      }
    });
  }

  private accept(entry: E): void {
    (this.entries ??= []).push(entry);
    this.byKey.set(entry.key, entry);
    this.onEntry(entry);
  }

  /** Loads the chain once, then reads on position by position (each read is by exact `_id`). */
  private async refresh(): Promise<E[]> {
    if (!this.entries) {
      const all = (await this.collection.find({ chain: this.name } as never).sort({ seq: 1 }).toArray()) as E[];
      this.entries = [];
      for (const entry of all) {
        if (entry.seq !== this.entries.length + 1) break; // read the rest by position below
        this.accept(entry);
      }
    }
    for (;;) {
      const next = (await this.collection.findOne({ _id: chainEntryId(this.name, this.entries.length + 1) } as never)) as E | null;
      if (!next) return this.entries;
      this.accept(next);
    }
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
