/** API only (for deployments that run api and worker separately, e.g. docker-compose). */
import { loadConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { startApi } from './start.ts';

const config = loadConfigOrExit();
const logger = createLogger(config.logLevel, 'buurtfonds-api');
if (!config.temporal.address || !config.mongo.uri) {
  logger.fatal('TEMPORAL_ADDRESS and MONGODB_URI are required for src/server.ts (use `npm start` for the embedded default)');
  process.exit(1);
}
const running = await startApi({ config, logger, temporalAddress: config.temporal.address, mongoUri: config.mongo.uri });
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void running.stop().then(() => process.exit(0)));

function loadConfigOrExit() {
  try {
    return loadConfig();
  } catch (err) {
    console.error(String((err as Error).message));
    process.exit(1);
  }
}
