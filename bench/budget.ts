/**
 * Budget reservation throughput benchmark (not a test).
 *
 * Starts its own FerretDB (temp dir, free port; no Temporal: a reservation does not touch
 * it) and opens BENCH_INSTANCES connections to it, one per process that reserves budget
 * (default 1: in production only the worker's reserveBudget activity reserves; 2 measures
 * two processes competing for one journal). Each holds its own BudgetLedger and mongoose
 * connection. Operation i goes to instance i mod BENCH_INSTANCES, on both sides.
 * Then it measures in the same run, in alternating rounds:
 *
 *   candidate  BudgetLedger.reserve() (src/budget/ledger.ts) with a distinct application id
 *              per reservation: one journal per year, each reservation one insert of the next
 *              position of the chain (src/db/chain.ts) carrying the year's balances, plus its
 *              audit record; the two instances compete for positions and resolve by retry.
 *   baseline   the raw conditional update on a balance document per year, the usual way to do
 *              this on MongoDB: findOneAndUpdate({_id: year, committedCents: {$lte: total -
 *              amount}}, {$inc: {committedCents: amount}}) on the native driver.
 *
 * Two scenarios, each with its own alternating rounds and ratio:
 *
 *   fits        (the common case; the headline `ratio`) every reservation fits the budget:
 *               one year with room for all of them, its journal growing over the rounds.
 *   exhaustion  every phase gets a fresh year whose total fits half of its attempts
 *               (⌊BENCH_EXHAUST_N / 2⌋ grants of BENCH_AMOUNT_CENTS), so the budget runs out
 *               halfway through the phase. Each phase records how many reservations were
 *               accepted against how many the budget allows, and the committed amount
 *               against the total afterwards.
 *
 * The ledger must never accept more than the budget allows and its journal must pass
 * `check()`; the run fails otherwise. The baseline is not safe on FerretDB v1: an update is
 * read, modify, write back without isolation (see src/db/models.ts), so concurrent $inc
 * lose updates and the condition is checked against stale balances. Its accepted count,
 * the lost updates (accepted minus what the stored total shows) and the overspend are
 * recorded as found; they are the point of the comparison, not an error.
 *
 * With BENCH_INSTANCES of 2 or more (budget-N-writers.json) a third scenario is the headline:
 *
 *   writers     the ledger on both sides, one journal, alternating rounds: reservations spread
 *               over every instance (candidate) against all on one instance (baseline). What
 *               competing processes cost; issue #11's goal is 2 writers >= 0.6 of one. The
 *               comparison with the conditional update is then `againstConditionalInc`.
 *
 * All scenarios share one database, as production does: the ledger's collection holds
 * every year's entries and grows over the run. Each ledger phase records what the chains
 * did (entries inserted, positions lost to the other instance, queries; counted around the
 * driver calls) and the collection's size, and the result records what one read by _id of
 * that collection costs at the end (from the index on our patched FerretDB build).
 *
 * Environment: BENCH_N (reservations per side per `fits` round), BENCH_EXHAUST_N (attempts
 * per side per `exhaustion` round; default BENCH_N), BENCH_CONCURRENCY (in flight, over all
 * instances), BENCH_ROUNDS, BENCH_WARMUP (reservations per side), BENCH_INSTANCES,
 * BENCH_AMOUNT_CENTS (each grant).
 */
import { randomUUID } from 'node:crypto';
import { cpus } from 'node:os';
import { BudgetLedger, type ReserveResult } from '../src/budget/ledger.ts';
import { connectDatabase, isDuplicateKeyError, type Models } from '../src/db/models.ts';
import {
  benchSettings,
  compareSides,
  envInt,
  loadAverage,
  logComparison,
  round,
  runIfMain,
  runInfo,
  runPool,
  runRounds,
  stdoutLog,
  withFerretBench,
  writeResult,
  type BenchSettings,
  type Comparison,
  type PhaseResult,
  type RunInfo,
} from './support.ts';

type Side = 'candidate' | 'baseline';

/** The baseline's balance document: one per year, as a conditional-update design keeps it. */
interface BalanceDoc {
  _id: number;
  totalCents: number;
  committedCents: number;
}

/** What one measured phase did to the books. */
export interface PhaseBooks {
  year: number;
  attempts: number;
  /** Reservations the side reported as made. */
  accepted: number;
  refused: number;
  /** Reservations of BENCH_AMOUNT_CENTS the budget had room for at the start of the phase. */
  allowed: number;
  /** accepted − allowed when positive: grants promised that the budget does not cover. */
  overspendReservations: number;
  /** accepted × amount − room at the start, when positive. */
  overspendCents: number;
  /** The year's total and its stored committed amount before and after the phase. */
  totalCents: number;
  committedBeforeCents: number;
  committedAfterCents: number;
  /** accepted minus the reservations the stored committed amount shows (0 for a sound side). */
  lostUpdates: number;
  /** ledger sides only: what the chains did in the phase (entries inserted, positions lost to another instance, queries), and the ledger collection's size after it. */
  chain?: { inserts: number; lostPositions: number; reads: number; ledgerEntriesAtEnd: number };
}

export interface ScenarioBooks {
  rounds: PhaseBooks[];
  attempts: number;
  accepted: number;
  allowed: number;
  overspendReservations: number;
  overspendCents: number;
  lostUpdates: number;
}

export interface BudgetBenchResult extends BenchSettings, Comparison, RunInfo {
  name: 'budget';
  date: string;
  /** What the headline ratio compares: `fits` (one instance) or `writers` (2+ instances). */
  scenario: 'fits' | 'writers';
  instances: number;
  amountCents: number;
  /** The common case (the headline ratio above): every reservation fits. */
  fits: { year: number; totalCents: number; books: Record<Side, ScenarioBooks> };
  /** The budget runs out halfway through each phase. */
  exhaustion: Comparison & {
    medianRoundRatio: number;
    n: number;
    totalCentsPerYear: number;
    allowedPerRound: number;
    books: Record<Side, ScenarioBooks>;
  };
  /** The median of the per-round ratios (the headline `ratio` is total ops over total time). */
  medianRoundRatio: number;
  /**
   * With 2 or more instances only: the headline comparison of budget-N-writers.json. The same
   * ledger reservations, spread over every instance (candidate) against all made by one
   * instance (baseline), in alternating rounds on one year: what the competition between
   * processes costs. The goal: N writers at least 0.6 of one.
   */
  writers?: Comparison & { medianRoundRatio: number; year: number; books: Record<Side, ScenarioBooks> };
  /** With 2 or more instances: the fits comparison against the raw conditional update (the headline there is `writers`). */
  againstConditionalInc?: Comparison & { medianRoundRatio: number };
  /**
   * What one read by _id of the ledger collection costs at the end of the run (serial, the
   * mean of 5): the chains read every entry another process wrote this way.
   */
  readById: { ledgerEntries: number; hitNewestMs: number; missMs: number };
  /** BudgetLedger.check() over every journal of the run, read back from the database. */
  ledgerCheck: { ok: boolean; journals: number; entries: number; problems: string[] };
  durationSec: number;
}

function medianOf(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return round(s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2, 3);
}

function books(rounds: PhaseBooks[]): ScenarioBooks {
  const sum = (k: 'attempts' | 'accepted' | 'allowed' | 'overspendReservations' | 'overspendCents' | 'lostUpdates') => rounds.reduce((s, r) => s + r[k], 0);
  return {
    rounds,
    attempts: sum('attempts'),
    accepted: sum('accepted'),
    allowed: sum('allowed'),
    overspendReservations: sum('overspendReservations'),
    overspendCents: sum('overspendCents'),
    lostUpdates: sum('lostUpdates'),
  };
}

export async function runBudgetBench(log = stdoutLog): Promise<BudgetBenchResult> {
  const settings = benchSettings({ n: 500, concurrency: 32, rounds: 5, warmup: 50 });
  const { n, concurrency, rounds, warmup } = settings;
  const exhaustN = envInt('BENCH_EXHAUST_N', n, 2);
  // Default: the production topology. Reservations are made by the worker's reserveBudget
  // activity only, so one process writes the journals; BENCH_INSTANCES=2 measures two
  // processes competing for the same journal (written to budget-2-writers.json).
  const instances = envInt('BENCH_INSTANCES', 1);
  const amountCents = envInt('BENCH_AMOUNT_CENTS', 250_000); // € 2 500, a typical grant
  const goal = 0.5;
  /** Issue #11: two processes reserving in one year at least 0.6 of one. */
  const WRITERS_GOAL = 0.6;
  const startedAt = Date.now();
  const loadavgAtStart = loadAverage();

  // Years far from real ones, the same numbers on both sides.
  const fitsYear = 2090;
  const exhaustYears = Array.from({ length: rounds }, (_, r) => 2100 + r);
  const allowedPerRound = Math.floor(exhaustN / 2);
  const exhaustTotal = allowedPerRound * amountCents;
  const fitsTotal = 2 * (warmup + rounds * n) * amountCents;
  const writersYear = 2095;

  return withFerretBench({ name: 'budget', log }, async (bench) => {
    const { mongoUri, cpu } = bench;

    // One connection and one ledger per "process"; the ledgers' default total is the
    // exhaustion scenario's, so each of its years opens with room for half the attempts.
    const conns: Models[] = [];
    for (let k = 0; k < instances; k++) {
      const models = await connectDatabase(mongoUri);
      bench.onStop(() => models.connection.close());
      conns.push(models);
    }
    const ledgers = conns.map((models) => new BudgetLedger({ models, defaultTotalCents: exhaustTotal }));
    // Counts what the ledgers' chains do with their collection (a counter around the driver
    // call, nothing else): entries inserted, entries that lost their position, queries.
    const chainCalls = { inserts: 0, lostPositions: 0, reads: 0 };
    const resetChainCalls = () => Object.assign(chainCalls, { inserts: 0, lostPositions: 0, reads: 0 });
    for (const models of conns) {
      const coll = models.LedgerEntry.collection as unknown as Record<'insertMany' | 'find', (...args: unknown[]) => unknown>;
      const insertMany = coll.insertMany.bind(coll) as (docs: unknown[], ...rest: unknown[]) => Promise<unknown>;
      const find = coll.find.bind(coll);
      coll.insertMany = async (...args: unknown[]) => {
        const [docs, ...rest] = args as [unknown[], ...unknown[]];
        chainCalls.inserts += docs.length;
        try {
          return await insertMany(docs, ...rest);
        } catch (err) {
          // An ordered insert stops at the first position another process took: the rest are lost too.
          if (isDuplicateKeyError(err)) chainCalls.lostPositions += docs.length - ((err as { insertedCount?: number }).insertedCount ?? 0);
          throw err;
        }
      };
      coll.find = (...args: unknown[]) => {
        chainCalls.reads++;
        return find(...args);
      };
    }
    const balanceDocs = conns.map((m) => m.connection.db!.collection<BalanceDoc>('bench_budget_balances'));
    const wijken = ['Centrum', 'Noord', 'Oost', 'Zuid', 'West'];

    // --- the books of both sides, set up before the clock ------------------------------------
    await ledgers[0]!.open(fitsYear);
    await ledgers[0]!.setTotal({ year: fitsYear, totalCents: fitsTotal, key: 'bench', actor: 'bench' });
    if (instances > 1) {
      await ledgers[0]!.open(writersYear);
      await ledgers[0]!.setTotal({ year: writersYear, totalCents: fitsTotal, key: 'bench', actor: 'bench' });
    }
    for (const year of exhaustYears) await ledgers[0]!.open(year);
    // Every instance reads every journal once now (as a long-running process would have).
    for (const ledger of ledgers.slice(1)) for (const year of [fitsYear, ...(instances > 1 ? [writersYear] : []), ...exhaustYears]) await ledger.open(year);
    await balanceDocs[0]!.insertMany([
      { _id: fitsYear, totalCents: fitsTotal, committedCents: 0 },
      ...exhaustYears.map((year) => ({ _id: year, totalCents: exhaustTotal, committedCents: 0 })),
    ]);

    // --- the operations: one reservation attempt each, counted per phase ---------------------
    const tally = { accepted: 0, refused: 0 };
    const reserveOn = (year: number, writers = instances) => async (i: number) => {
      const r: ReserveResult = await ledgers[i % writers]!.reserve({
        applicationId: randomUUID(),
        year,
        amountCents,
        wijken: [wijken[i % wijken.length]!],
        actor: 'bench',
      });
      if (r.outcome === 'reserved') tally.accepted++;
      else tally.refused++;
    };
    const conditionalIncOn = (year: number, totalCents: number) => async (i: number) => {
      const doc = await balanceDocs[i % instances]!.findOneAndUpdate(
        { _id: year, committedCents: { $lte: totalCents - amountCents } },
        { $inc: { committedCents: amountCents } },
        { returnDocument: 'after' },
      );
      if (doc) tally.accepted++;
      else tally.refused++;
    };

    const ledgerCommitted = async (year: number) => (await ledgers[0]!.balances(year)).committedCents;
    const baselineCommitted = async (year: number) => (await balanceDocs[0]!.findOne({ _id: year }))!.committedCents;
    const committedOf = (side: Side, year: number) => (side === 'candidate' ? ledgerCommitted(year) : baselineCommitted(year));

    /** The books of the phase that just ended; the ledger's must be sound. */
    let ledgerEntries = 2 + exhaustYears.length + (instances > 1 ? 2 : 0); // open + set_total of the fits (and writers) year, open of each other year
    const closePhase = async (side: Side, year: number, totalCents: number, before: number, attempts: number, bothLedger = false): Promise<PhaseBooks> => {
      const calls = { ...chainCalls };
      const ledgerSide = side === 'candidate' || bothLedger;
      const after = ledgerSide ? await ledgerCommitted(year) : await baselineCommitted(year);
      const { accepted, refused } = tally;
      tally.accepted = 0;
      tally.refused = 0;
      if (accepted + refused !== attempts) throw new Error(`budget: ${side} counted ${accepted + refused} outcomes for ${attempts} attempts`);
      const room = totalCents - before;
      const allowed = Math.floor(room / amountCents);
      const phase: PhaseBooks = {
        year,
        attempts,
        accepted,
        refused,
        allowed,
        overspendReservations: Math.max(0, accepted - allowed),
        overspendCents: Math.max(0, accepted * amountCents - room),
        totalCents,
        committedBeforeCents: before,
        committedAfterCents: after,
        lostUpdates: accepted - (after - before) / amountCents,
      };
      if (ledgerSide) {
        ledgerEntries += accepted;
        phase.chain = { inserts: calls.inserts, lostPositions: calls.lostPositions, reads: calls.reads, ledgerEntriesAtEnd: ledgerEntries };
        const reserved = (await ledgers[0]!.journal(year)).filter((e) => e.kind === 'reserve').length;
        if (phase.overspendReservations !== 0 || phase.lostUpdates !== 0 || after > totalCents) {
          throw new Error(`budget: the ledger overspent or lost a reservation: ${JSON.stringify(phase)}`);
        }
        if (reserved !== Math.round(after / amountCents)) throw new Error(`budget: journal ${year} has ${reserved} reservations, its balances ${after} cents`);
      }
      resetChainCalls(); // this phase's checks read too
      return phase;
    };

    const phaseNote = (p: PhaseBooks) =>
      `  accepted ${p.accepted}/${p.attempts} (allowed ${p.allowed}), committed ${p.committedAfterCents - p.committedBeforeCents} cents` +
      (p.lostUpdates ? `, LOST UPDATES ${p.lostUpdates}` : '') +
      (p.overspendReservations ? `, OVERSPEND ${p.overspendReservations} grants (${p.overspendCents} cents)` : '') +
      (p.chain ? `; chain: ${p.chain.inserts} inserts, ${p.chain.lostPositions} lost positions, ${p.chain.reads} reads, ${p.chain.ledgerEntriesAtEnd} entries` : '');

    /** Which side ran phase p of runRounds (it alternates: c b, b c, c b, …). */
    const sideOfPhase = (p: number): Side => {
      const r = Math.floor(p / 2);
      const first: Side = r % 2 === 0 ? 'candidate' : 'baseline';
      return p % 2 === 0 ? first : first === 'candidate' ? 'baseline' : 'candidate';
    };

    // --- warm-up ---------------------------------------------------------------------------------
    if (warmup > 0) {
      log(`budget: warm-up (${warmup} reservations of each, ${instances} instances, ${concurrency} in flight)`);
      for (const side of ['candidate', 'baseline'] as const) {
        const before = await committedOf(side, fitsYear);
        resetChainCalls();
        await runPool(warmup, concurrency, side === 'candidate' ? reserveOn(fitsYear) : conditionalIncOn(fitsYear, fitsTotal), cpu);
        const p = await closePhase(side, fitsYear, fitsTotal, before, warmup);
        log(`budget: warm-up ${side.padEnd(9)}${phaseNote(p)}`);
      }
    }

    // --- scenario 1: everything fits ---------------------------------------------------------------
    log(`budget: fits: ${rounds} rounds of ${n} reservations per side, ${concurrency} in flight over ${instances} instances`);
    const fitsBooks: Record<Side, PhaseBooks[]> = { candidate: [], baseline: [] };
    const fitsBefore: Record<Side, number> = { candidate: await ledgerCommitted(fitsYear), baseline: await baselineCommitted(fitsYear) };
    resetChainCalls();
    let fitsPhase = 0;
    const fitsPhases = await runRounds({
      name: 'budget fits',
      unit: 'reservations',
      rounds,
      n,
      concurrency,
      candidateOp: reserveOn(fitsYear),
      baselineOp: conditionalIncOn(fitsYear, fitsTotal),
      cpu,
      log,
      after: async () => {
        const side = sideOfPhase(fitsPhase++);
        const p = await closePhase(side, fitsYear, fitsTotal, fitsBefore[side], n);
        fitsBefore[side] = p.committedAfterCents;
        if (side === 'candidate' && p.refused) throw new Error(`budget: fits: the ledger refused ${p.refused} reservations that fit`);
        fitsBooks[side].push(p);
        return phaseNote(p);
      },
    });

    // --- scenario 2: the budget runs out halfway through each phase ---------------------------
    log(`budget: exhaustion: ${rounds} rounds of ${exhaustN} attempts per side against a fresh year with room for ${allowedPerRound}`);
    const exhaustBooks: Record<Side, PhaseBooks[]> = { candidate: [], baseline: [] };
    const exhaustRound: Record<Side, number> = { candidate: 0, baseline: 0 };
    let exhaustPhase = 0;
    const ledgerOps = exhaustYears.map((year) => reserveOn(year));
    const baselineOps = exhaustYears.map((year) => conditionalIncOn(year, exhaustTotal));
    const exhaustPhases = await runRounds({
      name: 'budget exhaustion',
      unit: 'attempts',
      rounds,
      n: exhaustN,
      concurrency,
      candidateOp: (i) => ledgerOps[exhaustRound.candidate]!(i),
      baselineOp: (i) => baselineOps[exhaustRound.baseline]!(i),
      cpu,
      log,
      after: async () => {
        const side = sideOfPhase(exhaustPhase++);
        const year = exhaustYears[exhaustRound[side]++]!;
        const p = await closePhase(side, year, exhaustTotal, 0, exhaustN);
        exhaustBooks[side].push(p);
        return phaseNote(p);
      },
    });

    // --- scenario 3 (2+ instances): N writers against one, both the ledger -----------------------
    let writersPhases: { candidate: PhaseResult[]; baseline: PhaseResult[] } | undefined;
    const writersBooks: Record<Side, PhaseBooks[]> = { candidate: [], baseline: [] };
    if (instances > 1) {
      log(`budget: writers: ${rounds} rounds of ${n} reservations per side: ${instances} instances against one, one journal`);
      let before = await ledgerCommitted(writersYear);
      let writersPhase = 0;
      writersPhases = await runRounds({
        name: 'budget writers',
        unit: 'reservations',
        rounds,
        n,
        concurrency,
        candidateOp: reserveOn(writersYear),
        baselineOp: reserveOn(writersYear, 1),
        cpu,
        log,
        after: async () => {
          const side = sideOfPhase(writersPhase++);
          const p = await closePhase(side, writersYear, fitsTotal, before, n, true);
          before = p.committedAfterCents;
          if (p.refused) throw new Error(`budget: writers: the ledger refused ${p.refused} reservations that fit`);
          writersBooks[side].push(p);
          return phaseNote(p);
        },
      });
    }

    // --- the ledger proves itself from the database ---------------------------------------------
    const check = await ledgers[0]!.check();
    const ledgerCheck = {
      ok: check.ok,
      journals: check.years.length,
      entries: check.years.reduce((s, y) => s + y.entries, 0),
      problems: check.years.flatMap((y) => y.problems.map((p) => `${y.year}: ${p}`)).slice(0, 50),
    };
    if (!check.ok) throw new Error(`budget: ledger check failed: ${ledgerCheck.problems.join('; ')}`);

    // --- what a read by _id of the ledger collection costs now ------------------------------------
    const coll = conns[0]!.LedgerEntry.collection;
    const newest = (await ledgers[0]!.journal(exhaustYears.at(-1)!)).at(-1)!;
    const timed = async (filter: object) => {
      const t0 = performance.now();
      for (let k = 0; k < 5; k++) await coll.findOne(filter as never);
      return round((performance.now() - t0) / 5);
    };
    const readById = { ledgerEntries: ledgerCheck.entries, hitNewestMs: await timed({ _id: newest._id }), missMs: await timed({ _id: `${newest.chain}:none` }) };

    const descriptions = {
      candidate: `BudgetLedger.reserve() on ${instances} instances (own connection each): chain insert of the next journal position with the year's balances + audit record, distinct application ids`,
      baseline: `raw findOneAndUpdate({_id: year, committedCents: {$lte: total - amount}}, {$inc: {committedCents: amount}}) on a balance document, ${instances} connections`,
    };
    const fits = compareSides(fitsPhases, descriptions, goal);
    const exhaustion = compareSides(exhaustPhases, descriptions, goal);
    const writers =
      writersPhases &&
      compareSides(
        writersPhases,
        {
          candidate: `BudgetLedger.reserve() spread over ${instances} instances (own connection each), one journal`,
          baseline: 'BudgetLedger.reserve() on one instance, the same journal',
        },
        WRITERS_GOAL,
      );
    const result: BudgetBenchResult = {
      name: 'budget',
      date: new Date().toISOString(),
      ...settings,
      scenario: writers ? 'writers' : 'fits',
      instances,
      amountCents,
      ...(writers ?? fits),
      medianRoundRatio: medianOf((writers ?? fits).roundRatios),
      ...(writers
        ? {
            writers: { ...writers, medianRoundRatio: medianOf(writers.roundRatios), year: writersYear, books: { candidate: books(writersBooks.candidate), baseline: books(writersBooks.baseline) } },
            againstConditionalInc: { ...fits, medianRoundRatio: medianOf(fits.roundRatios) },
          }
        : {}),
      fits: { year: fitsYear, totalCents: fitsTotal, books: { candidate: books(fitsBooks.candidate), baseline: books(fitsBooks.baseline) } },
      exhaustion: {
        n: exhaustN,
        totalCentsPerYear: exhaustTotal,
        allowedPerRound,
        ...exhaustion,
        medianRoundRatio: medianOf(exhaustion.roundRatios),
        books: { candidate: books(exhaustBooks.candidate), baseline: books(exhaustBooks.baseline) },
      },
      readById,
      ledgerCheck,
      ...runInfo(loadavgAtStart),
      durationSec: 0,
    };
    result.servers.temporal = 'not used';
    const file = await writeResult(bench, result, startedAt, instances === 1 ? 'budget.json' : `budget-${instances}-writers.json`);

    const line = (label: string, b: ScenarioBooks) =>
      `    ${label} accepted ${b.accepted}/${b.attempts} (allowed ${b.allowed}), overspend ${b.overspendReservations} grants / ${b.overspendCents} cents, lost updates ${b.lostUpdates}`;
    log('');
    log(`budget: ${instances} instances, ${concurrency} in flight, ${rounds} rounds; grant ${amountCents} cents; node ${process.version}, ${cpus().length} cpu(s)`);
    log(`  fits (${n} per side per round; the headline ratio):`);
    logComparison(log, fits, { candidate: 'candidate (BudgetLedger.reserve)   ', baseline: 'baseline  (conditional $inc)      ' }, 'reservations');
    log(line('ledger  ', result.fits.books.candidate));
    log(line('baseline', result.fits.books.baseline));
    log(`  exhaustion (${exhaustN} attempts per side per round, room for ${allowedPerRound}):`);
    logComparison(log, exhaustion, { candidate: 'candidate (BudgetLedger.reserve)   ', baseline: 'baseline  (conditional $inc)      ' }, 'attempts');
    log(line('ledger  ', result.exhaustion.books.candidate));
    log(line('baseline', result.exhaustion.books.baseline));
    if (result.writers) {
      log(`  writers (${n} per side per round; the headline ratio of this file):`);
      logComparison(log, result.writers, { candidate: `candidate (${instances} instances)               `, baseline: 'baseline  (one instance)          ' }, 'reservations');
    }
    log(`  median of the round ratios: ${result.scenario} ${result.medianRoundRatio}, exhaustion ${result.exhaustion.medianRoundRatio}`);
    log(`  a read by _id of ledger_entries (${readById.ledgerEntries} entries): newest ${readById.hitNewestMs} ms, missing ${readById.missMs} ms`);
    log(`  ledger check: ${ledgerCheck.ok ? 'ok' : 'FAILED'} (${ledgerCheck.journals} journals, ${ledgerCheck.entries} entries)`);
    log(`  written to ${file} (${result.durationSec} s)`);
    return result;
  });
}

runIfMain(import.meta.url, runBudgetBench);
