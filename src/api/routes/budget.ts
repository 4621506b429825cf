import { stringify } from 'csv-stringify/sync';
import { z } from 'zod';
import { AppError } from '../../domain/errors.ts';
import { movementKinds } from '../../domain/ledger.ts';
import type { BudgetSummary } from '../../budget/ledger.ts';
import type { LedgerEntryDoc } from '../../db/models.ts';
import { setBudgetTotal } from '../../services/budget.ts';
import { actorOf } from '../auth.ts';
import type { ApiDeps } from '../deps.ts';
import { parseInput, parseQuery } from '../errors.ts';
import type { RouteSpec } from '../route-spec.ts';
import { errorSchema } from '../schemas.ts';

const err = (description: string) => ({ description, schema: errorSchema });

export const yearParams = z.object({ year: z.string().meta({ description: 'Budget year, e.g. 2027', example: '2027' }) });
/** Budget years the fund can have: a bad year is a 400 `invalid_year`, not a validation list. */
export function parseYear(raw: unknown): number {
  const year = typeof raw === 'string' && /^\d{4}$/.test(raw) ? Number(raw) : NaN;
  if (!(year >= 2000 && year <= 2100)) throw new AppError(400, 'invalid_year', [{ path: 'year', code: 'invalid_year' }]);
  return year;
}

const cents = z.number().int();
const balancesSchema = z.object({
  totalCents: cents,
  committedCents: cents,
  paidCents: cents,
  releasedCents: cents,
  reclaimedCents: cents,
  refundedCents: cents,
});
export const budgetSummarySchema = balancesSchema
  .extend({
    year: z.number().int(),
    remainingCents: cents,
    grants: z.number().int().meta({ description: 'Applications with money reserved or paid in this year (net of releases and returns).' }),
    pace: z.object({
      shareUsed: z.number().meta({ description: '(committed + paid) / total' }),
      shareOfYearGone: z.number().meta({ description: 'Days of the year gone (Europe/Amsterdam, today included) / days in the year' }),
      ratio: z.number().nullable().meta({ description: 'shareUsed / shareOfYearGone: above 1 the budget goes faster than a straight line' }),
      asOf: z.string().meta({ description: 'The Amsterdam date the pace is computed for' }),
    }),
    perWijk: z
      .array(z.object({ wijk: z.string(), grants: z.number().int(), grantedCents: cents }))
      .meta({ description: 'Reserved + paid per wijk; an initiative serving several wijken is split evenly over them, so the figures add up to the total.' }),
    entries: z.number().int().meta({ description: 'Journal entries so far (changes with every movement)' }),
  })
  .meta({ id: 'BudgetSummary' });

const setTotalSchema = z.object({ totalCents: z.number().int().min(0).max(100_000_000_00) }).strict();
const journalQuery = z.object({
  offset: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  format: z.enum(['json', 'csv']).default('json'),
});
const journalEntrySchema = z.object({
  id: z.string(),
  seq: z.number().int(),
  at: z.string(),
  kind: z.enum(movementKinds),
  amountCents: cents,
  applicationId: z.string().optional(),
  actor: z.string(),
  key: z.string(),
  note: z.string().optional(),
  requestId: z.string().optional(),
  balances: balancesSchema,
});

function journalEntryView(e: LedgerEntryDoc) {
  return {
    id: e._id,
    seq: e.seq,
    at: new Date(e.at).toISOString(),
    kind: e.kind,
    amountCents: e.amountCents,
    ...(e.applicationId ? { applicationId: e.applicationId } : {}),
    actor: e.actor,
    key: e.key,
    ...(e.note ? { note: e.note } : {}),
    ...(e.requestId ? { requestId: e.requestId } : {}),
    balances: e.balances,
  };
}

/** The journal as CSV (the API's format=csv and the admin page's download). */
export function journalCsv(entries: readonly ReturnType<typeof journalEntryView>[]): string {
  const columns = ['seq', 'at', 'kind', 'amountCents', 'applicationId', 'actor', 'note', 'totalCents', 'committedCents', 'paidCents', 'releasedCents', 'reclaimedCents', 'refundedCents'];
  const rows = entries.map((e) => [e.seq, e.at, e.kind, e.amountCents, e.applicationId ?? '', e.actor, e.note ?? '', ...Object.values(balancesSchema.parse(e.balances))]);
  return stringify([columns, ...rows]);
}

/** The year's journal as CSV, for a page's download. */
export async function yearJournalCsv(ledger: ApiDeps['ledger'], year: number): Promise<string> {
  return journalCsv((await ledger.journal(year)).map(journalEntryView));
}

export function budgetRoutes(deps: ApiDeps): RouteSpec[] {
  const { ledger } = deps;
  const now = () => deps.now?.() ?? new Date();
  // The figures are folded from the journal this process keeps in memory (its cache);
  // reading them costs one lookup of the next journal position, so they are right
  // straight after a grant made by another process.
  const summary = (year: number): Promise<BudgetSummary> => ledger.summary(year, now());

  return [
    {
      method: 'get',
      path: '/api/v1/budget/:year',
      access: ['anonymous'],
      tag: 'budget',
      summary: "The year's budget, public: total, committed, paid, remaining, number of grants, pace and the spread over the wijken.",
      request: { params: yearParams },
      responses: { 200: { description: 'The figures (ETag; revalidate with If-None-Match)', schema: budgetSummarySchema }, 400: err('Not a budget year') },
      async handler(req, res) {
        const year = parseYear(req.params.year);
        const s = await summary(year);
        const etag = `"budget-${year}-${s.entries}-${s.pace.asOf}"`;
        // Caches may keep it but must ask again: a grant changes it at once.
        res.set({ 'Cache-Control': 'public, no-cache', ETag: etag });
        if (req.get('if-none-match') === etag) {
          res.status(304).end();
          return;
        }
        res.json(s);
      },
    },
    {
      method: 'put',
      path: '/api/v1/budget/:year',
      access: ['admin'],
      tag: 'budget',
      summary: "Sets the year's total. Refused (409 budget_below_committed) below what is already committed and paid.",
      request: { params: yearParams, json: setTotalSchema },
      responses: {
        200: { description: 'The figures after the change', schema: budgetSummarySchema },
        400: err('Not a budget year'),
        401: err('Not logged in'),
        403: err('Not admin'),
        409: err('Below what is committed and paid'),
        422: err('Invalid body'),
      },
      async handler(req, res) {
        const year = parseYear(req.params.year);
        const { totalCents } = parseInput(setTotalSchema, req.body ?? {}, 'budget');
        await setBudgetTotal(ledger, { year, totalCents, actor: actorOf(req.principal), requestId: String(req.id) });
        res.json(await summary(year));
      },
    },
    {
      method: 'get',
      path: '/api/v1/budget/:year/journal',
      access: ['admin', 'finance'],
      tag: 'budget',
      summary: "The year's journal, oldest first, paginated (offset, limit); `format=csv` gives all of it as CSV.",
      request: { params: yearParams, query: journalQuery },
      responses: {
        200: { description: 'Journal entries (or text/csv)', schema: z.object({ year: z.number(), total: z.number().int(), offset: z.number().int(), limit: z.number().int(), entries: z.array(journalEntrySchema) }) },
        400: err('Not a budget year'),
        401: err('Not logged in'),
        403: err('Not admin or finance'),
        422: err('Invalid query'),
      },
      async handler(req, res) {
        const year = parseYear(req.params.year);
        const q = parseQuery(journalQuery, req);
        if (q.format === 'csv') {
          const all = (await ledger.journal(year)).map(journalEntryView);
          res.type('text/csv; charset=utf-8').attachment(`budget-${year}-journal.csv`).send(journalCsv(all));
          return;
        }
        // A page by position: an `_id` range, not the whole journal.
        const page = await ledger.journalPage(year, q.offset, q.limit);
        res.json({ year, total: page.total, offset: q.offset, limit: q.limit, entries: page.entries.map(journalEntryView) });
      },
    },
  ];
}
