import { z } from 'zod';
import type { ApiDeps } from '../deps.ts';
import type { RouteSpec } from '../route-spec.ts';

const CHECK_TIMEOUT_MS = 2_000;

async function withTimeout(p: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), CHECK_TIMEOUT_MS)))]);
  } finally {
    clearTimeout(timer);
  }
}

export function healthRoutes(deps: ApiDeps, openapi: () => unknown): RouteSpec[] {
  return [
    {
      method: 'get',
      path: '/healthz',
      access: ['anonymous'],
      tag: 'operations',
      summary: 'Liveness: the process is up.',
      responses: { 200: { description: 'Alive', schema: z.object({ status: z.literal('ok') }) } },
      handler(_req, res) {
        res.json({ status: 'ok' });
      },
    },
    {
      method: 'get',
      path: '/readyz',
      access: ['anonymous'],
      tag: 'operations',
      summary: 'Readiness: 503 when the database or Temporal cannot be reached.',
      responses: {
        200: { description: 'Ready', schema: z.object({ status: z.literal('ready'), checks: z.record(z.string(), z.string()) }) },
        503: { description: 'Not ready', schema: z.object({ status: z.literal('not_ready'), checks: z.record(z.string(), z.string()) }) },
      },
      async handler(req, res) {
        const results = await Promise.all(
          deps.readiness.map(async (c) => {
            try {
              await withTimeout(c.check());
              return [c.name, 'ok'] as const;
            } catch (err) {
              req.log.warn({ check: c.name, err }, 'readiness check failed');
              // A check that ran and found something wrong says so (e.g. the ledger `inconsistent`).
              const found = (err as { readiness?: unknown }).readiness;
              return [c.name, typeof found === 'string' ? found : 'unavailable'] as const;
            }
          }),
        );
        const ready = results.every(([, r]) => r === 'ok');
        res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', checks: Object.fromEntries(results) });
      },
    },
    {
      method: 'get',
      path: '/api/openapi.json',
      access: ['anonymous'],
      tag: 'operations',
      summary: 'This OpenAPI document, generated from the zod schemas the routes validate with.',
      responses: { 200: { description: 'OpenAPI 3.1 document' } },
      handler(_req, res) {
        res.json(openapi());
      },
    },
  ];
}
