/** Starting and stopping the api and the worker against given servers. */
import type { Server } from 'node:http';
import type { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import { connectDatabase } from './db/models.ts';
import { createApp } from './api/app.ts';
import { authSecret, buildApiDeps, connectTemporalClient, createWorker, ensureSearchAttributes, installTemporalRuntime, openStore } from './runtime.ts';
import { seedBudget, seedDemoStaff } from './seed.ts';

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
  await seedBudget(models, config);
  const demoPassword = config.demo.seed ? await seedDemoStaff(models, config, logger) : undefined;
  const store = await openStore(config);
  const deps = buildApiDeps({ config, logger, models, client, store, secret: authSecret(config) });
  const { app } = createApp(deps);

  const reconcile = async () => {
    try {
      await deps.intake.resumeUnstarted();
    } catch (err) {
      logger.warn({ err }, 'intake reconciliation failed; will retry');
    }
  };
  await reconcile();
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
  const { worker, mailer } = await createWorker({ config, logger, models, secret: authSecret(config), connection });
  const done = worker.run();
  logger.info({ taskQueue: config.temporal.taskQueue }, 'worker running');
  return {
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done;
      mailer.close();
      await connection.close();
      await models.connection.close();
    },
  };
}
