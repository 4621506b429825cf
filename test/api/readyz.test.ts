/**
 * Liveness and readiness against real servers: this file starts its own FerretDB
 * (so it can stop it) and uses the shared Temporal dev server.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import request from 'supertest';
import type { Express } from 'express';
import { Client, Connection } from '@temporalio/client';
import { loadConfig, type Config } from '../../src/config.ts';
import { connectDatabase, type Models } from '../../src/db/models.ts';
import { createApp } from '../../src/api/app.ts';
import { buildApiDeps, connectTemporalClient, openStore } from '../../src/runtime.ts';
import { createLogger } from '../../src/logger.ts';
import { startFerretDB, type RunningServer } from '../../src/embedded/servers.ts';
import { eventually } from '../helpers/context.ts';
import { BudgetLedger } from '../../src/budget/ledger.ts';
import { chainEntryId } from '../../src/db/chain.ts';

let dir: string;
let ferret: RunningServer & { uri: string; port: number };
let models: Models;
let client: Client;
let config: Config;
let app: Express;
/** Closed last: closing a connection while the SDK still has a retry pending throws from a timer. */
const extraConnections: Connection[] = [];

async function appWith(temporalClient: Client): Promise<Express> {
  const logger = createLogger(config.logLevel, 'buurtfonds-test');
  const store = await openStore(config);
  const deps = buildApiDeps({ config, logger, models, client: temporalClient, store, secret: randomBytes(32).toString('hex') });
  return createApp(deps).app;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'buurtfonds-readyz-'));
  ferret = await startFerretDB({ dir: join(dir, 'ferretdb') });
  // The full ledger check in the background every second (the inconsistency test changes an entry already checked).
  config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent', DATA_DIR: dir, LEDGER_FULL_CHECK_SECONDS: '1' });
  models = await connectDatabase(ferret.uri, 'readyz');
  client = await connectTemporalClient(inject('temporalAddress'), config.temporal.namespace);
  app = await appWith(client);
});

afterAll(async () => {
  await models?.connection.close().catch(() => undefined);
  await client?.connection.close();
  for (const c of extraConnections) await c.close().catch(() => undefined);
  await ferret?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('GET /healthz and /readyz', () => {
  it('reports alive and ready while the database and Temporal are up', async () => {
    const health = await request(app).get('/healthz');
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ status: 'ok' });

    const ready = await request(app).get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready', checks: { database: 'ok', ledger: 'ok', temporal: 'ok' } });
  });

  it('reports Temporal unavailable when it cannot be reached, without blocking for long', async () => {
    // A lazy connection to a port nobody listens on: the api process would still be alive.
    const connection = Connection.lazy({ address: '127.0.0.1:1' });
    extraConnections.push(connection);
    const broken = await appWith(new Client({ connection, namespace: config.temporal.namespace }));
    const started = Date.now();
    const ready = await request(broken).get('/readyz');
    const ms = Date.now() - started;
    expect(ready.status).toBe(503);
    expect(ready.body).toEqual({ status: 'not_ready', checks: { database: 'ok', ledger: 'ok', temporal: 'unavailable' } });
    expect(ms, 'readiness answers within its 2 s check timeout').toBeLessThan(3_000);
    expect((await request(broken).get('/healthz')).status).toBe(200);
  });

  it('reports the database unavailable once FerretDB stops, stays alive, and recovers when it is back', async () => {
    await ferret.stop();

    // Right after the stop and again a little later (mongoose may still believe it is connected).
    for (const wait of [0, 500]) {
      await new Promise((r) => setTimeout(r, wait));
      const started = Date.now();
      const ready = await request(app).get('/readyz');
      const ms = Date.now() - started;
      expect(ready.status).toBe(503);
      expect(ready.body).toEqual({ status: 'not_ready', checks: { database: 'unavailable', ledger: 'unavailable', temporal: 'ok' } });
      expect(ms, 'readiness answers within its 2 s check timeout').toBeLessThan(3_000);
    }
    const health = await request(app).get('/healthz');
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ status: 'ok' });

    // The same data directory and port: the driver reconnects by itself.
    ferret = await startFerretDB({ dir: join(dir, 'ferretdb'), port: ferret.port });
    const back = await eventually(
      async () => {
        const r = await request(app).get('/readyz');
        return r.status === 200 ? r : undefined;
      },
      30_000,
      '/readyz to be 200 again after FerretDB restarted',
    );
    expect(back.body).toEqual({ status: 'ready', checks: { database: 'ok', ledger: 'ok', temporal: 'ok' } });
  });

  it('reports the ledger inconsistent when its balances do not equal the sum of its journal', { timeout: 60_000 }, async () => {
    const ledger = new BudgetLedger({ models, defaultTotalCents: 9_000_000 });
    await ledger.reserve({ applicationId: 'readyz-a', year: 2040, amountCents: 10_000, wijken: ['Bovenveen'], actor: 'test' });
    expect((await request(app).get('/readyz')).body.checks.ledger).toBe('ok');
    // Someone edits the stored balances of the reservation by hand.
    const id = chainEntryId('budget-2040', 2);
    await models.LedgerEntry.collection.updateOne({ _id: id } as never, { $set: { 'balances.committedCents': 5_000 } });
    const broken = await eventually(
      async () => {
        const r = await request(app).get('/readyz');
        return r.status === 503 ? r : undefined;
      },
      20_000,
      '/readyz to see the inconsistency',
    );
    expect(broken.body).toEqual({ status: 'not_ready', checks: { database: 'ok', ledger: 'inconsistent', temporal: 'ok' } });
    await models.LedgerEntry.collection.updateOne({ _id: id } as never, { $set: { 'balances.committedCents': 10_000 } });
    const back = await eventually(
      async () => {
        const r = await request(app).get('/readyz');
        return r.status === 200 ? r : undefined;
      },
      20_000,
      '/readyz ready again',
    );
    expect(back.body).toEqual({ status: 'ready', checks: { database: 'ok', ledger: 'ok', temporal: 'ok' } });
  });
});
