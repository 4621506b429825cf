/**
 * The API of the crash test, as its own process (run with `node`), dying in the middle
 * of a batch request: it logs in as finance and POSTs /api/v1/payouts/batches, and
 * kills itself with SIGKILL right after the register insert (the batch entry in the
 * payout register), when the service goes on to store the batch file.
 *
 * Environment: the service's variables plus CHAOS_DIR (the kill log) and CHAOS_DB.
 * It never exits normally: exit code 3 means the request finished without the kill.
 */
import request from 'supertest';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { connectDatabase } from '../../src/db/models.ts';
import { createApp } from '../../src/api/app.ts';
import { buildApiDeps, connectTemporalClient, openStore } from '../../src/runtime.ts';
import { appendJsonLine, batchKillPoint, files, type KillRecord } from './protocol.ts';

const dir = process.env.CHAOS_DIR;
const dbName = process.env.CHAOS_DB;
if (!dir || !dbName) throw new Error('CHAOS_DIR and CHAOS_DB are required');

const config = loadConfig(process.env);
const logger = createLogger(config.logLevel, 'chaos-api');
const models = await connectDatabase(config.mongo.uri!, dbName);
const client = await connectTemporalClient(config.temporal.address!, config.temporal.namespace);
const deps = buildApiDeps({ config, logger, models, client, store: await openStore(config), secret: config.auth.secret! });
const { app } = createApp(deps);

const login = await request(app).post('/api/v1/auth/login').send({ email: 'financien@buurtfonds.test', password: config.demo.password });
if (login.status !== 200) throw new Error(`login failed: ${login.status} ${JSON.stringify(login.body)}`);

// The next write after the register insert is the batch file: die instead of writing it.
const files_ = models.PayoutBatch.collection as unknown as { insertOne: (...args: unknown[]) => unknown };
files_.insertOne = () => {
  appendJsonLine(files(dir).kills, { point: batchKillPoint, applicationId: '-', pid: process.pid, at: new Date().toISOString() } satisfies KillRecord);
  process.kill(process.pid, 'SIGKILL');
};

const res = await request(app).post('/api/v1/payouts/batches').set('Authorization', `Bearer ${login.body.token}`).send();
console.error(`batch request finished without the kill: ${res.status} ${JSON.stringify(res.body)}`);
process.exit(3);
