/**
 * The ledger's readiness check (src/budget/ledger-watch.ts) on a real FerretDB: a probe
 * checks what was appended since the last one by an `_id` range; the whole ledger is read
 * only by the full check, at start and then at most every `fullEveryMs`.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { connectDatabase, type LedgerEntryDoc, type Models } from '../../src/db/models.ts';
import { BudgetLedger } from '../../src/budget/ledger.ts';
import { LedgerWatch } from '../../src/budget/ledger-watch.ts';
import { chainEntryId } from '../../src/db/chain.ts';

let models: Models;
beforeAll(async () => {
  models = await connectDatabase(inject('mongoUri'), `t_ledger_watch_${randomBytes(4).toString('hex')}`);
});
afterAll(async () => {
  await models?.connection.dropDatabase().catch(() => undefined);
  await models?.connection.close();
});

describe('LedgerWatch', () => {
  it('checks the appended entries on every probe and the whole ledger only at start and then every fullEveryMs', async () => {
    const ledger = new BudgetLedger({ models, defaultTotalCents: 1_000_000 });
    const reserve = (n: number) => ledger.reserve({ applicationId: `watch-${n}`, year: 2061, amountCents: 10_000, wijken: ['Bovenveen'], actor: 'test' });
    for (let n = 1; n <= 3; n++) await reserve(n);
    let now = 1_000_000;
    const watch = new LedgerWatch(ledger, { fullEveryMs: 60_000, now: () => now });
    const full = vi.spyOn(ledger, 'checkers');
    const ranges: unknown[] = [];
    const find = models.LedgerEntry.find.bind(models.LedgerEntry);
    vi.spyOn(models.LedgerEntry, 'find').mockImplementation(((filter: unknown, ...rest: unknown[]) => {
      ranges.push(filter);
      return (find as (...a: unknown[]) => unknown)(filter, ...rest);
    }) as never);

    const first = await watch.check();
    expect(first).toMatchObject({ ok: true, years: [{ year: 2061, entries: 4 }] });
    expect(full).toHaveBeenCalledTimes(1);

    // Two more reservations: the next probes read only what came after the last checked position.
    await reserve(4);
    await reserve(5);
    ranges.length = 0;
    now += 30_000;
    expect(await watch.check()).toMatchObject({ ok: true, years: [{ year: 2061, entries: 6, balances: { committedCents: 50_000 } }] });
    expect(full).toHaveBeenCalledTimes(1);
    // This year's and next year's journals are looked at too (none here).
    const thisYear = Number(new Date(now).toISOString().slice(0, 4));
    expect(ranges).toEqual([
      { _id: { $gt: chainEntryId('budget-2061', 4), $lt: 'budget-2061;' } },
      { _id: { $gt: chainEntryId(`budget-${thisYear}`, 0), $lt: `budget-${thisYear};` } },
      { _id: { $gt: chainEntryId(`budget-${thisYear + 1}`, 0), $lt: `budget-${thisYear + 1};` } },
    ]);

    // An entry appended with balances that are not the sum of the journal is found by the next probe.
    const last = (await models.LedgerEntry.findById(chainEntryId('budget-2061', 6)).lean<LedgerEntryDoc>())!;
    await models.LedgerEntry.collection.insertOne({ ...last, _id: chainEntryId('budget-2061', 7), seq: 7, key: 'forged', applicationId: 'watch-forged', balances: { ...last.balances, committedCents: 1 } } as never);
    const forged = await watch.check();
    expect(forged.ok).toBe(false);
    expect(forged.years[0]!.problems.join('\n')).toMatch(/budget-2061:000000007: .*stored balances differ/);
    expect(full).toHaveBeenCalledTimes(1);

    // An entry changed after it was checked is seen by the next full check (in the background, after fullEveryMs).
    await models.LedgerEntry.collection.deleteOne({ _id: chainEntryId('budget-2061', 7) } as never);
    const fresh = new LedgerWatch(ledger, { fullEveryMs: 60_000, now: () => now });
    expect((await fresh.check()).ok).toBe(true);
    await models.LedgerEntry.collection.updateOne({ _id: chainEntryId('budget-2061', 2) } as never, { $set: { 'balances.committedCents': 5 } });
    expect((await fresh.check()).ok, 'not before the next full check').toBe(true);
    now += 60_000;
    await fresh.check(); // starts the full check; this probe still answers from the last one
    await vi.waitFor(async () => expect((await fresh.check()).ok).toBe(false), { timeout: 10_000 });
    vi.restoreAllMocks();
  });
});
