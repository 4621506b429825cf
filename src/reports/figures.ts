/**
 * The monitoring figures ("tellen en vertellen"), pure: what one application counts
 * for, and the sums per wijk, per purpose and per month. The service
 * (src/reports/service.ts) reads the rows; everything here is a function of them.
 *
 * Counting rules (also in the API schema):
 * - The year is the application's submission year (`application.year`, Europe/Amsterdam),
 *   the month its submission month. Its money is counted with it, whichever budget year
 *   the ledger charged it to (the activity's year). The ledger's own view of a budget
 *   year is `budgetYear` (src/reports/service.ts).
 * - Every application is in exactly one of: open, grantedFull, grantedPartial, rejected,
 *   rejectedBudgetExhausted, lapsed, or withdrawn before a decision. A grant withdrawn
 *   later stays a grant and is also counted in `withdrawn` and `withdrawnAfterGrant`:
 *   applications = open + grantedFull + grantedPartial + rejected + rejectedBudgetExhausted
 *                  + lapsed + (withdrawn − withdrawnAfterGrant).
 * - An application serving several wijken (or purposes) counts as one application in
 *   each of them; its amounts, participants and volunteers are split evenly over them
 *   (the first get the remainder), so those add up to the totals. The same rule as the
 *   public budget's spread over the wijken (src/budget/ledger.ts).
 * - No wijk means the whole municipality ("Gemeentebreed").
 */
import { TZDate } from '@date-fns/tz';
import { purposes as knownPurposes, WHOLE_MUNICIPALITY } from '../domain/application.ts';
import { FUND_TIME_ZONE } from '../domain/dates.ts';
import type { MovementKind } from '../domain/ledger.ts';
import { trafficLights, type TrafficLight } from '../domain/report.ts';
import type { ApplicationStatus } from '../domain/status.ts';

export type Outcome = 'open' | 'grantedFull' | 'grantedPartial' | 'rejected' | 'rejectedBudgetExhausted' | 'lapsed' | 'withdrawnBeforeDecision';

/** What the ledger holds for one application, summed over its movements (gross per kind). */
export interface Money {
  reservedCents: number;
  releasedCents: number;
  paidCents: number;
  reclaimedCents: number;
  refundedCents: number;
}

export const noMoney = (): Money => ({ reservedCents: 0, releasedCents: 0, paidCents: 0, reclaimedCents: 0, refundedCents: 0 });

/** One application as the reports need it (read with a projection, see service.ts). */
export interface ReportRow {
  id: string;
  reference: string;
  title: string;
  status: ApplicationStatus;
  submittedAt: number; // epoch ms
  /** 1..12, submission month in Amsterdam. */
  month: number;
  wijken: string[];
  purposes: string[];
  activityDate?: string;
  /** The budget year the grant is (or would be) charged to: the activity's year. */
  budgetYear?: number;
  requestedCents: number;
  /** The panel's decision as it stands (absent before a decision). */
  decision?: 'approved' | 'partially_approved' | 'rejected';
  decidedGrantCents: number;
  expectedParticipants: number;
  expectedVolunteers: number;
  report?: { participants: number; volunteers: number; selfAssessment?: TrafficLight; submittedAt?: string };
  /** The panel's final traffic light (a review that accepted or rejected the report). */
  trafficLight?: TrafficLight;
  /** Personal data erased (the report text is gone; figures stay). */
  erased: boolean;
  /** The report's text and documents, when there is a text to tell (not erased). */
  story?: { text: string; documentIds: string[] };
  money: Money;
}

export function outcomeOf(r: Pick<ReportRow, 'status' | 'decision'>): Outcome {
  if (r.status === 'rejected_budget_exhausted') return 'rejectedBudgetExhausted';
  if (r.decision === 'approved') return 'grantedFull';
  if (r.decision === 'partially_approved') return 'grantedPartial';
  if (r.decision === 'rejected' || r.status === 'rejected') return 'rejected';
  if (r.status === 'lapsed') return 'lapsed';
  if (r.status === 'withdrawn') return 'withdrawnBeforeDecision';
  return 'open';
}

export const isGrant = (o: Outcome) => o === 'grantedFull' || o === 'grantedPartial';

/** The figures of one group of applications. */
export interface Figures {
  applications: number;
  open: number;
  grantedFull: number;
  grantedPartial: number;
  rejected: number;
  rejectedBudgetExhausted: number;
  lapsed: number;
  withdrawn: number;
  withdrawnAfterGrant: number;
  requestedCents: number;
  grantedCents: number;
  paidCents: number;
  reclaimedCents: number;
  refundedCents: number;
  participantsExpected: number;
  volunteersExpected: number;
  participantsReached: number;
  volunteersReached: number;
  reports: number;
  trafficLights: Record<TrafficLight, number>;
}

export const emptyFigures = (): Figures => ({
  applications: 0,
  open: 0,
  grantedFull: 0,
  grantedPartial: 0,
  rejected: 0,
  rejectedBudgetExhausted: 0,
  lapsed: 0,
  withdrawn: 0,
  withdrawnAfterGrant: 0,
  requestedCents: 0,
  grantedCents: 0,
  paidCents: 0,
  reclaimedCents: 0,
  refundedCents: 0,
  participantsExpected: 0,
  volunteersExpected: 0,
  participantsReached: 0,
  volunteersReached: 0,
  reports: 0,
  trafficLights: { green: 0, orange: 0, red: 0 },
});

/** The additive quantities of a row, in a fixed order (split over wijken and purposes). */
const amountKeys = [
  'requestedCents',
  'grantedCents',
  'paidCents',
  'reclaimedCents',
  'refundedCents',
  'participantsExpected',
  'volunteersExpected',
  'participantsReached',
  'volunteersReached',
] as const satisfies readonly (keyof Figures)[];

/** What one row adds to any group it is in. */
interface Contribution {
  outcome: Outcome;
  withdrawn: boolean;
  amounts: number[];
  report: boolean;
  light?: TrafficLight;
}

/** The amount granted to a row: the decision's amount for a grant, else 0. */
export function grantedCentsOf(r: ReportRow): number {
  return isGrant(outcomeOf(r)) ? r.decidedGrantCents : 0;
}

function contribution(r: ReportRow): Contribution {
  const outcome = outcomeOf(r);
  const grant = isGrant(outcome);
  return {
    outcome,
    withdrawn: r.status === 'withdrawn',
    amounts: [
      r.requestedCents,
      grant ? r.decidedGrantCents : 0,
      r.money.paidCents,
      r.money.reclaimedCents,
      r.money.refundedCents,
      grant ? r.expectedParticipants : 0,
      grant ? r.expectedVolunteers : 0,
      r.report?.participants ?? 0,
      r.report?.volunteers ?? 0,
    ],
    report: r.report !== undefined,
    ...(r.trafficLight ? { light: r.trafficLight } : {}),
  };
}

/** Part i of k of an integer amount: floor(a/k), the first (a mod k) parts one more. */
export function splitPart(amount: number, k: number, i: number): number {
  if (k <= 1) return amount;
  return Math.floor(amount / k) + (i < amount % k ? 1 : 0);
}

function add(f: Figures, c: Contribution, k: number, i: number): void {
  f.applications += 1;
  if (c.outcome !== 'withdrawnBeforeDecision') f[c.outcome] += 1;
  if (c.withdrawn) {
    f.withdrawn += 1;
    if (isGrant(c.outcome)) f.withdrawnAfterGrant += 1;
  }
  for (let j = 0; j < amountKeys.length; j++) f[amountKeys[j]!] += splitPart(c.amounts[j]!, k, i);
  if (c.report) f.reports += 1;
  if (c.light) f.trafficLights[c.light] += 1;
}

export interface WijkFigures extends Figures {
  wijk: string;
  focus: boolean;
  /**
   * The money against the applications: this wijk's share of the year's applications
   * (an application serving k wijken counts 1/k in each) and of the money granted and
   * paid; ratio = grantedShare / applicationsShare (1: in proportion, above 1: more
   * money than its share of applications; null without applications).
   */
  spread: { applicationsShare: number; grantedShare: number; paidShare: number; ratio: number | null };
}

export interface Summary {
  year: number;
  focusWijken: string[];
  totals: Figures;
  /** Applications serving at least one focus wijk (counted once); amounts: the parts that fall in focus wijken. */
  focus: Figures;
  perWijk: WijkFigures[];
  perPurpose: (Figures & { purpose: string })[];
  perMonth: (Figures & { month: string })[];
}

const round4 = (x: number) => Math.round(x * 10_000) / 10_000;

/** The wijken a row serves: its own, or the whole municipality when it names none. */
export const wijkenOf = (r: Pick<ReportRow, 'wijken'>): string[] => (r.wijken.length ? r.wijken : [WHOLE_MUNICIPALITY]);

/** Sums the rows of one submission year. `wijken`: the configured list (order of the output). */
export function summarize(year: number, rows: readonly ReportRow[], opts: { wijken: readonly string[]; focusWijken: readonly string[] }): Summary {
  const focusSet = new Set(opts.focusWijken);
  const totals = emptyFigures();
  const focus = emptyFigures();
  const perWijk = new Map<string, { f: Figures; weight: number }>();
  for (const w of [...opts.wijken, WHOLE_MUNICIPALITY]) perWijk.set(w, { f: emptyFigures(), weight: 0 });
  const perPurpose = new Map<string, Figures>(knownPurposes.map((p) => [p, emptyFigures()]));
  const perMonth = Array.from({ length: 12 }, emptyFigures);

  for (const r of rows) {
    const c = contribution(r);
    add(totals, c, 1, 0);
    add(perMonth[Math.min(11, Math.max(0, r.month - 1))]!, c, 1, 0);
    const wijken = wijkenOf(r);
    const k = wijken.length;
    let inFocus = false;
    const focusPart = new Array<number>(amountKeys.length).fill(0);
    wijken.forEach((w, i) => {
      let entry = perWijk.get(w);
      if (!entry) perWijk.set(w, (entry = { f: emptyFigures(), weight: 0 }));
      add(entry.f, c, k, i);
      entry.weight += 1 / k;
      if (focusSet.has(w)) {
        inFocus = true;
        for (let j = 0; j < amountKeys.length; j++) focusPart[j]! += splitPart(c.amounts[j]!, k, i);
      }
    });
    if (inFocus) add(focus, { ...c, amounts: focusPart }, 1, 0);
    const ps = r.purposes.length ? r.purposes : ['unknown'];
    ps.forEach((p, i) => {
      let f = perPurpose.get(p);
      if (!f) perPurpose.set(p, (f = emptyFigures()));
      add(f, c, ps.length, i);
    });
  }

  const configured = new Set([...opts.wijken, WHOLE_MUNICIPALITY]);
  const order = [...opts.wijken, WHOLE_MUNICIPALITY, ...[...perWijk.keys()].filter((w) => !configured.has(w)).sort((a, b) => a.localeCompare(b, 'nl'))];
  return {
    year,
    focusWijken: [...opts.focusWijken],
    totals,
    focus,
    perWijk: order.map((wijk) => {
      const { f, weight } = perWijk.get(wijk)!;
      const applicationsShare = totals.applications ? weight / totals.applications : 0;
      const grantedShare = totals.grantedCents ? f.grantedCents / totals.grantedCents : 0;
      const paidShare = totals.paidCents ? f.paidCents / totals.paidCents : 0;
      return {
        wijk,
        focus: focusSet.has(wijk),
        ...f,
        spread: {
          applicationsShare: round4(applicationsShare),
          grantedShare: round4(grantedShare),
          paidShare: round4(paidShare),
          ratio: applicationsShare > 0 ? round4(grantedShare / applicationsShare) : null,
        },
      };
    }),
    perPurpose: [...perPurpose].map(([purpose, f]) => ({ purpose, ...f })),
    perMonth: perMonth.map((f, i) => ({ month: `${year}-${String(i + 1).padStart(2, '0')}`, ...f })),
  };
}

/** Sums a year's ledger journal per application (gross amounts per kind). */
export function moneyByApplication(entries: readonly { kind: MovementKind; amountCents: number; applicationId?: string }[], into = new Map<string, Money>()): Map<string, Money> {
  for (const e of entries) {
    if (!e.applicationId) continue;
    let m = into.get(e.applicationId);
    if (!m) into.set(e.applicationId, (m = noMoney()));
    switch (e.kind) {
      case 'reserve':
        m.reservedCents += e.amountCents;
        break;
      case 'release':
        m.releasedCents += e.amountCents;
        break;
      case 'pay':
        m.paidCents += e.amountCents;
        break;
      case 'reclaim':
        m.reclaimedCents += e.amountCents;
        break;
      case 'refund':
        m.refundedCents += e.amountCents;
        break;
      default:
        break;
    }
  }
  return into;
}

/**
 * The month (1..12) of an instant in Amsterdam, for instants of one year: the 13 month
 * boundaries are computed once (Intl formatting per row costs more at 100,000 rows).
 */
export function amsterdamMonthOf(year: number): (epochMs: number) => number {
  const bounds = Array.from({ length: 13 }, (_, m) => new TZDate(year, m, 1, 0, 0, 0, FUND_TIME_ZONE).getTime());
  return (t) => {
    let m = 1;
    while (m < 12 && t >= bounds[m]!) m++;
    return m;
  };
}

export const isTrafficLight = (v: unknown): v is TrafficLight => typeof v === 'string' && (trafficLights as readonly string[]).includes(v);
