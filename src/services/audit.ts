/**
 * The append-only audit log (decisions, ledger movements, payouts, budget and panel
 * changes): written through `recordAudit`, read newest first through its ordered keys
 * (src/db/keys.ts), so a page costs the same with a million entries as with a hundred.
 */
import { addKeys, backfillKeysOnce, keyId, keyRange, newestFirst as countDown } from '../db/keys.ts';
import { insertOnce, type AuditDoc, type KeyDoc, type Models } from '../db/models.ts';

export interface AuditQuery {
  actor?: string;
  /** Exact action (ledger.reserve) or a prefix ending in a dot (ledger.). */
  action?: string;
  target?: string;
  from?: string;
  to?: string;
  offset: number;
  limit: number;
}

/** The first segment of an action with its dot (`ledger.` of `ledger.reserve`), for prefix queries. */
const groupOf = (action: string) => `${action.split('.')[0]}.`;

/** The ways the log is looked up: everything, or by one of actor, action, action group, target. */
type Dimension = ['all'] | ['actor', string] | ['action', string] | ['group', string] | ['target', string];

function auditKeys(doc: Pick<AuditDoc, '_id' | 'at' | 'actor' | 'action' | 'target'>): KeyDoc[] {
  const dims: Dimension[] = [['all'], ['actor', doc.actor], ['action', doc.action], ['group', groupOf(doc.action)], ['target', doc.target]];
  return dims.map((d) => ({ _id: keyId('audit', [...d, countDown(doc.at)], doc._id), ref: doc._id }));
}

/** Records a fact once (its `_id` is its idempotency key), its keys first. */
export async function recordAudit(models: Models, doc: AuditDoc): Promise<boolean> {
  await addKeys(models, auditKeys(doc));
  return insertOnce(models.Audit, doc);
}

const BACKFILLED = 'migration:audit-keys:v1';

/** Writes the keys of entries recorded before keys existed (once per database, at start-up). */
export async function backfillAuditKeys(models: Models): Promise<number> {
  return backfillKeysOnce(models, BACKFILLED, async (add) => {
    for await (const e of models.Audit.find({}, { _id: 1, at: 1, actor: 1, action: 1, target: 1 }).lean<AuditDoc[]>().cursor()) {
      for (const k of auditKeys(e)) await add(k);
    }
  });
}

/** The key range of one dimension, narrowed to [from, to] by the time in the key. */
function rangeOf(dim: Dimension, from?: string, to?: string): { _id: { $gte: string; $lt: string } } {
  const all = keyRange('audit', dim);
  const prefix = all._id.$gte; // `audit:<dim…>:`
  return {
    _id: {
      $gte: to ? `${prefix}${countDown(to)}` : prefix,
      // Up to and including the from-moment's millisecond: the next count-down value.
      $lt: from ? `${prefix}${String(Number(countDown(from)) + 1).padStart(13, '0')}` : all._id.$lt,
    },
  };
}

/** Newest first, filtered; `total` counts every match. */
export async function queryAudit(models: Models, q: AuditQuery): Promise<{ total: number; entries: (Omit<AuditDoc, '_id' | 'at'> & { id: string; at: string })[] }> {
  // The most telling filter picks the keys; any other filter is checked on the entries.
  const prefixAction = q.action?.endsWith('.') ? q.action : undefined;
  const dim: Dimension = q.target
    ? ['target', q.target]
    : q.actor
      ? ['actor', q.actor]
      : q.action && !prefixAction
        ? ['action', q.action]
        : prefixAction
          ? ['group', groupOf(prefixAction)]
          : ['all'];
  const matches = (e: AuditDoc) =>
    (!q.actor || e.actor === q.actor) &&
    (!q.target || e.target === q.target) &&
    (!q.action || (prefixAction ? e.action.startsWith(prefixAction) : e.action === q.action));
  const exact = [q.target, q.actor, q.action].filter(Boolean).length <= 1 && (!prefixAction || groupOf(prefixAction) === prefixAction);
  const range = rangeOf(dim, q.from, q.to);
  const byIds = async (ids: string[]) => {
    const found = new Map((ids.length ? await models.Audit.find({ _id: { $in: ids } }).lean<AuditDoc[]>() : []).map((e) => [e._id, e]));
    return ids.map((id) => found.get(id)).filter((e): e is AuditDoc => e !== undefined);
  };
  let total: number;
  let entries: AuditDoc[];
  if (exact) {
    // One filter (or none): the page is a slice of its keys, the total their count.
    const [keys, n] = await Promise.all([
      models.Key.find(range).sort({ _id: 1 }).skip(q.offset).limit(q.limit).lean<KeyDoc[]>(),
      models.Key.collection.count(range as never),
    ]);
    [entries, total] = [(await byIds(keys.map((k) => k.ref))).filter(matches), n];
  } else {
    // Several filters: the entries under the most telling one, checked against the others.
    const all = (await byIds((await models.Key.find(range).sort({ _id: 1 }).lean<KeyDoc[]>()).map((k) => k.ref))).filter(matches);
    [entries, total] = [all.slice(q.offset, q.offset + q.limit), all.length];
  }
  return { total, entries: entries.map(({ _id, at, ...rest }) => ({ id: _id, at: new Date(at).toISOString(), ...rest })) };
}
