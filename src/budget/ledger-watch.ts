/**
 * The ledger's readiness check without reading the whole ledger on every probe.
 *
 * A probe checks only what was appended to each known journal since the last probe (an
 * `_id` range after the last checked position: from the index, whatever the ledger's
 * size), on top of the last full check. A full check (every journal from its first
 * entry, `BudgetLedger.checkers`, one read of the whole ledger) runs in the background at
 * most every `fullEveryMs`: it finds what the appended-only check cannot (an entry changed
 * after it was checked, a journal another process opened since). Until the first full
 * check is done a probe waits for it (the process is not ready before its ledger was
 * proven once); afterwards probes never wait for one. `fullEveryMs` 0: a full check on
 * every probe (as before; small tests).
 */
import { amsterdamDate } from '../domain/dates.ts';
import type { BudgetLedger, JournalCheck } from './ledger.ts';
import { JournalChecker, journalCheck } from './ledger.ts';

export class LedgerWatch {
  private readonly ledger: BudgetLedger;
  private readonly fullEveryMs: number;
  private readonly now: () => number;
  private checkers: Map<number, JournalChecker> | undefined;
  private full: Promise<void> | undefined;
  private fullStartedAt = 0;
  /** The failure of the last full check, thrown by probes until one succeeds. */
  private failure: unknown;

  constructor(ledger: BudgetLedger, options: { fullEveryMs: number; now?: () => number }) {
    this.ledger = ledger;
    this.fullEveryMs = options.fullEveryMs;
    this.now = options.now ?? Date.now;
  }

  /** The verdict now: the last full check plus everything appended since. */
  async check(): Promise<JournalCheck> {
    if (this.fullEveryMs <= 0) return this.ledger.check();
    // A failed full check (the database away) is tried again at the next probe.
    if (!this.full && (this.failure !== undefined || this.now() - this.fullStartedAt >= this.fullEveryMs)) this.startFull();
    if (!this.checkers || this.failure !== undefined) await this.full;
    if (this.failure !== undefined) throw this.failure;
    const checkers = this.checkers!;
    // This year and the next are always looked at: a journal another process opened since the
    // full check is checked from its first entry (and every probe asks the database something).
    const thisYear = Number(amsterdamDate(new Date(this.now())).slice(0, 4));
    for (const year of [thisYear, thisYear + 1]) if (!checkers.has(year)) checkers.set(year, new JournalChecker(year));
    await Promise.all([...checkers.values()].map((c) => this.ledger.checkAppended(c)));
    return journalCheck(new Map([...checkers].filter(([, c]) => c.entries > 0)));
  }

  private startFull(): void {
    this.fullStartedAt = this.now();
    this.full = this.ledger
      .checkers()
      .then(
        (checkers) => {
          this.checkers = checkers;
          this.failure = undefined;
        },
        (err: unknown) => {
          this.failure = err;
        },
      )
      .finally(() => {
        this.full = undefined;
      });
  }
}
