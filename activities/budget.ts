/**
 * Budget and payout activities of the initiative workflow. Each is idempotent: the
 * ledger keys its movements by application (`reserve:<id>`, `pay:<id>`, …) and the
 * payout register keys its facts by end-to-end id, so a retry finds the first result.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { Models } from '../src/db/models.ts';
import { LedgerRefused, type BudgetLedger } from '../src/budget/ledger.ts';
import type { PayoutService } from '../src/payouts/service.ts';
import { activityYear } from '../src/domain/application.ts';
import { addCalendarDays, startOfAmsterdamDay } from '../src/domain/dates.ts';

export interface BudgetActivityDeps {
  models: Models;
  ledger: BudgetLedger;
  payouts: PayoutService;
}

export type ReserveOutcome =
  | { outcome: 'reserved'; year: number; amountCents: number; remainingCents: number }
  | { outcome: 'exhausted'; year: number; amountCents: number; remainingCents: number };

/** A ledger refusal is a fact about the books, not a glitch: retrying cannot change it. */
function nonRetryable(err: unknown): never {
  if (err instanceof LedgerRefused) throw ApplicationFailure.nonRetryable(err.message, `Ledger:${err.code}`);
  throw err;
}

export function createBudgetActivities(deps: BudgetActivityDeps) {
  const { Application } = deps.models;

  async function application(applicationId: string) {
    const app = await Application.findById(applicationId, { reference: 1, activity: 1, wijken: 1 }).lean();
    if (!app) throw ApplicationFailure.nonRetryable(`application ${applicationId} not found`, 'ApplicationNotFound');
    return app;
  }

  return {
    /** Reserves a grant in the budget year of the activity date (an activity next year is charged to next year). */
    async reserveBudget(input: { applicationId: string; amountCents: number; actor: string }): Promise<ReserveOutcome> {
      const app = await application(input.applicationId);
      const year = activityYear(app.activity);
      const r = await deps.ledger
        .reserve({ applicationId: input.applicationId, year, amountCents: input.amountCents, wijken: app.wijken, actor: input.actor })
        .catch(nonRetryable);
      const remainingCents = r.balances.totalCents - r.balances.committedCents - r.balances.paidCents;
      return r.outcome === 'reserved'
        ? { outcome: 'reserved', year, amountCents: r.amountCents, remainingCents }
        : { outcome: 'exhausted', year, amountCents: input.amountCents, remainingCents };
    },

    async createPayout(input: { applicationId: string; year: number; amountCents: number }): Promise<{ endToEndId: string }> {
      const p = await deps.payouts.createInstruction(input);
      return { endToEndId: p._id };
    },

    /** Withdrawal after a grant: true when the payout was still pending and is now cancelled. */
    async cancelPayout(input: { applicationId: string }): Promise<{ cancelled: boolean }> {
      const app = await application(input.applicationId);
      const r = await deps.payouts.cancel({ applicationId: input.applicationId, reference: app.reference, actor: 'applicant' });
      return { cancelled: r.cancelled };
    },

    async releaseBudget(input: { applicationId: string; year: number; reason: string; actor: string }): Promise<void> {
      await deps.ledger.release({ applicationId: input.applicationId, year: input.year, key: input.reason, actor: input.actor, note: input.reason }).catch(nonRetryable);
    },

    /** The pay entry's actor is who reported the batch executed (absent in workflows told before it was passed on: `finance`). */
    async recordPayment(input: { applicationId: string; year: number; batchId: string; executedBy?: string }): Promise<void> {
      await deps.ledger.pay({ applicationId: input.applicationId, year: input.year, actor: input.executedBy ?? 'finance', note: input.batchId }).catch(nonRetryable);
    },

    /** Unspent money the initiator paid back after the report. */
    async refundGrant(input: { applicationId: string; year: number; amountCents: number; key: string; actor: string }): Promise<void> {
      await deps.ledger.returnPaid({ kind: 'refund', applicationId: input.applicationId, year: input.year, key: input.key, amountCents: input.amountCents, actor: input.actor, note: 'refund received' }).catch(nonRetryable);
    },

    /** When the activity is over (00:00 in Amsterdam after its last day) and when to remind: a week before, at 00:00 too. */
    async followUpPlan(input: { applicationId: string }): Promise<{ activityEndsAt: string; remindAt: string }> {
      const app = await application(input.applicationId);
      const over = (daysBefore: number) => startOfAmsterdamDay(addCalendarDays(app.activity.endDate, 1 - daysBefore)).toISOString();
      return { activityEndsAt: over(0), remindAt: over(7) };
    },

    async reclaimGrant(input: { applicationId: string; year: number; reason: string; actor: string }): Promise<void> {
      await deps.ledger.returnPaid({ kind: 'reclaim', applicationId: input.applicationId, year: input.year, key: input.reason, actor: input.actor, note: input.reason }).catch(nonRetryable);
    },
  };
}
