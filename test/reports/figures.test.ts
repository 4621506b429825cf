/** The pure parts of the monitoring: splitting, Amsterdam months, outcomes, CSV amounts and defusing. */
import { describe, expect, it } from 'vitest';
import { amsterdamMonthOf, moneyByApplication, outcomeOf, splitPart } from '../../src/reports/figures.ts';
import { defuse, formatAmount } from '../../src/reports/csv.ts';

describe('splitPart: an integer over k parts, adding up', () => {
  it.each([
    [100_001, 2, [50_001, 50_000]],
    [10, 3, [4, 3, 3]],
    [2, 3, [1, 1, 0]],
    [0, 4, [0, 0, 0, 0]],
    [7, 1, [7]],
  ])('%i over %i', (amount, k, parts) => {
    const got = Array.from({ length: k }, (_, i) => splitPart(amount, k, i));
    expect(got).toEqual(parts);
    expect(got.reduce((a, b) => a + b, 0)).toBe(amount);
  });
});

describe('amsterdamMonthOf: the month in Amsterdam, winter and summer time', () => {
  const month = amsterdamMonthOf(2031);
  it.each([
    ['2031-01-01T00:00:00+01:00', 1],
    ['2031-01-31T22:59:59Z', 1],
    ['2031-01-31T23:00:00Z', 2], // 1 February 00:00 CET
    ['2031-03-31T21:59:59Z', 3],
    ['2031-03-31T22:00:00Z', 4], // 1 April 00:00 CEST
    ['2031-10-31T22:59:59Z', 10],
    ['2031-10-31T23:00:00Z', 11], // 1 November 00:00 CET
    ['2031-12-31T22:59:59Z', 12],
  ])('%s → %i', (iso, m) => expect(month(Date.parse(iso))).toBe(m));
});

describe('outcomeOf: one outcome per application', () => {
  it.each([
    ['submitted', undefined, 'open'],
    ['scheduled', undefined, 'open'],
    ['reserved', 'approved', 'grantedFull'],
    ['closed', 'partially_approved', 'grantedPartial'],
    ['rejected', 'rejected', 'rejected'],
    ['rejected_budget_exhausted', 'approved', 'rejectedBudgetExhausted'],
    ['lapsed', undefined, 'lapsed'],
    ['withdrawn', undefined, 'withdrawnBeforeDecision'],
    ['withdrawn', 'approved', 'grantedFull'],
    ['reclaimed', 'approved', 'grantedFull'],
  ] as const)('%s with decision %s → %s', (status, decision, outcome) => {
    expect(outcomeOf({ status, ...(decision ? { decision } : {}) })).toBe(outcome);
  });
});

describe('moneyByApplication: gross amounts per kind from a journal', () => {
  it('adds reservations, releases, payments and returns; ignores the year movements', () => {
    const m = moneyByApplication([
      { kind: 'open', amountCents: 9_000_000 },
      { kind: 'reserve', amountCents: 500, applicationId: 'a' },
      { kind: 'release', amountCents: 100, applicationId: 'a' },
      { kind: 'pay', amountCents: 400, applicationId: 'a' },
      { kind: 'refund', amountCents: 50, applicationId: 'a' },
      { kind: 'reclaim', amountCents: 25, applicationId: 'a' },
      { kind: 'set_total', amountCents: 1 },
    ]);
    expect([...m]).toEqual([['a', { reservedCents: 500, releasedCents: 100, paidCents: 400, reclaimedCents: 25, refundedCents: 50 }]]);
  });
});

describe('CSV helpers', () => {
  it('formats cents as euros without grouping, with the decimal mark asked for', () => {
    expect(formatAmount(123_450, ',')).toBe('1234,50');
    expect(formatAmount(123_450, '.')).toBe('1234.50');
    expect(formatAmount(5, ',')).toBe('0,05');
    expect(formatAmount(0, '.')).toBe('0.00');
    expect(formatAmount(3_000_000_00, ',')).toBe('3000000,00');
  });

  it('defuses what a spreadsheet would run as a formula, and nothing else', () => {
    expect(defuse('=1+1')).toBe("'=1+1");
    expect(defuse('+31 70')).toBe("'+31 70");
    expect(defuse('-5')).toBe("'-5");
    expect(defuse('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(defuse('\tx')).toBe("'\tx");
    expect(defuse('Buurtfeest = leuk')).toBe('Buurtfeest = leuk');
    expect(defuse('')).toBe('');
  });
});
