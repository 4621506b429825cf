/** The admin sets a year's total; refused (409) below what is already committed and paid. API and pages share it. */
import { randomUUID } from 'node:crypto';
import { AppError } from '../domain/errors.ts';
import { LedgerRefused, type BudgetLedger } from '../budget/ledger.ts';

export async function setBudgetTotal(ledger: BudgetLedger, args: { year: number; totalCents: number; actor: string; requestId?: string }): Promise<void> {
  try {
    await ledger.setTotal({ ...args, key: randomUUID() });
  } catch (e) {
    if (e instanceof LedgerRefused && e.code === 'budget_below_committed') {
      throw new AppError(409, 'budget_below_committed', [
        { path: 'totalCents', code: 'budget_below_committed', committedCents: e.balances.committedCents, paidCents: e.balances.paidCents },
      ]);
    }
    throw e;
  }
}
