/**
 * The incremental monitoring summary (src/reports/tally.ts) against a real FerretDB: a
 * mixed history written through production's write paths (intake's `new` delta, the
 * status projection activity, the budget ledger with its movement listener, erasure),
 * then the summary folded from the stored deltas and snapshots compared, deep-equal, with
 * `summarize` over every row read from scratch (the downloads' read, ReportService.build).
 * Also: a retried write counts once (also a key written before the snapshot a process
 * started from), a crash between a business write and its delta loses nothing, and two
 * processes writing at once lose nothing.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createApplicationActivities, type RecordProgressInput } from '../../activities/applications.ts';
import { BudgetLedger } from '../../src/budget/ledger.ts';
import { addApplicationKeys, listApplicationIds } from '../../src/db/keys.ts';
import { connectDatabase, submittedApplication, type ApplicationDoc, type Models } from '../../src/db/models.ts';
import { applicationStatuses, type ApplicationStatus } from '../../src/domain/status.ts';
import type { DecisionNotice } from '../../src/domain/decisions.ts';
import type { InitiativeReport, ReportReview, TrafficLight } from '../../src/domain/report.ts';
import { applicationErasure } from '../../src/privacy/erasure.ts';
import { summarize, summaryOf } from '../../src/reports/figures.ts';
import { ReportService } from '../../src/reports/service.ts';
import { ApplicationService, type ApplicationServiceDeps } from '../../src/services/applications.ts';
import type { CommandStartedEvent } from 'mongodb';
import { backfillTally, countedRowOf, ReportTally, tallyKey } from '../../src/reports/tally.ts';
import { validApplication } from '../helpers/fixtures.ts';

const suffix = randomBytes(4).toString('hex');
const dbName = `t_tally_${suffix}`;
const YEAR = 2041;
const WIJKEN = ['Voorburg-Midden', 'Damsigt', 'Bovenveen', 'Prinsenhof', 'Heuvel/Amstelwijk', 'Stompwijk'];
const FOCUS = ['Heuvel/Amstelwijk', 'Prinsenhof', 'Bovenveen'];
const opts = { wijken: WIJKEN, focusWijken: FOCUS };

let models: Models;
let tally: ReportTally;
let ledger: BudgetLedger;
let activities: ReturnType<typeof createApplicationActivities>;
const env = new MockActivityEnvironment({ activityType: 'recordProgress' });
const meta = { actor: 'test' };

/** A second process: its own connection, tally and ledger (nothing shared in memory). */
async function otherProcess() {
  const m = await connectDatabase(inject('mongoUri'), dbName);
  const t = new ReportTally({ models: m, snapshotEvery: 5 });
  const l = new BudgetLedger({ models: m, defaultTotalCents: 100_000_000, onMovement: (e, earlier) => t.recordMovement(e, earlier) });
  return { models: m, tally: t, ledger: l, activities: createApplicationActivities({ models: m, tally: t }) };
}
const others: Models[] = [];

beforeAll(async () => {
  models = await connectDatabase(inject('mongoUri'), dbName);
  // Few entries per snapshot: the histories below cross several.
  tally = new ReportTally({ models, snapshotEvery: 5 });
  ledger = new BudgetLedger({ models, defaultTotalCents: 100_000_000, onMovement: (e, earlier) => tally.recordMovement(e, earlier) });
  activities = createApplicationActivities({ models, tally });
});

afterAll(async () => {
  for (const m of others) await m.connection.close();
  if (!models) return;
  await models.connection.dropDatabase().catch(() => undefined);
  await models.connection.close();
});

let referenceSeq = 0;
/** Intake's writes: keys, the application, then (once its workflow would have started) the `new` delta, unless told to crash before it. */
async function intake(form: Record<string, unknown>, at: string, opts: { crashBeforeDelta?: boolean; year?: number; t?: ReportTally; m?: Models } = {}): Promise<ApplicationDoc> {
  const m = opts.m ?? models;
  const year = opts.year ?? YEAR;
  const app = submittedApplication({ id: randomUUID(), form: validApplication(form) as never, reference: `VW-${year}-${String(++referenceSeq).padStart(4, '0')}`, year, submittedAt: new Date(at) });
  await addApplicationKeys(m, app);
  await m.Application.collection.insertOne(app as never);
  if (!opts.crashBeforeDelta) await (opts.t ?? tally).recordCreated(app);
  return app;
}

const seqs = new Map<string, number>();
/** One status projection, as the workflow sends it (its next sequence number). */
function step(app: ApplicationDoc, status: ApplicationStatus, extra: Partial<RecordProgressInput> = {}): RecordProgressInput {
  const seq = (seqs.get(app._id) ?? 1) + 1;
  seqs.set(app._id, seq);
  return { applicationId: app._id, seq, status, informationRequests: [], event: { id: `${app._id}:${seq}`, at: new Date().toISOString(), type: 'status_changed', status }, ...extra };
}
const project = (input: RecordProgressInput, a = activities) => env.run(a.recordProgress, input);

const decision = (outcome: DecisionNotice['outcome'], grantedCents: number, requestedCents: number): DecisionNotice => ({
  meetingId: 'meeting-x',
  outcome,
  grantedCents,
  requestedCents,
  reasons: [],
  struckLines: [],
  decidedAt: new Date().toISOString(),
});
const report = (participants: number, volunteers: number, selfAssessment: TrafficLight): InitiativeReport => ({
  text: 'Het ging goed, de buurt kwam samen en er was veel animo.',
  participants,
  volunteers,
  selfAssessment,
  costLines: [{ description: 'Kosten', amountCents: 100 }],
  submittedAt: new Date().toISOString(),
  actualCostsCents: 100,
  unspentCents: 0,
  documentIds: [],
});
const review = (outcome: ReportReview['outcome'], trafficLight: TrafficLight): ReportReview => ({ outcome, trafficLight, reviewedBy: 'staff:x', reviewedAt: new Date().toISOString() });

/** The summary from scratch: every application of the year read and its money from the journals (the downloads' read), summed. */
async function fromScratch(year: number) {
  const service = new ReportService({ models, ledger, tally, wijken: WIJKEN, focusWijken: FOCUS, maxAgeMs: 0, publicBaseUrl: 'http://x' });
  return summarize(year, (await service.build(year)).rows, opts);
}
/** The summary as a fresh process folds it from the stored snapshots and deltas. */
async function incremental(year: number, t?: ReportTally) {
  return summaryOf(year, await (t ?? new ReportTally({ models, snapshotEvery: 5 })).aggregate(year), opts);
}

/**
 * The staff list's totals from a tally (status × wijk × submission year, each given or
 * any) against the list keys of the same filter counted one by one; `m` the database the
 * keys are in (they must be the application's own, so the filters seen are every status
 * and wijk of the history).
 */
async function expectListCounts(t: ReportTally, m: Models = models, ofYear = YEAR) {
  const filters: { status?: string; wijk?: string; year?: number }[] = [];
  for (const year of [ofYear, undefined])
    for (const status of [...applicationStatuses, undefined]) for (const wijk of [...WIJKEN, undefined]) filters.push({ ...(status ? { status } : {}), ...(wijk ? { wijk } : {}), ...(year ? { year } : {}) });
  let nonZero = 0;
  for (const f of filters) {
    const { total } = await listApplicationIds(m, f, { skip: 0, limit: 1 });
    expect(await t.count(f), JSON.stringify(f)).toBe(total);
    if (total) nonZero += 1;
  }
  return nonZero;
}

/** Decides, reserves and pays a grant as the workflow would. */
async function grant(app: ApplicationDoc, outcome: 'approved' | 'partially_approved', cents: number, l = ledger, a = activities) {
  await project(step(app, outcome, { decision: decision(outcome, cents, app.amountRequestedCents) }), a);
  const year = Number(app.activity.startDate.slice(0, 4));
  await l.reserve({ applicationId: app._id, year, amountCents: cents, wijken: app.wijken, ...meta });
  await project(step(app, 'reserved', { decision: decision(outcome, cents, app.amountRequestedCents) }), a);
  await l.pay({ applicationId: app._id, year, ...meta });
  await project(step(app, 'paid', { decision: decision(outcome, cents, app.amountRequestedCents) }), a);
  return year;
}

describe('the incremental summary against one computed from scratch', () => {
  it('equals summarize over every row after a mixed history (intake, screening, decisions, withdrawals, payouts, returns, reports, erasure; several wijken, purposes, focus)', async () => {
    const activity = (d: string) => ({ activity: { startDate: d, endDate: d, location: 'Plein' } });
    const a1 = await intake({ wijken: ['Voorburg-Midden'], purposes: ['cohesion'], amountRequestedCents: 60_000, budgetLines: [{ description: 'Tent', amountCents: 60_000 }], expectedParticipants: 120, volunteers: 8, ...activity('2041-05-01') }, '2041-01-10T09:00:00Z');
    const a2 = await intake({ wijken: ['Damsigt', 'Bovenveen'], purposes: ['liveability', 'cohesion'], amountRequestedCents: 100_001, budgetLines: [{ description: 'Kas', amountCents: 100_001 }], expectedParticipants: 41, volunteers: 5, ...activity('2042-03-01') }, '2041-01-31T23:30:00Z');
    const a3 = await intake({ wijken: ['Prinsenhof'], purposes: ['safety'], amountRequestedCents: 20_000, budgetLines: [{ description: 'Licht', amountCents: 20_000 }] }, '2041-03-05T12:00:00Z');
    const a4 = await intake({ wijken: ['Stompwijk'], purposes: ['liveability'], amountRequestedCents: 10_000, budgetLines: [{ description: 'Zaal', amountCents: 10_000 }] }, '2041-04-01T10:00:00Z');
    const a5 = await intake({ wijken: ['Heuvel/Amstelwijk', 'Prinsenhof', 'Stompwijk'], purposes: ['cohesion', 'safety'], amountRequestedCents: 25_001, budgetLines: [{ description: 'Markt', amountCents: 25_001 }], expectedParticipants: 31, volunteers: 4, ...activity('2041-09-01') }, '2041-05-02T10:00:00Z');
    const a6 = await intake({ wijken: [], purposes: ['cohesion'], amountRequestedCents: 50_000, budgetLines: [{ description: 'Feest', amountCents: 50_000 }], expectedParticipants: 25, volunteers: 2, ...activity('2041-09-15') }, '2041-07-07T10:00:00Z');
    const a7 = await intake({ wijken: ['Bovenveen'], purposes: ['liveability'], amountRequestedCents: 30_000, budgetLines: [{ description: 'Bank', amountCents: 30_000 }], expectedParticipants: 10, volunteers: 1, ...activity('2041-10-01') }, '2041-08-01T10:00:00Z');
    const a8 = await intake({ wijken: ['Voorburg-Midden'], purposes: ['cohesion'], amountRequestedCents: 12_345, budgetLines: [{ description: 'Koffie', amountCents: 12_345 }] }, '2041-12-31T22:30:00Z');
    for (const a of [a1, a2, a3, a4, a5, a6, a7, a8]) await project(step(a, 'screening'));

    // a1: full grant, paid, report (green), accepted.
    await grant(a1, 'approved', 60_000);
    await project(step(a1, 'report_received', { decision: decision('approved', 60_000, 60_000), report: report(150, 10, 'green'), review: null }));
    await project(step(a1, 'closed', { decision: decision('approved', 60_000, 60_000), report: report(150, 10, 'green'), review: review('accept', 'green') }));
    // a2: partial grant over two wijken and purposes, paid, withdrawn after the grant, reclaimed.
    const y2 = await grant(a2, 'partially_approved', 80_001);
    await project(step(a2, 'withdrawn', { decision: decision('partially_approved', 80_001, 100_001) }));
    await ledger.returnPaid({ kind: 'reclaim', applicationId: a2._id, year: y2, key: 'withdrawn', ...meta });
    // a3: rejected. a4: withdrawn before a decision.
    await project(step(a3, 'rejected', { decision: decision('rejected', 0, 20_000) }));
    await project(step(a4, 'withdrawn'));
    // a5: three wijken (two in focus), full grant, paid, report with a clarification asked (not final), then rejected (red), part refunded.
    const y5 = await grant(a5, 'approved', 25_001);
    await project(step(a5, 'clarification_requested', { decision: decision('approved', 25_001, 25_001), report: report(20, 3, 'orange'), review: review('clarify', 'orange') }));
    await project(step(a5, 'closed', { decision: decision('approved', 25_001, 25_001), report: report(21, 3, 'orange'), review: review('reject', 'red') }));
    await ledger.returnPaid({ kind: 'refund', applicationId: a5._id, year: y5, key: 'unspent', amountCents: 7_777, ...meta });
    // a6: the whole municipality, granted and paid, report (orange), refunded in full, then erased.
    const y6 = await grant(a6, 'approved', 50_000);
    await project(step(a6, 'report_received', { decision: decision('approved', 50_000, 50_000), report: report(0, 0, 'red'), review: null }));
    await ledger.returnPaid({ kind: 'refund', applicationId: a6._id, year: y6, key: 'not-held', ...meta });
    await project(step(a6, 'closed', { decision: decision('approved', 50_000, 50_000), report: report(0, 0, 'red'), review: review('accept', 'orange') }));
    const stored = (await models.Application.findById(a6._id).lean())!;
    await models.Application.collection.updateOne({ _id: a6._id } as never, applicationErasure(stored, new Date('2041-12-01T00:00:00Z')));
    // a7: granted but the budget could not cover it. a8: still open.
    await project(step(a7, 'rejected_budget_exhausted', { decision: decision('approved', 30_000, 30_000) }));

    const expected = await fromScratch(YEAR);
    expect(expected.totals).toMatchObject({ applications: 8, grantedFull: 3, grantedPartial: 1, rejected: 1, rejectedBudgetExhausted: 1, open: 1, withdrawn: 2, withdrawnAfterGrant: 1, reports: 3 });
    expect(expected.totals.reclaimedCents + expected.totals.refundedCents).toBe(80_001 + 7_777 + 50_000);
    expect(expected.focus.applications).toBe(4); // a2, a3, a5, a7
    // This process's fold, a fresh process's (from the newest snapshot), and the snapshots themselves exist.
    expect(await incremental(YEAR, tally)).toEqual(expected);
    expect(await incremental(YEAR)).toEqual(expected);
    expect(tally.position(YEAR)!.snapshotAt).toBeGreaterThan(0);
    // The staff list's totals: this process's, a fresh process's, against the keys counted one by one.
    expect(await expectListCounts(tally)).toBeGreaterThan(30);
    await expectListCounts(new ReportTally({ models, snapshotEvery: 5 }));
    // The migration's way (a snapshot at 0 from everything stored) agrees too.
    const copy = `t_tally_copy_${suffix}`;
    const m2 = await connectDatabase(inject('mongoUri'), copy);
    others.push(m2);
    await m2.Application.collection.insertMany(await models.Application.collection.find({}).toArray());
    await m2.LedgerEntry.collection.insertMany(await models.LedgerEntry.collection.find({}).toArray());
    expect(await backfillTally(m2)).toBe(8);
    expect(await backfillTally(m2)).toBe(0); // once
    expect(summaryOf(YEAR, await new ReportTally({ models: m2 }).aggregate(YEAR), opts)).toEqual(expected);
    await expectListCounts(new ReportTally({ models: m2 }), models);
    await m2.connection.dropDatabase();
  });

  it('the staff list takes its total from the tally: a page and its total with only `_id` queries and no count of the keys', async () => {
    const m = await connectDatabase(inject('mongoUri'), dbName, { monitorCommands: true });
    others.push(m);
    const commands: CommandStartedEvent[] = [];
    m.connection.getClient().on('commandStarted', (e) => commands.push(e));
    // Only what the list uses: its keys, the applications, the tally.
    const service = new ApplicationService({ models: m, tally: new ReportTally({ models: m }) } as unknown as ApplicationServiceDeps);
    const query = { year: YEAR, page: 1, pageSize: 2 };
    await service.list(query); // this process's first fold of the year: the newest snapshot and the entries after it
    commands.length = 0;
    const page = await service.list(query);
    const { ids, total } = await listApplicationIds(models, { year: YEAR }, { skip: 0, limit: 2 });
    expect(page.items.map((i) => i.id)).toEqual(ids);
    expect(page.total).toBe(total);
    expect(total).toBeGreaterThan(2);
    expect(commands.map((c) => c.commandName).sort()).toEqual(['find', 'find', 'find']); // the keys, the applications, the tally's tail
    for (const c of commands) expect(Object.keys((c.command as { filter: object }).filter), JSON.stringify(c.command)).toEqual(['_id']);
  });

  it('a database whose newest snapshot predates the list counts (v1) gets, once, one with them at the chain\'s end: counts and summary right, later deltas on top', async () => {
    const copy = `t_tally_v1_${suffix}`;
    const m2 = await connectDatabase(inject('mongoUri'), copy);
    others.push(m2);
    for (const c of ['Application', 'LedgerEntry', 'Tally', 'Key'] as const) await m2[c].collection.insertMany(await models[c].collection.find({}).toArray());
    // As the previous version left it: its marker, snapshots without the count groups, and no year keys.
    await m2.Tally.collection.deleteOne({ _id: 'migration:tally:v2' } as never);
    await m2.Tally.collection.insertOne({ _id: 'migration:tally:v1', key: 'migration:tally:v1', at: new Date() } as never);
    await m2.Key.collection.deleteMany({ _id: { $gte: 'tally-year:', $lt: 'tally-year;' } } as never);
    for (const snap of await m2.Tally.collection.find({ _id: { $gte: `tally-${YEAR}-snapshot:`, $lt: `tally-${YEAR}-snapshot;` } } as never).toArray()) {
      const groups = (snap.groups as { key: string }[]).filter((g) => !g.key.startsWith('n:'));
      await m2.Tally.collection.updateOne({ _id: snap._id } as never, { $set: { groups } });
    }
    await expect(expectListCounts(new ReportTally({ models: m2 }), m2), 'the old snapshot has no counts').rejects.toThrow();
    expect(await backfillTally(m2)).toBeGreaterThan(0);
    expect(await backfillTally(m2)).toBe(0); // once
    const fresh = new ReportTally({ models: m2, snapshotEvery: 5 });
    await expectListCounts(fresh, m2);
    expect(summaryOf(YEAR, await fresh.aggregate(YEAR), opts)).toEqual(await fromScratch(YEAR)); // the original database, the same data
    // A delta after the migration lands on top of the new snapshot.
    const late = await intake({ wijken: ['Stompwijk'], purposes: ['safety'], amountRequestedCents: 1_234, budgetLines: [{ description: 'Y', amountCents: 1_234 }] }, '2041-10-01T10:00:00Z', { m: m2, t: fresh });
    await project(step(late, 'screening'), createApplicationActivities({ models: m2, tally: fresh }));
    await expectListCounts(new ReportTally({ models: m2, snapshotEvery: 5 }), m2);
    await m2.connection.dropDatabase();
  });
});

describe('idempotence: a retried write counts once', () => {
  it('the same projection twice, the same payment twice, the same delta twice: counted once, also a key from before the snapshot a process started from', async () => {
    const a = await intake({ wijken: ['Damsigt'], purposes: ['safety'], amountRequestedCents: 9_000, budgetLines: [{ description: 'X', amountCents: 9_000 }], expectedParticipants: 9, volunteers: 1, activity: { startDate: '2041-06-01', endDate: '2041-06-01', location: 'X' } }, '2041-06-01T10:00:00Z');
    const s = step(a, 'screening');
    await project(s);
    await project(s); // a retry of the same step
    const granted = step(a, 'approved', { decision: decision('approved', 9_000, 9_000) });
    await project(granted);
    await project(granted);
    await ledger.reserve({ applicationId: a._id, year: 2041, amountCents: 9_000, wijken: a.wijken, ...meta });
    await ledger.pay({ applicationId: a._id, year: 2041, ...meta });
    await ledger.pay({ applicationId: a._id, year: 2041, ...meta }); // a retried activity
    expect(await tally.recordCreated(a)).toBe(false);
    expect(await incremental(YEAR)).toEqual(await fromScratch(YEAR));

    // A process that starts from a snapshot after the application's `new` delta: the key is not in its memory, the index still refuses it.
    for (let i = 0; i < 6; i++) await intake({ wijken: ['Stompwijk'], purposes: ['cohesion'] }, '2041-06-02T10:00:00Z');
    await tally.aggregate(YEAR); // stores a snapshot past them
    const fresh = new ReportTally({ models, snapshotEvery: 5 });
    const before = await fresh.aggregate(YEAR);
    expect(fresh.position(YEAR)!.snapshotAt).toBeGreaterThan(0);
    expect(await fresh.recordCreated(a)).toBe(false);
    expect(await fresh.record(YEAR, tallyKey.status(a._id, 2), countedRowOf(a), { ...countedRowOf(a), status: 'screening' })).toBe(false);
    expect(await fresh.aggregate(YEAR)).toEqual(before);
    expect(await incremental(YEAR)).toEqual(await fromScratch(YEAR));
  });
});

describe('a crash between the business write and the delta loses nothing', () => {
  it('intake stored the application but not its `new` delta: the first projection counts it', async () => {
    const a = await intake({ wijken: ['Bovenveen'], purposes: ['cohesion'], amountRequestedCents: 4_321, budgetLines: [{ description: 'X', amountCents: 4_321 }] }, '2041-09-09T10:00:00Z', { crashBeforeDelta: true });
    const missing = await incremental(YEAR);
    expect((await fromScratch(YEAR)).totals.applications).toBe(missing.totals.applications + 1);
    await project(step(a, 'screening'));
    expect(await incremental(YEAR)).toEqual(await fromScratch(YEAR));
  });

  it('the projection wrote its delta and died before updating the application: the retry writes the update, the delta counts once', async () => {
    const a = await intake({ wijken: ['Prinsenhof'], purposes: ['safety'], amountRequestedCents: 3_000, budgetLines: [{ description: 'X', amountCents: 3_000 }] }, '2041-10-10T10:00:00Z');
    const s = step(a, 'screening');
    // The first attempt: the delta is stored, then the process dies (the tally's write is the last thing it does).
    const dying = createApplicationActivities({
      models,
      tally: Object.assign(Object.create(tally) as ReportTally, {
        record: async (...args: Parameters<ReportTally['record']>) => {
          await tally.record(...args);
          throw new Error('killed after the delta');
        },
      }),
    });
    await expect(project(s, dying)).rejects.toThrow('killed after the delta');
    expect((await models.Application.findById(a._id).lean())!.status).toBe('submitted');
    await project(s); // Temporal's retry
    expect((await models.Application.findById(a._id).lean())!.status).toBe('screening');
    const rejected = step(a, 'rejected', { decision: decision('rejected', 0, 3_000) });
    await expect(project(rejected, dying)).rejects.toThrow('killed after the delta');
    await project(rejected);
    expect(await incremental(YEAR)).toEqual(await fromScratch(YEAR));
  });

  it('the ledger stored a payment and the process died before its delta: the retried activity (a new process) writes it', async () => {
    const a = await intake({ wijken: ['Heuvel/Amstelwijk'], purposes: ['cohesion'], amountRequestedCents: 8_000, budgetLines: [{ description: 'X', amountCents: 8_000 }], activity: { startDate: '2041-11-01', endDate: '2041-11-01', location: 'X' } }, '2041-10-11T10:00:00Z');
    await project(step(a, 'screening'));
    await project(step(a, 'approved', { decision: decision('approved', 8_000, 8_000) }));
    await ledger.reserve({ applicationId: a._id, year: 2041, amountCents: 8_000, wijken: a.wijken, ...meta });
    const dying = new BudgetLedger({
      models,
      defaultTotalCents: 100_000_000,
      onMovement: async () => {
        throw new Error('killed after the ledger entry');
      },
    });
    await expect(dying.pay({ applicationId: a._id, year: 2041, ...meta })).rejects.toThrow('killed after the ledger entry');
    const lost = await incremental(YEAR);
    expect((await fromScratch(YEAR)).totals.paidCents).toBe(lost.totals.paidCents + 8_000);
    const next = await otherProcess();
    others.push(next.models);
    await next.ledger.pay({ applicationId: a._id, year: 2041, ...meta }); // the retry finds its entry and tells the tally
    expect(await incremental(YEAR)).toEqual(await fromScratch(YEAR));
  });
});

describe('two writers at once', () => {
  it('two processes writing deltas at the same time (intakes, projections, payments) lose nothing and count nothing twice', async () => {
    const year = 2042;
    const p1 = { models, tally, ledger, activities };
    const p2 = await otherProcess();
    others.push(p2.models);
    const apps = await Promise.all(
      Array.from({ length: 30 }, (_, i) => {
        const p = i % 2 ? p2 : p1;
        return intake({ wijken: [WIJKEN[i % WIJKEN.length]!], purposes: ['cohesion'], amountRequestedCents: 1_000 + i, budgetLines: [{ description: 'X', amountCents: 1_000 + i }], activity: { startDate: '2042-06-01', endDate: '2042-06-01', location: 'X' } }, `2042-0${1 + (i % 9)}-10T10:00:00Z`, { year, t: p.tally, m: p.models });
      }),
    );
    await Promise.all(apps.map((a, i) => project(step(a, 'screening'), i % 2 ? p2.activities : p1.activities)));
    // Both processes also retry each other's steps at the same time.
    await Promise.all(apps.slice(0, 10).map((a, i) => project({ ...step(a, 'screening'), seq: 2 }, i % 2 ? p1.activities : p2.activities)));
    await Promise.all(apps.slice(0, 12).map((a, i) => grant(a, 'approved', 1_000 + i, i % 2 ? p2.ledger : p1.ledger, i % 2 ? p2.activities : p1.activities)));
    const expected = await fromScratch(year);
    expect(expected.totals).toMatchObject({ applications: 30, grantedFull: 12, open: 18 });
    expect(await incremental(year)).toEqual(expected);
    await expectListCounts(new ReportTally({ models, snapshotEvery: 5 }), models, year);
    // Positions 1..n without a gap.
    const seqs = (await models.Tally.collection.find({ _id: { $gte: `tally-${year}:`, $lt: `tally-${year};` } } as never).sort({ _id: 1 }).toArray()).map((d) => d.seq as number);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
  });
});
