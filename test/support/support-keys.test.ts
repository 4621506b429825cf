/**
 * The support cases by ordered keys (src/support/keys.ts) against the real FerretDB: the
 * queue and the applications a welfare worker may read are exactly what a fold of every
 * support event gives (the way they were computed before keys), for a mix of cases (open,
 * claimed across organisations, released, handed over, claimed twice by one worker,
 * initiative ended); keys a crash left on either side of an entry are skipped or repaired;
 * reconcile reads only its keys; the migration writes the keys of older data once; and
 * none of these paths sends a query that is not on `_id`.
 */
import { ReportTally } from '../../src/reports/tally.ts';
import { randomUUID } from 'node:crypto';
import type { CommandStartedEvent } from 'mongodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Models } from '../../src/db/models.ts';
import { monitoredDatabase, notById } from '../helpers/id-queries.ts';
import { addKeys, countUnder, refsUnder, removeKeys } from '../../src/db/keys.ts';
import { idRange } from '../../src/db/chain.ts';
import { supportEventModel } from '../../src/db/support-models.ts';
import { isFinal, type ApplicationStatus } from '../../src/domain/status.ts';
import { SupportService, type QueueFilter } from '../../src/support/service.ts';
import { foldSupport, welfareMayRead, type SupportCase } from '../../src/support/case.ts';
import type { SupportEventDoc } from '../../src/support/events.ts';
import { backfillSupportKeys, caseKeys, holdingEntry, supportChainName, supportKey } from '../../src/support/keys.ts';
import type { WijkOrganisations } from '../../src/support/organisations.ts';
import { createApplicationActivities } from '../../activities/applications.ts';

const organisations: WijkOrganisations = { byWijk: { Bovenveen: 'Woej', 'Voorburg-Midden': 'SenW', Gemeentebreed: 'Woej' }, organisations: ['Woej', 'SenW'] };
const workers = [
  { _id: 'w-woej-1', name: 'Woej één', organisation: 'Woej' },
  { _id: 'w-woej-2', name: 'Woej twee', organisation: 'Woej' },
  { _id: 'w-senw-1', name: 'SenW één', organisation: 'SenW' },
  { _id: 'w-none', name: 'Zonder organisatie' },
] as const;
const actor = (w: (typeof workers)[number]) => ({ id: w._id, role: 'welfare' as const });
const [woej1, woej2, senw1, none] = [actor(workers[0]), actor(workers[1]), actor(workers[2]), actor(workers[3])];
const admin = { id: 'admin-1', role: 'admin' as const };

interface Db {
  models: Models;
  commands: CommandStartedEvent[];
  /** A clock that moves one second per call. */
  now: () => Date;
  service: () => SupportService;
}

async function openDb(name: string): Promise<Db> {
  const { models, commands } = await monitoredDatabase(inject('mongoUri'), `${name}-${randomUUID().slice(0, 8)}`);
  let t = Date.parse('2071-05-01T08:00:00Z');
  const now = () => new Date((t += 1000));
  await models.StaffUser.collection.insertMany([
    ...workers.map((w) => ({ ...w, email: `${w._id}@buurtfonds.test`, role: 'welfare', active: true, passwordHash: 'x' })),
    { _id: admin.id, email: 'admin@buurtfonds.test', name: 'Beheer', role: 'admin', active: true, passwordHash: 'x' },
  ] as never[]);
  return { models, commands, now, service: () => new SupportService({ models, organisations, now }) };
}

async function closeDb(db: Db | undefined): Promise<void> {
  if (!db) return;
  await db.models.connection.dropDatabase();
  await db.models.connection.close();
}

/** An initiative in progress; its case queued by `open` when `queued`. */
async function initiative(db: Db, ref: string, wijk: string, queued = true): Promise<string> {
  const id = randomUUID();
  await db.models.Application.collection.insertOne({ _id: id, reference: ref, title: `Initiatief ${ref}`, wijken: [wijk], status: 'reserved', statusSeq: 1, year: 2071, createdAt: new Date() } as never);
  if (queued) await db.service().open({ applicationId: id, reason: 'requested', at: db.now().toISOString() });
  return id;
}

/** The status projection of the initiative workflow moving an initiative on. */
async function progress(db: Db, id: string, status: ApplicationStatus, seq: number): Promise<void> {
  await createApplicationActivities({ models: db.models, tally: new ReportTally({ models: db.models }) }).recordProgress({
    applicationId: id,
    seq,
    event: { id: `${id}:progress-${seq}`, at: db.now().toISOString(), type: 'status_changed', status },
    status,
    informationRequests: [],
  });
}

/** The mix of cases both databases get: every way a case can be held, left and ended. */
async function mix(db: Db): Promise<Record<string, string>> {
  const s = db.service();
  const ids: Record<string, string> = {};
  ids.open = await initiative(db, 'R-01', 'Bovenveen');
  ids.crossOrg = await initiative(db, 'R-02', 'Voorburg-Midden');
  await s.claim(ids.crossOrg, woej1); // a Woej worker holds a SenW case
  await expect(s.claim(ids.crossOrg, senw1)).rejects.toMatchObject({ status: 409 }); // refused: its keys go again
  ids.handedAcross = await initiative(db, 'R-03', 'Bovenveen');
  await s.claim(ids.handedAcross, woej1);
  await s.handover(ids.handedAcross, woej1, senw1.id);
  ids.released = await initiative(db, 'R-04', 'Bovenveen');
  await s.claim(ids.released, senw1);
  await s.release(ids.released, senw1);
  ids.handedTwice = await initiative(db, 'R-05', 'Voorburg-Midden');
  await s.claim(ids.handedTwice, senw1);
  await s.handover(ids.handedTwice, senw1, woej1.id);
  await s.handover(ids.handedTwice, woej1, woej2.id);
  ids.claimedAgain = await initiative(db, 'R-06', 'Voorburg-Midden');
  await s.claim(ids.claimedAgain, woej1);
  await s.release(ids.claimedAgain, admin);
  await s.claim(ids.claimedAgain, woej1);
  ids.noOrganisation = await initiative(db, 'R-07', 'Voorburg-Midden');
  await s.claim(ids.noOrganisation, none);
  ids.ended = await initiative(db, 'R-08', 'Bovenveen');
  await s.claim(ids.ended, woej1);
  await progress(db, ids.ended, 'closed', 2);
  ids.withdrawn = await initiative(db, 'R-09', 'Voorburg-Midden');
  await progress(db, ids.withdrawn, 'withdrawn', 2);
  ids.noCase = await initiative(db, 'R-10', 'Bovenveen', false);
  return ids;
}

/** The queue and the readable applications as they were computed before keys: a fold of every support event. */
async function expected(db: Db): Promise<{ queue: (f: QueueFilter) => SupportCase[]; readable: (worker: (typeof workers)[number]) => string[] }> {
  const events = (await (await supportEventModel(db.models.connection)).find({}).lean()) as SupportEventDoc[];
  const byChain = new Map<string, SupportEventDoc[]>();
  for (const e of events) byChain.set(e.chain, [...(byChain.get(e.chain) ?? []), e]);
  const cases = [...byChain.values()].map((entries) => foldSupport(entries.sort((a, b) => a.seq - b.seq).filter((e, i) => e.seq === i + 1))).filter((c): c is SupportCase => !!c);
  const statuses = new Map((await db.models.Application.find({}, { status: 1 }).lean()).map((a) => [a._id, a.status]));
  return {
    queue: (f) =>
      cases
        .filter((c) => !isFinal(statuses.get(c.applicationId) ?? 'reserved'))
        .filter((c) => (f.wijk ? c.wijken.includes(f.wijk) : true) && (f.organisation ? c.organisation === f.organisation : true) && (f.state ? c.state === f.state : true))
        .sort((a, b) => a.queuedAt.localeCompare(b.queuedAt) || a.reference.localeCompare(b.reference)),
    readable: (w) => cases.filter((c) => welfareMayRead(c, { id: w._id, ...('organisation' in w ? { organisation: w.organisation } : {}) })).map((c) => c.applicationId).sort(),
  };
}

const filters: QueueFilter[] = [{}, { state: 'unclaimed' }, { state: 'claimed' }, { organisation: 'Woej' }, { organisation: 'SenW', state: 'claimed' }, { wijk: 'Voorburg-Midden' }];

/** The queue (each filter) and every worker's readable applications by keys equal the fold of all events. */
async function expectSameAsFold(db: Db, what: string): Promise<void> {
  const want = await expected(db);
  const from = db.commands.length;
  const s = db.service(); // a new process: nothing cached
  for (const f of filters) expect(await s.queue(f), `${what}: queue ${JSON.stringify(f)}`).toEqual(want.queue(f));
  for (const w of workers) expect((await s.readableBy(w._id)).sort(), `${what}: readable by ${w._id}`).toEqual(want.readable(w));
  expect(db.commands.length, `${what}: the queries are seen`).toBeGreaterThan(from);
  expect(notById(db, from), `${what}: queries not by _id`).toEqual([]);
}

let db: Db;
let ids: Record<string, string>;

beforeAll(async () => {
  db = await openDb('support-keys');
  ids = await mix(db);
}, 60_000);
afterAll(() => closeDb(db));

describe('support cases by keys', () => {
  it('the queue and each worker’s readable applications are exactly the fold of all support events, sending no query but by _id', async () => {
    // The status projection took the ended initiatives out of the queue (before any reader saw them).
    for (const id of [ids.ended!, ids.withdrawn!]) expect(await db.models.Key.exists({ _id: supportKey.open(id, (await db.service().get(id))!.queuedAt)._id }), id).toBeNull();
    expect(await db.models.Key.exists({ _id: supportKey.open(ids.open!, (await db.service().get(ids.open!))!.queuedAt)._id })).not.toBeNull();
    await expectSameAsFold(db, 'the mix');
    const from = db.commands.length;
    expect(await db.service().reconcile()).toEqual({ audits: 0, restarted: 0 });
    expect(notById(db, from), 'reconcile: queries not by _id').toEqual([]);
    // The mix is what it says: the ended initiatives left the queue, both still readable by their organisation.
    const queue = (await db.service().queue()).map((c) => c.applicationId);
    expect(queue).not.toContain(ids.ended);
    expect(queue).not.toContain(ids.withdrawn);
    expect(queue).toHaveLength(7);
    expect(await db.service().readableBy(woej1.id)).toEqual(expect.arrayContaining([ids.ended, ids.crossOrg, ids.claimedAgain, ids.open]));
    expect(await db.service().readableBy(senw1.id)).toEqual(expect.arrayContaining([ids.handedAcross, ids.withdrawn]));
    expect(await refsUnder(db.models, 'support-unaudited', []), 'every move audited, nothing left to reconcile').toEqual([]);
    expect(await countUnder(db.models, 'support-holder', [senw1.id]), 'one hold key of SenW’s worker: the case handed to them').toBe(1);
  });

  it('skips and removes a queue key of an initiative that ended or of a second queueing', async () => {
    const id = await initiative(db, 'R-11', 'Bovenveen');
    const c = (await db.service().get(id))!;
    // The status written, then a crash before the projection removed the queue key.
    await db.models.Application.updateOne({ _id: id }, { $set: { status: 'lapsed' } });
    // A second queueing at another time (lost to the first) that crashed before removing its key.
    const other = await initiative(db, 'R-12', 'Voorburg-Midden');
    await addKeys(db.models, [supportKey.open(other, '2071-01-01T00:00:00.000Z')]);
    await expectSameAsFold(db, 'stale queue keys');
    expect(await countUnder(db.models, 'support-open', []), 'removed by the reader').toBe((await db.service().queue()).length);
    expect(await db.models.Key.exists({ _id: caseKeys(c, false)[1]!._id })).toBeNull();
  });

  it('a crash after the keys and before the entry loses nothing and shows nothing wrong; reconcile drops the keys of a move never written', async () => {
    // A claim of the open case by SenW's worker whose process died before the entry: its keys, no entry.
    const entryKey = `${supportChainName(ids.open!)}:claim:${randomUUID()}`;
    const at = db.now();
    await addKeys(db.models, [supportKey.unaudited(entryKey, at), ...supportKey.holder(ids.open!, entryKey, { id: senw1.id, name: 'SenW één', organisation: 'SenW' })]);
    // The queueing of a new initiative, dead before its entry.
    const unqueued = await initiative(db, 'R-13', 'Voorburg-Midden', false);
    await addKeys(db.models, caseKeys({ applicationId: unqueued, organisation: 'SenW', queuedAt: db.now().toISOString() }, false));
    await expectSameAsFold(db, 'keys without their entry');
    expect(await db.service().readableBy(senw1.id)).not.toContain(ids.open);
    // Young: it may be a move in progress. Old: never written, removed.
    expect(await db.service().reconcile()).toEqual({ audits: 0, restarted: 0 });
    expect(await db.models.Key.exists({ _id: supportKey.unaudited(entryKey, at)._id })).not.toBeNull();
    const later = new SupportService({ models: db.models, organisations, now: () => new Date(at.getTime() + 11 * 60_000) });
    expect(await later.reconcile()).toEqual({ audits: 0, restarted: 0 });
    expect(await refsUnder(db.models, 'support-unaudited', [])).toEqual([]);
    // The queueing done after all (an activity retry): the case appears, in its place.
    await db.service().open({ applicationId: unqueued, reason: 'requested', at: new Date(at.getTime() + 1000).toISOString() });
    expect((await db.service().queue()).map((c) => c.applicationId)).toContain(unqueued);
    await expectSameAsFold(db, 'queued after all');
  });

  it('a crash after a release’s entry: reconcile writes the audit record and removes the ended hold’s keys', async () => {
    const id = await initiative(db, 'R-14', 'Voorburg-Midden');
    const s = db.service();
    await s.claim(id, woej1);
    await s.release(id, woej1);
    // Put back what was there when the entry was written: its unaudited key and the keys of the hold it ended, and no audit record.
    const entries = (await (await supportEventModel(db.models.connection)).find(idRange(supportChainName(id))).sort({ _id: 1 }).lean()) as SupportEventDoc[];
    const release = entries.at(-1)!;
    const ended = holdingEntry(entries.slice(0, -1))!;
    await db.models.Audit.deleteOne({ _id: release._id });
    await addKeys(db.models, [supportKey.unaudited(release.key, release.at), ...supportKey.holder(id, ended.key, ended.worker!)]);
    await expectSameAsFold(db, 'a release not settled');

    const from = db.commands.length;
    expect(await db.service().reconcile()).toEqual({ audits: 1, restarted: 0 });
    expect(notById(db, from)).toEqual([]);
    expect(await db.models.Audit.findById(release._id).lean()).toMatchObject({ action: 'support.released', actor: `staff:${woej1.id}`, before: { claimedBy: { id: woej1.id } } });
    expect((await refsUnder(db.models, 'support-holder', [woej1.id])).map((k) => k.ref)).not.toContain(id);
    expect(await db.service().reconcile()).toEqual({ audits: 0, restarted: 0 });
  });
});

describe('the migration of support cases stored before keys', () => {
  let old: Db;
  afterAll(() => closeDb(old));

  it('writes their keys once, so that the queue and readable applications are what the fold gives; a move without audit record is reconciled', async () => {
    old = await openDb('support-keys-old');
    await mix(old);
    // As a version without support keys left it: no support keys, and one claim's audit record missing.
    const supportKeys = (await old.models.Key.find({ _id: { $gte: 'support-', $lt: 'support.' } }, { _id: 1 }).lean()).map((k) => k._id);
    expect(supportKeys.length).toBeGreaterThan(10);
    await removeKeys(old.models, supportKeys);
    expect(await old.service().queue(), 'without keys the queue finds nothing').toEqual([]);
    const anyClaim = ((await (await supportEventModel(old.models.connection)).find({}).lean()) as SupportEventDoc[]).find((e) => e.kind === 'claimed')!;
    await old.models.Audit.deleteOne({ _id: anyClaim._id });

    expect(await backfillSupportKeys(old.models)).toBe(9);
    await expectSameAsFold(old, 'after the migration');
    expect(await old.service().reconcile()).toEqual({ audits: 1, restarted: 0 });
    expect(await old.models.Audit.findById(anyClaim._id).lean()).toMatchObject({ action: 'support.claimed' });
    expect(await backfillSupportKeys(old.models), 'the second time: nothing to do').toBe(0);
  }, 60_000);
});
