/** Wiring shared by the entry points (src/main.ts, src/server.ts, src/worker.ts) and the tests. */
import { LedgerWatch } from './budget/ledger-watch.ts';
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection, isGrpcServiceError } from '@temporalio/client';
import { status as grpcStatus } from '@grpc/grpc-js';
import { NativeConnection, Runtime, Worker } from '@temporalio/worker';
import proto from '@temporalio/proto';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import { connectDatabase, type Models } from './db/models.ts';
import { DocumentStore } from './documents/store.ts';
import { TokenSigner } from './auth/tokens.ts';
import { IntakeService } from './services/intake.ts';
import { InitiativeCommands } from './services/initiatives.ts';
import { ApplicationService } from './services/applications.ts';
import { temporalAccountLockNotifier, temporalInitiativeStarter, type InitiativeStarter } from './temporal/starter.ts';
import { StaffLogin } from './services/staff-login.ts';
import { calendarRules, ensureMeetingSchedule, meetingInput } from './temporal/schedule.ts';
import { MeetingCommands } from './services/meetings.ts';
import { MeetingCalendar } from './services/meeting-calendar.ts';
import { PanelService } from './services/panel.ts';
import { createMailer, type Mailer } from './mail/mailer.ts';
import { mailDomain } from './mail/message-id.ts';
import { createActivities, type Activities } from '../activities/index.ts';
import { BudgetLedger } from './budget/ledger.ts';
import { ReportTally } from './reports/tally.ts';
import { PayoutService } from './payouts/service.ts';
import { SupportService } from './support/service.ts';
import { temporalSupportWorkflows } from './support/temporal.ts';
import { initiativeWorkflowId } from './domain/application.ts';
import { payoutExecutedSignal } from '../workflows/initiative-signals.ts';
import { customSearchAttributes } from './domain/search-attributes.ts';
import type { ApiDeps } from './api/deps.ts';
import { emailLinks } from './web/paths.ts';
import { temporalLogger } from './logger.ts';

export const workflowsPath = resolve(dirname(fileURLToPath(import.meta.url)), '../workflows/index.ts');

/** AUTH_SECRET, or outside production a random one kept in the data dir so tokens survive a restart. */
export function authSecret(config: Config): string {
  if (config.auth.secret) return config.auth.secret;
  if (config.env === 'test') return randomBytes(32).toString('hex');
  const file = join(config.dataDir, 'auth-secret');
  if (!existsSync(file)) {
    mkdirSync(config.dataDir, { recursive: true });
    writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600 });
  }
  return readFileSync(file, 'utf8').trim();
}

let runtimeInstalled = false;
export function installTemporalRuntime(logger: Logger): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({ logger: temporalLogger(logger.child({ component: 'temporal' })) });
}

/**
 * Registers our custom search attributes on a Temporal server we did not start with
 * them (an external cluster, the time-skipping test server). The test server has
 * AddSearchAttributes but no ListSearchAttributes: then add them all.
 */
export async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<void> {
  let missing: readonly (typeof customSearchAttributes)[number][] = customSearchAttributes;
  try {
    const existing = await connection.operatorService.listSearchAttributes({ namespace });
    missing = customSearchAttributes.filter((sa) => !(sa.name in (existing.customAttributes ?? {})));
  } catch (err) {
    if (!isGrpcServiceError(err) || err.code !== grpcStatus.UNIMPLEMENTED) throw err;
  }
  if (missing.length === 0) return;
  try {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((sa) => [sa.name, proto.temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD])),
    });
  } catch (err) {
    if (!isGrpcServiceError(err) || err.code !== grpcStatus.ALREADY_EXISTS) throw err;
  }
}

export async function connectTemporalClient(address: string, namespace: string): Promise<Client> {
  const connection = await Connection.connect({ address });
  return new Client({ connection, namespace });
}

export async function openStore(config: Config): Promise<DocumentStore> {
  const store = new DocumentStore(resolve(config.documentDir));
  await store.init();
  return store;
}

/**
 * The budget ledger, the payout register and the monitoring tally of one process (each keeps
 * its own cache); the ledger tells the tally every movement (src/reports/tally.ts).
 */
export function createMoney(config: Config, models: Models, client?: Client, logger?: Logger): { ledger: BudgetLedger; payouts: PayoutService; tally: ReportTally } {
  const tally = new ReportTally({ models, ...(logger ? { logger } : {}) });
  const ledger = new BudgetLedger({ models, defaultTotalCents: config.fund.annualBudgetCents, onMovement: (entry, earlier) => tally.recordMovement(entry, earlier), ...(logger ? { logger } : {}) });
  const payouts = new PayoutService({
    models,
    debtor: config.payouts.debtor,
    fundName: config.fund.name,
    async notifyPaid(notice) {
      if (!client) throw new Error('payouts are executed through the api, which has a Temporal client');
      await client.workflow.getHandle(initiativeWorkflowId(notice.applicationId)).signal(payoutExecutedSignal, notice);
    },
    paymentRecorded: (applicationId, year) => ledger.hasEntry(year, `pay:${applicationId}`),
    onNotifyError: (err, applicationId) => logger?.warn({ err, applicationId, workflowId: initiativeWorkflowId(applicationId) }, 'could not signal the payment; reconcile retries'),
  });
  return { ledger, payouts, tally };
}

export function buildApiDeps(args: {
  config: Config;
  logger: Logger;
  models: Models;
  client: Client;
  store: DocumentStore;
  secret: string;
  starter?: InitiativeStarter;
  now?: () => Date;
}): ApiDeps {
  const { config, logger, models, client, store } = args;
  const signer = new TokenSigner(args.secret, config.auth.tokenTtlMinutes);
  const starter = args.starter ?? temporalInitiativeStarter(client, config.temporal.taskQueue);
  const { ledger, payouts, tally } = createMoney(config, models, client, logger);
  const ledgerWatch = new LedgerWatch(ledger, { fullEveryMs: config.readiness.ledgerFullCheckSeconds * 1000 });
  const support = new SupportService({ models, organisations: config.support.wijkOrganisations, workflows: temporalSupportWorkflows(client, config.temporal.taskQueue), logger, now: args.now });
  const initiatives = new InitiativeCommands(client);
  const meetings = new MeetingCommands(client, models, config.temporal.taskQueue);
  const refreshSchedule = config.meetings.schedule ? () => ensureMeetingSchedule(client, config, models, args.now?.()) : undefined;

  return {
    ledger,
    tally,
    payouts,
    support,
    config,
    logger,
    models,
    store,
    signer,
    intake: new IntakeService({ models, store, starter, config, logger, ledger, tally, now: args.now }),
    initiatives,
    applications: new ApplicationService({ models, store, initiatives, payouts, support, tally }),
    meetings,
    calendar: new MeetingCalendar({ models, rules: calendarRules(config), meetings, meetingInput: (m) => meetingInput(config, m), ledger, ...(refreshSchedule ? { refreshSchedule } : {}), now: () => args.now?.() ?? new Date() }),
    panel: new PanelService(models),
    staffLogin: new StaffLogin({ models, auth: config.auth, notify: temporalAccountLockNotifier(client, config.temporal.taskQueue), logger }),
    ...(refreshSchedule ? { refreshSchedule } : {}),
    readiness: [
      {
        name: 'database',
        async check() {
          const db = models.connection.db;
          if (!db || models.connection.readyState !== 1) throw new Error('not connected');
          await db.admin().ping();
        },
      },
      {
        name: 'ledger',
        async check() {
          // What was appended since the last probe, on top of a full check in the background (src/budget/ledger-watch.ts).
          const result = await ledgerWatch.check();
          if (!result.ok) {
            const problems = result.years.flatMap((y) => y.problems.map((p) => `${y.year}: ${p}`));
            throw Object.assign(new Error(`ledger check failed: ${problems.slice(0, 5).join('; ')}`), { readiness: 'inconsistent' });
          }
        },
      },
      {
        name: 'temporal',
        async check() {
          // A deadline ends the SDK's own retries; without it, each probe during an outage keeps retrying for ~20 s.
          await client.connection.withDeadline(Date.now() + 2_000, () => client.connection.workflowService.getSystemInfo({}));
        },
      },
    ],
    webSecret: createHmac('sha256', args.secret).update('buurtfonds web forms').digest('hex'),
    now: args.now,
  };
}

export async function createWorker(args: {
  config: Config;
  logger: Logger;
  models: Models;
  secret: string;
  connection: NativeConnection;
  mailer?: Mailer;
  taskQueue?: string;
  refreshSchedule?: () => Promise<void>;
  /** Wraps the activities (the crash test uses it to kill the process at activity boundaries). */
  wrapActivities?: (activities: Activities) => Activities;
  /** A prebuilt workflow bundle (saves bundling at every start of a worker that is restarted often). */
  workflowBundle?: { codePath: string };
}): Promise<{ worker: Worker; mailer: Mailer }> {
  const { config, logger, models } = args;
  const mailer = args.mailer ?? createMailer({ smtpUrl: config.mail.smtpUrl, from: config.mail.from, logger });
  const signer = new TokenSigner(args.secret, config.auth.tokenTtlMinutes);
  // Every link in an e-mail opens a page for a person (src/web/paths.ts).
  const links = emailLinks(config.publicBaseUrl);
  const activities = createActivities({
    calendar: calendarRules(config),
    meetingRules: { quorum: config.meetings.quorum, majority: config.meetings.majority, flagAfterRollovers: config.meetings.flagAfterRollovers },
    ...(args.refreshSchedule ? { refreshSchedule: args.refreshSchedule } : {}),
    ...createMoney(config, models),
    meetingUrl: links.meeting,
    wijkOrganisations: config.support.wijkOrganisations,
    supportUrl: links.supportCase,
    applicationUrl: links.application,
    loginUrl: links.login,
    store: await openStore(config),
    retention: config.retention,
    retentionPersonalDays: config.retention.personalDataDays,
    refundIban: config.payouts.debtor.iban,
    models,
    mailer,
    fundName: config.fund.name,
    mailDomain: mailDomain(config.publicBaseUrl),
    statusUrl: async (id) => links.status(id, await signer.signApplicantLink(id)),
  });
  const worker = await Worker.create({
    connection: args.connection,
    namespace: config.temporal.namespace,
    taskQueue: args.taskQueue ?? config.temporal.taskQueue,
    ...(args.workflowBundle ? { workflowBundle: args.workflowBundle } : { workflowsPath }),
    activities: args.wrapActivities ? args.wrapActivities(activities) : activities,
  });
  return { worker, mailer };
}

export { connectDatabase, NativeConnection };
