/**
 * The workflows on the real time-skipping test server, as test/workflows and
 * scripts/record-histories.ts run them: the test server (with the search attributes the
 * workflows upsert), the bundled workflows and a Worker with the real activities against
 * a real database, and applications submitted the way intake stores them. No vitest in
 * here: the script imports it too.
 */
import { randomUUID } from 'node:crypto';
import { addApplicationKeys, insertEvent } from '../../src/db/keys.ts';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import type { Logger } from 'pino';
import { createActivities, type Activities } from '../../activities/index.ts';
import { connectDatabase, submittedApplication, type Models } from '../../src/db/models.ts';
import type { ApplicationInput } from '../../src/domain/application.ts';
import { toolPaths } from '../../src/embedded/servers.ts';
import { createMailer, type Mailer } from '../../src/mail/mailer.ts';
import { temporalLogger } from '../../src/logger.ts';
import { ensureSearchAttributes, installTemporalRuntime, workflowsPath } from '../../src/runtime.ts';
import { initiativeWorkflowId, temporalInitiativeStarter } from '../../src/temporal/starter.ts';
import { amsterdamYear } from '../../src/domain/dates.ts';
import type { initiativeWorkflow, InitiativeInput } from '../../workflows/initiative.ts';
import { startMailCatcher } from './mail.ts';
import { BudgetLedger } from '../../src/budget/ledger.ts';
import { ReportTally } from '../../src/reports/tally.ts';
import { PayoutService } from '../../src/payouts/service.ts';
import { payoutExecutedSignal } from '../../workflows/initiative-signals.ts';
import { loadConfig } from '../../src/config.ts';

type MailCatcher = Awaited<ReturnType<typeof startMailCatcher>>;
export type InitiativeHandle = WorkflowHandle<typeof initiativeWorkflow>;

export const FUND = 'Vlietwensen';
/** The meeting calendar the activities plan with: every 14 days at 19:30, cut-off 7 days before. */
export const CALENDAR = { firstDate: '2026-01-08', time: '19:30', intervalDays: 14, cutoffDays: 7 };
export const DEBTOR = { name: 'Gemeente Leidschendam-Voorburg', iban: 'NL34BNGH0285000001', bic: 'BNGHNL2G' };

export interface TimeSkippingOptions {
  logger: Logger;
  mongoUri: string;
  /** The database on mongoUri; stop() drops it. */
  dbName: string;
  taskQueue: string;
  /**
   * true: the mails go to an in-process SMTP server (`mail`); false: the real mailer
   * renders them and hands them to nodemailer's stream transport (logging at warn).
   */
  catchMail: boolean;
  /** Wraps the mailer the activities send with (e.g. to hold a mail). */
  mailer?: (real: Mailer) => Mailer;
  /** Wraps the real activities (e.g. to hold one). */
  activities?: (real: Activities) => Activities;
  /** Starts worker.run() (stop() shuts it down); without it the caller runs the worker. */
  runWorker: boolean;
  /** The default total of a budget year (EUR 90,000 unless given). */
  annualBudgetCents?: number;
  /** Workflows bundled already (the test run's, from its global set-up); bundled here when absent. */
  workflowBundlePath?: string;
}

/**
 * The time-skipping server, started again when it misses the SDK's fixed 5-second start
 * deadline (a loaded two-core machine running test files side by side).
 */
async function timeSkippingServer(): Promise<TestWorkflowEnvironment> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: toolPaths.temporalTestServer } } });
    } catch (err) {
      if (attempt >= 3 || !/did not start within/.test(String(err))) throw err;
    }
  }
}

export interface TimeSkipping {
  env: TestWorkflowEnvironment;
  models: Models;
  taskQueue: string;
  mail: MailCatcher | undefined;
  worker: Worker;
  /** The ledger and payout register as the activities use them (the tests' own view of the books). */
  ledger: BudgetLedger;
  payouts: PayoutService;
  /** Stops what was started, in reverse: worker, mailer, SMTP server, database (dropped), test server. */
  stop(): Promise<void>;
}

export type TimeSkippingWithMail = TimeSkipping & { mail: MailCatcher };

/** Starts the test server, connects the database, bundles the workflows and creates the worker, in parallel where it can. */
export async function startTimeSkipping(opts: TimeSkippingOptions & { catchMail: true }): Promise<TimeSkippingWithMail>;
export async function startTimeSkipping(opts: TimeSkippingOptions): Promise<TimeSkipping>;
export async function startTimeSkipping(opts: TimeSkippingOptions): Promise<TimeSkipping> {
  const { logger, taskQueue } = opts;
  installTemporalRuntime(logger);
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stops.splice(0).reverse()) await s();
  };
  try {
    // All four at once; whatever started is stopped again when another part fails.
    const [envR, modelsR, mailR, bundleR] = await Promise.allSettled([
      timeSkippingServer(),
      connectDatabase(opts.mongoUri, opts.dbName),
      opts.catchMail ? startMailCatcher() : undefined,
      opts.workflowBundlePath ? { codePath: opts.workflowBundlePath } : bundleWorkflowCode({ workflowsPath, logger: temporalLogger(logger) }),
    ]);
    if (envR.status === 'fulfilled') stops.push(() => envR.value.teardown());
    if (modelsR.status === 'fulfilled') {
      stops.push(async () => {
        await modelsR.value.connection.dropDatabase().catch(() => undefined);
        await modelsR.value.connection.close();
      });
    }
    if (mailR.status === 'fulfilled' && mailR.value) stops.push(mailR.value.close);
    if (envR.status === 'rejected' || modelsR.status === 'rejected' || mailR.status === 'rejected' || bundleR.status === 'rejected') {
      throw ([envR, modelsR, mailR, bundleR].find((r) => r.status === 'rejected') as PromiseRejectedResult).reason;
    }
    const [env, models, mail, workflowBundle] = [envR.value, modelsR.value, mailR.value, bundleR.value];
    // The workflow upserts BuurtfondsStatus; a server that does not know it fails every
    // workflow task ("search attribute BuurtfondsStatus is not defined").
    await ensureSearchAttributes(env.connection, env.namespace ?? 'default');

    const real = mail
      ? createMailer({ smtpUrl: mail.url, from: `${FUND} <noreply@buurtfonds.test>`, logger })
      : createMailer({ from: `${FUND} <noreply@buurtfonds.test>`, logger: logger.child({}, { level: 'warn' }) });
    stops.push(async () => real.close());
    const tally = new ReportTally({ models });
    const ledger = new BudgetLedger({ models, defaultTotalCents: opts.annualBudgetCents ?? 9_000_000, onMovement: (e, earlier) => tally.recordMovement(e, earlier) });
    const payouts = new PayoutService({
      models,
      debtor: DEBTOR,
      fundName: FUND,
      notifyPaid: (n) => env.client.workflow.getHandle(initiativeWorkflowId(n.applicationId)).signal(payoutExecutedSignal, n),
      paymentRecorded: (applicationId, year) => ledger.hasEntry(year, `pay:${applicationId}`),
    });
    const activities = createActivities({
      calendar: CALENDAR,
      meetingRules: { quorum: 3, flagAfterRollovers: 2 },
      ledger,
      tally,
      payouts,
      meetingUrl: (id) => `http://buurtfonds.test/api/v1/meetings/${id}`,
      models,
      mailer: opts.mailer ? opts.mailer(real) : real,
      fundName: FUND,
      mailDomain: 'buurtfonds.test',
      statusUrl: async (id) => `http://buurtfonds.test/api/v1/applications/${id}?token=link-token`,
      refundIban: DEBTOR.iban,
      wijkOrganisations: loadConfig({}).support.wijkOrganisations,
      supportUrl: (id) => `http://buurtfonds.test/api/v1/support/${id}`,
    });
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle, activities: opts.activities ? opts.activities(activities) : activities });
    if (opts.runWorker) {
      const running = worker.run();
      stops.push(async () => {
        worker.shutdown();
        await running;
      });
    }
    return { env, models, taskQueue, mail, worker, ledger, payouts, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Polls `fn` every 100 ms until it is true; throws after timeoutMs. */
export async function until(what: string, fn: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  // Twice the time named: test files run side by side (test/helpers/context.ts WAIT_SLACK; not imported: no vitest here).
  const deadline = Date.now() + timeoutMs * 2;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Stores an application the way intake does (the `submitted` event, then the application,
 * reference VW-<year>-<number>) and starts its initiativeWorkflow; returns once the read
 * model says `screening`, so the next step cannot race that write (with `inScreening: false`
 * right after the start, as intake's 201). The handle goes into `started` as soon as the workflow runs.
 */
export async function submitApplication(
  { env, models, taskQueue }: Pick<TimeSkipping, 'env' | 'models' | 'taskQueue'>,
  app: { applicationId?: string; number: number; form: ApplicationInput; input?: Partial<InitiativeInput>; started?: WorkflowHandle[]; inScreening?: boolean },
): Promise<{ applicationId: string; workflowId: string; reference: string; submittedAt: Date; handle: InitiativeHandle }> {
  const applicationId = app.applicationId ?? randomUUID();
  const workflowId = initiativeWorkflowId(applicationId);
  const submittedAt = new Date(await env.currentTimeMs());
  const year = amsterdamYear(submittedAt);
  const reference = `VW-${year}-${String(app.number).padStart(4, '0')}`;
  await insertEvent(models, { _id: `${workflowId}:1`, applicationId, at: submittedAt.toISOString(), type: 'submitted', status: 'submitted', actor: 'applicant' });
  const doc = submittedApplication({ id: applicationId, form: app.form, reference, year, submittedAt });
  await addApplicationKeys(models, doc);
  await models.Application.create(doc);
  await temporalInitiativeStarter(env.client, taskQueue).start({
    applicationId,
    reference,
    submittedAt: submittedAt.toISOString(),
    informationDeadlineDays: 14,
    informationReminderDays: 7,
    ...app.input,
  });
  const handle: InitiativeHandle = env.client.workflow.getHandle<typeof initiativeWorkflow>(workflowId);
  app.started?.push(handle);
  if (app.inScreening !== false) await until(`${workflowId} in screening`, async () => (await models.Application.findById(applicationId, { status: 1 }).lean())?.status === 'screening');
  return { applicationId, workflowId, reference, submittedAt, handle };
}

/** Terminates the workflows of these handles that still run (and empties the list): a timer left waiting would fire during the next time skip. */
export async function terminateRunning(handles: WorkflowHandle[], reason: string): Promise<void> {
  for (const handle of handles.splice(0)) {
    const status = await handle.describe().then(
      (d) => d.status.name,
      (err: unknown) => {
        if (err instanceof WorkflowNotFoundError) return 'NOT_FOUND'; // never started (e.g. a support case nobody needed)
        throw err;
      },
    );
    if (status === 'RUNNING') await handle.terminate(reason);
  }
}
