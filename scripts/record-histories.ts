/**
 * Records the event histories that test/workflows/replay.test.ts replays against the
 * current workflow code, so a change that would break running initiatives (a changed
 * command sequence) fails a test instead of production.
 *
 *   node scripts/record-histories.ts            (after `bash scripts/servers.sh`)
 *
 * Runs representative scenarios of initiativeWorkflow on the real time-skipping test
 * server (the lapse takes seconds, not 14 days) with the real activities against a
 * throw-away FerretDB, and writes each history as proto JSON (what `historyFromJSON`,
 * `temporal workflow show --output json` and the Web UI's download use) to
 * test/histories/initiative-<scenario>.json. The workflow id is `initiative-<scenario>`,
 * the file's base name. Re-record only when a workflow change is meant to be
 * incompatible (and running workflows are migrated); otherwise keep the old files.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { createActivities } from '../activities/index.ts';
import { connectDatabase, type Models } from '../src/db/models.ts';
import { projectRoot, startFerretDB, toolPaths } from '../src/embedded/servers.ts';
import { createMailer } from '../src/mail/mailer.ts';
import { createLogger, temporalLogger } from '../src/logger.ts';
import { ensureSearchAttributes, installTemporalRuntime, workflowsPath } from '../src/runtime.ts';
import { initiativeWorkflowId, temporalInitiativeStarter } from '../src/temporal/starter.ts';
import { amsterdamYear } from '../src/domain/dates.ts';
import {
  completeScreeningUpdate,
  provideInformationUpdate,
  requestInformationUpdate,
  withdrawUpdate,
  type initiativeWorkflow,
} from '../workflows/initiative.ts';

type Handle = WorkflowHandle<typeof initiativeWorkflow>;

const DAY_MS = 24 * 60 * 60 * 1000;
const PANEL = 'panel1@buurtfonds.test';
const outDir = join(projectRoot, 'test/histories');
const taskQueue = 'record-histories';

interface Scenario {
  name: string;
  run(handle: Handle, env: TestWorkflowEnvironment): Promise<void>;
}

const scenarios: Scenario[] = [
  {
    name: 'happy-path',
    async run(h) {
      await h.executeUpdate(completeScreeningUpdate, { args: [{ completedBy: PANEL }] });
    },
  },
  {
    name: 'information-answered',
    async run(h) {
      await h.executeUpdate(requestInformationUpdate, { args: [{ missing: 'Een offerte voor de partytent', requestedBy: PANEL }] });
      await h.executeUpdate(provideInformationUpdate, { args: [{ answer: 'De offerte zit erbij.', documentIds: ['doc-offerte'] }] });
      await h.executeUpdate(completeScreeningUpdate, { args: [{ completedBy: PANEL }] });
    },
  },
  {
    name: 'answered-after-reminder',
    async run(h, env) {
      await h.executeUpdate(requestInformationUpdate, { args: [{ missing: 'Een foto van de locatie', requestedBy: PANEL, deadlineDays: 10 }] });
      await env.sleep(8 * DAY_MS); // past the reminder, before the deadline
      await h.executeUpdate(provideInformationUpdate, { args: [{ documentIds: ['doc-foto'] }] });
      await h.executeUpdate(completeScreeningUpdate, { args: [{ completedBy: PANEL }] });
    },
  },
  {
    name: 'lapse',
    async run(h) {
      await h.executeUpdate(requestInformationUpdate, { args: [{ missing: 'De begroting met alle posten', requestedBy: PANEL }] });
      await h.result(); // time skips through the reminder to the deadline
    },
  },
  {
    name: 'withdraw',
    async run(h) {
      await h.executeUpdate(requestInformationUpdate, { args: [{ missing: 'Een offerte', requestedBy: PANEL }] });
      await h.executeUpdate(withdrawUpdate, { args: [{ reason: 'Het feest gaat niet door' }] });
      await h.result();
    },
  },
];

async function until(what: string, fn: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Stores the application as intake does, starts its workflow and waits until it is in screening. */
async function submit(env: TestWorkflowEnvironment, models: Models, applicationId: string, n: number): Promise<Handle> {
  const workflowId = initiativeWorkflowId(applicationId);
  const submittedAt = new Date(await env.currentTimeMs());
  const year = amsterdamYear(submittedAt);
  const reference = `VW-${year}-${String(n).padStart(4, '0')}`;
  await models.Event.create({ _id: `${workflowId}:1`, applicationId, at: submittedAt.toISOString(), type: 'submitted', status: 'submitted', actor: 'applicant' });
  await models.Application.create({
    applicant: { name: 'Sanne de Vries', email: 'sanne@example.nl', phone: '070 123 4567', address: { street: 'Kerkstraat 1', postalCode: '2271 AB', city: 'Voorburg' } },
    title: 'Straatfeest Kerkstraat',
    description: 'Een straatfeest voor alle bewoners van de Kerkstraat.',
    purposes: ['cohesion'],
    wijken: ['Voorburg-Midden'],
    activity: { startDate: '2027-05-01', endDate: '2027-05-01', location: 'Kerkstraat' },
    budgetLines: [{ description: 'Huur partytent', amountCents: 45_000 }],
    amountRequestedCents: 45_000,
    coFunding: [],
    iban: 'NL91ABNA0417164300',
    accountHolder: 'S. de Vries',
    privacyConsent: true,
    _id: applicationId,
    reference,
    year,
    status: 'submitted',
    statusSeq: 1,
    informationRequests: [],
    workflowId,
    createdAt: submittedAt,
  });
  await temporalInitiativeStarter(env.client, taskQueue).start({
    applicationId,
    reference,
    submittedAt: submittedAt.toISOString(),
    informationDeadlineDays: 14,
    informationReminderDays: 7,
  });
  await until(`${workflowId} in screening`, async () => (await models.Application.findById(applicationId, { status: 1 }).lean())?.status === 'screening');
  return env.client.workflow.getHandle<typeof initiativeWorkflow>(workflowId);
}

async function main(): Promise<void> {
  const logger = createLogger(process.env.LOG_LEVEL ?? 'warn', 'record-histories');
  installTemporalRuntime(logger);
  const dir = mkdtempSync(join(tmpdir(), 'buurtfonds-record-'));
  const ferret = await startFerretDB({ dir });
  let env: TestWorkflowEnvironment | undefined;
  let models: Models | undefined;
  try {
    env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: toolPaths.temporalTestServer } } });
    await ensureSearchAttributes(env.connection, env.namespace ?? 'default');
    models = await connectDatabase(ferret.uri, 'record_histories');
    // No SMTP URL: the real mailer renders and hands the mail to nodemailer's stream transport.
    const mailer = createMailer({ from: 'Vlietwensen <noreply@buurtfonds.test>', logger: logger.child({}, { level: 'warn' }) });
    const activities = createActivities({
      annualBudgetCents: 9_000_000,
      meetingUrl: (id) => `http://buurtfonds.test/api/v1/meetings/${id}`,
      models,
      mailer,
      fundName: 'Vlietwensen',
      mailDomain: 'buurtfonds.test',
      statusUrl: async (id) => `http://buurtfonds.test/api/v1/applications/${id}?token=link-token`,
    });
    const workflowBundle = await bundleWorkflowCode({ workflowsPath, logger: temporalLogger(logger) });
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle, activities });
    const testEnv = env;
    const db = models;
    mkdirSync(outDir, { recursive: true });
    await worker.runUntil(async () => {
      for (const [i, scenario] of scenarios.entries()) {
        const handle = await submit(testEnv, db, scenario.name, i + 1);
        await scenario.run(handle, testEnv);
        const history = await handle.fetchHistory();
        const file = join(outDir, `initiative-${scenario.name}.json`);
        writeFileSync(file, `${JSON.stringify(JSON.parse(historyToJSON(history)), null, 2)}\n`);
        const { status } = await handle.describe();
        console.log(`${file}: ${history.events?.length ?? 0} events, workflow ${status.name}`);
        if (status.name === 'RUNNING') await handle.terminate('recorded');
      }
    });
    mailer.close();
  } finally {
    if (models) {
      await models.connection.dropDatabase().catch(() => undefined);
      await models.connection.close();
    }
    await env?.teardown();
    await ferret.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
