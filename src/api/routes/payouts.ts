import { z } from 'zod';
import type { BatchSummary } from '../../payouts/service.ts';
import type { PayoutDoc } from '../../db/models.ts';
import { payoutStatuses } from '../../domain/payouts.ts';
import { actorOf } from '../auth.ts';
import type { ApiDeps } from '../deps.ts';
import { parseParams, parseQuery } from '../errors.ts';
import type { RouteSpec } from '../route-spec.ts';
import { errorSchema } from '../schemas.ts';

const err = (description: string) => ({ description, schema: errorSchema });
const finance = ['finance', 'admin'] as const;

const payoutSchema = z
  .object({
    endToEndId: z.string(),
    applicationId: z.string(),
    reference: z.string(),
    budgetYear: z.number().int(),
    amountCents: z.number().int(),
    iban: z.string(),
    accountHolder: z.string(),
    remittance: z.string(),
    status: z.enum(payoutStatuses),
    batchId: z.string().optional(),
    createdAt: z.string(),
    paidAt: z.string().optional(),
  })
  .meta({ id: 'Payout' });
const batchSchema = z
  .object({
    id: z.string(),
    createdAt: z.string(),
    createdBy: z.string(),
    requestedExecutionDate: z.string(),
    numberOfTransactions: z.number().int(),
    controlSumCents: z.number().int(),
    sha256: z.string().meta({ description: 'SHA-256 of the SEPA file; the file never changes once created' }),
    endToEndIds: z.array(z.string()),
    executed: z.object({ at: z.string(), by: z.string() }).nullable(),
    fileUrl: z.string(),
  })
  .meta({ id: 'PayoutBatch' });
const listQuery = z.object({
  status: z.enum(payoutStatuses).optional(),
  year: z.coerce.number().int().min(2000).max(2100).optional(),
  batchId: z.string().max(40).optional(),
  page: z.coerce.number().int().min(1).max(100_000).default(1),
  pageSize: z.coerce.number().int().min(1).max(1_000).default(500),
});
const batchParams = z.object({ id: z.string().regex(/^PB-\d{4}-\d{4,}$/) });

function payoutView(p: PayoutDoc) {
  return {
    endToEndId: p._id,
    applicationId: p.applicationId,
    reference: p.reference,
    budgetYear: p.year,
    amountCents: p.amountCents,
    iban: p.iban,
    accountHolder: p.accountHolder,
    remittance: p.remittance,
    status: p.status,
    ...(p.batchId ? { batchId: p.batchId } : {}),
    createdAt: new Date(p.createdAt).toISOString(),
    ...(p.paidAt ? { paidAt: new Date(p.paidAt).toISOString() } : {}),
  };
}

function batchView(b: BatchSummary) {
  return {
    ...b,
    createdAt: b.createdAt.toISOString(),
    executed: b.executed ? { at: new Date(b.executed.at).toISOString(), by: b.executed.by } : null,
    fileUrl: `/api/v1/payouts/batches/${b.id}`,
  };
}

/** Finance pays the grants: pending payouts go into a SEPA batch file, which finance reports executed. */
export function payoutRoutes(deps: ApiDeps): RouteSpec[] {
  const { payouts } = deps;
  return [
    {
      method: 'get',
      path: '/api/v1/payouts',
      access: finance,
      tag: 'payouts',
      summary: 'Payout instructions, oldest first; filter by status (pending, batched, paid, cancelled), budget year or batch; a page at a time (`total` counts every match).',
      request: { query: listQuery },
      responses: { 200: { description: 'Payouts', schema: z.object({ payouts: z.array(payoutSchema), page: z.number().int(), pageSize: z.number().int(), total: z.number().int() }) }, 401: err('Not logged in'), 403: err('Not finance or admin'), 422: err('Invalid filter') },
      async handler(req, res) {
        const { page, pageSize, ...filter } = parseQuery(listQuery, req);
        const found = await payouts.list(filter, { skip: (page - 1) * pageSize, limit: pageSize });
        res.json({ payouts: found.payouts.map(payoutView), page, pageSize, total: found.total });
      },
    },
    {
      method: 'get',
      path: '/api/v1/payouts/batches',
      access: finance,
      tag: 'payouts',
      summary: 'The batches, newest first.',
      responses: { 200: { description: 'Batches', schema: z.object({ batches: z.array(batchSchema) }) }, 401: err('Not logged in'), 403: err('Not finance or admin') },
      async handler(_req, res) {
        res.json({ batches: (await payouts.listBatches()).map(batchView) });
      },
    },
    {
      method: 'post',
      path: '/api/v1/payouts/batches',
      access: finance,
      tag: 'payouts',
      summary: 'Collects every pending payout into one SEPA credit-transfer batch (pain.001.001.09). A payout is in exactly one batch, also when two requests race.',
      responses: { 201: { description: 'The batch', schema: batchSchema }, 401: err('Not logged in'), 403: err('Not finance or admin'), 409: err('No pending payouts') },
      async handler(req, res) {
        const batch = await payouts.createBatch({ actor: actorOf(req.principal), requestId: String(req.id) });
        req.log.info({ batchId: batch.id, transactions: batch.numberOfTransactions, controlSumCents: batch.controlSumCents }, 'payout batch created');
        res.status(201).location(`/api/v1/payouts/batches/${batch.id}`).json(batchView(batch));
      },
    },
    {
      method: 'get',
      path: '/api/v1/payouts/batches/:id',
      access: finance,
      tag: 'payouts',
      summary: 'The SEPA file of a batch (application/xml; the same bytes every time). With Accept: application/json, the batch summary.',
      request: { params: batchParams },
      responses: {
        200: { description: 'pain.001.001.09 XML, or the summary as JSON', contentType: 'application/xml', schema: z.string() },
        401: err('Not logged in'),
        403: err('Not finance or admin'),
        404: err('No such batch'),
        422: err('Not a batch id'),
      },
      async handler(req, res) {
        const { id } = parseParams(batchParams, req);
        const { summary, xml } = await payouts.getBatch(id);
        if (req.accepts(['application/xml', 'application/json']) === 'application/json') {
          res.json(batchView(summary));
          return;
        }
        res.set('ETag', `"${summary.sha256}"`).type('application/xml; charset=utf-8').attachment(`${id}.xml`).send(xml);
      },
    },
    {
      method: 'post',
      path: '/api/v1/payouts/batches/:id/executed',
      access: finance,
      tag: 'payouts',
      summary: 'Finance reports the batch executed by the bank: each payout is marked paid in the ledger and its initiative moves on. Once only.',
      request: { params: batchParams },
      responses: {
        200: { description: 'The executed batch', schema: batchSchema },
        401: err('Not logged in'),
        403: err('Not finance or admin'),
        404: err('No such batch'),
        409: err('Already executed'),
        422: err('Not a batch id'),
      },
      async handler(req, res) {
        const { id } = parseParams(batchParams, req);
        const batch = await payouts.executeBatch(id, { actor: actorOf(req.principal), requestId: String(req.id) });
        req.log.info({ batchId: id }, 'payout batch executed');
        res.json(batchView(batch));
      },
    },
  ];
}
