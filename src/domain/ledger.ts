/**
 * The budget ledger's rules, pure: what each kind of movement does to a year's
 * balances and to the application's own share, and when it is refused. The ledger
 * service applies them when it writes an entry, and the check applies them again to
 * the whole journal to prove the stored balances.
 */
export const movementKinds = ['open', 'set_total', 'reserve', 'release', 'pay', 'reclaim', 'refund'] as const;
export type MovementKind = (typeof movementKinds)[number];

export interface Balances {
  totalCents: number;
  /** Reserved for grants, not yet paid. */
  committedCents: number;
  /** Paid out, net of money reclaimed or refunded. */
  paidCents: number;
  /** Reservations given back before payment (withdrawal, unspent remainder). */
  releasedCents: number;
  /** Paid money taken back by the municipality (withdrawal after payment, missing report). */
  reclaimedCents: number;
  /** Unspent money paid back by the initiator after the report. */
  refundedCents: number;
}

export const emptyBalances = (totalCents: number): Balances => ({
  totalCents,
  committedCents: 0,
  paidCents: 0,
  releasedCents: 0,
  reclaimedCents: 0,
  refundedCents: 0,
});

export function remainingCents(b: Balances): number {
  return b.totalCents - b.committedCents - b.paidCents;
}

/** One application's share of a year: what it has reserved and been paid. */
export interface ApplicationShare {
  committedCents: number;
  paidCents: number;
}

export interface Movement {
  kind: MovementKind;
  amountCents: number;
  applicationId?: string;
}

export type LedgerRefusal =
  | 'budget_exhausted'
  | 'budget_below_committed'
  | 'nothing_reserved'
  | 'exceeds_reserved'
  | 'exceeds_paid'
  | 'nothing_paid'
  | 'already_reserved'
  | 'invalid_amount'
  | 'ledger_already_open'
  | 'unchanged';

/**
 * Applies one movement. Returns the new balances and share, or why it is refused.
 * `share` is the application's share before the movement (zero for a new one).
 */
export function applyMovement(
  b: Balances,
  share: ApplicationShare,
  m: Movement,
): { balances: Balances; share: ApplicationShare } | { refused: LedgerRefusal } {
  const amount = m.amountCents;
  if (!Number.isSafeInteger(amount) || amount < 0) return { refused: 'invalid_amount' };
  switch (m.kind) {
    case 'open':
      if (b.totalCents !== 0 || b.committedCents !== 0 || b.paidCents !== 0) return { refused: 'ledger_already_open' };
      return { balances: { ...b, totalCents: amount }, share };
    case 'set_total':
      if (amount === b.totalCents) return { refused: 'unchanged' };
      if (amount < b.committedCents + b.paidCents) return { refused: 'budget_below_committed' };
      return { balances: { ...b, totalCents: amount }, share };
    case 'reserve':
      if (share.committedCents > 0 || share.paidCents > 0) return { refused: 'already_reserved' };
      if (amount === 0) return { refused: 'invalid_amount' };
      if (amount > remainingCents(b)) return { refused: 'budget_exhausted' };
      return { balances: { ...b, committedCents: b.committedCents + amount }, share: { ...share, committedCents: amount } };
    case 'release':
      if (share.committedCents === 0) return { refused: 'nothing_reserved' };
      if (amount === 0) return { refused: 'invalid_amount' };
      if (amount > share.committedCents) return { refused: 'exceeds_reserved' };
      return {
        balances: { ...b, committedCents: b.committedCents - amount, releasedCents: b.releasedCents + amount },
        share: { ...share, committedCents: share.committedCents - amount },
      };
    case 'pay':
      if (share.committedCents === 0) return { refused: 'nothing_reserved' };
      if (amount === 0) return { refused: 'invalid_amount' };
      if (amount > share.committedCents) return { refused: 'exceeds_reserved' };
      return {
        balances: { ...b, committedCents: b.committedCents - amount, paidCents: b.paidCents + amount },
        share: { committedCents: share.committedCents - amount, paidCents: share.paidCents + amount },
      };
    case 'reclaim':
    case 'refund': {
      if (share.paidCents === 0) return { refused: 'nothing_paid' };
      if (amount === 0) return { refused: 'invalid_amount' };
      if (amount > share.paidCents) return { refused: 'exceeds_paid' };
      const field = m.kind === 'reclaim' ? 'reclaimedCents' : 'refundedCents';
      return {
        balances: { ...b, paidCents: b.paidCents - amount, [field]: b[field] + amount },
        share: { ...share, paidCents: share.paidCents - amount },
      };
    }
  }
}

/** The invariant that must hold after every entry. */
export function balancesProblems(b: Balances): string[] {
  const problems: string[] = [];
  for (const [k, v] of Object.entries(b)) if (!Number.isSafeInteger(v) || v < 0) problems.push(`${k} is ${v}`);
  if (b.committedCents + b.paidCents > b.totalCents) problems.push(`committed ${b.committedCents} + paid ${b.paidCents} exceed total ${b.totalCents}`);
  return problems;
}

export function sameBalances(a: Balances, b: Balances): boolean {
  return (Object.keys(a) as (keyof Balances)[]).every((k) => a[k] === b[k]);
}
