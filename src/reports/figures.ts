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
import { activityYear, purposes as knownPurposes, WHOLE_MUNICIPALITY } from '../domain/application.ts';
import { FUND_TIME_ZONE } from '../domain/dates.ts';
import type { MovementKind } from '../domain/ledger.ts';
import { trafficLights, type TrafficLight } from '../domain/report.ts';
import { applicationStatuses, type ApplicationStatus } from '../domain/status.ts';
import { ERASED } from '../privacy/erasure.ts';

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

/** Adds (sign 1) or takes away (sign −1) what a row contributes to one group, as part i of k. */
function add(f: Figures, c: Contribution, k: number, i: number, sign: 1 | -1 = 1): void {
  f.applications += sign;
  if (c.outcome !== 'withdrawnBeforeDecision') f[c.outcome] += sign;
  if (c.withdrawn) {
    f.withdrawn += sign;
    if (isGrant(c.outcome)) f.withdrawnAfterGrant += sign;
  }
  for (let j = 0; j < amountKeys.length; j++) f[amountKeys[j]!] += sign * splitPart(c.amounts[j]!, k, i);
  if (c.report) f.reports += sign;
  if (c.light) f.trafficLights[c.light] += sign;
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

/** What a row needs for the figures: no texts, no identity (see `FigureRow` in tally.ts). */
export type CountedRow = Pick<
  ReportRow,
  'status' | 'month' | 'wijken' | 'purposes' | 'requestedCents' | 'decision' | 'decidedGrantCents' | 'expectedParticipants' | 'expectedVolunteers' | 'report' | 'trafficLight'
> & { money: Pick<Money, 'paidCents' | 'reclaimedCents' | 'refundedCents'> };

/**
 * The sums of a year as groups of `Figures`, independent of the configuration (the wijken
 * listed, the focus wijken): `t` the totals, `m:<month>`, `p:<purpose>` (a row's part of
 * each of its purposes), and `w:<its wijken as JSON>` with one `Figures` per position:
 * the rows serving exactly that list of wijken, each position holding its part. The
 * figures per wijk, their spread and the focus are derived from these (`summaryOf`).
 * Every group is a sum over rows, so a row's change is taken away and added again
 * (`countRow` with sign −1 and 1): the basis of the incremental summary (tally.ts).
 */
export type Aggregate = Map<string, Figures[]>;

function group(agg: Aggregate, key: string, k: number): Figures[] {
  let g = agg.get(key);
  if (!g) agg.set(key, (g = Array.from({ length: k }, emptyFigures)));
  return g;
}

/** Adds a row to the aggregate (sign 1) or takes it out (sign −1). */
export function countRow(agg: Aggregate, r: CountedRow, sign: 1 | -1 = 1): void {
  const c = contribution(r as ReportRow);
  add(group(agg, 't', 1)[0]!, c, 1, 0, sign);
  add(group(agg, `m:${Math.min(12, Math.max(1, r.month))}`, 1)[0]!, c, 1, 0, sign);
  const wijken = wijkenOf(r);
  const parts = group(agg, `w:${JSON.stringify(wijken)}`, wijken.length);
  wijken.forEach((_, i) => add(parts[i]!, c, wijken.length, i, sign));
  const ps = r.purposes.length ? r.purposes : ['unknown'];
  ps.forEach((p, i) => add(group(agg, `p:${p}`, 1)[0]!, c, ps.length, i, sign));
  // The staff list's totals: how many applications per status and wijk ("any" for either).
  for (const s of [r.status, undefined])
    for (const w of [...new Set(r.wijken), undefined]) if (s !== undefined || w !== undefined) group(agg, listCountKey(s, w), 1)[0]!.applications += sign;
}

/**
 * The group that counts the applications of a status and a wijk (each given or any), as
 * the staff's list filters them (src/db/keys.ts `listParts`): an application counts under
 * its status and each of its own wijken, not under the whole-municipality stand-in. Only
 * `applications` is kept in these groups; `t` is any status in any wijk.
 */
export function listCountKey(status: string | undefined, wijk: string | undefined): string {
  return status === undefined && wijk === undefined ? 't' : `n:${status ?? '*'}|${wijk ?? '*'}`;
}

/** Adds the figures of `from` to `into`. */
function addFigures(into: Figures, from: Figures, amountsOnly = false): void {
  for (const key of Object.keys(into) as (keyof Figures)[]) {
    if (key === 'trafficLights') {
      if (!amountsOnly) for (const l of trafficLights) into.trafficLights[l] += from.trafficLights[l];
    } else if (!amountsOnly || (amountKeys as readonly string[]).includes(key)) into[key] += from[key];
  }
}

/** Sums the rows of one submission year. `wijken`: the configured list (order of the output). */
export function summarize(year: number, rows: readonly CountedRow[], opts: { wijken: readonly string[]; focusWijken: readonly string[] }): Summary {
  const agg: Aggregate = new Map();
  for (const r of rows) countRow(agg, r);
  return summaryOf(year, agg, opts);
}

/** The summary of a year from its aggregate (see `Aggregate`). */
export function summaryOf(year: number, agg: Aggregate, opts: { wijken: readonly string[]; focusWijken: readonly string[] }): Summary {
  const focusSet = new Set(opts.focusWijken);
  const totals = emptyFigures();
  addFigures(totals, agg.get('t')?.[0] ?? emptyFigures());
  const focus = emptyFigures();
  const perWijk = new Map<string, { f: Figures; weightByK: Map<number, number> }>();
  const wijkEntry = (w: string) => {
    let entry = perWijk.get(w);
    if (!entry) perWijk.set(w, (entry = { f: emptyFigures(), weightByK: new Map() }));
    return entry;
  };
  for (const w of [...opts.wijken, WHOLE_MUNICIPALITY]) wijkEntry(w);
  const perPurpose = new Map<string, Figures>(knownPurposes.map((p) => [p, emptyFigures()]));
  const extraPurposes: string[] = [];
  const perMonth = Array.from({ length: 12 }, emptyFigures);

  for (const [key, figures] of agg) {
    const kind = key.slice(0, 2);
    if (kind === 'm:') addFigures(perMonth[Number(key.slice(2)) - 1]!, figures[0]!);
    else if (kind === 'p:') {
      const purpose = key.slice(2);
      if (!perPurpose.has(purpose)) {
        if (figures[0]!.applications === 0) continue; // every row taken out again
        perPurpose.set(purpose, emptyFigures());
        extraPurposes.push(purpose);
      }
      addFigures(perPurpose.get(purpose)!, figures[0]!);
    } else if (kind === 'w:') {
      const wijken = JSON.parse(key.slice(2)) as string[];
      const k = wijken.length;
      if (figures[0]!.applications === 0 && wijken.some((w) => !perWijk.has(w))) continue;
      let inFocus = false;
      wijken.forEach((w, i) => {
        const entry = wijkEntry(w);
        addFigures(entry.f, figures[i]!);
        entry.weightByK.set(k, (entry.weightByK.get(k) ?? 0) + figures[i]!.applications);
        if (focusSet.has(w)) {
          // The counts once per row, the amounts of every part that falls in a focus wijk.
          addFigures(focus, figures[i]!, inFocus);
          inFocus = true;
        }
      });
    }
  }

  const configured = new Set([...opts.wijken, WHOLE_MUNICIPALITY]);
  const order = [...opts.wijken, WHOLE_MUNICIPALITY, ...[...perWijk.keys()].filter((w) => !configured.has(w)).sort((a, b) => a.localeCompare(b, 'nl'))];
  return {
    year,
    focusWijken: [...opts.focusWijken],
    totals,
    focus,
    perWijk: order.map((wijk) => {
      const { f, weightByK } = perWijk.get(wijk)!;
      // An application serving k wijken weighs 1/k in each: summed per k, in order of k (the same float whatever the order of the rows).
      const weight = [...weightByK].sort(([a], [b]) => a - b).reduce((sum, [k, n]) => sum + n / k, 0);
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
    perPurpose: [...knownPurposes, ...extraPurposes.sort()].map((purpose) => ({ purpose, ...perPurpose.get(purpose)! })),
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

/** The fields of an application its figures use (`CountedRow`); the incremental summary reads these (tally.ts). */
export const countedProjection = {
  _id: 1,
  year: 1,
  status: 1,
  createdAt: 1,
  wijken: 1,
  purposes: 1,
  'activity.startDate': 1,
  amountRequestedCents: 1,
  'decision.outcome': 1,
  'decision.grantedCents': 1,
  expectedParticipants: 1,
  volunteers: 1,
  'report.participants': 1,
  'report.volunteers': 1,
  'review.outcome': 1,
  'review.trafficLight': 1,
} as const;

/** The fields a report row needs; nothing else leaves the database. */
export const rowProjection = {
  ...countedProjection,
  reference: 1,
  title: 1,
  'report.selfAssessment': 1,
  'report.submittedAt': 1,
  'report.text': 1,
  'report.documentIds': 1,
  erasedAt: 1,
} as const;

export type Doc = Record<string, unknown> & { _id: string };
export const obj = (v: unknown): Record<string, unknown> | undefined => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined);
const int = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
const statuses = new Set<string>(applicationStatuses);
/** Code-unit order (ISO times, references): what sorting 100,000 rows can afford, unlike localeCompare. */
export const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** One projected application document as a row (defensive: fields added later may be absent). */
export function rowOf(d: Doc, money: ReadonlyMap<string, Money>, monthOf: (t: number) => number): ReportRow {
  const created = d.createdAt instanceof Date ? d.createdAt.getTime() : Date.parse(String(d.createdAt));
  const decision = obj(d.decision);
  const outcome = str(decision?.outcome);
  const report = obj(d.report);
  const review = obj(d.review);
  const startDate = str(obj(d.activity)?.startDate);
  // A review that asks for clarification is not the final verdict.
  const light = review && review.outcome !== 'clarify' && isTrafficLight(review.trafficLight) ? review.trafficLight : undefined;
  const status = str(d.status) ?? 'submitted';
  const erased = d.erasedAt !== undefined && d.erasedAt !== null;
  const text = str(report?.text);
  return {
    id: d._id,
    reference: str(d.reference) ?? '',
    title: str(d.title) ?? '',
    status: (statuses.has(status) ? status : 'submitted') as ApplicationStatus,
    submittedAt: created,
    month: Number.isFinite(created) ? monthOf(created) : 1,
    wijken: strings(d.wijken),
    purposes: strings(d.purposes),
    ...(startDate ? { activityDate: startDate, budgetYear: activityYear({ startDate }) } : {}),
    requestedCents: int(d.amountRequestedCents),
    ...(outcome === 'approved' || outcome === 'partially_approved' || outcome === 'rejected' ? { decision: outcome } : {}),
    decidedGrantCents: int(decision?.grantedCents),
    expectedParticipants: int(d.expectedParticipants),
    expectedVolunteers: int(d.volunteers),
    ...(report
      ? {
          report: {
            participants: int(report.participants),
            volunteers: int(report.volunteers),
            ...(isTrafficLight(report.selfAssessment) ? { selfAssessment: report.selfAssessment } : {}),
            ...(str(report.submittedAt) ? { submittedAt: str(report.submittedAt) } : {}),
          },
        }
      : {}),
    ...(light ? { trafficLight: light } : {}),
    erased,
    ...(text && text !== ERASED && !erased ? { story: { text, documentIds: strings(report?.documentIds) } } : {}),
    money: money.get(d._id) ?? noMoney(),
  };
}

