import { describe, expect, it } from 'vitest';
import { decide, type Vote, type VoteKind } from '../../src/domain/decision.ts';

const REQUESTED = 100_000;
type Short = VoteKind | number; // a number is a partial vote with that amount
const votes = (...vs: Short[]): Vote[] =>
  vs.map((v, i) => (typeof v === 'number' ? { memberId: `m${i + 1}`, vote: 'partial', amountCents: v, reasons: 'Geen eten en drinken' } : { memberId: `m${i + 1}`, vote: v, ...(v === 'reject' ? { reasons: 'Past niet' } : {}) }));

const table: { name: string; votes: Vote[]; recused?: string[]; expect: string; granted?: number }[] = [
  { name: '5 approve', votes: votes('approve', 'approve', 'approve', 'approve', 'approve'), expect: 'approved', granted: REQUESTED },
  { name: '3 approve, 2 reject', votes: votes('approve', 'approve', 'approve', 'reject', 'reject'), expect: 'approved', granted: REQUESTED },
  { name: '2 approve, 3 reject', votes: votes('approve', 'approve', 'reject', 'reject', 'reject'), expect: 'rejected', granted: 0 },
  { name: '5 reject', votes: votes('reject', 'reject', 'reject', 'reject', 'reject'), expect: 'rejected', granted: 0 },
  { name: 'tie 2 approve 2 reject falls to the lower amount', votes: votes('approve', 'approve', 'reject', 'reject'), expect: 'rejected', granted: 0 },
  { name: 'tie 2 approve 2 partial 60k → 60k', votes: votes('approve', 'approve', 60_000, 60_000), expect: 'partially_approved', granted: 60_000 },
  { name: 'approve, approve, partial 80k, partial 50k, reject → 80k', votes: votes('approve', 'approve', 80_000, 50_000, 'reject'), expect: 'partially_approved', granted: 80_000 },
  { name: 'approve, partial 70k, partial 40k, reject, reject → 40k', votes: votes('approve', 70_000, 40_000, 'reject', 'reject'), expect: 'partially_approved', granted: 40_000 },
  { name: 'only 2 voters: no quorum', votes: votes('approve', 'approve'), expect: 'rollover:no_quorum' },
  { name: '3 voters of whom 1 recused: no quorum', votes: votes('approve', 'approve', 'approve'), recused: ['m3'], expect: 'rollover:no_quorum' },
  { name: '4 voters, 1 recused, 3 approve', votes: votes('approve', 'approve', 'approve', 'reject'), recused: ['m4'], expect: 'approved', granted: REQUESTED },
  { name: 'majority defer rolls over', votes: votes('defer', 'defer', 'defer', 'approve', 'approve'), expect: 'rollover:deferred' },
  { name: 'defer exactly half is no majority: the rest decides', votes: votes('defer', 'defer', 'approve', 'approve'), expect: 'approved', granted: REQUESTED },
  { name: 'defer counts for quorum but abstains: 2 defer, 1 approve', votes: votes('defer', 'approve', 'defer'), expect: 'rollover:deferred' },
  { name: '1 defer, 1 approve, 1 reject: tie among the rest → rejected', votes: votes('defer', 'approve', 'reject'), expect: 'rejected', granted: 0 },
  { name: '1 defer, 2 approve, 2 reject → rejected (tie)', votes: votes('defer', 'approve', 'approve', 'reject', 'reject'), expect: 'rejected', granted: 0 },
  { name: 'partial above requested is capped at requested → approved', votes: votes(150_000, 150_000, 'approve'), expect: 'approved', granted: REQUESTED },
  { name: '3 partials 30k/20k/10k → 20k (median)', votes: votes(30_000, 20_000, 10_000), expect: 'partially_approved', granted: 20_000 },
  { name: 'recused member’s vote is ignored even if cast', votes: votes('reject', 'reject', 'approve', 'approve', 'approve'), recused: ['m1', 'm2'], expect: 'approved', granted: REQUESTED },
  {
    name: 'a changed vote: the last vote of a member counts',
    votes: [...votes('reject', 'approve', 'approve'), { memberId: 'm1', vote: 'approve' }],
    expect: 'approved',
    granted: REQUESTED,
  },
];

describe('decision rule (quorum 3, simple majority of votes cast)', () => {
  it('has at least 15 combinations', () => expect(table.length).toBeGreaterThanOrEqual(15));
  for (const row of table) {
    it(row.name, () => {
      const d = decide({ requestedCents: REQUESTED, votes: row.votes, recused: row.recused ?? [], rules: { quorum: 3 } });
      const label = d.outcome === 'rollover' ? `rollover:${d.reason}` : d.outcome;
      expect(label).toBe(row.expect);
      if (d.outcome !== 'rollover') {
        expect(d.grantedCents).toBe(row.granted);
        for (const v of d.carriedBy) expect(v.vote).not.toBe('defer');
      }
    });
  }

  it('asks for more than two thirds when the majority is configured so', () => {
    const rules = { quorum: 3, majority: 2 / 3 };
    // 3 of 5 approve: a simple majority, not a two-thirds one → the 4th highest amount (0).
    expect(decide({ requestedCents: REQUESTED, votes: votes('approve', 'approve', 'approve', 'reject', 'reject'), recused: [], rules })).toMatchObject({ outcome: 'rejected', grantedCents: 0 });
    expect(decide({ requestedCents: REQUESTED, votes: votes('approve', 'approve', 'approve', 'approve', 'reject'), recused: [], rules })).toMatchObject({ outcome: 'approved' });
    // 3 of 5 defer is not more than two thirds: the other two decide.
    expect(decide({ requestedCents: REQUESTED, votes: votes('defer', 'defer', 'defer', 'approve', 'approve'), recused: [], rules })).toMatchObject({ outcome: 'approved' });
  });

  it('carries the reasons of the votes that set the amount', () => {
    const d = decide({ requestedCents: REQUESTED, votes: votes('approve', 60_000, 60_000, 'reject', 'reject'), recused: [], rules: { quorum: 3 } });
    expect(d).toMatchObject({ outcome: 'partially_approved', grantedCents: 60_000 });
    if (d.outcome === 'partially_approved') expect(d.carriedBy.map((v) => v.reasons)).toEqual(['Geen eten en drinken', 'Geen eten en drinken']);
  });
});
