/** Worker only (for deployments that run api and worker separately, e.g. docker-compose). */
import { loadConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { startWorker } from './start.ts';

let config;
try {
  config = loadConfig();
} catch (err) {
  console.error(String((err as Error).message));
  process.exit(1);
}
const logger = createLogger(config.logLevel, 'buurtfonds-worker');
if (!config.temporal.address || !config.mongo.uri) {
  logger.fatal('TEMPORAL_ADDRESS and MONGODB_URI are required for src/worker.ts (use `npm start` for the embedded default)');
  process.exit(1);
}
const running = await startWorker({ config, logger, temporalAddress: config.temporal.address, mongoUri: config.mongo.uri });
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void running.stop().then(() => process.exit(0)));
