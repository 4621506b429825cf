/**
 * The set-up every test file on the time-skipping server shares (test/workflows,
 * test/support): `timeSkippingSuite()` registers the hooks that start the servers and the
 * Worker (startTimeSkipping, with the run's database and bundled workflows) before the
 * file's tests, terminate the workflows a test left running after each (a timer left
 * waiting would fire during the next test's time skip) and stop everything after all;
 * and it gives the steps and waits those files have in common.
 *
 * Its server fields (env, models, mail, ledger, payouts) are set once the file's
 * beforeAll has run; its functions can be taken out at the top of the file.
 *
 * Time skips only while a test awaits `env.sleep` (or sleepUntil). Nothing here calls
 * `handle.result()` on the time-skipping client: that lets the test server skip time for
 * every workflow (even for a completed one); `finished` reads a result through a
 * client without time skipping, which does not touch the clock.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, expect, inject } from 'vitest';
import { Context } from '@temporalio/activity';
import { Client, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Activities } from '../../activities/index.ts';
import type { NotifyApplicantInput } from '../../activities/notifications.ts';
import type { StaffUserDoc } from '../../src/db/models.ts';
import { amsterdamDate, DAY_MS } from '../../src/domain/dates.ts';
import { AppError } from '../../src/domain/errors.ts';
import { createLogger } from '../../src/logger.ts';
import { completeScreeningUpdate, INVALID_STATE, stateQuery, type InitiativeInput, type InitiativeState } from '../../workflows/initiative.ts';
import { decisionSignal, scheduledSignal } from '../../workflows/initiative-signals.ts';
import { supportWorkflowId, type supportWorkflow } from '../../workflows/support.ts';
import { loadConfig } from '../../src/config.ts';
import { SupportService } from '../../src/support/service.ts';
import { eventually } from './context.ts';
import { validApplication } from './fixtures.ts';
import type { CapturedMail } from './mail.ts';
import { DEBTOR, startTimeSkipping, submitApplication, terminateRunning, type InitiativeHandle, type TimeSkippingOptions, type TimeSkippingWithMail } from './time-skipping.ts';

/** Who screens the applications `decide` grants. */
export const SCREENER = 'panel1@buurtfonds.test';
/** What validApplication() asks: partytent 450,00 + springkussen 150,50. */
export const REQUESTED_CENTS = 60_050;

export type StaffSeed = Omit<StaffUserDoc, 'passwordHash' | 'createdAt'> & { createdAt?: Date };

/**
 * The staff of the follow-up tests: the active panel members and the admin (who get the
 * panel e-mails: STAFF_NOTIFIED), and an inactive member, a welfare worker and finance (who must not).
 */
export function followUpStaff(suffix: string): StaffSeed[] {
  return [
    { _id: `p1-${suffix}`, email: SCREENER, name: 'Panellid Een', role: 'panel', chair: true, active: true },
    { _id: `p2-${suffix}`, email: 'panel2@buurtfonds.test', name: 'Panellid Twee', role: 'panel', chair: false, active: true },
    { _id: `a1-${suffix}`, email: 'admin@buurtfonds.test', name: 'Beheerder', role: 'admin', chair: false, active: true },
    { _id: `p3-${suffix}`, email: 'oud-panellid@buurtfonds.test', name: 'Oud-panellid', role: 'panel', chair: false, active: false },
    { _id: `w1-${suffix}`, email: WELFARE_WORKER, name: 'Welzijnswerker', role: 'welfare', organisation: 'SenW', chair: false, active: true },
    { _id: `f1-${suffix}`, email: 'financien@buurtfonds.test', name: 'Financiën', role: 'finance', chair: false, active: true },
  ];
}
/** followUpStaff's welfare worker: SenW, the organisation of the fixtures' wijk (Voorburg-Midden), gets its support reminders. */
export const WELFARE_WORKER = 'welzijn1@buurtfonds.test';
/** Who of followUpStaff gets the panel e-mails, sorted. */
export const STAFF_NOTIFIED = [SCREENER, 'panel2@buurtfonds.test', 'admin@buurtfonds.test'].sort();

/**
 * When the workflows decided to send each notification: the test server's time at which
 * the activity's first attempt was scheduled (the workflow time of the step that sent it),
 * so an e-mail is checked at its timer, not just "eventually".
 */
export function notificationLog() {
  /** Notification key → template and scheduled time (first attempt). */
  const sent = new Map<string, { template: string; at: number }>();
  const note = (key: string, template: string) => {
    if (!sent.has(key)) sent.set(key, { template, at: Context.current().info.scheduledTimestampMs });
  };
  return {
    sent,
    /**
     * notifyApplicant and notifyPanel of `real`, noting each call. The time-skipping helper
     * wires no `refundIban`: notifyApplicant adds the helper's DEBTOR IBAN to the e-mail's
     * variables, as src/runtime.ts does with config.payouts.debtor.iban.
     */
    activities: (real: Activities): Pick<Activities, 'notifyApplicant' | 'notifyPanel'> => ({
      async notifyApplicant(input) {
        note(input.key, input.template);
        return real.notifyApplicant({ ...input, vars: { ...input.vars, fundIban: DEBTOR.iban } as NotifyApplicantInput['vars'] });
      },
      async notifyPanel(input) {
        note(input.key, input.template);
        return real.notifyPanel(input);
      },
    }),
    /** The notification `key` was sent at the test server's `expected` time (its timer, or the step that caused it), not before and at most a minute after. */
    expectSentAt(key: string, expected: number): void {
      const n = sent.get(key);
      const what = `${key} sent at ${n ? new Date(n.at).toISOString() : '-'}, expected ${new Date(expected).toISOString()}`;
      expect(n, `notification ${key}`).toBeDefined();
      expect(n!.at, what).toBeGreaterThanOrEqual(expected);
      expect(n!.at - expected, what).toBeLessThan(60_000);
    },
  };
}

/** The update was refused by its validator with an ApplicationFailure of `type` (InvalidState: the API's 409); returns the failure. */
export async function expectRefused(update: Promise<unknown>, type = INVALID_STATE): Promise<ApplicationFailure> {
  const err = await update.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'update should have been refused').toBeInstanceOf(WorkflowUpdateFailedError);
  const cause = (err as WorkflowUpdateFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  expect((cause as ApplicationFailure).type).toBe(type);
  return cause as ApplicationFailure;
}

export interface TimeSkippingSuiteOptions extends Pick<TimeSkippingOptions, 'activities' | 'mailer'> {
  /** Names the task queue (`<name>-test-<suffix>`), the database and the meetings `decide` makes up. */
  name: string;
  /** Staff inserted before the tests (with an unusable password hash): the time-skipping helper seeds none. */
  staff?: (suffix: string) => StaffSeed[];
  /** After each test, before its workflows are terminated: let go of what the test held. */
  beforeTerminate?: () => void | Promise<void>;
  /** After each test, once its workflows are terminated. */
  afterTerminate?: () => Promise<void>;
  /**
   * After each test (its workflows terminated): the payouts it left pending go into a batch
   * nobody executes (so the next test's batches hold only its own), and the books must prove themselves.
   */
  checkBooks?: boolean;
}

export interface Submitted {
  applicationId: string;
  workflowId: string;
  reference: string;
  submittedAt: Date;
  handle: InitiativeHandle;
  /** The applicant's e-mail address: `<label>-<suffix>@example.nl`. */
  email: string;
}

export function timeSkippingSuite(options: TimeSkippingSuiteOptions) {
  const suffix = randomBytes(4).toString('hex');
  const taskQueue = `${options.name}-test-${suffix}`;
  const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent', 'buurtfonds-test');
  /** Workflows the tests started: terminated after each test. */
  const started: WorkflowHandle[] = [];
  let referenceSeq = 0;
  let meetingSeq = 0;
  let servers: TimeSkippingWithMail | undefined;
  /** A client without time skipping: waiting on a result through it does not move the test server's clock. */
  let plain: Client | undefined;
  const notYet = () => new Error('the time-skipping suite is used before its beforeAll ran');
  const running = () => {
    if (!servers) throw notYet();
    return servers;
  };
  const plainClient = () => {
    if (!plain) throw notYet();
    return plain;
  };

  function application(id: string) {
    return running().models.Application.findById(id).lean();
  }

  /** Waits until the application's read model (projected by its workflow) has this status; returns it. */
  async function statusOf(app: string | { applicationId: string }, status: string) {
    const applicationId = typeof app === 'string' ? app : app.applicationId;
    return eventually(async () => {
      const a = await application(applicationId);
      return a?.status === status ? a : undefined;
    }, 20_000, `${applicationId} ${status}`);
  }

  /** Waits until the workflow has no activity running and no workflow task to do (or has ended). */
  async function idle(handle: WorkflowHandle): Promise<void> {
    await eventually(async () => {
      const d = await handle.describe();
      return d.status.name !== 'RUNNING' || ((d.raw.pendingActivities ?? []).length === 0 && !d.raw.pendingWorkflowTask);
    }, 20_000, `${handle.workflowId} settled`);
  }

  /** idle, then the initiative's state through its query. */
  async function settled(handle: InitiativeHandle): Promise<InitiativeState> {
    await idle(handle);
    return handle.query(stateQuery);
  }

  /** The result of a workflow once it has completed by itself (read through the client without time skipping: see the header). */
  async function finished<H extends WorkflowHandle>(handle: H): Promise<Awaited<ReturnType<H['result']>>> {
    await eventually(async () => (await handle.describe()).status.name !== 'RUNNING', 20_000, `${handle.workflowId} completed`);
    const plainHandle = plainClient().workflow.getHandle(handle.workflowId);
    expect((await plainHandle.describe()).status.name, `${handle.workflowId} status`).toBe('COMPLETED');
    return plainHandle.result() as Promise<Awaited<ReturnType<H['result']>>>;
  }

  /** The application's support case as the staff's queue reads it (src/support/); undefined before it is queued. */
  function supportCase(applicationId: string) {
    return new SupportService({ models: running().models, organisations: loadConfig({}).support.wijkOrganisations }).get(applicationId);
  }

  /** The handle of the application's support case workflow (the initiative's child). */
  function supportHandle(applicationId: string): WorkflowHandle<typeof supportWorkflow> {
    return running().env.client.workflow.getHandle(supportWorkflowId(applicationId));
  }

  /** Lets the test server's clock run to `at` (ms or ISO 8601); nothing when it is there already. */
  async function sleepUntil(at: number | string): Promise<void> {
    const target = typeof at === 'string' ? Date.parse(at) : at;
    const now = await running().env.currentTimeMs();
    if (target > now) await running().env.sleep(target - now);
  }

  /** The read-model timeline in workflow order (event ids end in the workflow's sequence number). */
  async function timeline(applicationId: string) {
    const events = await running().models.Event.find({ applicationId }).lean();
    const seq = (id: string) => Number(id.slice(id.lastIndexOf(':') + 1));
    return events.sort((a, b) => seq(a._id) - seq(b._id));
  }

  async function timelineTypes(applicationId: string): Promise<string[]> {
    return (await timeline(applicationId)).map((e) => e.type);
  }

  function mailsTo(email: string): CapturedMail[] {
    return running().mail.mails.filter((m) => m.to.includes(email));
  }

  function waitForMail(email: string, subject: string): Promise<CapturedMail> {
    return running().mail.waitFor((m) => m.to.includes(email) && m.subject === subject);
  }

  /**
   * Stores an application as intake does (validApplication with `form`, the applicant's
   * e-mail `<label>-<suffix>@example.nl`) and starts its initiativeWorkflow; returns once it is
   * in screening (`inScreening: false`: right after the start, as intake's 201).
   */
  async function submit(
    label: string,
    opts: { form?: Record<string, unknown>; applicant?: Record<string, unknown>; input?: Partial<InitiativeInput>; inScreening?: boolean } = {},
  ): Promise<Submitted> {
    const email = `${label}-${suffix}@example.nl`;
    const form = validApplication(opts.form);
    const submitted = await submitApplication(running(), { number: ++referenceSeq, form: { ...form, applicant: { ...form.applicant, ...opts.applicant, email } }, input: opts.input, started, inScreening: opts.inScreening });
    // Its support case's workflow (if the grant starts one) is terminated after the initiative: it outlives a terminated parent.
    started.push(supportHandle(submitted.applicationId));
    return { ...submitted, email };
  }

  /**
   * Screens the application and hands it a meeting's decision the way panelMeetingWorkflow
   * does: on the agenda of a meeting `meetingInDays` ahead (scheduled), then decided there
   * and then: approved in full, or partially (the springkussen struck) when `grantedCents`
   * is less than requested. Returns once the read model shows `expected`.
   */
  async function decide(app: { applicationId: string; handle: InitiativeHandle }, expected: string, opts: { grantedCents?: number; meetingInDays?: number } = {}): Promise<void> {
    const grantedCents = opts.grantedCents ?? REQUESTED_CENTS;
    const partial = grantedCents < REQUESTED_CENTS;
    expect(await app.handle.executeUpdate(completeScreeningUpdate, { args: [{ completedBy: SCREENER }] })).toEqual({ status: 'ready_for_meeting' });
    const now = await running().env.currentTimeMs();
    const startsAt = new Date(now + (opts.meetingInDays ?? 7) * DAY_MS).toISOString();
    const meetingId = `meeting-${options.name}-${suffix}-${++meetingSeq}`;
    await app.handle.signal(scheduledSignal, { meetingId, date: amsterdamDate(new Date(startsAt)), startsAt });
    await statusOf(app, 'scheduled');
    await app.handle.signal(decisionSignal, {
      meetingId,
      outcome: partial ? 'partially_approved' : 'approved',
      grantedCents,
      requestedCents: REQUESTED_CENTS,
      reasons: partial ? ['Het springkussen valt buiten de regeling.'] : [],
      struckLines: partial ? [1] : [],
      decidedAt: new Date(now).toISOString(),
    });
    await statusOf(app, expected);
  }

  const suite = {
    suffix,
    taskQueue,
    logger,
    started,
    get env() {
      return running().env;
    },
    get models() {
      return running().models;
    },
    get mail() {
      return running().mail;
    },
    get ledger() {
      return running().ledger;
    },
    get payouts() {
      return running().payouts;
    },
    application,
    statusOf,
    idle,
    settled,
    finished,
    sleepUntil,
    supportCase,
    supportHandle,
    timeline,
    timelineTypes,
    mailsTo,
    waitForMail,
    submit,
    decide,
  };

  beforeAll(async () => {
    servers = await startTimeSkipping({
      logger,
      mongoUri: inject('mongoUri'),
      workflowBundlePath: inject('workflowBundlePath'),
      dbName: `t_${options.name.replace(/-/g, '')}_${suffix}`,
      taskQueue,
      catchMail: true,
      ...(options.activities ? { activities: options.activities } : {}),
      ...(options.mailer ? { mailer: options.mailer } : {}),
      runWorker: true,
    });
    plain = new Client({ connection: servers.env.connection, namespace: servers.env.namespace ?? 'default' });
    const staff = options.staff?.(suffix) ?? [];
    if (staff.length) await servers.models.StaffUser.create(staff.map((s) => ({ ...s, passwordHash: 'not-used' })));
  });

  afterEach(async () => {
    await options.beforeTerminate?.();
    await terminateRunning(started, 'test finished');
    await options.afterTerminate?.();
    if (options.checkBooks) {
      await running().payouts.createBatch({ actor: 'test-cleanup' }).catch((err: unknown) => {
        if (!(err instanceof AppError && err.code === 'no_pending_payouts')) throw err;
      });
      const check = await running().ledger.check();
      expect(check.years.flatMap((y) => y.problems)).toEqual([]);
      expect(check.ok).toBe(true);
    }
  });

  afterAll(async () => {
    await servers?.stop();
  });

  return suite;
}
