/**
 * The Temporal worker of the crash tests, as its own process (run with `node`): the
 * real worker from src/runtime.ts, with every activity and the mailer wrapped so that
 * the process kills itself with SIGKILL at the boundaries the plan names (see
 * protocol.ts). The hooks are here only: nothing in src/ or activities/ can kill.
 *
 * Environment: the service's own variables (TEMPORAL_ADDRESS, MONGODB_URI,
 * TEMPORAL_TASK_QUEUE, SMTP_URL, AUTH_SECRET, …) plus CHAOS_DIR (plan and logs),
 * CHAOS_DB (database name) and CHAOS_BUNDLE (a prebuilt workflow bundle).
 * Tells the parent `{ ready: pid }` over IPC once the worker runs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { connectDatabase } from '../../src/db/models.ts';
import { createWorker, installTemporalRuntime, NativeConnection } from '../../src/runtime.ts';
import { createMailer, type Mailer } from '../../src/mail/mailer.ts';
import type { Activities } from '../../activities/index.ts';
import { activityLabel, appendJsonLine, files, mailAcceptedPoint, readJsonLines, type Crossing, type KillRecord, type Phase, type PlannedKill } from './protocol.ts';

const dir = process.env.CHAOS_DIR;
const dbName = process.env.CHAOS_DB;
const bundle = process.env.CHAOS_BUNDLE;
if (!dir || !dbName || !bundle) throw new Error('CHAOS_DIR, CHAOS_DB and CHAOS_BUNDLE are required');
const paths = files(dir);

const config = loadConfig(process.env);
const logger = createLogger(config.logLevel, 'chaos-worker');
installTemporalRuntime(logger);

function plan(): PlannedKill[] {
  return existsSync(paths.plan) ? (JSON.parse(readFileSync(paths.plan, 'utf8')) as PlannedKill[]) : [];
}

/** Dies here (SIGKILL) if the plan names this point and it was not killed at yet; the kill is logged first. */
function dieIfPlanned(point: string, applicationId?: string): void {
  const planned = plan().find((p) => p.point === point && (applicationId === undefined || p.applicationId === applicationId));
  if (!planned) return;
  const done = readJsonLines<KillRecord>(paths.kills).some((k) => k.point === point && k.applicationId === planned.applicationId);
  if (done) return;
  appendJsonLine(paths.kills, { point, applicationId: planned.applicationId, pid: process.pid, at: new Date().toISOString() } satisfies KillRecord);
  process.kill(process.pid, 'SIGKILL');
}

/** Logs the crossing; dies here if it is a planned boundary not killed at yet. */
function cross(activity: string, input: unknown, phase: Phase): void {
  const named = activityLabel(activity, input);
  if (!named) return;
  appendJsonLine(paths.crossings, { activity, label: named.label, phase, applicationId: named.applicationId, pid: process.pid, at: new Date().toISOString() } satisfies Crossing);
  dieIfPlanned(`${named.label}/${phase}`, named.applicationId);
}

/** The real mailer; dies once the SMTP server accepted a planned mail, before the outbox hears of it. */
function killingMailer(mailer: Mailer): Mailer {
  return {
    async send(mail) {
      await mailer.send(mail);
      dieIfPlanned(mailAcceptedPoint(mail.messageId));
    },
    close: () => mailer.close(),
  };
}

function wrap(activities: Activities): Activities {
  const wrapped: Record<string, (input: unknown) => Promise<unknown>> = {};
  for (const [name, fn] of Object.entries(activities) as [string, (input: unknown) => Promise<unknown>][]) {
    wrapped[name] = async (input: unknown) => {
      cross(name, input, 'before');
      const result = await fn(input);
      // The activity is done; Temporal hears of it only after this returns.
      cross(name, input, 'after');
      return result;
    };
  }
  return wrapped as unknown as Activities;
}

const models = await connectDatabase(config.mongo.uri!, dbName);
const connection = await NativeConnection.connect({ address: config.temporal.address! });
const { worker, mailer } = await createWorker({
  config,
  logger,
  models,
  secret: config.auth.secret!,
  connection,
  mailer: killingMailer(createMailer({ smtpUrl: config.mail.smtpUrl, from: config.mail.from, logger })),
  wrapActivities: wrap,
  workflowBundle: { codePath: bundle },
});
const running = worker.run();
process.send?.({ ready: process.pid });

// The test process went away (e.g. interrupted): do not keep polling its task queue.
process.once('disconnect', () => process.exit(0));
process.once('SIGTERM', () => {
  worker.shutdown();
  void running
    .then(async () => {
      mailer.close();
      await connection.close();
      await models.connection.close();
    })
    .finally(() => process.exit(0));
});
await running;
