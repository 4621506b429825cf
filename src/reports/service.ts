/**
 * Monitoring reports for the municipality: the figures of a submission year, the
 * initiatives as rows for a spreadsheet, and the stories (report texts with photos).
 *
 * The figures (`summary`, the API's summary and the monitoring page) come from the
 * incremental aggregate (src/reports/tally.ts) and the ledger's fold (balances and
 * movements per month, src/budget/ledger.ts): no request for them reads the applications
 * or a journal, and they are always current (`asOf` the request's time, `stale` false).
 *
 * The stories are read a page at a time by key (src/reports/stories.ts): always current.
 *
 * The CSV download still reads per year: its rows need every application's own fields
 * (titles, statuses, money), not sums. On FerretDB v1 a filter other than `_id` scans the
 * whole collection and decodes each document (~1 ms per application document, whatever
 * the projection), so a year is read with ONE query (`{year}`, projected to
 * `rowProjection`) and the money comes from the budget ledger's journals, which this
 * process keeps in memory. The result is a snapshot per year, for the CSV.
 *
 * Caching of that snapshot. It is served while younger than `maxAgeMs`. Requests never
 * wait for anything else: at most every `checkIntervalMs`, a request starts a check in
 * the background of two change markers: the year's next reference number is claimed
 * (a new application) or the journals of its budget years grew (money moved); if so, the
 * year is read again in the background. A snapshot older than `maxAgeMs`, or known to be
 * outdated, is still served (stale-while-revalidate: `stale: true` and `asOf` in the
 * response) while one new read runs. Only a year without a snapshot waits for its read.
 * So a status change without money (screening, a lapse, a report, a review) shows at the
 * latest after `maxAgeMs` plus one read, a new application or money movement one check
 * and one read after it. `maxAgeMs` 0 reads through on every request (tests).
 */
import type { Logger } from 'pino';
import type { Models } from '../db/models.ts';
import type { BudgetLedger } from '../budget/ledger.ts';
import type { MonthMovements } from '../budget/ledger.ts';
import { remainingCents, type Balances } from '../domain/ledger.ts';
import type { TrafficLight } from '../domain/report.ts';
import { amsterdamMonthOf, compare, moneyByApplication, obj, rowOf, rowProjection, str, summaryOf, type Doc, type Money, type ReportRow, type Summary } from './figures.ts';
import type { ReportTally } from './tally.ts';
import { storiesPage } from './stories.ts';
import { applicationIdsPage } from '../db/keys.ts';

/**
 * Every application of a submission year, for the CSV: the ids from the list's keys (the
 * year's range of `apps:*:*:<year>`, src/db/keys.ts), then the applications by `_id`, a
 * thousand at a time. A download of the whole year reads the year, not the collection.
 */
async function applicationsOfYear(models: Models, year: number): Promise<Doc[]> {
  const ids = await applicationIdsPage(models, { year }, { skip: 0, limit: 0 });
  const docs: Doc[] = [];
  for (let k = 0; k < ids.length; k += 1000) {
    const batch = (await models.Application.collection.find({ _id: { $in: ids.slice(k, k + 1000) } } as never, { projection: rowProjection }).toArray()) as unknown as Doc[];
    docs.push(...batch.filter((d) => d.year === year)); // a key a crash left is checked
  }
  return docs;
}

/** The budget year as the ledger has it: its balances now and its movements per month. The ledger's balances (paidCents is net of what was reclaimed and refunded, as GET /budget/:year). */
export interface BudgetYearFigures extends Balances {
  year: number;
  remainingCents: number;
  /** Gross movements per month in which they were booked (Amsterdam), months with movements only. */
  perMonth: MonthMovements[];
}

export interface Snapshot {
  year: number;
  builtAt: Date;
  buildMs: number;
  rows: ReportRow[];
  /**
   * Change markers: the first unclaimed reference number of the year (a lower bound from
   * the references read until the first check has looked further), and the journal lengths.
   */
  markers: { nextClaim: number; claimsExact: boolean; journals: Map<number, number> };
  /** Background marker check: when the last one started, the one in flight, whether one found a change. */
  checkedAt: number;
  checking?: Promise<void>;
  outdated?: boolean;
}

export interface Served<T> {
  value: T;
  asOf: Date;
  /** Served while a newer read is under way (older than the maximum age, or something changed). */
  stale: boolean;
}

export interface Story {
  applicationId: string;
  reference: string;
  title: string;
  wijken: string[];
  purposes: string[];
  activityDate?: string;
  reportedAt?: string;
  participants?: number;
  volunteers?: number;
  selfAssessment?: TrafficLight;
  trafficLight?: TrafficLight;
  text: string;
  photos: { id: string; fileName: string; contentType: string; url: string }[];
}

export interface ReportServiceOptions {
  models: Models;
  ledger: BudgetLedger;
  tally: ReportTally;
  wijken: readonly string[];
  focusWijken: readonly string[];
  /** 0: read through on every request. */
  maxAgeMs: number;
  /** Least time between two background checks of the change markers of a year (default 5 s). */
  checkIntervalMs?: number;
  publicBaseUrl: string;
  logger?: Logger;
  now?: () => Date;
}

/** Snapshots kept (most recently used years). */
const MAX_YEARS = 4;

export class ReportService {
  readonly options: ReportServiceOptions;
  private readonly cache = new Map<number, Snapshot>();
  private readonly building = new Map<number, Promise<Snapshot>>();

  constructor(options: ReportServiceOptions) {
    this.options = options;
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }

  /**
   * The year's figures, always current: the incremental aggregate (tally.ts) and the
   * ledger's own fold; never the applications or the journals. `asOf` is now, `stale` false.
   */
  async summary(year: number): Promise<Served<Summary & { budgetYear: BudgetYearFigures }>> {
    const asOf = this.now();
    const [agg, money] = await Promise.all([this.options.tally.aggregate(year), this.options.ledger.monthly(year)]);
    const summary = summaryOf(year, agg, { wijken: this.options.wijken, focusWijken: this.options.focusWijken });
    return { value: { ...summary, budgetYear: { year, ...money.balances, remainingCents: remainingCents(money.balances), perMonth: money.perMonth } }, asOf, stale: false };
  }

  /** The year's applications, oldest first (the CSV's rows). */
  async rows(year: number): Promise<Served<readonly ReportRow[]>> {
    const { snapshot: s, stale } = await this.snapshot(year);
    return { value: s.rows, asOf: s.builtAt, stale };
  }

  /**
   * Report texts with links to their photos, newest report first; `wijk` narrows to
   * initiatives serving it. A page of keys and its applications and photos by `_id`
   * (src/reports/stories.ts): always current, never the year's snapshot.
   */
  async stories(year: number, q: { wijk?: string; offset: number; limit: number }): Promise<Served<{ total: number; stories: Story[] }>> {
    const asOf = this.now();
    return { value: await storiesPage(this.options.models, this.options.publicBaseUrl, year, q), asOf, stale: false };
  }

  /** When the year's snapshot was read and how long that took (for logs and the bench). */
  lastRead(year: number): { builtAt: Date; buildMs: number; applications: number } | undefined {
    const s = this.cache.get(year);
    return s && { builtAt: s.builtAt, buildMs: s.buildMs, applications: s.rows.length };
  }

  /** Forgets the snapshot of a year (or all): the next request reads again and waits for it; the summary folds from the newest stored snapshot again. */
  invalidate(year?: number): void {
    this.options.tally.forget(year); // and the summary's fold: read from the newest snapshot again
    if (year === undefined) this.cache.clear();
    else this.cache.delete(year);
  }

  /** The snapshot to answer from (see the header for when it is read again). */
  async snapshot(year: number): Promise<{ snapshot: Snapshot; stale: boolean }> {
    if (this.options.maxAgeMs <= 0) return { snapshot: this.keep(await this.build(year)), stale: false };
    const cached = this.cache.get(year);
    if (!cached) return { snapshot: await this.rebuild(year), stale: false };
    this.cache.delete(year);
    this.cache.set(year, cached); // most recently used last
    const now = this.now().getTime();
    if (cached.outdated || now - cached.builtAt.getTime() >= this.options.maxAgeMs) {
      this.refresh(year);
      return { snapshot: cached, stale: true };
    }
    if (now - cached.checkedAt >= (this.options.checkIntervalMs ?? 5_000)) this.startCheck(cached);
    return { snapshot: cached, stale: false };
  }

  /** Checks the markers in the background (one check per snapshot at a time); a change starts a new read. */
  private startCheck(s: Snapshot): void {
    if (s.checking) return;
    s.checkedAt = this.now().getTime();
    s.checking = this.changed(s)
      .then((changed) => {
        if (!changed) return;
        s.outdated = true;
        this.refresh(s.year);
      })
      .catch((err: unknown) => this.options.logger?.warn({ err, year: s.year }, 'reports: checking for changes failed'))
      .finally(() => {
        s.checking = undefined;
      });
  }

  /** Resolves when no read and no check is under way (for tests and an orderly stop). */
  async idle(): Promise<void> {
    for (;;) {
      const pending: Promise<unknown>[] = [...this.building.values()];
      for (const s of this.cache.values()) if (s.checking) pending.push(s.checking);
      if (pending.length === 0) return;
      await Promise.allSettled(pending);
    }
  }

  /** Reads the year again in the background (once at a time); a failure keeps the older snapshot. */
  private refresh(year: number): void {
    this.rebuild(year).catch((err: unknown) => this.options.logger?.warn({ err, year }, 'reports: reading the year failed; serving the older snapshot'));
  }

  /** One read of the year at a time; callers arriving meanwhile share it. */
  private rebuild(year: number): Promise<Snapshot> {
    let p = this.building.get(year);
    if (!p) {
      p = this.build(year)
        .then((s) => {
          const kept = this.keep(s);
          // At once: where the claimed reference numbers end now is what this read has seen.
          if (kept === s) this.startCheck(s);
          return kept;
        })
        .finally(() => this.building.delete(year));
      this.building.set(year, p);
    }
    return p;
  }

  private keep(s: Snapshot): Snapshot {
    const had = this.cache.get(s.year);
    if (had && had.builtAt > s.builtAt) return had;
    this.cache.delete(s.year);
    this.cache.set(s.year, s);
    while (this.cache.size > MAX_YEARS) this.cache.delete(this.cache.keys().next().value!);
    return s;
  }

  /**
   * Whether a new application was submitted or money moved since the snapshot was read
   * (`_id` lookups, each a scan on FerretDB). The first check, started as soon as the read
   * is done, only finds where the claimed reference numbers end: claims whose application
   * never came (an undone intake) are not news; an application submitted while the year was
   * being read shows at the latest after the maximum age.
   */
  private async changed(s: Snapshot): Promise<boolean> {
    const { ReferenceClaim } = this.options.models;
    const claimed = (seq: number) => ReferenceClaim.collection.findOne({ _id: `${s.year}-${seq}` } as never, { projection: { _id: 1 } });
    const [claim, lengths] = await Promise.all([
      s.markers.claimsExact ? claimed(s.markers.nextClaim) : null,
      Promise.all([...s.markers.journals].map(async ([y, n]) => (await this.options.ledger.end(y)) !== n)),
    ]);
    if (!s.markers.claimsExact) {
      for (let i = 0; i < 10_000 && (await claimed(s.markers.nextClaim)); i++) s.markers.nextClaim++;
      s.markers.claimsExact = true;
    }
    return claim !== null || lengths.some(Boolean);
  }

  /** Reads a submission year: one projected query, the journals of its budget years, the markers. */
  async build(year: number): Promise<Snapshot> {
    const started = performance.now();
    const builtAt = this.now();
    const { ledger } = this.options;
    // The year's own journal (nearly always a budget year of its applications) alongside the scan.
    const ownJournal = ledger.journal(year);
    ownJournal.catch(() => undefined); // awaited below; not unhandled if the scan fails first
    const docs = await applicationsOfYear(this.options.models, year);

    const budgetYears = new Set<number>([year]);
    for (const d of docs) {
      const y = Number(str(obj(d.activity)?.startDate)?.slice(0, 4));
      if (y >= 2000 && y <= 2100) budgetYears.add(y);
    }
    const years = [...budgetYears].sort((a, b) => a - b);
    const journals = await Promise.all(years.map((y) => (y === year ? ownJournal : ledger.journal(y))));
    const money = new Map<string, Money>();
    for (const j of journals) moneyByApplication(j, money);
    const monthOf = amsterdamMonthOf(year);
    const rows = docs.map((d) => rowOf(d, money, monthOf)).sort((a, b) => a.submittedAt - b.submittedAt || compare(a.reference, b.reference));

    // At least the number after the highest reference read; the first check makes it exact.
    let nextClaim = 1;
    for (const r of rows) {
      const m = /-(\d+)$/.exec(r.reference);
      if (m) nextClaim = Math.max(nextClaim, Number(m[1]) + 1);
    }
    const snapshot: Snapshot = {
      year,
      builtAt,
      buildMs: Math.round(performance.now() - started),
      rows,
      markers: { nextClaim, claimsExact: false, journals: new Map(years.map((y, i) => [y, journals[i]!.length])) },
      checkedAt: builtAt.getTime(),
    };
    this.options.logger?.debug({ year, applications: rows.length, ms: snapshot.buildMs }, 'reports: year read');
    return snapshot;
  }
}
