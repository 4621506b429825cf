/**
 * The crash tests' Temporal worker: worker-child.ts in its own process, started again by
 * a supervisor each time it kills itself, with the run's workflow bundle (bundled once
 * per run, test/setup/global.ts) and a temp dir for the kill plan and logs (protocol.ts).
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import { DEMO_PASSWORD, type TestContext } from '../helpers/context.ts';
import { supervise, type Supervisor } from './supervisor.ts';

const here = dirname(fileURLToPath(import.meta.url));

export interface ChaosWorker {
  /** The plan, kill and crossing files (`files(dir)`). */
  dir: string;
  /** The service's environment of the children (also for other child processes, e.g. batch-child.ts). */
  env: NodeJS.ProcessEnv;
  worker: Supervisor;
  stop(): Promise<void>;
}

/** Starts the worker on the test context's task queue, database and mail catcher; returns once it runs. */
export async function startChaosWorker(ctx: TestContext, opts: { logLevel?: string } = {}): Promise<ChaosWorker> {
  const dir = mkdtempSync(join(tmpdir(), 'buurtfonds-chaos-'));
  // The restarted workers load the run's bundle instead of bundling.
  copyFileSync(inject('workflowBundlePath'), join(dir, 'workflows.js'));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TMPDIR: process.env.TMPDIR,
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.CHAOS_LOG_LEVEL ?? opts.logLevel ?? 'silent',
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    MONGODB_URI: inject('mongoUri'),
    TEMPORAL_TASK_QUEUE: ctx.config.temporal.taskQueue,
    MEETING_SCHEDULE: 'false',
    MEETING_SCHEDULE_ID: ctx.config.meetings.scheduleId,
    SMTP_URL: ctx.mail.url,
    PUBLIC_BASE_URL: ctx.config.publicBaseUrl,
    AUTH_SECRET: randomBytes(32).toString('hex'),
    DEMO_PASSWORD,
    DATA_DIR: join(dir, 'data'),
    CHAOS_DIR: dir,
    CHAOS_DB: ctx.models.connection.name,
    CHAOS_BUNDLE: join(dir, 'workflows.js'),
  };
  const worker = supervise(join(here, 'worker-child.ts'), env);
  try {
    await worker.waitReady();
  } catch (err) {
    await worker.stop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    dir,
    env,
    worker,
    async stop() {
      await worker.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
