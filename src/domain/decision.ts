/**
 * The panel's decision rule for one agenda item (DOMAIN.md: quorum and majority).
 *
 * - Only votes of members who are not recused count. Without a quorum of such voters,
 *   or with a majority of the votes cast for `defer`, the item rolls over.
 * - Otherwise `defer` counts as an abstention (present for the quorum, not in the
 *   majority). The grant is the highest amount that a majority of the remaining votes
 *   supports, reading reject as 0 and approve as the full amount: with the amounts
 *   sorted high to low, the one at position ⌊n/2⌋+1. A tie therefore falls to the
 *   lower amount.
 */
import type { Cents } from './money.ts';

export const voteKinds = ['approve', 'partial', 'reject', 'defer'] as const;
export type VoteKind = (typeof voteKinds)[number];

export interface Vote {
  memberId: string;
  vote: VoteKind;
  /** For `partial`: the amount this member would grant (0 < amount ≤ requested). */
  amountCents?: Cents;
  struckLines?: number[];
  reasons?: string;
}

export interface DecisionRules {
  /** Non-recused voters needed (default 3). */
  quorum: number;
  /**
   * A majority is more than this share of the votes counted (default 0.5: a simple
   * majority; 2/3 would ask for more than two thirds).
   */
  majority?: number;
}

export type Decision =
  | { outcome: 'rollover'; reason: 'no_quorum' | 'deferred'; voters: number }
  | {
      outcome: 'approved' | 'partially_approved' | 'rejected';
      grantedCents: Cents;
      voters: number;
      /** The votes that carried the outcome (for the reasons and struck lines given to the applicant). */
      carriedBy: Vote[];
    };

export function decide(input: { requestedCents: Cents; votes: readonly Vote[]; recused: readonly string[]; rules: DecisionRules }): Decision {
  const recused = new Set(input.recused);
  // One vote per member: the last one counts.
  const byMember = new Map<string, Vote>();
  for (const v of input.votes) if (!recused.has(v.memberId)) byMember.set(v.memberId, v);
  const votes = [...byMember.values()];
  const voters = votes.length;
  if (voters < input.rules.quorum) return { outcome: 'rollover', reason: 'no_quorum', voters };

  const share = input.rules.majority ?? 0.5;
  const defers = votes.filter((v) => v.vote === 'defer').length;
  if (defers > voters * share) return { outcome: 'rollover', reason: 'deferred', voters };

  const counted = votes
    .filter((v) => v.vote !== 'defer')
    .map((v) => ({ vote: v, amount: amountOf(v, input.requestedCents) }))
    .sort((a, b) => b.amount - a.amount);
  // The smallest number of votes that is more than `share` of those counted.
  const majority = Math.floor(counted.length * share) + 1;
  const grantedCents = counted[majority - 1]!.amount;
  const carriedBy = counted.filter((c) => c.amount === grantedCents).map((c) => c.vote);
  const outcome = grantedCents === 0 ? 'rejected' : grantedCents >= input.requestedCents ? 'approved' : 'partially_approved';
  return { outcome, grantedCents: Math.min(grantedCents, input.requestedCents), voters, carriedBy };
}

function amountOf(v: Vote, requested: Cents): Cents {
  switch (v.vote) {
    case 'approve':
      return requested;
    case 'reject':
      return 0;
    case 'partial':
      return Math.min(v.amountCents ?? 0, requested);
    case 'defer':
      return 0;
  }
}
