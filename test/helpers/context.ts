/**
 * One test context per test file: its own database on the shared FerretDB, its own
 * task queue on the shared Temporal dev server, a running Worker, the Express app
 * and an in-process SMTP server. Nothing here is mocked.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import request from 'supertest';
import { NativeConnection } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import { loadConfig, type Config } from '../../src/config.ts';
import { connectDatabase, type Models } from '../../src/db/models.ts';
import { createApp } from '../../src/api/app.ts';
import { buildApiDeps, connectTemporalClient, createWorker, installTemporalRuntime, openStore } from '../../src/runtime.ts';
import { createLogger } from '../../src/logger.ts';
import { seedBudget, seedDemoStaff } from '../../src/seed.ts';
import { BudgetLedger } from '../../src/budget/ledger.ts';
import { temporalInitiativeStarter, type InitiativeStarter } from '../../src/temporal/starter.ts';
import type { ApiDeps } from '../../src/api/deps.ts';
import { startMailCatcher } from './mail.ts';

export const DEMO_PASSWORD = 'test-password-123';

export interface TestContextOptions {
  env?: Record<string, string>;
  /** Replace the workflow starter (to make the start fail). */
  starter?: (real: InitiativeStarter) => InitiativeStarter;
  now?: () => Date;
  /** Run no worker (the test drives workflows itself). */
  noWorker?: boolean;
  /** Where the log lines go (default: nowhere, or stdout with TEST_LOG_LEVEL). */
  logStream?: { write(line: string): void };
}

export async function createTestContext(opts: TestContextOptions = {}) {
  const mongoUri = inject('mongoUri');
  const temporalAddress = inject('temporalAddress');
  const dataDir = mkdtempSync(join(tmpdir(), 'buurtfonds-ctx-'));
  const mail = await startMailCatcher();
  const suffix = randomBytes(4).toString('hex');
  const config: Config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    DATA_DIR: dataDir,
    SMTP_URL: mail.url,
    TEMPORAL_TASK_QUEUE: `buurtfonds-test-${suffix}`,
    DEMO_PASSWORD,
    PUBLIC_BASE_URL: 'http://buurtfonds.test',
    // Test files share one dev server: each gets its own schedule id, and no schedule unless it asks.
    MEETING_SCHEDULE: 'false',
    MEETING_SCHEDULE_ID: `panel-meetings-${suffix}`,
    RETENTION_SCHEDULE: 'false',
    ...opts.env,
  });
  const logger = createLogger(opts.logStream ? 'info' : config.logLevel, 'buurtfonds-test', opts.logStream);
  installTemporalRuntime(logger);
  const models: Models = await connectDatabase(mongoUri, `t_${suffix}`);
  await seedBudget(new BudgetLedger({ models, defaultTotalCents: config.fund.annualBudgetCents }));
  await seedDemoStaff(models, config, logger);
  const client: Client = await connectTemporalClient(temporalAddress, config.temporal.namespace);
  const store = await openStore(config);
  const secret = randomBytes(32).toString('hex');

  const real = temporalInitiativeStarter(client, config.temporal.taskQueue);
  const starter = opts.starter ? opts.starter(real) : real;
  const deps: ApiDeps = buildApiDeps({ config, logger, models, client, store, secret, now: opts.now, starter });
  const { app, routes } = createApp(deps);

  let stopWorker = async () => {};
  if (!opts.noWorker) {
    const connection = await NativeConnection.connect({ address: temporalAddress });
    const { worker, mailer } = await createWorker({ config, logger, models, secret, connection, workflowBundle: { codePath: inject('workflowBundlePath') } });
    const running = worker.run();
    stopWorker = async () => {
      worker.shutdown();
      await running;
      mailer.close();
      await connection.close();
    };
  }

  const tokens = new Map<string, string>();
  async function login(email: string): Promise<string> {
    const cached = tokens.get(email);
    if (cached) return cached;
    const res = await request(app).post('/api/v1/auth/login').send({ email, password: DEMO_PASSWORD });
    if (res.status !== 200) throw new Error(`login ${email} failed: ${res.status} ${JSON.stringify(res.body)}`);
    tokens.set(email, res.body.token);
    return res.body.token as string;
  }

  return {
    app,
    routes,
    deps,
    config,
    models,
    client,
    store,
    mail,
    logger,
    http: () => request(app),
    login,
    staff: {
      panel: () => login('panel1@buurtfonds.test'),
      welfare: () => login('welzijn1@buurtfonds.test'),
      admin: () => login('admin@buurtfonds.test'),
    },
    async close() {
      await stopWorker();
      await models.connection.dropDatabase().catch(() => undefined);
      await models.connection.close();
      await client.connection.close();
      await mail.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export type TestContext = Awaited<ReturnType<typeof createTestContext>>;

/**
 * How much longer a wait may take than a test names: files run three at a time on two
 * cores (vitest.config.ts), where a step that takes a second alone can take several.
 * Only a failing wait lasts longer for it.
 */
export const WAIT_SLACK = 2;

/** Polls until `fn` returns a truthy value (workflow steps land asynchronously). */
export async function eventually<T>(fn: () => Promise<T | undefined | null | false>, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs * WAIT_SLACK;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
