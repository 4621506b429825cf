import { z } from 'zod';
import { queryAudit } from '../../services/audit.ts';
import type { ApiDeps } from '../deps.ts';
import { parseQuery } from '../errors.ts';
import type { RouteSpec } from '../route-spec.ts';
import { errorSchema } from '../schemas.ts';

const err = (description: string) => ({ description, schema: errorSchema });

const auditQuery = z.object({
  actor: z.string().max(200).optional(),
  action: z.string().max(100).optional().meta({ description: 'Exact action (ledger.reserve) or a prefix ending in a dot (ledger.)' }),
  target: z.string().max(200).optional().meta({ description: 'e.g. application:<id>, budget:2027, payout-batch:PB-2027-0001' }),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  offset: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

const auditEntrySchema = z
  .object({ id: z.string(), at: z.string(), actor: z.string(), action: z.string(), target: z.string(), before: z.unknown().optional(), after: z.unknown().optional(), requestId: z.string().optional() })
  .meta({ id: 'AuditEntry' });

/** The append-only audit log: decisions, ledger movements, payouts, budget and panel changes. */
export function auditRoutes(deps: ApiDeps): RouteSpec[] {
  return [
    {
      method: 'get',
      path: '/api/v1/audit',
      access: ['admin'],
      tag: 'audit',
      summary: 'The audit log, newest first, filtered by actor, action, target and time.',
      request: { query: auditQuery },
      responses: {
        200: { description: 'Audit entries', schema: z.object({ total: z.number().int(), offset: z.number().int(), limit: z.number().int(), entries: z.array(auditEntrySchema) }) },
        401: err('Not logged in'),
        403: err('Not admin'),
        422: err('Invalid filter'),
      },
      async handler(req, res) {
        const q = parseQuery(auditQuery, req);
        const { total, entries } = await queryAudit(deps.models, q);
        res.json({ total, offset: q.offset, limit: q.limit, entries });
      },
    },
  ];
}
