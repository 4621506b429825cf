/**
 * Ordered keys of our own: how this service finds documents by something other than
 * their `_id` with a cost that does not grow with the collection.
 *
 * The embedded FerretDB answers only conditions on `_id` from an index (and, with our
 * patch, ranges, sorts and limits on it: scripts/ferretdb/README.md); any other filter
 * reads the whole collection. So every lookup "the events of application A" or "the
 * applications with status S, newest first" is a range of `_id`s in the `keys`
 * collection: one small document per (index, value, reference), its `_id` the index
 * name, the values, a sort part and the referenced document's `_id`, joined by `:`.
 * Real MongoDB answers the same range from its `_id` index.
 *
 * Writes are crash-safe without transactions: a key is inserted before the document it
 * points to is written (a key to a missing document is skipped by readers) and removed
 * after the document no longer matches it (readers check what they fetch, so a stale key
 * costs a skipped row until it is removed).
 *
 * Values are escaped to letters, digits and `-._` with `~XX` for anything else, so the
 * `_id`s stay in the character range the FerretDB patch orders exactly, and `:` only
 * ever separates parts.
 */
import type { AccessTokenDoc, ApplicationDoc, DocumentDoc, EventDoc, IdempotencyDoc, KeyDoc, LedgerEntryDoc, Models, OutboxDoc, PayoutDoc } from './models.ts';
import { payoutStatuses } from '../domain/payouts.ts';
import { idRange } from './chain.ts';
import { applicationStatuses, type ApplicationStatus } from '../domain/status.ts';
import { refundOpen, type Settlement } from '../domain/report.ts';
import { insertOnce, isDuplicateKeyError } from './models.ts';

export type { KeyDoc };

export function escapeKeyPart(value: string): string {
  return value.replace(/[^A-Za-z0-9._-]/g, (c) =>
    [...Buffer.from(c, 'utf8')].map((b) => `~${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
  );
}

/** The key `index:part…:ref`. */
export function keyId(index: string, parts: readonly string[], ref: string): string {
  return [index, ...parts.map(escapeKeyPart), escapeKeyPart(ref)].join(':');
}

/** The filter of every key under `index:part…:` (`;` is the character after `:`). */
export function keyRange(index: string, parts: readonly string[]): { _id: { $gte: string; $lt: string } } {
  return idRange([index, ...parts.map(escapeKeyPart)].join(':'));
}

/** Inserts keys; those already there are left as they are (a retry writes nothing twice). */
export async function addKeys(models: Models, keys: readonly KeyDoc[]): Promise<void> {
  if (!keys.length) return;
  try {
    await models.Key.collection.insertMany(keys as never[], { ordered: false });
  } catch (err) {
    const writeErrors = (err as { writeErrors?: unknown[] }).writeErrors;
    const allDuplicates = isDuplicateKeyError(err) && (!Array.isArray(writeErrors) || writeErrors.every(isDuplicateKeyError));
    if (!allDuplicates) throw err;
  }
}

export async function removeKeys(models: Models, ids: readonly string[]): Promise<void> {
  if (ids.length) await models.Key.deleteMany({ _id: { $in: [...ids] } });
}

/** The references under `index:part…`, in key order (or reversed), a page at a time. */
export async function refsUnder(
  models: Models,
  index: string,
  parts: readonly string[],
  page: { skip?: number; limit?: number; descending?: boolean } = {},
): Promise<KeyDoc[]> {
  let query = models.Key.find(keyRange(index, parts)).sort({ _id: page.descending ? -1 : 1 });
  if (page.skip) query = query.skip(page.skip);
  if (page.limit) query = query.limit(page.limit);
  return query.lean<KeyDoc[]>();
}

/**
 * How many keys there are under `index:part…`. The `count` command, not `countDocuments`
 * (an aggregation, which reads every key): our FerretDB build counts an `_id` range in its
 * index, MongoDB counts with its `_id` index too.
 */
export async function countUnder(models: Models, index: string, parts: readonly string[]): Promise<number> {
  return models.Key.collection.count(keyRange(index, parts) as never);
}

// --- the keys of an application's own documents -------------------------------------------

/** Key of a timeline event or a stored document under its application. */
export const applicationKey = {
  event: (applicationId: string, eventId: string): KeyDoc => ({ _id: keyId('event', [applicationId], eventId), ref: eventId }),
  /** In the order of upload: the time, then the place in the upload (several files at once). */
  document: (applicationId: string, documentId: string, uploadedAt: Date | string, position: number): KeyDoc => ({
    _id: keyId('document', [applicationId, `${String(new Date(uploadedAt).getTime()).padStart(13, '0')}.${String(position).padStart(4, '0')}`], documentId),
    ref: documentId,
  }),
  /** Documents by their content (files are stored once per SHA-256, shared between applications). */
  content: (sha256: string, documentId: string): KeyDoc => ({ _id: keyId('content', [sha256], documentId), ref: documentId }),
};

/** Stores a timeline event once (its `_id` is its idempotency key), its key first. */
export async function insertEvent(models: Models, event: EventDoc): Promise<boolean> {
  await addKeys(models, [applicationKey.event(event.applicationId, event._id)]);
  return insertOnce(models.Event, event);
}

/** Stores documents' metadata, their keys first. */
export async function insertDocuments(models: Models, docs: readonly DocumentDoc[]): Promise<void> {
  if (!docs.length) return;
  await addKeys(models, docs.flatMap((d, i) => [applicationKey.document(d.applicationId, d._id, d.uploadedAt, i), applicationKey.content(d.sha256, d._id)]));
  await models.Document.insertMany(docs);
}

async function refsOf(models: Models, kind: 'event' | 'document', applicationId: string): Promise<string[]> {
  return (await refsUnder(models, kind, [applicationId])).map((k) => k.ref);
}

/** An application's timeline events, by key (the order is the caller's). */
export async function eventsOfApplication(models: Models, applicationId: string): Promise<EventDoc[]> {
  const ids = await refsOf(models, 'event', applicationId);
  return ids.length ? models.Event.find({ _id: { $in: ids } }).lean<EventDoc[]>() : [];
}

/** An application's stored documents, in the order they were uploaded. */
export async function documentsOfApplication(models: Models, applicationId: string): Promise<DocumentDoc[]> {
  const ids = await refsOf(models, 'document', applicationId);
  const docs = new Map((ids.length ? await models.Document.find({ _id: { $in: ids } }).lean<DocumentDoc[]>() : []).map((d) => [d._id, d]));
  return ids.map((id) => docs.get(id)).filter((d): d is DocumentDoc => d !== undefined);
}

/** Removes an application's documents' metadata (all, or `only` these) and then their keys; returns how many documents went. */
export async function removeDocumentsOfApplication(models: Models, applicationId: string, only?: readonly string[]): Promise<number> {
  const keys = (await refsUnder(models, 'document', [applicationId])).filter((k) => !only || only.includes(k.ref));
  const ids = only ? [...only] : keys.map((k) => k.ref);
  if (!ids.length) return 0;
  const docs = await models.Document.find({ _id: { $in: ids } }, { sha256: 1 }).lean<Pick<DocumentDoc, '_id' | 'sha256'>[]>();
  const { deletedCount } = await models.Document.deleteMany({ _id: { $in: ids } });
  await removeKeys(models, [...keys.map((k) => k._id), ...docs.map((d) => applicationKey.content(d.sha256, d._id)._id)]);
  return deletedCount;
}

/** The stored documents (of any application) whose file has this SHA-256. */
export async function documentsWithContent(models: Models, sha256: string): Promise<DocumentDoc[]> {
  const ids = (await refsUnder(models, 'content', [sha256])).map((k) => k.ref);
  return ids.length ? models.Document.find({ _id: { $in: ids } }).lean<DocumentDoc[]>() : [];
}

/** Marks that the keys of documents stored before keys existed were written. */
/**
 * Writes keys for data stored before they existed, once per database: `fill` hands each key to
 * `add` (written in batches of 1,000); a marker records that it ran. A crash half-way writes
 * them again, which changes nothing. Returns how many keys were written (0: ran before).
 */
export async function backfillKeysOnce(models: Models, marker: string, fill: (add: (key: KeyDoc) => Promise<void>) => Promise<void>): Promise<number> {
  if (await models.Key.exists({ _id: marker })) return 0;
  let written = 0;
  let batch: KeyDoc[] = [];
  await fill(async (key) => {
    batch.push(key);
    written += 1;
    if (batch.length >= 1000) [batch] = [[], await addKeys(models, batch)];
  });
  await addKeys(models, batch);
  await addKeys(models, [{ _id: marker, ref: new Date().toISOString() }]);
  return written;
}

const BACKFILLED = 'migration:application-keys:v1';

/**
 * Writes the keys of timeline events, documents and applications stored by a version without them
 * (once per database: a marker records it; a crash half-way writes them again, which
 * changes nothing). Reads the three collections once, at start-up.
 */
export async function backfillApplicationKeys(models: Models): Promise<number> {
  return backfillKeysOnce(models, BACKFILLED, async (add) => {
    for await (const e of models.Event.find({}, { _id: 1, applicationId: 1 }).lean<Pick<EventDoc, '_id' | 'applicationId'>[]>().cursor()) {
      await add(applicationKey.event(e.applicationId, e._id));
    }
    for await (const d of models.Document.find({}, { _id: 1, applicationId: 1, sha256: 1, uploadedAt: 1 }).lean<Pick<DocumentDoc, '_id' | 'applicationId' | 'sha256' | 'uploadedAt'>[]>().cursor()) {
      await add(applicationKey.document(d.applicationId, d._id, d.uploadedAt, 0));
      await add(applicationKey.content(d.sha256, d._id));
    }
    for await (const a of models.Application.find({}, { _id: 1, status: 1, wijken: 1, year: 1, createdAt: 1, applicant: 1, decision: 1, reference: 1 }).lean<Keyed[]>().cursor()) {
      for (const k of keysOfApplication(a)) await add(k);
    }
  });
}

// --- the staff's list of applications ------------------------------------------------------

/** A filter of the list: each of status, wijk and year given or any. */
export interface ApplicationListFilter {
  status?: string;
  wijk?: string;
  year?: number;
}

const ANY = '*';
/** Newest first in key order: the time of submission counted down from the year 2286. */
export const newestFirst = (at: Date | string | number) => String(9_999_999_999_999 - new Date(at).getTime()).padStart(13, '0');

function listParts(f: ApplicationListFilter): string[] {
  return [f.status ?? ANY, f.wijk ?? ANY, f.year === undefined ? ANY : String(f.year)];
}

type Listed = Pick<ApplicationDoc, '_id' | 'status' | 'wijken' | 'year' | 'createdAt'>;
type Keyed = Listed & Pick<ApplicationDoc, 'applicant' | 'decision' | 'reference'>;

/** The list keys of an application with this status: every combination of its status, wijken and year with "any". */
function listKeys(app: Listed, status: ApplicationStatus): KeyDoc[] {
  const keys: KeyDoc[] = [];
  for (const s of [status, undefined])
    for (const w of [...new Set(app.wijken ?? []), undefined])
      for (const y of [app.year, undefined]) {
        const parts = listParts({ ...(s ? { status: s } : {}), ...(w ? { wijk: w } : {}), ...(y !== undefined ? { year: y } : {}) });
        keys.push({ _id: keyId('apps', [...parts, newestFirst(app.createdAt)], app._id), ref: app._id });
      }
  return keys;
}

/**
 * Keeps the list keys of an application in step with its status: the keys of `status` are
 * written (before the status is, by the caller: `then`), then the keys of every other
 * status removed. Safe to repeat, and it repairs what a crash between the two left.
 */
export async function moveListKeys(models: Models, app: Listed, status: ApplicationStatus, then: () => Promise<unknown> = async () => undefined): Promise<void> {
  await moveStatusKeys(models, 'apps', applicationStatuses, (s) => listKeys(app, s), status, then);
}

/**
 * The keys of a thing listed under its status (first part) and "any": the keys of `status`
 * written, then the thing itself (`then`), then the keys under every other status removed.
 */
async function moveStatusKeys<S extends string>(models: Models, index: string, statuses: readonly S[], keysOf: (status: S) => KeyDoc[], status: S, then: () => Promise<unknown>): Promise<void> {
  await addKeys(models, keysOf(status));
  await then();
  const others = statuses.filter((s) => s !== status).flatMap((s) => keysOf(s).filter((k) => k._id.startsWith(`${index}:${escapeKeyPart(s)}:`)));
  await removeKeys(models, others.map((k) => k._id));
}

/** The applications of one applicant (by e-mail address, in any case). */
const applicantKey = (app: Pick<ApplicationDoc, '_id' | 'applicant'>): KeyDoc => ({ _id: keyId('applicant', [app.applicant.email.toLowerCase()], app._id), ref: app._id });

/** A grant, under its submission year and each of its wijken (or "*" for none), carrying the cents. */
function grantedKeys(app: Pick<ApplicationDoc, '_id' | 'wijken' | 'year' | 'decision'>): KeyDoc[] {
  const cents = app.decision?.grantedCents ?? 0;
  if (cents <= 0) return [];
  return (app.wijken.length ? [...new Set(app.wijken)] : [ANY]).map((w) => ({ _id: keyId('granted', [String(app.year), w], app._id), ref: app._id, n: cents }));
}

/** An application by its reference (what residents and staff quote: `VW-2027-0042`, in any case). */
const referenceKey = (app: Pick<ApplicationDoc, '_id' | 'reference'>): KeyDoc => ({ _id: keyId('reference', [app.reference.toUpperCase()], app._id), ref: app._id });

/** Every key an application has in its present state: the list, its applicant, its reference, its grant. */
export function keysOfApplication(app: Keyed): KeyDoc[] {
  return [...listKeys(app, app.status), applicantKey(app), referenceKey(app), ...grantedKeys(app)];
}

/** Writes the keys of a new application (before the application itself). */
export async function addApplicationKeys(models: Models, app: Keyed): Promise<void> {
  await addKeys(models, keysOfApplication(app));
}

/** Writes the key of a grant once the decision is known (kept: a decision is not undone). */
export async function addGrantKeys(models: Models, app: Pick<ApplicationDoc, '_id' | 'wijken' | 'year' | 'decision'>): Promise<void> {
  await addKeys(models, grantedKeys(app));
}

/** Cents granted to applications of `year` in `wijk`. */
export async function grantedInWijk(models: Models, year: number, wijk: string): Promise<number> {
  return (await refsUnder(models, 'granted', [String(year), wijk])).reduce((sum, k) => sum + (k.n ?? 0), 0);
}

/** The ids of an applicant's applications (by e-mail address). */
export async function applicationsOfApplicant(models: Models, email: string): Promise<string[]> {
  return (await refsUnder(models, 'applicant', [email.toLowerCase()])).map((k) => k.ref);
}

/** Every application with this status, oldest first. */
export async function applicationIdsWithStatus(models: Models, status: ApplicationStatus): Promise<string[]> {
  return (await refsUnder(models, 'apps', listParts({ status }), { descending: true })).map((k) => k.ref);
}

/** Removes every key of an application (after the application itself is gone). */
export async function removeApplicationKeys(models: Models, app: Keyed): Promise<void> {
  await removeKeys(models, [...new Set([...applicationStatuses.flatMap((s) => listKeys(app, s).map((k) => k._id)), applicantKey(app)._id, referenceKey(app)._id, ...grantedKeys(app).map((k) => k._id)])]);
}

/** The id of the application with this reference (in any case), or undefined. */
export async function applicationIdByReference(models: Models, reference: string): Promise<string | undefined> {
  const ids = (await refsUnder(models, 'reference', [reference.toUpperCase()])).map((k) => k.ref);
  // A key an undone intake left behind points to nothing (or, never, to another reference): checked.
  const found = ids.length ? await models.Application.find({ _id: { $in: ids } }, { _id: 1, reference: 1 }).lean<Pick<ApplicationDoc, '_id' | 'reference'>[]>() : [];
  return found.find((a) => a.reference.toUpperCase() === reference.toUpperCase())?._id;
}

const REFERENCES_BACKFILLED = 'migration:reference-keys:v1';

/** Writes the reference keys of applications stored before they existed (once per database; one read of the applications at start-up). */
export async function backfillReferenceKeys(models: Models): Promise<number> {
  return backfillKeysOnce(models, REFERENCES_BACKFILLED, async (add) => {
    for await (const a of models.Application.find({}, { _id: 1, reference: 1 }).lean<Pick<ApplicationDoc, '_id' | 'reference'>[]>().cursor()) await add(referenceKey(a));
  });
}

/** A page of the list, newest first: the application ids. */
export async function applicationIdsPage(models: Models, f: ApplicationListFilter, page: { skip: number; limit: number }): Promise<string[]> {
  return (await refsUnder(models, 'apps', listParts(f), page)).map((k) => k.ref);
}

/**
 * A page of the list and how many keys the filter has, counted in the index one by one (a
 * cost that grows with the list: the service takes its total from the tally instead,
 * src/reports/tally.ts `count`; this count is the check that the two agree).
 */
export async function listApplicationIds(models: Models, f: ApplicationListFilter, page: { skip: number; limit: number }): Promise<{ ids: string[]; total: number }> {
  const [ids, total] = await Promise.all([applicationIdsPage(models, f, page), countUnder(models, 'apps', listParts(f))]);
  return { ids, total };
}

// --- refunds finance is waiting for ---------------------------------------------------------

const refundKeyId = (applicationId: string) => keyId('refund-open', [], applicationId);

/**
 * Keeps the key of an application whose refund is open in step with its settlement: written
 * before the settlement is (`then`), removed after it no longer is open. Safe to repeat.
 */
export async function moveRefundKey(models: Models, applicationId: string, settlement: Settlement | null | undefined, then: () => Promise<unknown>): Promise<void> {
  const open = refundOpen(settlement);
  if (open) await addKeys(models, [{ _id: refundKeyId(applicationId), ref: applicationId }]);
  await then();
  if (!open) await removeKeys(models, [refundKeyId(applicationId)]);
}

/** The applications whose refund may be open (readers check the settlement: a key a crash left is skipped). */
export async function applicationsWithOpenRefund(models: Models): Promise<string[]> {
  return (await refsUnder(models, 'refund-open', [])).map((k) => k.ref);
}

const REFUNDS_BACKFILLED = 'migration:refund-keys:v1';

/** Writes the refund keys of settlements stored before they existed (once per database; one read of the applications at start-up). */
export async function backfillRefundKeys(models: Models): Promise<number> {
  return backfillKeysOnce(models, REFUNDS_BACKFILLED, async (add) => {
    for await (const a of models.Application.find({}, { _id: 1, settlement: 1 }).lean<Pick<ApplicationDoc, '_id' | 'settlement'>[]>().cursor()) {
      if (refundOpen(a.settlement)) await add({ _id: refundKeyId(a._id), ref: a._id });
    }
  });
}

// --- payouts by status and budget year --------------------------------------------------------

type PayoutListed = Pick<PayoutDoc, '_id' | 'status' | 'year' | 'createdAt'>;

/** A page of payouts: each of status and year given or any ("*"). */
function payoutParts(status: string | undefined, year: number | undefined): string[] {
  return [status ?? ANY, year === undefined ? ANY : String(year)];
}

/** The keys of a payout with this status: status and any, year and any; oldest first by creation. */
function payoutKeys(p: PayoutListed, status: PayoutDoc['status']): KeyDoc[] {
  const keys: KeyDoc[] = [];
  for (const s of [status, undefined])
    for (const y of [p.year, undefined]) keys.push({ _id: keyId('payouts', [...payoutParts(s, y), new Date(p.createdAt).toISOString()], p._id), ref: p._id });
  return keys;
}

/** Writes the keys of a new payout (before the payout itself). */
export async function addPayoutKeys(models: Models, p: PayoutListed): Promise<void> {
  await addKeys(models, payoutKeys(p, p.status));
}

/** The keys a retried instruction wrote for a payout stored by an earlier attempt (another creation time). */
export async function removePayoutKeys(models: Models, p: PayoutListed): Promise<void> {
  await removeKeys(models, payoutStatuses.flatMap((s) => payoutKeys(p, s).map((k) => k._id)));
}

/** As `moveListKeys`: the keys of the new status, then the status (`then`), then the old status's keys removed. */
export async function movePayoutKeys(models: Models, p: PayoutListed, status: PayoutDoc['status'], then: () => Promise<unknown>): Promise<void> {
  await moveStatusKeys(models, 'payouts', payoutStatuses, (s) => payoutKeys(p, s), status, then);
}

/** A page of payout ids, oldest first, and how many match in all. */
export async function payoutIds(models: Models, f: { status?: string; year?: number }, page: { skip?: number; limit?: number } = {}): Promise<{ ids: string[]; total: number }> {
  const parts = payoutParts(f.status, f.year);
  const [keys, total] = await Promise.all([refsUnder(models, 'payouts', parts, page), countUnder(models, 'payouts', parts)]);
  return { ids: keys.map((k) => k.ref), total };
}

const PAYOUTS_BACKFILLED = 'migration:payout-keys:v1';

/** Writes the keys of payouts stored before they existed (once per database; one read of the payouts at start-up). */
export async function backfillPayoutKeys(models: Models): Promise<number> {
  return backfillKeysOnce(models, PAYOUTS_BACKFILLED, async (add) => {
    for await (const p of models.Payout.find({}, { _id: 1, status: 1, year: 1, createdAt: 1 }).lean<PayoutListed[]>().cursor()) {
      for (const k of payoutKeys(p, p.status)) await add(k);
    }
  });
}

// --- what is stored about one application elsewhere: its ledger movements and e-mails ----------

/** The key of a ledger movement under its application (the ledger writes it before the entry: src/budget/journal.ts). */
export const movementKey = (applicationId: string, entryId: string): KeyDoc => ({ _id: keyId('movement', [applicationId], entryId), ref: entryId });

/** A ledger movement of an application (the export lists them). */
export async function addMovementKey(models: Models, e: Pick<LedgerEntryDoc, '_id' | 'applicationId'>): Promise<void> {
  if (e.applicationId) await addKeys(models, [movementKey(e.applicationId, e._id)]);
}

/** An e-mail about an application (written before its outbox row). */
export async function addMailKey(models: Models, applicationId: string, outboxId: string): Promise<void> {
  await addKeys(models, [{ _id: keyId('mail', [applicationId], outboxId), ref: outboxId }]);
}

/** The ledger movements of an application, oldest first. */
export async function movementsOfApplication(models: Models, applicationId: string): Promise<LedgerEntryDoc[]> {
  const ids = (await refsUnder(models, 'movement', [applicationId])).map((k) => k.ref);
  const found = ids.length ? await models.LedgerEntry.find({ _id: { $in: ids } }).lean<LedgerEntryDoc[]>() : [];
  return found.filter((e) => e.applicationId === applicationId).sort((a, b) => new Date(a.at).getTime() - new Date(b.at).getTime() || (a._id < b._id ? -1 : 1));
}

/** The outbox rows of an application, oldest first. */
export async function mailsOfApplication(models: Models, applicationId: string): Promise<OutboxDoc[]> {
  const ids = (await refsUnder(models, 'mail', [applicationId])).map((k) => k.ref);
  const found = ids.length ? await models.Outbox.find({ _id: { $in: ids } }).lean<OutboxDoc[]>() : [];
  return found.filter((m) => m.applicationId === applicationId).sort((a, b) => new Date(a.createdAt).getTime() - new Date(b.createdAt).getTime() || (a._id < b._id ? -1 : 1));
}

const RECORDS_BACKFILLED = 'migration:movement-mail-keys:v1';

/** Writes the keys of ledger movements and e-mails stored before they existed (once per database, at start-up). */
export async function backfillRecordKeys(models: Models): Promise<number> {
  return backfillKeysOnce(models, RECORDS_BACKFILLED, async (add) => {
    for await (const e of models.LedgerEntry.find({}, { _id: 1, applicationId: 1 }).lean<Pick<LedgerEntryDoc, '_id' | 'applicationId'>[]>().cursor()) {
      if (e.applicationId) await add(movementKey(e.applicationId, e._id));
    }
    for await (const m of models.Outbox.find({}, { _id: 1, applicationId: 1 }).lean<Pick<OutboxDoc, '_id' | 'applicationId'>[]>().cursor()) {
      if (m.applicationId) await add({ _id: keyId('mail', [m.applicationId], m._id), ref: m._id });
    }
  });
}

// --- an application's extra access tokens and idempotency keys (erasure removes them) -------

const accessTokenKey = (d: Pick<AccessTokenDoc, '_id' | 'applicationId'>): KeyDoc => ({ _id: keyId('token', [d.applicationId], d._id), ref: d._id });
const idempotencyKey = (d: Pick<IdempotencyDoc, '_id' | 'applicationId'>): KeyDoc => ({ _id: keyId('idempotency', [d.applicationId], d._id), ref: d._id });

/** Stores an access token of an application (its hash), its key first. */
export async function insertAccessToken(models: Models, doc: AccessTokenDoc): Promise<void> {
  await addKeys(models, [accessTokenKey(doc)]);
  await models.AccessToken.create(doc);
}

/** Claims an idempotency key for an application, its key first (a duplicate claim throws, as `create` does). */
export async function insertIdempotencyClaim(models: Models, doc: IdempotencyDoc): Promise<void> {
  await addKeys(models, [idempotencyKey(doc)]);
  await models.Idempotency.create(doc);
}

/** Removes an application's access tokens and idempotency claims by their keys, then the keys; returns how many of each went. */
export async function removeSecretsOfApplication(models: Models, applicationId: string): Promise<{ accessTokens: number; idempotencyKeys: number }> {
  const [tokens, claims] = await Promise.all([refsUnder(models, 'token', [applicationId]), refsUnder(models, 'idempotency', [applicationId])]);
  // Each document is checked to be this application's: an idempotency key is the client's, a retry may have claimed it for another.
  const accessTokens = tokens.length ? (await models.AccessToken.deleteMany({ _id: { $in: tokens.map((k) => k.ref) }, applicationId })).deletedCount : 0;
  const idempotencyKeys = claims.length ? (await models.Idempotency.deleteMany({ _id: { $in: claims.map((k) => k.ref) }, applicationId })).deletedCount : 0;
  await removeKeys(models, [...tokens, ...claims].map((k) => k._id));
  return { accessTokens, idempotencyKeys };
}

const SECRETS_BACKFILLED = 'migration:secret-keys:v1';

/** Writes the keys of access tokens and idempotency claims stored before they existed (once per database, at start-up). */
export async function backfillSecretKeys(models: Models): Promise<number> {
  return backfillKeysOnce(models, SECRETS_BACKFILLED, async (add) => {
    for await (const t of models.AccessToken.find({}, { _id: 1, applicationId: 1 }).lean<Pick<AccessTokenDoc, '_id' | 'applicationId'>[]>().cursor()) await add(accessTokenKey(t));
    for await (const c of models.Idempotency.find({}, { _id: 1, applicationId: 1 }).lean<Pick<IdempotencyDoc, '_id' | 'applicationId'>[]>().cursor()) await add(idempotencyKey(c));
  });
}
