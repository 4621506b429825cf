/** Starting and stopping the api and the worker against given servers. */
import type { Server } from 'node:http';
import { backfillApplicationKeys, backfillPayoutKeys, backfillRecordKeys, backfillReferenceKeys, backfillRefundKeys, backfillSecretKeys } from './db/keys.ts';
import { backfillAuditKeys } from './services/audit.ts';
import { backfillSupportKeys } from './support/keys.ts';
import { migrateLoginRecords } from './services/staff-login.ts';
import { backfillEndedKeys, backfillMeetingItemKeys } from './privacy/keys.ts';
import { backfillStoryKeys } from './reports/stories.ts';
import { backfillTally } from './reports/tally.ts';
import { backfillLedger } from './budget/ledger.ts';
import type { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Logger } from 'pino';
import { loadConfigOrExit, type Config } from './config.ts';
import { createLogger } from './logger.ts';
import { connectDatabase } from './db/models.ts';
import { createApp } from './api/app.ts';
import { authSecret, buildApiDeps, connectTemporalClient, createWorker, ensureSearchAttributes, installTemporalRuntime, openStore } from './runtime.ts';
import { seedBudget, seedDemoStaff } from './seed.ts';
import { ensureMeetingSchedule, ensureRetentionSchedule } from './temporal/schedule.ts';

export interface Running {
  stop(): Promise<void>;
}

interface Target {
  config: Config;
  logger: Logger;
  temporalAddress: string;
  mongoUri: string;
}

export async function startApi({ config, logger, temporalAddress, mongoUri }: Target): Promise<Running & { url: string; demoPassword?: string }> {
  const models = await connectDatabase(mongoUri);
  const client = await connectTemporalClient(temporalAddress, config.temporal.namespace);
  await ensureSearchAttributes(client.connection as Connection, config.temporal.namespace).catch((err: unknown) =>
    logger.warn({ err }, 'could not register search attributes (is the operator API reachable?)'),
  );
  if (config.meetings.schedule) await ensureMeetingSchedule(client, config, models);
  if (config.retention.schedule) await ensureRetentionSchedule(client, config);
  const demoPassword = config.demo.seed ? await seedDemoStaff(models, config, logger) : undefined;
  const store = await openStore(config);
  const deps = buildApiDeps({ config, logger, models, client, store, secret: authSecret(config) });
  // Journals from before snapshots get theirs first (one full read, once): nothing may open a year before.
  const ledgerKeyed = await backfillLedger(models, deps.ledger);
  if (ledgerKeyed) logger.info({ entries: ledgerKeyed }, 'ledger keys and snapshots written for the journals stored before snapshots');
  await seedBudget(deps.ledger);
  // What was stored before its keys (or the tally) existed gets them, once per database (each
  // has its marker), in this order, before the api listens.
  const backfills: [field: string, run: (m: typeof models) => Promise<number>, what: string][] = [
    ['applications', backfillApplicationKeys, 'keys written for the events, documents and applications stored before keys existed'],
    ['payouts', backfillPayoutKeys, 'keys written for the payouts stored before keys existed'],
    ['records', backfillRecordKeys, 'keys written for the ledger movements and e-mails stored before keys existed'],
    ['references', backfillReferenceKeys, 'keys written for the references of applications stored before reference keys existed'],
    ['secrets', backfillSecretKeys, 'keys written for the access tokens and idempotency claims stored before keys existed'],
    ['refunds', backfillRefundKeys, 'keys written for the open refunds settled before keys existed'],
    ['tallied', backfillTally, 'monitoring summary built once for the applications stored before it was kept incrementally'],
    ['audited', backfillAuditKeys, 'keys written for the audit entries recorded before keys existed'],
    ['supportCases', backfillSupportKeys, 'keys written for the support cases stored before keys existed'],
    ['stories', backfillStoryKeys, 'keys written for the monitoring stories of reports stored before these keys existed'],
    ['ended', backfillEndedKeys, 'retention keys written for the applications that ended before these keys existed'],
    ['agendaItems', backfillMeetingItemKeys, 'keys written for the agenda items stored before these keys existed'],
  ];
  for (const [field, run, what] of backfills) {
    const n = await run(models);
    if (n) logger.info({ [field]: n }, what);
  }
  const login = await migrateLoginRecords(models);
  if (login.failuresRemoved || login.locksKeyed) logger.info(login, 'failed logins stored before their ids named the account removed (no longer counted); expiry keys written for login locks');
  const { app } = createApp(deps);

  // Completes what a crash left half done: unstarted workflows (applications, extra
  // meetings), payout projections and signals, audit records of ledger movements.
  const reconcile = async () => {
    try {
      await deps.intake.resumeUnstarted();
      await deps.calendar.startExtraMeetings();
      await deps.payouts.reconcile();
      await deps.support.reconcile();
    } catch (err) {
      logger.warn({ err }, 'reconciliation failed; will retry');
    }
  };
  await reconcile();
  // A crash between a ledger movement and its audit record is repaired at start-up (reads each year's entries after its newest snapshot).
  await deps.ledger.repairAudit().catch((err: unknown) => logger.warn({ err }, 'ledger audit repair failed'));
  const timer = setInterval(reconcile, 60_000);
  timer.unref();

  const server: Server = await new Promise((resolve) => {
    const s = app.listen(config.port, config.host, () => resolve(s));
  });
  const url = `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${config.port}`;
  logger.info({ url }, 'api listening');
  return {
    url,
    demoPassword,
    async stop() {
      clearInterval(timer);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await client.connection.close();
      await models.connection.close();
    },
  };
}

export async function startWorker({ config, logger, temporalAddress, mongoUri }: Target): Promise<Running> {
  installTemporalRuntime(logger);
  const models = await connectDatabase(mongoUri);
  const connection = await NativeConnection.connect({ address: temporalAddress });
  const client = await connectTemporalClient(temporalAddress, config.temporal.namespace);
  const refreshSchedule = config.meetings.schedule ? () => ensureMeetingSchedule(client, config, models) : undefined;
  const { worker, mailer } = await createWorker({ config, logger, models, secret: authSecret(config), connection, ...(refreshSchedule ? { refreshSchedule } : {}) });
  const done = worker.run();
  logger.info({ taskQueue: config.temporal.taskQueue }, 'worker running');
  return {
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done;
      mailer.close();
      await client.connection.close();
      await connection.close();
      await models.connection.close();
    },
  };
}

/** src/server.ts and src/worker.ts: one part of the service against servers named in the environment. */
export async function runStandalone(name: string, start: (target: Target) => Promise<Running>): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger(config.logLevel, name);
  if (!config.temporal.address || !config.mongo.uri) {
    logger.fatal(`TEMPORAL_ADDRESS and MONGODB_URI are required for ${name} (use \`npm start\` for the embedded default)`);
    process.exit(1);
  }
  const running = await start({ config, logger, temporalAddress: config.temporal.address, mongoUri: config.mongo.uri });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void running.stop().then(() => process.exit(0)));
}
