/**
 * The database layer that keeps costs flat: our FerretDB build answers `_id` conditions
 * from its index (scripts/ferretdb/patches/), and our own ordered keys (src/db/keys.ts)
 * turn every other lookup into such a condition. Against the real FerretDB of the run.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { connectDatabase, submittedApplication, type Models } from '../../src/db/models.ts';
import {
  addApplicationKeys,
  applicationKey,
  applicationIdByReference,
  backfillApplicationKeys,
  backfillReferenceKeys,
  backfillSecretKeys,
  insertAccessToken,
  insertIdempotencyClaim,
  removeSecretsOfApplication,
  removeApplicationKeys,
  countUnder,
  escapeKeyPart,
  eventsOfApplication,
  insertDocuments,
  insertEvent,
  keyId,
  listApplicationIds,
  moveListKeys,
  refsUnder,
  removeDocumentsOfApplication,
  documentsOfApplication,
  applicationsWithOpenRefund,
  backfillPayoutKeys,
  backfillRefundKeys,
  movePayoutKeys,
  payoutIds,
} from '../../src/db/keys.ts';
import { validApplication } from '../helpers/fixtures.ts';
import { backfillAuditKeys, queryAudit, recordAudit } from '../../src/services/audit.ts';

let models: Models;

beforeAll(async () => {
  models = await connectDatabase(inject('mongoUri'), `keys-${randomUUID().slice(0, 8)}`);
});
afterAll(async () => {
  await models.connection.dropDatabase();
  await models.connection.close();
});

describe('the FerretDB build answers _id conditions from the _id index', () => {
  const ids = Array.from({ length: 300 }, (_, i) => `item:${String((i * 7919) % 1000).padStart(4, '0')}-${randomUUID().slice(0, 4)}`);
  const coll = () => models.connection.db!.collection<{ _id: string; n: number }>('patch_probe');

  beforeAll(async () => {
    await coll().insertMany(ids.map((_id, n) => ({ _id, n })));
    // Documents of another kind that no string range may return.
    await models.connection.db!.collection('patch_probe').insertMany([{ n: -1 }, { n: -2 }, { _id: 12 as never, n: -3 }]);
  });

  it('looks up, updates and deletes by _id with an index search, not a scan', async () => {
    const plan = JSON.stringify(await coll().find({ _id: ids[5]! }).explain());
    expect(plan, 'the query plan of a lookup by _id').toMatch(/SEARCH .* USING INDEX/);
    expect(plan).not.toMatch(/SCAN patch_probe/);
    const range = JSON.stringify(await coll().find({ _id: { $gte: 'item:', $lt: 'item;' } }).sort({ _id: -1 }).limit(5).explain());
    expect(range, 'the query plan of an _id range').toMatch(/SEARCH .* USING INDEX/);
    expect((await coll().updateOne({ _id: ids[7]!, n: 7 }, { $set: { n: 70 } })).modifiedCount).toBe(1);
    expect((await coll().findOne({ _id: ids[7]! }))?.n).toBe(70);
  });

  it('returns exactly what MongoDB would for ranges with sort, skip and limit, $in, and counts', async () => {
    const sorted = [...ids].sort();
    const page = await coll().find({ _id: { $gt: 'item:0100', $lt: 'item:0900' } }).sort({ _id: -1 }).skip(10).limit(25).toArray();
    const expected = sorted.filter((id) => id > 'item:0100' && id < 'item:0900').reverse().slice(10, 35);
    expect(page.map((d) => d._id)).toEqual(expected);
    const ascending = await coll().find({ _id: { $gte: 'item:' } }).sort({ _id: 1 }).limit(3).toArray();
    expect(ascending.map((d) => d._id), 'no ObjectID or number in a string range').toEqual(sorted.slice(0, 3));
    const some = [ids[1]!, ids[50]!, 'item:none', ids[299]!];
    expect((await coll().find({ _id: { $in: some } }).toArray()).map((d) => d._id).sort()).toEqual([ids[1]!, ids[50]!, ids[299]!].sort());
    expect(await coll().count({ _id: { $gte: 'item:', $lt: 'item;' } })).toBe(ids.length);
    expect(await coll().count({ _id: { $gt: 'item:0500', $lt: 'item;' } })).toBe(sorted.filter((id) => id > 'item:0500').length);
    // A filter with more than _id is still right (the _id part only narrows what is read).
    expect(await coll().countDocuments({ _id: { $gte: 'item:' }, n: { $gte: 10, $lt: 20 } })).toBe(10);
  });
});

describe('ordered keys', () => {
  it('escapes values so that only ":" separates parts and the order of plain values is kept', () => {
    expect(escapeKeyPart('Heuvel/Amstelwijk')).toBe('Heuvel~2FAmstelwijk');
    expect(escapeKeyPart('Émile: 1')).toBe('~C3~89mile~3A~201');
    expect(keyId('apps', ['a:b', '*'], 'x y')).toBe('apps:a~3Ab:~2A:x~20y');
    const plain = ['ready_for_meeting', 'closed', 'Voorburg-West', '2026', 'a.b'];
    expect(plain.map(escapeKeyPart)).toEqual(plain);
  });

  it("finds an application's events and documents by key, documents in upload order, and removes them with their keys", async () => {
    const appId = randomUUID();
    const other = randomUUID();
    const at = new Date('2026-05-01T10:00:00Z');
    const doc = (id: string, applicationId: string, sha256: string) => ({ _id: id, applicationId, fileName: `${id}.pdf`, contentType: 'application/pdf', size: 1, sha256, uploadedAt: at, uploadedBy: 'applicant' as const, context: 'intake' as const });
    await insertDocuments(models, [doc('z-first', appId, 'sha-a'), doc('a-second', appId, 'sha-b'), doc('m-third', appId, 'sha-shared')]);
    await insertDocuments(models, [doc('other-doc', other, 'sha-shared')]);
    await insertEvent(models, { _id: `${appId}:1`, applicationId: appId, at: at.toISOString(), type: 'submitted', status: 'submitted' });
    expect(await insertEvent(models, { _id: `${appId}:1`, applicationId: appId, at: at.toISOString(), type: 'submitted', status: 'submitted' }), 'a retry writes nothing').toBe(false);
    await insertEvent(models, { _id: `${other}:1`, applicationId: other, at: at.toISOString(), type: 'submitted', status: 'submitted' });

    expect((await documentsOfApplication(models, appId)).map((d) => d._id)).toEqual(['z-first', 'a-second', 'm-third']);
    expect((await eventsOfApplication(models, appId)).map((e) => e._id)).toEqual([`${appId}:1`]);
    expect((await refsUnder(models, 'content', ['sha-shared'])).map((k) => k.ref).sort()).toEqual(['m-third', 'other-doc']);

    expect(await removeDocumentsOfApplication(models, appId, ['a-second'])).toBe(1);
    expect((await documentsOfApplication(models, appId)).map((d) => d._id)).toEqual(['z-first', 'm-third']);
    expect(await removeDocumentsOfApplication(models, appId)).toBe(2);
    expect(await documentsOfApplication(models, appId)).toEqual([]);
    expect(await countUnder(models, 'document', [appId]), 'no key left behind').toBe(0);
    expect((await refsUnder(models, 'content', ['sha-shared'])).map((k) => k.ref), "the other application's document keeps its content key").toEqual(['other-doc']);
  });

  it('lists applications newest first per status, wijk and year, follows status changes, and skips keys a crash left', async () => {
    const year = 2071;
    const stored = [];
    for (let i = 0; i < 12; i++) {
      const app = submittedApplication({
        id: randomUUID(),
        form: validApplication({ wijken: i % 3 === 0 ? ['Damsigt', 'Voorburg-West'] : ['Damsigt'] }) as never,
        reference: `K-${i}`,
        year,
        submittedAt: new Date(Date.UTC(year, 0, 1 + i)),
      });
      await addApplicationKeys(models, app);
      await models.Application.collection.insertOne(app as never);
      stored.push(app);
    }
    const newest = [...stored].reverse().map((a) => a._id);
    const all = await listApplicationIds(models, { year }, { skip: 0, limit: 5 });
    expect(all).toEqual({ ids: newest.slice(0, 5), total: 12 });
    expect(await listApplicationIds(models, { year }, { skip: 10, limit: 5 })).toEqual({ ids: newest.slice(10), total: 12 });
    expect((await listApplicationIds(models, { year, wijk: 'Voorburg-West' }, { skip: 0, limit: 50 })).ids).toEqual(stored.filter((_, i) => i % 3 === 0).reverse().map((a) => a._id));

    // Two move on to screening; a retry of the same move changes nothing.
    for (const app of [stored[2]!, stored[5]!, stored[5]!]) {
      await moveListKeys(models, app, 'screening', () => models.Application.updateOne({ _id: app._id }, { $set: { status: 'screening' } }));
    }
    expect(await listApplicationIds(models, { year, status: 'screening' }, { skip: 0, limit: 50 })).toEqual({ ids: [stored[5]!._id, stored[2]!._id], total: 2 });
    expect((await listApplicationIds(models, { year, status: 'submitted' }, { skip: 0, limit: 50 })).total).toBe(10);
    expect((await listApplicationIds(models, { status: 'screening', wijk: 'Damsigt', year }, { skip: 0, limit: 50 })).ids).toEqual([stored[5]!._id, stored[2]!._id]);

    // A crash after the new keys were written and before the status was: the key of the
    // status to come is there; the next move (the retry) makes it right again.
    await moveListKeys(models, stored[7]!, 'ready_for_meeting', () => Promise.reject(new Error('crash'))).catch(() => undefined);
    expect((await listApplicationIds(models, { year, status: 'ready_for_meeting' }, { skip: 0, limit: 50 })).ids).toEqual([stored[7]!._id]);
    await moveListKeys(models, stored[7]!, 'submitted');
    expect((await listApplicationIds(models, { year, status: 'ready_for_meeting' }, { skip: 0, limit: 50 })).total).toBe(0);
    expect((await listApplicationIds(models, { year, status: 'submitted' }, { skip: 0, limit: 50 })).total).toBe(10);
  });

  it('writes the keys of data stored before keys existed, once', async () => {
    const appId = randomUUID();
    const app = submittedApplication({ id: appId, form: validApplication() as never, reference: 'OLD-1', year: 2072, submittedAt: new Date('2072-03-01T09:00:00Z') });
    await models.Application.collection.insertOne(app as never);
    await models.Event.collection.insertOne({ _id: `${appId}:2`, applicationId: appId, at: '2072-03-02T09:00:00Z', type: 'screening_started', status: 'screening' } as never);
    await models.Document.collection.insertOne({ _id: `${appId}-doc`, applicationId: appId, fileName: 'oud.pdf', contentType: 'application/pdf', size: 1, sha256: 'sha-old', uploadedAt: new Date(), uploadedBy: 'applicant', context: 'intake' } as never);
    expect(await eventsOfApplication(models, appId), 'not found before the backfill').toEqual([]);

    expect(await backfillApplicationKeys(models)).toBeGreaterThanOrEqual(3);
    expect((await eventsOfApplication(models, appId)).map((e) => e._id)).toEqual([`${appId}:2`]);
    expect((await documentsOfApplication(models, appId)).map((d) => d._id)).toEqual([`${appId}-doc`]);
    expect((await listApplicationIds(models, { year: 2072 }, { skip: 0, limit: 5 })).ids).toEqual([appId]);
    expect(await backfillApplicationKeys(models), 'the second time: nothing to do').toBe(0);
    expect(applicationKey.event(appId, 'x')._id.startsWith(`event:${appId}:`)).toBe(true);
  });

  it('finds an application by its reference in any case, skips a key whose application is gone, and writes the reference keys of older applications once', async () => {
    const app = submittedApplication({ id: randomUUID(), form: validApplication() as never, reference: 'VW-2073-0007', year: 2073, submittedAt: new Date('2073-02-01T09:00:00Z') });
    await addApplicationKeys(models, app);
    await models.Application.collection.insertOne(app as never);
    expect(await applicationIdByReference(models, 'vw-2073-0007')).toBe(app._id);
    expect(await applicationIdByReference(models, 'VW-2073-0008')).toBeUndefined();
    // An undone intake: keys written, the application never stored (or removed before its keys).
    const undone = submittedApplication({ id: randomUUID(), form: validApplication() as never, reference: 'VW-2073-0009', year: 2073, submittedAt: new Date('2073-02-02T09:00:00Z') });
    await addApplicationKeys(models, undone);
    expect(await applicationIdByReference(models, 'VW-2073-0009')).toBeUndefined();
    await removeApplicationKeys(models, undone);
    expect(await refsUnder(models, 'reference', ['VW-2073-0009'])).toEqual([]);
    // Stored before reference keys existed: found once the backfill ran, which runs once.
    const old = submittedApplication({ id: randomUUID(), form: validApplication() as never, reference: 'VW-2073-0010', year: 2073, submittedAt: new Date('2073-02-03T09:00:00Z') });
    await models.Application.collection.insertOne(old as never);
    expect(await applicationIdByReference(models, 'VW-2073-0010'), 'not found before the backfill').toBeUndefined();
    expect(await backfillReferenceKeys(models)).toBeGreaterThanOrEqual(2);
    expect(await applicationIdByReference(models, 'VW-2073-0010')).toBe(old._id);
    expect(await backfillReferenceKeys(models), 'the second time: nothing to do').toBe(0);
  });

  it("removes an application's access tokens and idempotency claims by key (not another application's), and writes the keys of older ones once", async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    const at = new Date();
    await insertAccessToken(models, { _id: `hash-a1-${a}`, applicationId: a, createdAt: at });
    await insertAccessToken(models, { _id: `hash-a2-${a}`, applicationId: a, createdAt: at });
    await insertAccessToken(models, { _id: `hash-b1-${b}`, applicationId: b, createdAt: at });
    await insertIdempotencyClaim(models, { _id: `idem-a-${a}`, requestHash: 'h', applicationId: a, createdAt: at });
    await expect(insertIdempotencyClaim(models, { _id: `idem-a-${a}`, requestHash: 'h2', applicationId: b, createdAt: at }), 'a claimed key stays claimed').rejects.toThrow();
    // Stored before the keys existed.
    await models.AccessToken.collection.insertOne({ _id: `hash-a3-${a}`, applicationId: a, createdAt: at } as never);
    expect(await backfillSecretKeys(models)).toBeGreaterThanOrEqual(5);
    expect(await backfillSecretKeys(models), 'the second time: nothing to do').toBe(0);

    expect(await removeSecretsOfApplication(models, a)).toEqual({ accessTokens: 3, idempotencyKeys: 1 });
    expect(await models.AccessToken.collection.countDocuments({ applicationId: a })).toBe(0);
    expect(await models.Idempotency.collection.countDocuments({ applicationId: a })).toBe(0);
    expect(await models.AccessToken.collection.countDocuments({ applicationId: b }), "the other application's token stays").toBe(1);
    expect(await refsUnder(models, 'token', [a])).toEqual([]);
    expect(await removeSecretsOfApplication(models, a), 'again: nothing').toEqual({ accessTokens: 0, idempotencyKeys: 0 });
  });
});

describe("finance's lists by keys", () => {
  const payout = (n: number, status: 'pending' | 'paid', year: number) => ({
    _id: `BF-OUD-${n}`,
    applicationId: `oud-${n}`,
    reference: `OUD-${n}`,
    year,
    amountCents: 1_000 * n,
    iban: 'NL91ABNA0417164300',
    accountHolder: 'Oud',
    remittance: 'oud',
    createdAt: new Date(Date.UTC(2071, 0, n)),
    status,
  });

  it('pages payouts oldest first by status and year, follows a status change, and writes the keys of older payouts and refunds once', async () => {
    await models.Payout.collection.insertMany([payout(3, 'pending', 2071), payout(1, 'paid', 2071), payout(2, 'pending', 2072)] as never[]);
    await models.Application.collection.insertMany([
      { _id: 'oud-refund-open', settlement: { refundDueCents: 500, refundReceivedCents: 100 } },
      { _id: 'oud-refund-done', settlement: { refundDueCents: 500, refundReceivedCents: 500 } },
      { _id: 'oud-no-refund', settlement: { refundDueCents: 0 } },
    ] as never[]);
    expect((await payoutIds(models, {})).total, 'not found before the backfill').toBe(0);

    expect(await backfillPayoutKeys(models), 'four keys a payout: status and any × year and any').toBe(12);
    expect(await backfillRefundKeys(models)).toBe(1);
    expect(await applicationsWithOpenRefund(models)).toEqual(['oud-refund-open']);
    expect(await payoutIds(models, {})).toEqual({ ids: ['BF-OUD-1', 'BF-OUD-2', 'BF-OUD-3'], total: 3 });
    expect(await payoutIds(models, { status: 'pending' })).toEqual({ ids: ['BF-OUD-2', 'BF-OUD-3'], total: 2 });
    expect(await payoutIds(models, { status: 'pending', year: 2071 })).toEqual({ ids: ['BF-OUD-3'], total: 1 });
    expect(await payoutIds(models, { year: 2071 }, { skip: 1, limit: 1 })).toEqual({ ids: ['BF-OUD-3'], total: 2 });

    await movePayoutKeys(models, payout(3, 'pending', 2071), 'paid', () => models.Payout.updateOne({ _id: 'BF-OUD-3' }, { $set: { status: 'paid' } }));
    expect(await payoutIds(models, { status: 'pending' })).toEqual({ ids: ['BF-OUD-2'], total: 1 });
    expect(await payoutIds(models, { status: 'paid', year: 2071 })).toEqual({ ids: ['BF-OUD-1', 'BF-OUD-3'], total: 2 });
    expect(await payoutIds(models, { year: 2071 })).toEqual({ ids: ['BF-OUD-1', 'BF-OUD-3'], total: 2 });
    expect([await backfillPayoutKeys(models), await backfillRefundKeys(models)], 'the second time: nothing to do').toEqual([0, 0]);
  });
});

describe('the audit log by keys', () => {
  it('pages newest first by one filter with an exact total, combines filters, and writes the keys of older entries once', async () => {
    const base = Date.UTC(2073, 0, 1);
    for (let i = 0; i < 30; i++) {
      await recordAudit(models, { _id: `keys-test-${i}`, at: new Date(base + i * 60_000), actor: i % 2 ? 'staff:a' : 'staff:b', action: i % 3 ? 'ledger.reserve' : 'payout.paid', target: `application:k${i % 5}` });
    }
    const page = await queryAudit(models, { actor: 'staff:a', offset: 5, limit: 5 });
    expect(page.total).toBe(15);
    expect(page.entries.map((e) => e.id)).toEqual([19, 17, 15, 13, 11].map((i) => `keys-test-${i}`));
    const window = await queryAudit(models, { action: 'ledger.', from: new Date(base + 10 * 60_000).toISOString(), to: new Date(base + 14 * 60_000).toISOString(), offset: 0, limit: 50 });
    expect(window.entries.map((e) => e.id)).toEqual([14, 13, 11, 10].map((i) => `keys-test-${i}`));
    const both = await queryAudit(models, { actor: 'staff:b', target: 'application:k0', offset: 0, limit: 50 });
    expect(both.entries.map((e) => e.id)).toEqual([20, 10, 0].map((i) => `keys-test-${i}`));
    expect(both.total).toBe(3);

    await models.Audit.collection.insertOne({ _id: 'keys-test-old', at: new Date(base - 60_000), actor: 'staff:old', action: 'panel.added', target: 'staff:x' } as never);
    expect((await queryAudit(models, { actor: 'staff:old', offset: 0, limit: 5 })).total, 'not found before the backfill').toBe(0);
    expect(await backfillAuditKeys(models)).toBeGreaterThanOrEqual(31);
    expect((await queryAudit(models, { actor: 'staff:old', offset: 0, limit: 5 })).entries.map((e) => e.id)).toEqual(['keys-test-old']);
    expect(await backfillAuditKeys(models)).toBe(0);
  });
});
