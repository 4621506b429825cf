/**
 * The budget ledger read from its tip (src/budget/journal.ts) against a real FerretDB: a fresh
 * process reads the newest snapshot and the entries after it, never the whole year, and
 * finds what it needs of an application by key; its figures equal a full fold of the
 * journal after a random mixed history written by two processes at once; retries still
 * get their first entry; a crash between an owner key and its entry, or right after the
 * entry, loses and double-counts nothing; journals from before snapshots are migrated once.
 */
import { randomBytes } from 'node:crypto';
import type { CommandStartedEvent, CommandSucceededEvent } from 'mongodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectDatabase, type LedgerEntryDoc, type Models } from '../../src/db/models.ts';
import { backfillLedger, BudgetLedger, LEDGER_MIGRATED, type MovementListener } from '../../src/budget/ledger.ts';
import { chainEntryId, idRange } from '../../src/db/chain.ts';
import { addKeys, movementKey } from '../../src/db/keys.ts';
import { applyMovement, emptyBalances, type ApplicationShare, type Balances } from '../../src/domain/ledger.ts';
import { amsterdamDate } from '../../src/domain/dates.ts';
import { prng } from '../helpers/prng.ts';

const K = 100; // entries between snapshots in this file
const YEAR = 2061;
const WIJKEN = ['Bovenveen', 'Damsigt', 'Prinsenhof', 'Stompwijk'];

interface Db {
  models: Models;
  started: CommandStartedEvent[];
  succeeded: CommandSucceededEvent[];
}
const dbs: Db[] = [];

async function openDb(name: string): Promise<Db> {
  const models = await connectDatabase(inject('mongoUri'), `${name}_${randomBytes(4).toString('hex')}`, { monitorCommands: true });
  const db: Db = { models, started: [], succeeded: [] };
  models.connection.getClient().on('commandStarted', (e) => db.started.push(e));
  models.connection.getClient().on('commandSucceeded', (e) => db.succeeded.push(e));
  dbs.push(db);
  return db;
}

afterAll(async () => {
  for (const db of dbs) {
    await db.models.connection.dropDatabase().catch(() => undefined);
    await db.models.connection.close();
  }
});

/** The queries on the ledger's collections since `from` whose filter is not on `_id` alone, and how many entries they returned. */
function ledgerReads(db: Db, from: { started: number; succeeded: number }): { notById: unknown[]; entriesRead: number; queries: number } {
  const collections = new Set(['ledger_entries', 'ledger_snapshots', 'keys']);
  const started = db.started.slice(from.started);
  const collectionOf = new Map<number, string>();
  const notById: unknown[] = [];
  let queries = 0;
  for (const e of started) {
    const c = e.command;
    const collection = (e.commandName === 'getMore' ? c.collection : c[e.commandName]) as string;
    collectionOf.set(e.requestId, collection);
    if (!collections.has(collection)) continue;
    const filters = e.commandName === 'find' ? [c.filter ?? {}] : e.commandName === 'count' ? [c.query ?? {}] : e.commandName === 'aggregate' || e.commandName === 'distinct' ? [{ [e.commandName]: 1 }] : [];
    for (const f of filters) {
      queries += 1;
      const keys = Object.keys(f as object);
      if (keys.length !== 1 || keys[0] !== '_id') notById.push({ collection, filter: f });
    }
  }
  let entriesRead = 0;
  for (const e of db.succeeded.slice(from.succeeded)) {
    if (collectionOf.get(e.requestId) !== 'ledger_entries') continue;
    const cursor = (e.reply as { cursor?: { firstBatch?: unknown[]; nextBatch?: unknown[] } }).cursor;
    entriesRead += (cursor?.firstBatch ?? cursor?.nextBatch ?? []).length;
  }
  return { notById, entriesRead, queries };
}
const mark = (db: Db) => ({ started: db.started.length, succeeded: db.succeeded.length });

/** The year as a fold of its whole journal with the domain's rules (how the ledger computed it before snapshots). */
function fullFold(entries: readonly LedgerEntryDoc[]) {
  const shares = new Map<string, ApplicationShare>();
  const wijken = new Map<string, string[]>();
  const perMonth = new Map<string, { month: string; reservedCents: number; releasedCents: number; paidCents: number; reclaimedCents: number; refundedCents: number }>();
  const usedPerDay = new Map<string, number>();
  const field = { reserve: 'reservedCents', release: 'releasedCents', pay: 'paidCents', reclaim: 'reclaimedCents', refund: 'refundedCents' } as const;
  let balances: Balances = emptyBalances(0);
  for (const e of entries) {
    const r = applyMovement(balances, (e.applicationId && shares.get(e.applicationId)) || { committedCents: 0, paidCents: 0 }, e);
    if ('refused' in r) throw new Error(`${e._id}: ${r.refused}`);
    expect(r.balances).toEqual(e.balances);
    balances = r.balances;
    if (e.applicationId) shares.set(e.applicationId, r.share);
    if (e.applicationId && e.kind === 'reserve') wijken.set(e.applicationId, e.wijken ?? []);
    const day = amsterdamDate(new Date(e.at));
    if (e.kind !== 'open' && e.kind !== 'set_total') {
      const month = day.slice(0, 7);
      const m = perMonth.get(month) ?? { month, reservedCents: 0, releasedCents: 0, paidCents: 0, reclaimedCents: 0, refundedCents: 0 };
      m[field[e.kind]] += e.amountCents;
      perMonth.set(month, m);
    }
    usedPerDay.set(day, balances.committedCents + balances.paidCents);
  }
  const perWijk = new Map<string, { wijk: string; grants: number; grantedCents: number }>();
  let grants = 0;
  for (const [app, s] of shares) {
    const net = s.committedCents + s.paidCents;
    if (net <= 0) continue;
    grants += 1;
    const names = wijken.get(app)?.length ? wijken.get(app)! : ['Gemeentebreed'];
    names.forEach((wijk, i) => {
      const w = perWijk.get(wijk) ?? { wijk, grants: 0, grantedCents: 0 };
      w.grants += 1;
      w.grantedCents += Math.floor(net / names.length) + (i < net % names.length ? 1 : 0);
      perWijk.set(wijk, w);
    });
  }
  return {
    balances,
    shares,
    grants,
    perWijk: [...perWijk.values()].sort((a, b) => a.wijk.localeCompare(b.wijk, 'nl')),
    perMonth: [...perMonth.values()].sort((a, b) => a.month.localeCompare(b.month)),
    usedPerDay: Object.fromEntries(usedPerDay),
  };
}

/** What a fresh ledger says of the year, in the shape of `fullFold`. */
async function figuresOf(ledger: BudgetLedger, year: number) {
  const summary = await ledger.summary(year, new Date());
  const { balances, perMonth } = await ledger.monthly(year);
  const days = await ledger.usedPerDay(year);
  return { balances, grants: summary.grants, perWijk: summary.perWijk, perMonth, usedPerDay: Object.fromEntries(days.map((d) => [d.day, d.usedCents])), entries: summary.entries };
}

/**
 * A random mixed history of `apps` applications (reserve; then partial release, pay, refund,
 * reclaim or withdrawal) and three changes of the total, each step by one of `ledgers` at random,
 * the applications side by side. Returns the ids of the applications with a reservation.
 */
async function mixedHistory(ledgers: readonly BudgetLedger[], year: number, apps: number, seed: number, prefix: string): Promise<string[]> {
  const r = prng(seed);
  const pick = () => ledgers[Math.floor(r() * ledgers.length)]!;
  const scripts = Array.from({ length: apps }, (_, i) => ({ id: `${prefix}-${i}`, rolls: Array.from({ length: 8 }, r), by: Array.from({ length: 6 }, pick) }));
  const reserved: string[] = [];
  const totals = [6_000_000, 8_000_000, 7_000_000];
  let next = 0;
  const run = async (s: (typeof scripts)[number], i: number) => {
    const [a, b, c, d, e, f, g, h] = s.rolls as [number, number, number, number, number, number, number, number];
    const [l1, l2, l3, l4, l5, l6] = s.by as [BudgetLedger, BudgetLedger, BudgetLedger, BudgetLedger, BudgetLedger, BudgetLedger];
    if (i % Math.floor(apps / 3) === 0 && next < totals.length) await l6.setTotal({ year, totalCents: totals[next++]!, key: `total-${next}`, actor: 'admin' }).catch(() => undefined);
    const amount = 1_000 + Math.floor(a * 20_000);
    const wijken = b < 0.1 ? [] : b < 0.3 ? [WIJKEN[Math.floor(c * 4)]!, WIJKEN[(Math.floor(c * 4) + 1) % 4]!] : [WIJKEN[Math.floor(c * 4)]!];
    const res = await l1.reserve({ applicationId: s.id, year, amountCents: amount, wijken, actor: 'test' });
    if (res.outcome !== 'reserved') return;
    reserved.push(s.id);
    if (d < 0.25) await l2.release({ applicationId: s.id, year, key: 'part', amountCents: Math.max(1, Math.floor(amount / 3)), actor: 'test' });
    if (e < 0.2) {
      await l3.release({ applicationId: s.id, year, key: 'withdrawn', actor: 'test' });
      return;
    }
    if (e < 0.85) {
      const paid = await l3.pay({ applicationId: s.id, year, actor: 'finance' });
      if (f < 0.35) await l4.returnPaid({ kind: 'refund', applicationId: s.id, year, key: 'report', amountCents: Math.max(1, Math.floor(paid.amountCents * g)), actor: 'finance' });
      if (h < 0.15) await l5.returnPaid({ kind: 'reclaim', applicationId: s.id, year, key: 'missing', actor: 'finance' }).catch((err: { code?: string }) => expect(err.code).toBe('nothing_paid'));
    }
  };
  // 40 applications at a time.
  let at = 0;
  await Promise.all(
    Array.from({ length: 40 }, async () => {
      while (at < scripts.length) {
        const i = at++;
        await run(scripts[i]!, i);
      }
    }),
  );
  return reserved;
}

describe('a year read from its tip', () => {
  let db: Db;
  let reserved: string[];
  let journal: readonly LedgerEntryDoc[];

  beforeAll(async () => {
    db = await openDb('t_ledger_tip');
    const writers = [new BudgetLedger({ models: db.models, defaultTotalCents: 5_000_000, snapshotEvery: K }), new BudgetLedger({ models: db.models, defaultTotalCents: 5_000_000, snapshotEvery: K })];
    reserved = await mixedHistory(writers, YEAR, 900, 11, 'mix');
    await Promise.all(writers.map((w) => w.end(YEAR))); // their last snapshots stored
    journal = await writers[0]!.journal(YEAR);
  }, 240_000);

  it('writes a few thousand entries with snapshots every K, and the journal checks out', async () => {
    expect(journal.length).toBeGreaterThan(2_000);
    const check = await new BudgetLedger({ models: db.models, defaultTotalCents: 0 }).check();
    expect(check.years.find((y) => y.year === YEAR)).toMatchObject({ entries: journal.length, problems: [] });
    const snapshots = await db.models.LedgerSnapshot.find(idRange(`budget-${YEAR}-snapshot`)).sort({ _id: 1 }).lean();
    expect(snapshots.length).toBeGreaterThanOrEqual(Math.floor(journal.length / (K + 64)));
    expect(journal.length - snapshots.at(-1)!.seq, 'the tail after the newest snapshot is shorter than K').toBeLessThan(K);
    // Every application entry carries the shares and wijken the fold needs.
    for (const e of journal) if (e.applicationId) expect(e.shareBefore && e.shareAfter && e.wijken, e._id).toBeTruthy();
  });

  it('(a) a fresh process reads the newest snapshot and the tail only, all by _id', async () => {
    const from = mark(db);
    const fresh = new BudgetLedger({ models: db.models, defaultTotalCents: 5_000_000, snapshotEvery: K });
    const figures = await figuresOf(fresh, YEAR);
    expect(figures.entries).toBe(journal.length);
    const reads = ledgerReads(db, from);
    expect(reads.notById).toEqual([]);
    expect(reads.entriesRead, 'entries read: the tail after the newest snapshot').toBeLessThan(K);
    expect(reads.queries, 'the newest snapshot, the next position, the rest of the tail; then the next position once per later read').toBeLessThanOrEqual(3 + 2);

    // A reservation and an application's share: that application's entries by key, nothing else.
    const before = mark(db);
    await fresh.reserve({ applicationId: 'tip-new', year: YEAR, amountCents: 100, wijken: ['Damsigt'], actor: 'test' });
    await fresh.shareOf(YEAR, reserved[0]!);
    const more = ledgerReads(db, before);
    expect(more.notById).toEqual([]);
    expect(more.entriesRead).toBeLessThanOrEqual(10);
    await fresh.release({ applicationId: 'tip-new', year: YEAR, key: 'undo', actor: 'test' });
    journal = await fresh.journal(YEAR);
  });

  it('(b) its balances, wijken, grants, months, days and every share equal a full fold of the journal', async () => {
    const fresh = new BudgetLedger({ models: db.models, defaultTotalCents: 5_000_000, snapshotEvery: K });
    const want = fullFold(journal);
    const got = await figuresOf(fresh, YEAR);
    expect(got.balances).toEqual(want.balances);
    expect(got.grants).toBe(want.grants);
    expect(got.perWijk).toEqual(want.perWijk);
    expect(got.perMonth).toEqual(want.perMonth);
    expect(got.usedPerDay).toEqual(want.usedPerDay);
    expect(want.grants, 'the history has grants and refusals').toBeGreaterThan(100);
    for (const app of want.shares.keys()) expect(await fresh.shareOf(YEAR, app), app).toEqual(want.shares.get(app));
  }, 120_000);

  it('(c) retries from a fresh process get the first entry back (reserve, pay, release) and tell the listener the earlier entries', async () => {
    const told: { entry: LedgerEntryDoc; earlier: readonly LedgerEntryDoc[] }[] = [];
    const onMovement: MovementListener = async (entry, earlier) => void told.push({ entry, earlier });
    const fresh = new BudgetLedger({ models: db.models, defaultTotalCents: 5_000_000, snapshotEvery: K, onMovement });
    const end = journal.length;
    const paid = journal.find((e) => e.kind === 'pay' && e.seq < end - K)!;
    const app = paid.applicationId!;
    const own = journal.filter((e) => e.applicationId === app);
    const first = own[0]!;
    const again = await fresh.reserve({ applicationId: app, year: YEAR, amountCents: 1, wijken: [], actor: 'retry' });
    expect(again).toMatchObject({ outcome: 'reserved', entryId: first._id, amountCents: first.amountCents });
    expect((await fresh.pay({ applicationId: app, year: YEAR, actor: 'retry' }))._id).toBe(paid._id);
    expect(told.at(-1)!.entry._id).toBe(paid._id);
    expect(told.at(-1)!.earlier.map((e) => e._id)).toEqual(own.filter((e) => e.seq < paid.seq).map((e) => e._id));
    const release = journal.find((e) => e.kind === 'release' && e.key.endsWith(':part') && e.seq < end - K);
    if (release) expect((await fresh.release({ applicationId: release.applicationId!, year: YEAR, key: 'part', amountCents: 1, actor: 'retry' }))._id).toBe(release._id);
    expect(await fresh.hasEntry(YEAR, `pay:${app}`)).toBe(true);
    expect(await fresh.hasEntry(YEAR, `open:${YEAR}`)).toBe(true);
    expect(await fresh.end(YEAR), 'nothing written').toBe(end);
  });

  it('(d) a key without its entry, and an entry without its audit and listener, lose and double-count nothing', async () => {
    const writer = new BudgetLedger({ models: db.models, defaultTotalCents: 5_000_000, snapshotEvery: K });
    const end = await writer.end(YEAR);
    const chain = `budget-${YEAR}`;
    // A crash after the key of `lost-key` at the next position, before its entry: another application takes the position.
    await addKeys(db.models, [movementKey('lost-key', chainEntryId(chain, end + 1))]);
    await writer.reserve({ applicationId: 'took-it', year: YEAR, amountCents: 200, wijken: ['Bovenveen'], actor: 'test' });
    expect(await writer.journal(YEAR).then((j) => j.at(-1)!.applicationId)).toBe('took-it');
    const fresh = new BudgetLedger({ models: db.models, defaultTotalCents: 5_000_000, snapshotEvery: K });
    expect(await fresh.shareOf(YEAR, 'lost-key'), 'the stale key is skipped').toEqual({ committedCents: 0, paidCents: 0 });
    const retried = await fresh.reserve({ applicationId: 'lost-key', year: YEAR, amountCents: 300, wijken: ['Bovenveen'], actor: 'test' });
    expect(retried).toMatchObject({ outcome: 'reserved', entryId: chainEntryId(chain, end + 2) });
    expect(await fresh.shareOf(YEAR, 'took-it')).toEqual({ committedCents: 200, paidCents: 0 });

    // A crash after an entry and its key, before its audit record and the listener: written here as the ledger writes them.
    const last = (await fresh.journal(YEAR)).at(-1)!;
    const crashed: LedgerEntryDoc = {
      _id: chainEntryId(chain, last.seq + 1),
      chain,
      seq: last.seq + 1,
      key: 'reserve:crashed',
      at: new Date(),
      year: YEAR,
      kind: 'reserve',
      amountCents: 400,
      applicationId: 'crashed',
      wijken: ['Stompwijk'],
      actor: 'test',
      balances: { ...last.balances, committedCents: last.balances.committedCents + 400 },
      shareBefore: { committedCents: 0, paidCents: 0 },
      shareAfter: { committedCents: 400, paidCents: 0 },
    };
    await addKeys(db.models, [movementKey('crashed', crashed._id)]);
    await db.models.LedgerEntry.collection.insertOne(crashed as never);
    const told: string[] = [];
    const after = new BudgetLedger({ models: db.models, defaultTotalCents: 5_000_000, snapshotEvery: K, onMovement: async (e) => void told.push(e._id) });
    const grantsBefore = (await after.summary(YEAR, new Date())).grants;
    const again = await after.reserve({ applicationId: 'crashed', year: YEAR, amountCents: 400, wijken: ['Stompwijk'], actor: 'test' });
    expect(again).toMatchObject({ outcome: 'reserved', entryId: crashed._id });
    expect(told).toEqual([crashed._id]);
    expect(await db.models.Audit.exists({ _id: `ledger:${crashed._id}` }), 'the retry writes the audit record').toBeTruthy();
    expect((await after.summary(YEAR, new Date())).grants).toBe(grantsBefore);

    journal = await after.journal(YEAR);
    const want = fullFold(journal);
    const got = await figuresOf(new BudgetLedger({ models: db.models, defaultTotalCents: 5_000_000, snapshotEvery: K }), YEAR);
    expect(got).toMatchObject({ balances: want.balances, grants: want.grants, perWijk: want.perWijk, perMonth: want.perMonth, entries: journal.length });
    expect(await after.check()).toMatchObject({ ok: true });
  });

  it('(d) an audit record a crash left out is written before the next snapshot, and repairAudit reads only the tail', async () => {
    const chain = `budget-${YEAR}`;
    const l = new BudgetLedger({ models: db.models, defaultTotalCents: 5_000_000, snapshotEvery: K });
    await l.setTotal({ year: YEAR, totalCents: (await l.balances(YEAR)).totalCents + 1_000_000, key: 'room', actor: 'admin' }); // room for K more
    await l.settle(YEAR); // a snapshot at the end now, so the next one comes K entries later
    await l.reserve({ applicationId: 'audit-lost', year: YEAR, amountCents: 50, wijken: [], actor: 'test' });
    const [previous, entry] = (await l.journal(YEAR)).slice(-2) as [LedgerEntryDoc, LedgerEntryDoc];
    await db.models.Audit.deleteOne({ _id: `ledger:${entry._id}` });
    // The start-up repair: the entries after the newest snapshot, by _id.
    const from = mark(db);
    const fresh = new BudgetLedger({ models: db.models, defaultTotalCents: 5_000_000, snapshotEvery: K });
    expect(await fresh.repairAudit()).toBe(1);
    const reads = ledgerReads(db, from);
    expect(reads.notById).toEqual([]);
    expect(reads.entriesRead).toBeLessThan(K);
    const audit = await db.models.Audit.findById(`ledger:${entry._id}`).lean();
    expect(audit).toMatchObject({ action: 'ledger.reserve', before: previous.balances, after: { entryId: entry._id } });
    // Lost again, then K more entries: the process that stores the next snapshot writes it first.
    await db.models.Audit.deleteOne({ _id: `ledger:${entry._id}` });
    const more = await Promise.all(Array.from({ length: K }, (_, i) => l.reserve({ applicationId: `after-${i}`, year: YEAR, amountCents: 1, wijken: [], actor: 'test' })));
    expect(more.every((r) => r.outcome === 'reserved')).toBe(true);
    await l.end(YEAR); // after the snapshot the last group's write started (a process does one thing at a time per year)
    const newest = (await db.models.LedgerSnapshot.find(idRange(`budget-${YEAR}-snapshot`)).sort({ _id: -1 }).limit(1).lean())[0]!;
    expect(newest.seq).toBeGreaterThan(entry.seq);
    expect(await db.models.Audit.exists({ _id: `ledger:${entry._id}` })).toBeTruthy();
    expect(newest._id).toBe(chainEntryId(`${chain}-snapshot`, newest.seq));
    journal = await l.journal(YEAR);
  });
});

describe('(e) journals written before snapshots', () => {
  it('are folded from entry 1 until migrated, then from the snapshot the migration stores once; their applications found by key', async () => {
    const db = await openDb('t_ledger_old');
    const year = 2062;
    const writer = new BudgetLedger({ models: db.models, defaultTotalCents: 5_000_000, snapshotEvery: 1_000_000 });
    const reserved = await mixedHistory([writer], year, 150, 7, 'old');
    // Make it what the older version wrote: no shares, wijken only on reservations, no year keys, some
    // movement keys and audit records missing, no snapshot.
    const c = db.models.LedgerEntry.collection;
    await c.updateMany({}, { $unset: { shareBefore: '', shareAfter: '' } });
    await c.updateMany({ kind: { $ne: 'reserve' } }, { $unset: { wijken: '' } });
    await db.models.Key.deleteMany({ _id: { $regex: '^(ledger-year|movement):' } });
    await db.models.LedgerSnapshot.deleteMany({});
    const old = await writer.journal(year);
    await db.models.Audit.deleteMany({ _id: { $in: old.filter((e) => e.seq % 7 === 0).map((e) => `ledger:${e._id}`) } });
    const want = fullFold(old);

    // Before the migration a fresh process folds it from entry 1.
    const before = await figuresOf(new BudgetLedger({ models: db.models, defaultTotalCents: 5_000_000 }), year);
    expect(before).toMatchObject({ balances: want.balances, grants: want.grants, perWijk: want.perWijk, perMonth: want.perMonth, usedPerDay: want.usedPerDay });

    const migrating = new BudgetLedger({ models: db.models, defaultTotalCents: 5_000_000 });
    expect(await backfillLedger(db.models, migrating)).toBe(old.length);
    expect(await backfillLedger(db.models, migrating), 'once').toBe(0);
    expect(await db.models.Key.exists({ _id: LEDGER_MIGRATED })).toBeTruthy();
    const snapshots = await db.models.LedgerSnapshot.find({}).lean();
    expect(snapshots.map((s) => s.seq)).toEqual([old.length]);
    expect(await db.models.Audit.countDocuments({ _id: { $in: old.map((e) => `ledger:${e._id}`) } }), 'every audit record').toBe(old.length);

    const from = mark(db);
    const fresh = new BudgetLedger({ models: db.models, defaultTotalCents: 5_000_000 });
    expect(await figuresOf(fresh, year)).toMatchObject({ balances: want.balances, grants: want.grants, perWijk: want.perWijk, perMonth: want.perMonth, usedPerDay: want.usedPerDay });
    expect(ledgerReads(db, from).entriesRead, 'the snapshot is at the end').toBe(0);
    // Old entries found by key: shares, retries, and a new movement on an old reservation.
    for (const app of want.shares.keys()) expect(await fresh.shareOf(year, app)).toEqual(want.shares.get(app));
    const first = old.find((e) => e.applicationId === reserved[0])!;
    expect(await fresh.reserve({ applicationId: reserved[0]!, year, amountCents: 1, wijken: [], actor: 'retry' })).toMatchObject({ entryId: first._id });
    const open = [...want.shares].find(([, s]) => s.committedCents > 0)![0];
    const pay = await fresh.pay({ applicationId: open, year, actor: 'finance' });
    expect(pay).toMatchObject({ shareBefore: want.shares.get(open), shareAfter: { committedCents: 0, paidCents: want.shares.get(open)!.committedCents + want.shares.get(open)!.paidCents } });
    expect(pay.wijken).toEqual(old.find((e) => e.applicationId === open && e.kind === 'reserve')!.wijken);
    const all = await fresh.journal(year);
    const now = fullFold(all);
    expect(await figuresOf(new BudgetLedger({ models: db.models, defaultTotalCents: 5_000_000 }), year)).toMatchObject({ balances: now.balances, grants: now.grants, perWijk: now.perWijk });
    expect(await fresh.check()).toMatchObject({ ok: true });
  }, 120_000);
});
