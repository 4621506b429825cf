/**
 * Monitoring for the municipality ("tellen en vertellen"): the figures of a year, the
 * initiatives as CSV, and the stories. Staff of the fund (panel and admin) only.
 *
 * `year` is the submission year of the applications (Europe/Amsterdam), as the
 * municipality counts initiatives; without it, the current year. Their money is counted
 * with them whichever budget year it was charged to; `budgetYear` in the summary is the
 * ledger's own view of that budget year. See src/reports/ for the counting rules and
 * the caching.
 */
import { pipeline } from 'node:stream/promises';
import type { Response } from 'express';
import { z } from 'zod';
import { WHOLE_MUNICIPALITY } from '../../domain/application.ts';
import { ValidationError } from '../../domain/errors.ts';
import { ruleIssue } from '../../domain/field-issues.ts';
import { amsterdamYear } from '../../domain/dates.ts';
import { trafficLights } from '../../domain/report.ts';
import { csvAmountFormats, csvFileName, csvSeparators, initiativesCsv } from '../../reports/csv.ts';
import { ReportService, type Served } from '../../reports/service.ts';
import type { ApiDeps } from '../deps.ts';
import { parseQuery } from '../errors.ts';
import type { RouteSpec } from '../route-spec.ts';
import { errorSchema } from '../schemas.ts';
import { parseYear } from './budget.ts';

const err = (description: string) => ({ description, schema: errorSchema });
const access = ['panel', 'admin'] as const;

const services = new WeakMap<ApiDeps, ReportService>();
/** The report service of an app (one per set of deps: its cache lives as long as the app). */
export function reportsFor(deps: ApiDeps): ReportService {
  let s = services.get(deps);
  if (!s) {
    s = new ReportService({
      models: deps.models,
      ledger: deps.ledger,
      tally: deps.tally,
      wijken: deps.config.fund.wijken,
      focusWijken: deps.config.reports.focusWijken,
      maxAgeMs: deps.config.reports.maxAgeSeconds * 1000,
      publicBaseUrl: deps.config.publicBaseUrl,
      logger: deps.logger,
      ...(deps.now ? { now: deps.now } : {}),
    });
    services.set(deps, s);
  }
  return s;
}

const yearParam = z.string().optional().meta({ description: 'Submission year (Europe/Amsterdam), e.g. 2027; default: this year', example: '2027' });
const summaryQuery = z.object({ year: yearParam });
const csvQuery = z.object({
  year: yearParam,
  separator: z.enum(csvSeparators).default(';').meta({ description: '`;` (default, Dutch Excel; amounts with a decimal comma) or `,` (amounts with a decimal point)' }),
  lang: z.enum(['nl', 'en']).default('nl').meta({ description: 'Column names and labels: Dutch (default) or English' }),
  amounts: z.enum(csvAmountFormats).default('euros').meta({ description: '`euros` (default: 1234,50 or 1234.50) or `cents` (integer cents, for programs)' }),
});
const storiesQuery = z.object({
  year: yearParam,
  wijk: z.string().max(100).optional().meta({ description: 'Only initiatives serving this wijk (or Gemeentebreed)' }),
  page: z.coerce.number().int().min(1).max(10_000).optional().meta({ description: 'Page number, from 1 (as the other lists); takes precedence over `offset`' }),
  pageSize: z.coerce.number().int().min(1).max(100).optional().meta({ description: 'Stories per page (default 20); takes precedence over `limit`' }),
  offset: z.coerce.number().int().min(0).optional().meta({ description: 'Stories to skip (older clients; `page` is the list convention)' }),
  limit: z.coerce.number().int().min(1).max(100).optional().meta({ description: 'Same as `pageSize` (older clients)' }),
});

/** The page a stories query asks for: `page`/`pageSize` (the list convention) or `offset`/`limit`. */
function storiesWindow(q: z.infer<typeof storiesQuery>): { offset: number; limit: number; page: number; pageSize: number } {
  const pageSize = q.pageSize ?? q.limit ?? 20;
  const offset = q.page !== undefined ? (q.page - 1) * pageSize : (q.offset ?? 0);
  return { offset, limit: pageSize, page: Math.floor(offset / pageSize) + 1, pageSize };
}

const count = z.number().int();
const cents = z.number().int();
const share = z.number();
const lights = z.object(Object.fromEntries(trafficLights.map((l) => [l, count])) as Record<(typeof trafficLights)[number], typeof count>);
const figuresSchema = z.object({
  applications: count.meta({ description: 'Applications submitted in the year (in a wijk or purpose: those serving it)' }),
  open: count.meta({ description: 'No decision yet, not withdrawn or lapsed' }),
  grantedFull: count,
  grantedPartial: count,
  rejected: count,
  rejectedBudgetExhausted: count.meta({ description: 'Granted by the panel, but the budget year could not cover it ("op is op")' }),
  lapsed: count,
  withdrawn: count.meta({ description: 'All withdrawals, also of grants' }),
  withdrawnAfterGrant: count.meta({ description: 'Grants withdrawn later (also counted as grants)' }),
  requestedCents: cents,
  grantedCents: cents.meta({ description: 'Amounts the panel granted (full and partial grants)' }),
  paidCents: cents.meta({ description: 'Paid out (gross, from the budget ledger)' }),
  reclaimedCents: cents.meta({ description: 'Paid money taken back by the municipality (ledger)' }),
  refundedCents: cents.meta({ description: 'Unspent money paid back by initiators (ledger)' }),
  participantsExpected: count.meta({ description: 'Participants the granted initiatives expected' }),
  volunteersExpected: count,
  participantsReached: count.meta({ description: 'Participants according to the reports' }),
  volunteersReached: count,
  reports: count.meta({ description: 'Initiatives that reported' }),
  trafficLights: lights.meta({ description: "The panel's final traffic light of the reports it accepted or rejected" }),
});
const budgetYearSchema = z
  .object({
    year: z.number().int(),
    totalCents: cents,
    committedCents: cents,
    paidCents: cents.meta({ description: 'Net of reclaimed and refunded, as GET /budget/:year' }),
    releasedCents: cents,
    reclaimedCents: cents,
    refundedCents: cents,
    remainingCents: cents,
    perMonth: z.array(z.object({ month: z.string(), reservedCents: cents, releasedCents: cents, paidCents: cents, reclaimedCents: cents, refundedCents: cents })),
  })
  .meta({ description: "The ledger's view of the budget year with the same number: balances now and gross movements per booking month" });
const summarySchema = z
  .object({
    year: z.number().int(),
    asOf: z.string().meta({ description: 'When the figures were read' }),
    stale: z.boolean().meta({ description: 'True while a newer read is under way (the figures are older than the maximum age or something changed)' }),
    focusWijken: z.array(z.string()),
    totals: figuresSchema,
    focus: figuresSchema.meta({ description: 'Initiatives serving at least one focus wijk (each once); amounts: the parts in focus wijken' }),
    perWijk: z
      .array(
        figuresSchema.extend({
          wijk: z.string(),
          focus: z.boolean(),
          spread: z.object({
            applicationsShare: share.meta({ description: "Share of the year's applications (one serving k wijken counts 1/k in each)" }),
            grantedShare: share,
            paidShare: share,
            ratio: z.number().nullable().meta({ description: 'grantedShare / applicationsShare: 1 is in proportion' }),
          }),
        }),
      )
      .meta({ description: 'Every wijk and Gemeentebreed. Counts: applications serving the wijk; amounts and people split evenly over the wijken served, so they add up to the totals.' }),
    perPurpose: z.array(figuresSchema.extend({ purpose: z.string() })).meta({ description: 'Counts per purpose served; amounts split evenly over the purposes' }),
    perMonth: z.array(figuresSchema.extend({ month: z.string() })).meta({ description: 'By submission month (Europe/Amsterdam), all twelve' }),
    budgetYear: budgetYearSchema,
  })
  .meta({ id: 'ReportSummary' });
const storySchema = z
  .object({
    applicationId: z.string(),
    reference: z.string(),
    title: z.string(),
    wijken: z.array(z.string()),
    purposes: z.array(z.string()),
    activityDate: z.string().optional(),
    reportedAt: z.string().optional(),
    participants: z.number().int().optional(),
    volunteers: z.number().int().optional(),
    selfAssessment: z.enum(trafficLights).optional(),
    trafficLight: z.enum(trafficLights).optional().meta({ description: "The panel's final traffic light, once reviewed" }),
    text: z.string(),
    photos: z.array(z.object({ id: z.string(), fileName: z.string(), contentType: z.string(), url: z.string().meta({ description: 'GET it with a staff token' }) })),
  })
  .meta({ id: 'Story' });

function yearOf(raw: unknown, now: Date): number {
  return raw === undefined ? amsterdamYear(now) : parseYear(raw);
}

/** Tells caches and the reader how old the figures are. */
function served(res: Response, s: Served<unknown>, year: number): void {
  res.set({
    'Cache-Control': 'private, no-cache',
    ETag: `"reports-${year}-${s.asOf.getTime()}"`,
    'X-Data-As-Of': s.asOf.toISOString(),
    ...(s.stale ? { 'X-Data-Stale': 'true' } : {}),
  });
}

export function reportRoutes(deps: ApiDeps): RouteSpec[] {
  const now = () => deps.now?.() ?? new Date();
  const knownWijken = new Set([...deps.config.fund.wijken, WHOLE_MUNICIPALITY]);
  return [
    {
      method: 'get',
      path: '/api/v1/reports/summary',
      access,
      tag: 'reports',
      summary:
        'The figures of a submission year per wijk (focus wijken marked, money against share of applications), per purpose and per month: applications, decisions, lapses, withdrawals, money requested/granted/paid/reclaimed/refunded, people reached, traffic lights; and the budget year as the ledger has it.',
      request: { query: summaryQuery },
      responses: { 200: { description: 'The figures', schema: summarySchema }, 400: err('Not a year'), 401: err('Not logged in'), 403: err('Not panel or admin') },
      async handler(req, res) {
        const year = yearOf(req.query.year, now()); // first: a bad year is a 400, also when repeated
        const q = parseQuery(summaryQuery, req);
        const s = await reportsFor(deps).summary(year);
        served(res, s, year);
        const { year: _y, ...rest } = s.value;
        res.json({ year, asOf: s.asOf.toISOString(), stale: s.stale, ...rest });
      },
    },
    {
      method: 'get',
      path: '/api/v1/reports/initiatives.csv',
      access,
      tag: 'reports',
      summary:
        'One row per application of the submission year, for a spreadsheet: RFC 4180, UTF-8 with BOM, `;` and decimal comma by default (Dutch Excel), Dutch column names (lang=en: English). No personal data.',
      request: { query: csvQuery },
      responses: {
        200: { description: 'text/csv', contentType: 'text/csv', schema: z.string() },
        400: err('Not a year'),
        401: err('Not logged in'),
        403: err('Not panel or admin'),
        422: err('Unknown separator, language or amount format'),
      },
      async handler(req, res) {
        const year = yearOf(req.query.year, now()); // first: a bad year is a 400, also when repeated
        const q = parseQuery(csvQuery, req);
        // The one request that reads a whole year (issue #11 §1's exception): a download of every
        // initiative of the year is what is asked for, so its cost follows the year whatever the
        // index. It is served from the year's snapshot (src/reports/service.ts: read once in the
        // background, kept while fresh), not read per request; the rows are streamed out as CSV.
        // The stories, a list on the monitoring page, are paged by key instead.
        const s = await reportsFor(deps).rows(year);
        served(res, s, year);
        if (req.fresh) {
          res.status(304).end();
          return;
        }
        // attachment() sets the type from the file name: the full type after it.
        res.attachment(csvFileName(year, q.lang)).set('Content-Type', 'text/csv; charset=utf-8; header=present');
        try {
          await pipeline(initiativesCsv(s.value, { lang: q.lang, separator: q.separator, amounts: q.amounts, focusWijken: deps.config.reports.focusWijken }), res);
        } catch (e) {
          if (!res.writableFinished && (res.destroyed || req.destroyed)) return; // the client went away mid-download
          throw e;
        }
      },
    },
    {
      method: 'get',
      path: '/api/v1/reports/stories',
      access,
      tag: 'reports',
      summary:
        'The stories of a submission year: report texts with links to their photos, newest report first, optionally of one wijk; a page at a time (`page`, `pageSize`; or `offset`, `limit`), read by key: always current.',
      request: { query: storiesQuery },
      responses: {
        200: {
          description: 'Stories',
          schema: z.object({
            year: z.number().int(),
            wijk: z.string().optional(),
            asOf: z.string(),
            stale: z.boolean(),
            total: z.number().int(),
            page: z.number().int(),
            pageSize: z.number().int(),
            offset: z.number().int(),
            limit: z.number().int(),
            stories: z.array(storySchema),
          }),
        },
        400: err('Not a year'),
        401: err('Not logged in'),
        403: err('Not panel or admin'),
        422: err('Unknown wijk, bad page, page size, offset or limit'),
      },
      async handler(req, res) {
        const year = yearOf(req.query.year, now()); // first: a bad year is a 400, also when repeated
        const q = parseQuery(storiesQuery, req);
        if (q.wijk !== undefined && !knownWijken.has(q.wijk)) {
          throw new ValidationError('query', [ruleIssue('query.wijk', 'unknown_wijk')]);
        }
        const w = storiesWindow(q);
        const s = await reportsFor(deps).stories(year, { ...(q.wijk !== undefined ? { wijk: q.wijk } : {}), offset: w.offset, limit: w.limit });
        served(res, s, year);
        res.json({ year, ...(q.wijk !== undefined ? { wijk: q.wijk } : {}), asOf: s.asOf.toISOString(), stale: s.stale, total: s.value.total, page: w.page, pageSize: w.pageSize, offset: w.offset, limit: w.limit, stories: s.value.stories });
      },
    },
  ];
}
