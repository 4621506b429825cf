/**
 * `npm start`: the whole service on one machine. Starts the Temporal dev server and
 * FerretDB (unless TEMPORAL_ADDRESS / MONGODB_URI name servers to use), then the api
 * and the worker. Ctrl-C stops everything it started; when this process is killed, the
 * embedded servers stop too, or the next start stops them (src/embedded/leftovers.ts).
 */
import { resolve } from 'node:path';
import { loadConfigOrExit } from './config.ts';
import { createLogger } from './logger.ts';
import { startFerretDB, startTemporalDevServer, type RunningServer } from './embedded/servers.ts';
import { startApi, startWorker, type Running } from './start.ts';

const config = loadConfigOrExit();
const logger = createLogger(config.logLevel);
const stack: (Running | RunningServer)[] = [];
let stopping = false;

async function stopAll(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    logger.info('stopping');
    for (const part of stack.reverse()) await part.stop().catch((err: unknown) => logger.error({ err }, 'stop failed'));
  }
  process.exit(code);
}
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(sig, () => void stopAll(0));

try {
  const dataDir = resolve(config.dataDir);
  const onLeftover = (pid: number, command: string) => logger.warn({ pid, command }, 'stopped an embedded server left running by an earlier start');
  let temporalAddress = config.temporal.address;
  let uiUrl: string | undefined;
  if (!temporalAddress) {
    const t = await startTemporalDevServer({ dbFile: `${dataDir}/temporal.db`, port: config.temporal.port, uiPort: config.temporal.uiPort, namespace: config.temporal.namespace, pidFile: `${dataDir}/temporal.pid`, onLeftover });
    stack.push(t);
    temporalAddress = t.address;
    uiUrl = t.uiUrl;
    logger.info({ address: temporalAddress }, 'embedded Temporal dev server started');
  }
  let mongoUri = config.mongo.uri;
  if (!mongoUri) {
    const f = await startFerretDB({ dir: `${dataDir}/ferretdb`, port: config.mongo.ferretPort, pidFile: `${dataDir}/ferretdb.pid`, onLeftover });
    stack.push(f);
    mongoUri = `${f.uri}buurtfonds`;
    logger.info({ uri: f.uri }, 'embedded FerretDB started');
  }
  stack.push(await startWorker({ config, logger, temporalAddress, mongoUri }));
  const api = await startApi({ config, logger, temporalAddress, mongoUri });
  stack.push(api);

  const lines = [
    '',
    `  buurtfonds is running`,
    `  Website:          ${api.url}/   (staff: ${api.url}/inloggen)`,
    `  API:              ${api.url}/api/v1`,
    `  OpenAPI document: ${api.url}/api/openapi.json`,
    `  Temporal Web UI:  ${uiUrl ?? '(external Temporal: see its own UI)'}`,
    ...(api.demoPassword ? [`  Demo staff (admin@, financien@, panel1..5@, welzijn1..2@buurtfonds.test) password: ${api.demoPassword}`, '  (printed once; set DEMO_PASSWORD to choose it)'] : []),
    '  Ctrl-C stops everything.',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
} catch (err) {
  logger.fatal({ err }, 'start-up failed');
  await stopAll(1);
}
