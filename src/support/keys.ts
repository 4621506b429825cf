/**
 * The ordered keys of support cases (src/db/keys.ts): how the queue, the applications a
 * welfare worker may read and the reconciliation find cases without reading the whole
 * `support_events` collection (on our FerretDB any filter but `_id` reads all of it).
 *
 * - `support-open:<queuedAt>:<app>`: a case of an initiative still going, oldest first.
 *   Written before the `queued` entry; removed once the initiative is final (the status
 *   projection, activities/applications.ts; a reader that finds it final removes it too).
 * - `support-org:<organisation>:<app>`: the organisation responsible for the case. The
 *   case stays readable for it after the initiative ends (`welfareMayRead`): never removed.
 * - `support-holder:<worker>:<app>:<entry key>` and `support-holder-org:<organisation>:<app>:<entry key>`:
 *   who holds the case and their organisation, one pair per claim or hand-over (keyed by
 *   that entry's idempotency key, so a later claim by the same worker has its own pair).
 *   Written before the entry; removed after the release or hand-over that ends it.
 * - `support-unaudited:<app>:<entry key>`: a claim, release or hand-over whose audit record
 *   (and, for a release or hand-over, the removal of the ended hold's keys) may be missing.
 *   Written before the entry, removed after both; `reconcile` reads only these. `n` is when
 *   it was written: one without its entry long after was never written (a crash or a refusal).
 *
 * Every reader folds the case it finds and checks it (`welfareMayRead`, the initiative's
 * status, the case's `queuedAt`), so a key a crash left behind costs a skipped case.
 */
import type { Model } from 'mongoose';
import { addKeys, keyId, refsUnder, removeKeys } from '../db/keys.ts';
import { chainEntryId } from '../db/chain.ts';
import type { KeyDoc, Models } from '../db/models.ts';
import { supportEventModel } from '../db/support-models.ts';
import { isFinal } from '../domain/status.ts';
import { foldSupport, type SupportCase } from './case.ts';
import type { SupportEventDoc, SupportWorker } from './events.ts';

export function supportChainName(applicationId: string): string {
  return `support-${applicationId}`;
}

/** The application of a support entry's idempotency key (`support-<app>:<what>`). */
export function applicationOfEntryKey(entryKey: string): string {
  return entryKey.slice('support-'.length, entryKey.indexOf(':'));
}

export const supportKey = {
  open: (applicationId: string, queuedAt: string): KeyDoc => ({ _id: keyId('support-open', [queuedAt], applicationId), ref: applicationId }),
  organisation: (organisation: string, applicationId: string): KeyDoc => ({ _id: keyId('support-org', [organisation], applicationId), ref: applicationId }),
  /** The keys of one hold: the claim or hand-over entry `entryKey` gives the case to `worker`. */
  holder: (applicationId: string, entryKey: string, worker: SupportWorker): KeyDoc[] => [
    { _id: keyId('support-holder', [worker.id, applicationId], entryKey), ref: applicationId },
    ...(worker.organisation ? [{ _id: keyId('support-holder-org', [worker.organisation, applicationId], entryKey), ref: applicationId }] : []),
  ],
  unaudited: (entryKey: string, at: Date): KeyDoc => ({ _id: keyId('support-unaudited', [applicationOfEntryKey(entryKey)], entryKey), ref: entryKey, n: at.getTime() }),
};

/** The keys of a case that do not change: its organisation, and its place in the queue while the initiative goes on. */
export function caseKeys(c: Pick<SupportCase, 'applicationId' | 'organisation' | 'queuedAt'>, ended: boolean): KeyDoc[] {
  return [supportKey.organisation(c.organisation, c.applicationId), ...(ended ? [] : [supportKey.open(c.applicationId, c.queuedAt)])];
}

const MOVES: ReadonlySet<string> = new Set(['claimed', 'released', 'handed_over']);

/** The claim or hand-over entry that holds the case after the entries given (none when unclaimed). */
export function holdingEntry(entries: readonly SupportEventDoc[]): SupportEventDoc | undefined {
  let hold: SupportEventDoc | undefined;
  for (const e of entries) {
    if ((e.kind === 'claimed' || e.kind === 'handed_over') && e.worker) hold = e;
    else if (e.kind === 'released') hold = undefined;
  }
  return hold;
}

/** The keys of the hold an entry ends (a release or hand-over): those of the holding entry before it. */
export function endedHoldKeys(entries: readonly SupportEventDoc[], entry: SupportEventDoc): KeyDoc[] {
  if (entry.kind !== 'released' && entry.kind !== 'handed_over') return [];
  const before = holdingEntry(entries.filter((e) => e.seq < entry.seq));
  return before ? supportKey.holder(before.applicationId, before.key, before.worker!) : [];
}

/** The applications whose case has a key under one of these ranges (may include stale ones: check the case). */
export async function casesUnder(models: Models, ranges: readonly (readonly [string, readonly string[]])[]): Promise<string[]> {
  const keys = await Promise.all(ranges.map(([index, parts]) => refsUnder(models, index, parts)));
  return [...new Set(keys.flat().map((k) => k.ref))];
}

/**
 * The status projection's part: once an initiative is final its case leaves the queue.
 * One read by `_id` (the case's first entry is its `queued` entry); nothing without a case.
 */
export async function removeOpenKey(models: Models, applicationId: string): Promise<void> {
  const model = await supportEventModel(models.connection);
  const queued = await model.findById(chainEntryId(supportChainName(applicationId), 1), { kind: 1, occurredAt: 1 }).lean<Pick<SupportEventDoc, 'kind' | 'occurredAt'> | null>();
  if (queued?.kind === 'queued') await removeKeys(models, [supportKey.open(applicationId, queued.occurredAt)._id]);
}

/** Marks that the keys of support events stored before these keys existed were written. */
const BACKFILLED = 'migration:support-keys:v1';

/**
 * Writes the keys of the support cases stored by a version without them (once per database,
 * a marker records it; a crash half-way writes them again, which changes nothing): every
 * case's organisation, the queue for initiatives still going, the current hold, and an
 * unaudited key for each move without its audit record. Reads `support_events` once, at start-up.
 */
export async function backfillSupportKeys(models: Models): Promise<number> {
  if (await models.Key.exists({ _id: BACKFILLED })) return 0;
  const model: Model<SupportEventDoc> = await supportEventModel(models.connection);
  let written = 0;
  let chains: SupportEventDoc[][] = [];
  const flush = async () => {
    const batch = chains;
    chains = [];
    const cases = batch.map((entries) => ({ entries, c: foldSupport(entries.filter((e, i) => e.seq === i + 1)) }));
    const appIds = cases.flatMap(({ c }) => (c ? [c.applicationId] : []));
    const moves = batch.flat().filter((e) => MOVES.has(e.kind));
    const [apps, audited] = await Promise.all([
      appIds.length ? models.Application.find({ _id: { $in: appIds } }, { status: 1 }).lean() : [],
      moves.length ? models.Audit.find({ _id: { $in: moves.map((m) => m._id) } }, { _id: 1 }).lean() : [],
    ]);
    const status = new Map(apps.map((a) => [a._id, a.status]));
    const have = new Set(audited.map((a) => a._id));
    const keys: KeyDoc[] = [];
    for (const { entries, c } of cases) {
      if (!c) continue;
      keys.push(...caseKeys(c, isFinal(status.get(c.applicationId) ?? 'reserved')));
      const hold = holdingEntry(entries);
      if (hold) keys.push(...supportKey.holder(c.applicationId, hold.key, hold.worker!));
      written += 1;
    }
    keys.push(...moves.filter((m) => !have.has(m._id)).map((m) => supportKey.unaudited(m.key, new Date(m.at))));
    await addKeys(models, keys);
  };
  // In `_id` order the entries of a chain come together and in position order.
  let current: SupportEventDoc[] = [];
  for await (const e of model.find({}).sort({ _id: 1 }).lean<SupportEventDoc[]>().cursor()) {
    if (current.length && current[0]!.chain !== e.chain) {
      chains.push(current);
      current = [];
      if (chains.length >= 200) await flush();
    }
    current.push(e);
  }
  if (current.length) chains.push(current);
  await flush();
  await addKeys(models, [{ _id: BACKFILLED, ref: new Date().toISOString() }]);
  return written;
}
