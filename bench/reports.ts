/**
 * Monitoring reports benchmark (not a test): how long the figures of a year take as the
 * number of applications grows, against the raw aggregation on the same data.
 *
 * Starts its own FerretDB (temp dir, free port; no Temporal: the reports do not touch
 * it, the API gets a lazy client that is never used) and, per step, inserts synthetic
 * applications of one submission year directly (insertMany in batches, the collections
 * side by side): realistic documents (a valid application form, decisions in the fund's
 * proportions, reports, reviews, settlements), their budget-ledger journal entries
 * (reserve, pay, release, reclaim, refund, with the positions and balances BudgetLedger
 * writes), reference claims, and the report documents (a photo and a receipt each; not the
 * intake documents, to keep the run short). Steps: BENCH_STEPS applications in total
 * (default 1000, 10000, 100000). Each step builds a fresh API (createApp on buildApiDeps,
 * real HTTP on a free port) and loads its ledger journal before the clock (a running API
 * has it in memory; loading it is one scan of the ledger, ~45 s at 100,000 applications).
 * Then, in alternating rounds:
 *
 *   candidate  GET /api/v1/reports/summary?year= over HTTP as the admin, with the tally's
 *              fold emptied first (service.invalidate), so every call reads what is stored:
 *              the year's newest tally snapshot and the deltas after it (src/reports/tally.ts;
 *              the seed writes the deltas through the tally's writer), the ledger's monthly
 *              sums (in memory), JSON.
 *   baseline   the minimal raw version a developer would write: find({year}) on the native
 *              driver projected to what the summary needs (no texts), the same in-memory
 *              journal of the same BudgetLedger, and one pass of plain loops computing the
 *              same figures (totals, per wijk with the spread, per purpose, per month, the
 *              focus wijken, the budget year's movements per month), no HTTP. Its figures
 *              must equal the candidate's (the run fails otherwise): both do the same work.
 *
 * The ratio is baseline time per read / candidate time per read. Also per step, what a user
 * normally gets, from the cache: the summary (BENCH_CACHED_N requests), the whole CSV, and
 * pages of 20 stories (read by key: src/reports/stories.ts; the p50 is of the pages after
 * the first, the max includes it). The headline ratio is the largest
 * step's; `growth` has every step.
 *
 * Environment: BENCH_STEPS, BENCH_ROUNDS (rounds per step below 50,000 applications,
 * default 2), BENCH_LARGE_ROUNDS (from 50,000, default 1: one read takes over a minute on
 * FerretDB there), BENCH_CACHED_N (cached summary requests per step, default 20).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../src/config.ts';
import { connectDatabase, insertOnce, submittedApplication, type ApplicationDoc, type KeyDoc, type LedgerEntryDoc, type Models } from '../src/db/models.ts';
import { carriedMove, emptyFigures, foldEntry, ownerKey, toSnapshot, type YearFigures } from '../src/budget/journal.ts';
import { chainEntryId } from '../src/db/chain.ts';
import { openStore } from '../src/runtime.ts';
import { reportsFor } from '../src/api/routes/reports.ts';
import { amsterdamMonthOf, countedProjection, moneyByApplication } from '../src/reports/figures.ts';
import { countedRowOf, ReportTally, tallyKey } from '../src/reports/tally.ts';
import { keysOfApplication } from '../src/db/keys.ts';
import { storyKeys } from '../src/reports/stories.ts';
import { applyMovement, emptyBalances, remainingCents, type ApplicationShare, type Balances, type MovementKind } from '../src/domain/ledger.ts';
import { amsterdamDate } from '../src/domain/dates.ts';
import type { BudgetLedger } from '../src/budget/ledger.ts';
import { validApplication } from '../test/helpers/fixtures.ts';
import { prng } from '../test/helpers/prng.ts';
import {
  compareSides,
  envInt,
  loadAverage,
  logComparison,
  resultsDir,
  round,
  runIfMain,
  runInfo,
  runPool,
  runRounds,
  stdoutLog,
  withFerretBench,
  writeResult,
  type Comparison,
  type RunInfo,
  startFreshApi,
} from './support.ts';

export const SYNTHETIC_YEAR = 2090; // far from real years
const YEAR = SYNTHETIC_YEAR;
const WIJKEN = ['Bovenveen', 'Damsigt', 'Heuvel/Amstelwijk', 'Leidschendam-Noord', 'Prinsenhof', 'Stompwijk', 'Voorburg-Midden', 'Voorburg-Noord', 'Voorburg-West'];
const PURPOSES = ['cohesion', 'safety', 'liveability'] as const;
const LIGHTS = ['green', 'orange', 'red'] as const;

// --- synthetic data ----------------------------------------------------------------------------

interface YearBooks {
  seq: number;
  balances: Balances;
  shares: Map<string, ApplicationShare>;
  wijken: Map<string, string[]>;
  figures: YearFigures;
}

/**
 * Writes journal entries the way BudgetLedger does: contiguous positions, each with the year's
 * balances after it and the application's share before and after it, the keys the ledger writes
 * before each entry, and a snapshot of each year's fold at its end (a fresh process starts
 * there; the ledger stores one every 500 entries). Bench data: no audit records.
 */
export class SyntheticLedger {
  private readonly years = new Map<number, YearBooks>();
  readonly pending: LedgerEntryDoc[] = [];
  readonly pendingKeys: KeyDoc[] = [];
  count = 0;

  /** Takes in entries that others wrote after ours (e.g. real reservations), so the next positions follow them. */
  follow(entries: readonly LedgerEntryDoc[]): void {
    for (const e of entries) {
      const y = this.years.get(e.year);
      if (!y || e.seq <= y.seq) continue;
      y.seq = e.seq;
      y.balances = e.balances;
      if (e.applicationId && e.shareAfter) y.shares.set(e.applicationId, e.shareAfter);
      if (e.applicationId && e.wijken) y.wijken.set(e.applicationId, e.wijken);
      foldEntry(y.figures, e, carriedMove(e));
      this.count += 1;
    }
  }

  move(year: number, kind: MovementKind, key: string, amountCents: number, at: Date, applicationId?: string, wijken?: string[]): void {
    let y = this.years.get(year);
    if (!y) {
      y = { seq: 0, balances: emptyBalances(0), shares: new Map(), wijken: new Map(), figures: emptyFigures() };
      this.years.set(year, y);
      this.move(year, 'open', `open:${year}`, 1_000_000_000_000, at);
    }
    const share = (applicationId && y.shares.get(applicationId)) || { committedCents: 0, paidCents: 0 };
    const r = applyMovement(y.balances, share, { kind, amountCents, ...(applicationId ? { applicationId } : {}) });
    if ('refused' in r) throw new Error(`synthetic ledger: ${kind} ${amountCents} for ${applicationId} refused: ${r.refused}`);
    y.balances = r.balances;
    if (applicationId) y.shares.set(applicationId, r.share);
    if (applicationId && wijken) y.wijken.set(applicationId, wijken);
    const theirWijken = applicationId ? y.wijken.get(applicationId) : undefined;
    y.seq += 1;
    const chain = `budget-${year}`;
    const entry: LedgerEntryDoc = {
      _id: chainEntryId(chain, y.seq),
      chain,
      seq: y.seq,
      key,
      at,
      year,
      kind,
      amountCents,
      ...(applicationId ? { applicationId, shareBefore: share, shareAfter: r.share } : {}),
      ...(theirWijken ? { wijken: theirWijken } : {}),
      actor: 'bench',
      balances: r.balances,
    };
    foldEntry(y.figures, entry, carriedMove(entry));
    this.pending.push(entry);
    this.pendingKeys.push(ownerKey(entry));
    this.count += 1;
  }

  /** Inserts the pending entries, their keys and a snapshot of each year at its end. */
  async insert(models: Models): Promise<LedgerEntryDoc[]> {
    const entries = this.pending.splice(0);
    await Promise.all([insertInBatches(models.LedgerEntry.collection as never, entries), insertInBatches(models.Key.collection as never, this.pendingKeys.splice(0))]);
    for (const [year, y] of this.years) await insertOnce(models.LedgerSnapshot, toSnapshot(year, y.figures));
    return entries;
  }
}

const reportText =
  'Op zaterdag kwamen de bewoners van de straat samen voor een middag vol activiteiten. Kinderen speelden op het springkussen, ' +
  'ouderen dronken koffie onder de partytent en nieuwe buren leerden elkaar kennen. Vrijwilligers hielpen met opbouwen en opruimen.';

/** Application i of the run (deterministic), with its ledger movements queued on `ledger`. */
/** A stored document's metadata (the files themselves are not needed: the reports only link to them). */
export function documentDoc(id: string, applicationId: string, fileName: string, contentType: string, context: 'report', at: Date) {
  return { _id: id, applicationId, fileName, contentType, size: 150_000, sha256: randomBytes(32).toString('hex'), uploadedAt: at, uploadedBy: 'applicant', context };
}

export function syntheticApplication(i: number, ledger: SyntheticLedger, documents: ReturnType<typeof documentDoc>[]): ApplicationDoc {
  const r = prng(i + 1);
  const id = randomUUID();
  const yearStart = Date.UTC(YEAR, 0, 1, 0, 0, 0) + 3_600_000; // 1 January 02:00 Amsterdam
  const submittedAt = new Date(yearStart + Math.floor(r() * 363 * 86_400_000));
  const wijkRoll = r();
  const first = WIJKEN[Math.floor(r() * WIJKEN.length)]!;
  const wijken = wijkRoll < 0.05 ? [] : wijkRoll < 0.15 ? [first, WIJKEN[(WIJKEN.indexOf(first) + 1) % WIJKEN.length]!] : [first];
  const p = PURPOSES[Math.floor(r() * 3)]!;
  const purposes = r() < 0.2 ? [p, PURPOSES[(PURPOSES.indexOf(p) + 1) % 3]!] : [p];
  const requested = 5_000 + Math.floor(r() * 596) * 500;
  // All in the submission year: one journal to load before the clock (the tests cover next year's budget).
  const budgetYear = YEAR;
  const month = String(1 + Math.floor(r() * 12)).padStart(2, '0');
  const activity = { startDate: `${budgetYear}-${month}-15`, endDate: `${budgetYear}-${month}-15`, location: 'Buurthuis' };
  const form = validApplication({
    title: `Buurtinitiatief ${i + 1}`,
    // One in five applicants applies twice.
    applicant: { ...validApplication().applicant, email: `bewoner${Math.floor(i * 0.8) + 1}@example.nl` },
    wijken,
    purposes,
    amountRequestedCents: requested,
    budgetLines: [{ description: 'Huur materiaal', amountCents: requested }],
    expectedParticipants: 20 + Math.floor(r() * 300),
    volunteers: 1 + Math.floor(r() * 20),
    activity,
  });
  const doc = submittedApplication({ id, form: form as never, reference: `VW-${YEAR}-${String(i + 1).padStart(4, '0')}`, year: YEAR, submittedAt }) as ApplicationDoc & Record<string, unknown>;
  const at = (days: number) => new Date(submittedAt.getTime() + days * 86_400_000);

  // The fund's proportions: most are granted (some partly), about one in eight rejected.
  const roll = r();
  const decided = (outcome: 'approved' | 'partially_approved' | 'rejected', grantedCents: number) => ({
    meetingId: `meeting-${YEAR}-01-01`,
    outcome,
    grantedCents,
    requestedCents: requested,
    reasons: outcome === 'approved' ? [] : ['Niet alle posten passen binnen de regeling.'],
    struckLines: [],
    decidedAt: at(20).toISOString(),
  });
  if (roll < 0.05) doc.status = (['screening', 'ready_for_meeting', 'scheduled'] as const)[Math.floor(r() * 3)]!;
  else if (roll < 0.08) doc.status = 'lapsed';
  else if (roll < 0.11) doc.status = 'withdrawn';
  else if (roll < 0.21) {
    doc.status = 'rejected';
    doc.decision = decided('rejected', 0);
  } else if (roll < 0.23) {
    doc.status = 'rejected_budget_exhausted';
    doc.decision = decided('approved', requested);
  } else {
    const partial = r() < 0.15;
    const granted = partial ? Math.max(500, Math.floor((requested * 0.7) / 100) * 100) : requested;
    doc.decision = decided(partial ? 'partially_approved' : 'approved', granted);
    ledger.move(budgetYear, 'reserve', `reserve:${id}`, granted, at(21), id, wijken);
    const s = r();
    const stage =
      s < 0.1 ? 'reserved' : s < 0.2 ? 'paid' : s < 0.28 ? 'report_due' : s < 0.36 ? 'report_received' : s < 0.93 ? 'closed' : s < 0.96 ? 'reclaimed' : 'withdrawn';
    doc.status = stage;
    if (stage === 'withdrawn' && r() < 0.5) {
      ledger.move(budgetYear, 'release', `release:${id}:withdrawn`, granted, at(25), id);
      return doc;
    }
    if (stage === 'reserved') return doc;
    ledger.move(budgetYear, 'pay', `pay:${id}`, granted, at(30), id);
    if (stage === 'reclaimed' || stage === 'withdrawn') {
      ledger.move(budgetYear, 'reclaim', `reclaim:${id}:${stage}`, granted, at(90), id);
      return doc;
    }
    if (stage === 'report_received' || stage === 'closed') {
      const unspent = r() < 0.3 ? Math.floor(granted / 10) : 0;
      const photo = documentDoc(randomUUID(), id, 'foto.jpg', 'image/jpeg', 'report', at(60));
      const receipts = documentDoc(randomUUID(), id, 'bonnen.pdf', 'application/pdf', 'report', at(60));
      documents.push(photo, receipts);
      doc.report = {
        text: reportText,
        participants: Math.floor(form.expectedParticipants * (0.5 + r())),
        volunteers: form.volunteers,
        selfAssessment: LIGHTS[r() < 0.8 ? 0 : r() < 0.75 ? 1 : 2]!,
        costLines: [{ description: 'Huur materiaal', amountCents: granted - unspent }],
        submittedAt: at(60).toISOString(),
        actualCostsCents: granted - unspent,
        unspentCents: unspent,
        documentIds: [photo._id, receipts._id],
      };
      if (stage === 'closed') {
        const light = LIGHTS[r() < 0.8 ? 0 : r() < 0.75 ? 1 : 2]!;
        doc.review = { outcome: light === 'red' ? 'reject' : 'accept', trafficLight: light, reviewedBy: 'staff:bench', reviewedAt: at(70).toISOString() };
        doc.settlement = { refundDueCents: unspent, ...(unspent ? { refundReceivedCents: unspent, refundReceivedAt: at(80).toISOString() } : {}), settledAt: at(80).toISOString(), closedAt: at(81).toISOString() };
        if (unspent) ledger.move(budgetYear, 'refund', `refund:${id}:unspent`, unspent, at(80), id);
      }
    }
  }
  return doc;
}

/**
 * The monitoring summary's deltas of synthetic applications through the tally's own writer
 * (src/reports/tally.ts), as intake writes them: each application counted as it stands, its
 * money from the journal entries given (the sum its status and movement deltas would make);
 * the writer stores snapshots as it goes. Then the year folded once, so the newest snapshot is stored.
 */
export async function tallySynthetic(tally: ReportTally, year: number, apps: readonly ApplicationDoc[], entries: readonly LedgerEntryDoc[]): Promise<void> {
  const money = moneyByApplication(entries);
  await Promise.all(apps.map((a) => tally.record(a.year, tallyKey.created(a._id), undefined, countedRowOf(a, money.get(a._id)))));
  await tally.aggregate(year);
}

export async function insertInBatches(collection: { insertMany(docs: never[], opts: object): Promise<unknown> }, docs: unknown[], batch = 1000): Promise<void> {
  for (let k = 0; k < docs.length; k += batch) await collection.insertMany(docs.slice(k, k + batch) as never[], { ordered: true });
}

// --- the baseline: the raw query and one pass of plain loops --------------------------------

type Fig = Record<string, number> & { green: number; orange: number; red: number };
const FIELDS = [
  'applications',
  'open',
  'grantedFull',
  'grantedPartial',
  'rejected',
  'rejectedBudgetExhausted',
  'lapsed',
  'withdrawn',
  'withdrawnAfterGrant',
  'requestedCents',
  'grantedCents',
  'paidCents',
  'reclaimedCents',
  'refundedCents',
  'participantsExpected',
  'volunteersExpected',
  'participantsReached',
  'volunteersReached',
  'reports',
  'green',
  'orange',
  'red',
];
const newFig = (): Fig => Object.fromEntries(FIELDS.map((f) => [f, 0])) as Fig;
const share = (a: number, k: number, i: number) => (k <= 1 ? a : Math.floor(a / k) + (i < a % k ? 1 : 0));

/** What the summary needs of an application, nothing more (the service also reads the report texts, for the stories). */
export const summaryProjection = countedProjection;

/** The year's figures the way one would write them without the service (same definitions, see src/reports/figures.ts). */
export async function baselineSummary(models: Models, ledger: BudgetLedger, year: number, wijken: readonly string[], focusWijken: readonly string[]) {
  const docs = (await models.Application.collection.find({ year } as never, { projection: summaryProjection }).toArray()) as any[];
  const years = new Set([year]);
  for (const d of docs) {
    const y = Number(d.activity?.startDate?.slice(0, 4));
    if (y >= 2000 && y <= 2100) years.add(y);
  }
  const money = new Map<string, { paid: number; reclaimed: number; refunded: number }>();
  const journals = new Map<number, readonly LedgerEntryDoc[]>();
  for (const y of years) {
    const journal = await ledger.journal(y);
    journals.set(y, journal);
    for (const e of journal) {
      if (!e.applicationId || (e.kind !== 'pay' && e.kind !== 'reclaim' && e.kind !== 'refund')) continue;
      const m = money.get(e.applicationId) ?? { paid: 0, reclaimed: 0, refunded: 0 };
      if (e.kind === 'pay') m.paid += e.amountCents;
      else if (e.kind === 'reclaim') m.reclaimed += e.amountCents;
      else m.refunded += e.amountCents;
      money.set(e.applicationId, m);
    }
  }
  const focus = new Set(focusWijken);
  const totals = newFig();
  const focusFig = newFig();
  const perWijk = new Map<string, Fig>([...wijken, 'Gemeentebreed'].map((w) => [w, newFig()]));
  const weight = new Map<string, number>();
  const perPurpose = new Map<string, Fig>(PURPOSES.map((p) => [p, newFig()]));
  const perMonth = Array.from({ length: 12 }, newFig);
  const monthOf = amsterdamMonthOf(year);
  const additive = ['requestedCents', 'grantedCents', 'paidCents', 'reclaimedCents', 'refundedCents', 'participantsExpected', 'volunteersExpected', 'participantsReached', 'volunteersReached'];
  for (const d of docs) {
    const outcome = d.status === 'rejected_budget_exhausted' ? 'rejectedBudgetExhausted' : d.decision?.outcome === 'approved' ? 'grantedFull' : d.decision?.outcome === 'partially_approved' ? 'grantedPartial' : d.decision?.outcome === 'rejected' || d.status === 'rejected' ? 'rejected' : d.status === 'lapsed' ? 'lapsed' : d.status === 'withdrawn' ? null : 'open';
    const grant = outcome === 'grantedFull' || outcome === 'grantedPartial';
    const m = money.get(d._id) ?? { paid: 0, reclaimed: 0, refunded: 0 };
    const amounts = [
      d.amountRequestedCents ?? 0,
      grant ? (d.decision.grantedCents ?? 0) : 0,
      m.paid,
      m.reclaimed,
      m.refunded,
      grant ? (d.expectedParticipants ?? 0) : 0,
      grant ? (d.volunteers ?? 0) : 0,
      d.report?.participants ?? 0,
      d.report?.volunteers ?? 0,
    ];
    const light = d.review && d.review.outcome !== 'clarify' ? d.review.trafficLight : undefined;
    const add = (f: Fig, k: number, i: number, parts?: number[]) => {
      f.applications! += 1;
      if (outcome) f[outcome]! += 1;
      if (d.status === 'withdrawn') {
        f.withdrawn! += 1;
        if (grant) f.withdrawnAfterGrant! += 1;
      }
      additive.forEach((key, j) => (f[key]! += parts ? parts[j]! : share(amounts[j]!, k, i)));
      if (d.report) f.reports! += 1;
      if (light === 'green' || light === 'orange' || light === 'red') f[light]! += 1;
    };
    add(totals, 1, 0);
    add(perMonth[monthOf(new Date(d.createdAt).getTime()) - 1]!, 1, 0);
    const ws: string[] = d.wijken?.length ? d.wijken : ['Gemeentebreed'];
    const focusParts = additive.map(() => 0);
    let inFocus = false;
    ws.forEach((w, i) => {
      if (!perWijk.has(w)) perWijk.set(w, newFig());
      add(perWijk.get(w)!, ws.length, i);
      weight.set(w, (weight.get(w) ?? 0) + 1 / ws.length);
      if (focus.has(w)) {
        inFocus = true;
        additive.forEach((_, j) => (focusParts[j]! += share(amounts[j]!, ws.length, i)));
      }
    });
    if (inFocus) add(focusFig, 1, 0, focusParts);
    const ps: string[] = d.purposes ?? [];
    ps.forEach((p, i) => {
      if (!perPurpose.has(p)) perPurpose.set(p, newFig());
      add(perPurpose.get(p)!, ps.length, i);
    });
  }
  const r4 = (x: number) => Math.round(x * 10_000) / 10_000;
  const months = new Map<string, Record<string, number>>();
  for (const e of journals.get(year) ?? []) {
    const field = { reserve: 'reservedCents', release: 'releasedCents', pay: 'paidCents', reclaim: 'reclaimedCents', refund: 'refundedCents' }[e.kind as string];
    if (!field) continue;
    const month = amsterdamDate(new Date(e.at)).slice(0, 7);
    const entry = months.get(month) ?? { reservedCents: 0, releasedCents: 0, paidCents: 0, reclaimedCents: 0, refundedCents: 0 };
    entry[field]! += e.amountCents;
    months.set(month, entry);
  }
  const balances = await ledger.balances(year);
  return {
    totals,
    focus: focusFig,
    perWijk: [...perWijk].map(([wijk, f]) => {
      const w = (weight.get(wijk) ?? 0) / (totals.applications || 1);
      const g = totals.grantedCents ? f.grantedCents! / totals.grantedCents : 0;
      return { wijk, ...f, spread: { applicationsShare: r4(w), grantedShare: r4(g), paidShare: r4(totals.paidCents ? f.paidCents! / totals.paidCents : 0), ratio: w > 0 ? r4(g / w) : null } };
    }),
    perPurpose: [...perPurpose].map(([purpose, f]) => ({ purpose, ...f })),
    perMonth: perMonth.map((f, i) => ({ month: `${year}-${String(i + 1).padStart(2, '0')}`, ...f })),
    budgetYear: { ...balances, remainingCents: remainingCents(balances), perMonth: [...months].sort(([a], [b]) => a.localeCompare(b)).map(([month, m]) => ({ month, ...m })) },
  };
}

/** The candidate's JSON in the baseline's flat shape (traffic lights inline), to compare the figures. */
function flatten(summary: Record<string, any>) {
  const flat = ({ trafficLights, ...f }: any) => ({ ...f, ...trafficLights });
  return {
    totals: flat(summary.totals),
    focus: flat(summary.focus),
    perWijk: summary.perWijk.map(({ focus: _f, ...w }: Record<string, unknown>) => flat(w)),
    perPurpose: summary.perPurpose.map(flat),
    perMonth: summary.perMonth.map(flat),
    budgetYear: (({ year: _y, ...b }) => b)(summary.budgetYear),
  };
}

// --- the run -------------------------------------------------------------------------------------

export interface ReportsStep {
  applications: number;
  ledgerEntries: number;
  documents: number;
  /** Inserting this step's applications, ledger entries and reference claims. */
  insertSec: number;
  /** Loading the year's journals into a fresh API's ledger (before the clock). */
  journalLoadMs: number;
  rounds: number;
  comparison: Comparison;
  candidateMsPerOp: number;
  baselineMsPerOp: number;
  /** From the cache: the summary, the whole CSV, a page of 20 stories. */
  cached: { summaryMs: { p50: number; p95: number; max: number }; csvMs: number; csvBytes: number; storiesFirstMs: number; storiesMs: { p50: number; max: number } };
}

export interface ReportsBenchResult extends Comparison, RunInfo {
  name: 'reports';
  date: string;
  year: number;
  steps: number[];
  /** The headline comparison above is the largest step's. */
  growth: ReportsStep[];
  durationSec: number;
}

export async function runReportsBench(log = stdoutLog): Promise<ReportsBenchResult> {
  const steps = (process.env.BENCH_STEPS || '1000,10000,100000').split(',').map((s) => Number(s.trim()));
  if (steps.some((s, i) => !Number.isInteger(s) || s < 1 || (i > 0 && s <= steps[i - 1]!))) throw new Error('BENCH_STEPS: increasing positive integers, e.g. 1000,10000,100000');
  const smallRounds = envInt('BENCH_ROUNDS', 2);
  const largeRounds = envInt('BENCH_LARGE_ROUNDS', 1);
  const cachedN = envInt('BENCH_CACHED_N', 20);
  const goal = 0.8;
  const startedAt = Date.now();
  const loadavgAtStart = loadAverage();

  return withFerretBench({ name: 'reports', log }, async (bench) => {
    const { dir, mongoUri, cpu } = bench;
    const models = await connectDatabase(mongoUri);
    bench.onStop(() => models.connection.close());
    // No Temporal server: nothing here signals or starts a workflow.
    const client = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) });
    const config = loadConfig({
      NODE_ENV: 'production',
      AUTH_SECRET: randomBytes(32).toString('hex'),
      PAYOUT_DEBTOR_IBAN: 'NL34BNGH0285000001',
      DEMO_SEED: 'false',
      LOG_LEVEL: 'warn',
      DATA_DIR: join(dir, 'data'),
      MONGODB_URI: mongoUri,
      TEMPORAL_ADDRESS: '127.0.0.1:1',
    });
    const logger = pino({ level: 'warn' }, pino.destination({ dest: '/dev/null', sync: false }));
    const store = await openStore(config);
    const adminId = randomUUID();
    await models.StaffUser.collection.insertOne({ _id: adminId, email: 'admin@bench.test', name: 'Bench', role: 'admin', chair: false, active: true, passwordHash: 'x', createdAt: new Date() } as never);

    const ledger = new SyntheticLedger();
    const tally = new ReportTally({ models });
    let inserted = 0;
    let documentCount = 0;
    const growth: ReportsStep[] = [];
    let last: Comparison | undefined;

    for (const target of steps) {
      // --- insert up to `target` applications ------------------------------------------------
      const t0 = performance.now();
      const apps: ApplicationDoc[] = [];
      const documents: ReturnType<typeof documentDoc>[] = [];
      for (let i = inserted; i < target; i++) apps.push(syntheticApplication(i, ledger, documents));
      const claims = Array.from({ length: target - inserted }, (_, k) => ({ _id: `${YEAR}-${inserted + k + 1}`, year: YEAR, seq: inserted + k + 1, createdAt: new Date() }));
      // Side by side: FerretDB decodes on both cores, SQLite writes one at a time.
      const [, entries] = await Promise.all([
        insertInBatches(models.Application.collection as never, apps),
        ledger.insert(models),
        insertInBatches(models.ReferenceClaim.collection as never, claims),
        insertInBatches(models.Document.collection as never, documents),
        // The application's keys as intake writes them, and the stories' as the status projection does with a report.
        insertInBatches(models.Key.collection as never, apps.flatMap((a) => [...keysOfApplication(a), ...storyKeys(a)])),
      ]);
      await tallySynthetic(tally, YEAR, apps, entries);
      documentCount += documents.length;
      inserted = target;
      const insertSec = round((performance.now() - t0) / 1000, 1);
      log(`reports: ${target} applications (${ledger.count} ledger entries, ${documentCount} documents) inserted; this step ${insertSec} s`);

      // --- a fresh API on the data (a running API has its journals in memory: loaded before the clock) --
      const { deps, url, close } = await startFreshApi({ config, logger, models, client, store, secret: config.auth.secret! });
      const { token } = await deps.signer.signStaff({ id: adminId, role: 'admin', name: 'Bench' });
      const auth = { Authorization: `Bearer ${token}` };
      const tj = performance.now();
      await deps.ledger.balances(YEAR); // the first load: the newest snapshot and the entries after it
      const journalLoadMs = round(performance.now() - tj);
      const service = reportsFor(deps);

      const fetchJson = async (path: string) => {
        const res = await fetch(`${url}${path}`, { headers: auth });
        if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
        return (await res.json()) as Record<string, any>;
      };
      let candidateBody: Record<string, any> | undefined;
      let baselineBody: Awaited<ReturnType<typeof baselineSummary>> | undefined;
      const candidateOp = async () => {
        service.invalidate(YEAR);
        candidateBody = await fetchJson(`/api/v1/reports/summary?year=${YEAR}`);
      };
      const baselineOp = async () => {
        baselineBody = await baselineSummary(models, deps.ledger, YEAR, config.fund.wijken, config.reports.focusWijken);
      };

      const rounds = target >= 50_000 ? largeRounds : smallRounds;
      const n = target <= 2_000 ? 3 : 1;
      log(`reports: ${target}: ${rounds} round(s) of ${n} read(s) per side (journals loaded in ${journalLoadMs} ms)`);
      const phases = await runRounds({ name: `reports ${target}`, unit: 'reads', rounds, n, concurrency: 1, candidateOp, baselineOp, cpu, log });

      // Both sides computed the same figures.
      if (!isDeepStrictEqual(flatten(candidateBody!), baselineBody)) {
        writeFileSync(join(resultsDir, 'reports-mismatch.json'), JSON.stringify({ baseline: baselineBody, candidate: flatten(candidateBody!) }, null, 2));
        throw new Error(`reports: the candidate's figures differ from the baseline's at ${target} applications (see bench/results/reports-mismatch.json)`);
      }
      if (candidateBody!.totals.applications !== target) throw new Error(`reports: ${candidateBody!.totals.applications} applications counted, ${target} inserted`);

      // --- from the cache ---------------------------------------------------------------------
      await fetchJson(`/api/v1/reports/summary?year=${YEAR}`); // a snapshot younger than the maximum age
      const cachedRun = await runPool(cachedN, 1, async () => void (await fetchJson(`/api/v1/reports/summary?year=${YEAR}`)), cpu);
      const tc = performance.now();
      const csv = await fetch(`${url}/api/v1/reports/initiatives.csv?year=${YEAR}`, { headers: auth });
      const csvBytes = (await csv.arrayBuffer()).byteLength;
      const csvMs = round(performance.now() - tc);
      if (csv.status !== 200) throw new Error(`csv: ${csv.status}`);
      const storiesPage = async (page: number) => {
        const s = await fetchJson(`/api/v1/reports/stories?year=${YEAR}&offset=${page * 20}&limit=20`);
        if (s.stories.length !== 20) throw new Error(`stories: ${s.stories.length} on page ${page}`);
        if (!s.stories.every((st: { photos: unknown[] }) => st.photos.length === 1)) throw new Error('stories: a story without its photo');
      };
      const ts = performance.now();
      await storiesPage(0);
      const storiesFirstMs = round(performance.now() - ts);
      const storiesRun = await runPool(5, 1, (i) => storiesPage(i + 1), cpu);
      await close();

      const comparison = compareSides(
        phases,
        {
          candidate: "GET /api/v1/reports/summary over HTTP, the tally's fold emptied before each call: the year's newest tally snapshot and the deltas after it (_id ranges), the ledger's monthly sums in memory, JSON",
          baseline: 'native find({year}) with the same projection + the same in-memory ledger journals + one pass of plain loops computing the same figures (checked equal), no HTTP',
        },
        goal,
      );
      // The ratio from the time per read (support's opsPerSec is rounded to 0.01, too coarse for reads of seconds).
      const perRead = (p: { ms: number; ops: number }) => p.ms / p.ops;
      comparison.roundRatios = phases.candidate.map((c, i) => round(perRead(phases.baseline[i]!) / perRead(c), 3));
      comparison.ratio = round(perRead(comparison.baseline) / perRead(comparison.candidate), 3);
      comparison.pass = comparison.ratio >= goal;
      last = comparison;
      const step: ReportsStep = {
        applications: target,
        ledgerEntries: ledger.count,
        documents: documentCount,
        insertSec,
        journalLoadMs,
        rounds,
        comparison,
        candidateMsPerOp: round(comparison.candidate.ms / comparison.candidate.ops),
        baselineMsPerOp: round(comparison.baseline.ms / comparison.baseline.ops),
        cached: {
          summaryMs: { p50: cachedRun.latencyMs.p50, p95: cachedRun.latencyMs.p95, max: cachedRun.latencyMs.max },
          csvMs,
          csvBytes,
          storiesFirstMs,
          storiesMs: { p50: storiesRun.latencyMs.p50, max: storiesRun.latencyMs.max },
        },
      };
      growth.push(step);
      log(
        `reports: ${target}: candidate ${step.candidateMsPerOp} ms/read, baseline ${step.baselineMsPerOp} ms/read, ratio ${comparison.ratio}; ` +
          `cached summary p50 ${step.cached.summaryMs.p50} ms, csv ${csvMs} ms (${csvBytes} bytes), stories first page ${storiesFirstMs} ms, next p50 ${step.cached.storiesMs.p50} ms`,
      );
    }

    const result: ReportsBenchResult = {
      name: 'reports',
      date: new Date().toISOString(),
      year: YEAR,
      steps,
      ...last!,
      growth,
      ...runInfo(loadavgAtStart),
      durationSec: 0,
    };
    result.servers.temporal = 'not used';
    const file = await writeResult(bench, result, startedAt);

    log('');
    log(`reports: year ${YEAR}, steps ${steps.join(', ')}; node ${process.version}, ${cpus().length} cpu(s)`);
    log(`  largest step (${steps.at(-1)} applications; the headline ratio):`);
    logComparison(log, last!, { candidate: 'candidate (GET summary, uncached) ', baseline: 'baseline  (raw find + loops)      ' }, 'reads');
    log('  growth:    applications | candidate ms | baseline ms | ratio | cached summary p50 ms | csv ms (MB) | stories first / next p50 ms | insert s');
    for (const g of growth) {
      log(
        `  ${String(g.applications).padStart(23)} | ${String(g.candidateMsPerOp).padStart(12)} | ${String(g.baselineMsPerOp).padStart(11)} | ${String(g.comparison.ratio).padStart(5)} | ` +
          `${String(g.cached.summaryMs.p50).padStart(21)} | ${String(g.cached.csvMs).padStart(6)} (${round(g.cached.csvBytes / 1e6, 1)}) | ${String(g.cached.storiesFirstMs).padStart(12)} / ${String(g.cached.storiesMs.p50).padEnd(12)} | ${g.insertSec}`,
      );
    }
    log(`  written to ${file} (${result.durationSec} s)`);
    return result;
  });
}

runIfMain(import.meta.url, runReportsBench);
