/** Payout identifiers, pure (the workflow and the services agree on them). */

/** The SEPA end-to-end id of an application's payout: one payout per application, so its reference (≤ 35 characters). */
export function payoutEndToEndId(reference: string): string {
  return `BF-${reference}`;
}

/** Where a payout instruction stands (the register decides; the payout document projects it). */
export const payoutStatuses = ['pending', 'batched', 'paid', 'cancelled'] as const;
