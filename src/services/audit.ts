/** Reading the append-only audit log (decisions, ledger movements, payouts, budget and panel changes). */
import type { AuditDoc, Models } from '../db/models.ts';

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

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Newest first, filtered; `total` counts every match. */
export async function queryAudit(models: Models, q: AuditQuery): Promise<{ total: number; entries: (Omit<AuditDoc, '_id' | 'at'> & { id: string; at: string })[] }> {
  const filter = {
    ...(q.actor ? { actor: q.actor } : {}),
    ...(q.action ? { action: q.action.endsWith('.') ? { $regex: `^${escapeRegex(q.action)}` } : q.action } : {}),
    ...(q.target ? { target: q.target } : {}),
    ...(q.from || q.to ? { at: { ...(q.from ? { $gte: new Date(q.from) } : {}), ...(q.to ? { $lte: new Date(q.to) } : {}) } } : {}),
  };
  const [total, entries] = await Promise.all([models.Audit.countDocuments(filter), models.Audit.find(filter).sort({ at: -1, _id: 1 }).skip(q.offset).limit(q.limit).lean()]);
  return { total, entries: entries.map(({ _id, at, ...rest }) => ({ id: _id, at: new Date(at).toISOString(), ...rest })) };
}
