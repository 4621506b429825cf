/**
 * The budget ledger against a real FerretDB: never overspent under concurrency (also
 * across processes, simulated by several ledger instances with their own caches),
 * idempotent per application, and its check proves balances = sum of the journal.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectDatabase, type Models } from '../../src/db/models.ts';
import { BudgetLedger, LedgerRefused, checkJournal, yearShareGone } from '../../src/budget/ledger.ts';
import { chainEntryId } from '../../src/db/chain.ts';

let models: Models;
const EUR = 100;

beforeAll(async () => {
  models = await connectDatabase(inject('mongoUri'), `t_ledger_${randomBytes(4).toString('hex')}`);
});

afterAll(async () => {
  if (!models) return;
  await models.connection.dropDatabase().catch(() => undefined);
  await models.connection.close();
});

const ledger = () => new BudgetLedger({ models, defaultTotalCents: 90_000 * EUR });

describe('1,000 concurrent reservations of EUR 100 against EUR 50,000', () => {
  it('grants exactly 500, across four processes, and the journal checks out', async () => {
    const year = 2031;
    const processes = [ledger(), ledger(), ledger(), ledger()];
    await processes[0]!.setTotal({ year, totalCents: 50_000 * EUR, key: 'test', actor: 'admin' });
    const results = await Promise.all(
      Array.from({ length: 1000 }, (_, i) =>
        processes[i % 4]!.reserve({ applicationId: `app-${i}`, year, amountCents: 100 * EUR, wijken: ['Bovenveen'], actor: 'test' }),
      ),
    );
    const reserved = results.filter((r) => r.outcome === 'reserved');
    expect(reserved).toHaveLength(500);
    expect(results.filter((r) => r.outcome === 'exhausted')).toHaveLength(500);
    const balances = await ledger().balances(year);
    expect(balances).toMatchObject({ totalCents: 5_000_000, committedCents: 5_000_000, paidCents: 0 });
    const check = await ledger().check();
    expect(check.years.find((y) => y.year === year)).toMatchObject({ entries: 502, problems: [] });
    expect(check.ok).toBe(true);
    // One audit record per movement.
    expect(await models.Audit.countDocuments({ action: 'ledger.reserve', _id: { $regex: `^ledger:budget-${year}:` } })).toBe(500);
  }, 120_000);
});

describe('idempotency and the rules', () => {
  it('reserves once per application, also when retried from another process', async () => {
    const year = 2032;
    const [a, b] = [ledger(), ledger()];
    const first = await a.reserve({ applicationId: 'x', year, amountCents: 1234, wijken: ['Damsigt'], actor: 't' });
    const again = await Promise.all([a.reserve({ applicationId: 'x', year, amountCents: 1234, wijken: ['Damsigt'], actor: 't' }), b.reserve({ applicationId: 'x', year, amountCents: 1234, wijken: ['Damsigt'], actor: 't' })]);
    expect(again.map((r) => r.outcome === 'reserved' && r.entryId)).toEqual([first.outcome === 'reserved' && first.entryId, first.outcome === 'reserved' && first.entryId]);
    expect((await b.balances(year)).committedCents).toBe(1234);
  });

  it('refuses a total below what is committed and paid, and keeps the old total', async () => {
    const year = 2033;
    const l = ledger();
    await l.reserve({ applicationId: 'a', year, amountCents: 40_000 * EUR, wijken: ['Stompwijk'], actor: 't' });
    await l.pay({ applicationId: 'a', year, actor: 't' });
    await l.reserve({ applicationId: 'b', year, amountCents: 10_000 * EUR, wijken: ['Stompwijk'], actor: 't' });
    await expect(l.setTotal({ year, totalCents: 49_999 * EUR, key: 'k1', actor: 'admin' })).rejects.toMatchObject({ code: 'budget_below_committed' });
    expect((await l.balances(year)).totalCents).toBe(90_000 * EUR);
    const ok = await l.setTotal({ year, totalCents: 50_000 * EUR, key: 'k2', actor: 'admin' });
    expect(ok).toMatchObject({ changed: true, balances: { totalCents: 50_000 * EUR, committedCents: 10_000 * EUR, paidCents: 40_000 * EUR } });
    const r = await l.reserve({ applicationId: 'c', year, amountCents: 1, wijken: ['Stompwijk'], actor: 't' });
    expect(r).toMatchObject({ outcome: 'exhausted', remainingCents: 0 });
  });

  it('release, pay, reclaim and refund move money through the journal and back to the budget', async () => {
    const year = 2034;
    const l = ledger();
    await l.reserve({ applicationId: 'w', year, amountCents: 500_00, wijken: ['Prinsenhof'], actor: 't' });
    await l.reserve({ applicationId: 'p', year, amountCents: 800_00, wijken: ['Prinsenhof', 'Damsigt'], actor: 't' });
    await l.release({ applicationId: 'w', year, key: 'withdrawn', actor: 'applicant' });
    await l.release({ applicationId: 'w', year, key: 'withdrawn', actor: 'applicant' }); // a retry
    await l.pay({ applicationId: 'p', year, actor: 'finance' });
    await l.pay({ applicationId: 'p', year, actor: 'finance' }); // a retry
    await l.returnPaid({ kind: 'refund', applicationId: 'p', year, key: 'report', amountCents: 150_00, actor: 'finance' });
    await expect(l.returnPaid({ kind: 'reclaim', applicationId: 'p', year, key: 'too-much', amountCents: 650_01, actor: 'finance' })).rejects.toBeInstanceOf(LedgerRefused);
    await expect(l.pay({ applicationId: 'w', year, actor: 'finance' })).rejects.toMatchObject({ code: 'nothing_reserved' });
    const b = await l.balances(year);
    expect(b).toMatchObject({ totalCents: 90_000_00, committedCents: 0, paidCents: 650_00, releasedCents: 500_00, refundedCents: 150_00, reclaimedCents: 0 });
    const summary = await ledger().summary(year, new Date('2034-07-02T10:00:00Z'));
    expect(summary).toMatchObject({ remainingCents: 90_000_00 - 650_00, grants: 1, entries: 6 });
    expect(summary.perWijk).toEqual([
      { wijk: 'Damsigt', grants: 1, grantedCents: 325_00 },
      { wijk: 'Prinsenhof', grants: 1, grantedCents: 325_00 },
    ]);
    expect(summary.pace.shareOfYearGone).toBeCloseTo(183 / 365, 4);
  });

  it('the check finds a tampered balance, a gap and an overspend', async () => {
    const year = 2035;
    const l = ledger();
    await l.reserve({ applicationId: 'chk-a', year, amountCents: 100, wijken: ['Bovenveen'], actor: 't' });
    await l.reserve({ applicationId: 'chk-b', year, amountCents: 200, wijken: ['Bovenveen'], actor: 't' });
    const entries = [...(await l.journal(year))];
    expect(checkJournal(year, entries).problems).toEqual([]);
    const tampered = entries.map((e, i) => (i === 1 ? { ...e, balances: { ...e.balances, committedCents: 99 } } : e));
    expect(checkJournal(year, tampered).problems.join()).toMatch(/stored balances differ/);
    expect(checkJournal(year, [entries[0]!, entries[2]!]).problems.join()).toMatch(/position 3, expected 2/);
    const overspend = { ...entries[1]!, amountCents: 90_000_01, balances: { ...entries[1]!.balances, committedCents: 90_000_01 } };
    expect(checkJournal(year, [entries[0]!, overspend]).problems.join()).toMatch(/budget_exhausted/);
    // In the database: a forged entry appended by hand makes the check fail.
    await models.LedgerEntry.collection.insertOne({ ...entries[2]!, _id: chainEntryId(`budget-${year}`, 4), seq: 4, key: 'forged' } as never);
    const check = await ledger().check();
    expect(check.ok).toBe(false);
    await models.LedgerEntry.deleteOne({ key: 'forged' });
  });

  it('counts the year gone in Amsterdam days', () => {
    expect(yearShareGone(2027, new Date('2026-12-31T22:59:59Z'))).toBe(0); // still 2026 in Amsterdam
    expect(yearShareGone(2027, new Date('2026-12-31T23:00:00Z'))).toBeCloseTo(1 / 365, 6); // 1 January in Amsterdam
    expect(yearShareGone(2026, new Date('2027-01-01T00:00:00Z'))).toBe(1);
  });
});
