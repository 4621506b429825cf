/**
 * supportWorkflow on the real time-skipping test server, with the real activities
 * against a real database (FerretDB) and a real SMTP server: an initiative waiting in
 * the support queue is reminded to the welfare workers of its wijk's organisation at the
 * end (Amsterdam) of the 7th day after the day the wait began and flagged to the admin at
 * the end of the 14th, also across a change of clocks; a claim before then means no reminder; a
 * release starts the wait again; an initiative that ends stops it. Claims and releases
 * go through the SupportService exactly as the API makes them (append, then signal or
 * signal-with-start). The tests never call `handle.result()` on the time-skipping client
 * (it would let the test server skip time for every workflow).
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { WorkflowHandle } from '@temporalio/client';
import { submittedApplication } from '../../src/db/models.ts';
import type { ApplicationInput } from '../../src/domain/application.ts';
import { addCalendarDays, amsterdamDate, DAY_MS, endOfAmsterdamDay, formatDate } from '../../src/domain/dates.ts';
import { loadConfig } from '../../src/config.ts';
import { SupportService } from '../../src/support/service.ts';
import { temporalSupportWorkflows } from '../../src/support/temporal.ts';
import { supportWorkflow, supportWorkflowId } from '../../workflows/support.ts';
import { eventually } from '../helpers/context.ts';
import { validApplication } from '../helpers/fixtures.ts';
import type { CapturedMail } from '../helpers/mail.ts';
import { timeSkippingSuite } from '../helpers/time-skipping-suite.ts';
import { instantAt, nextChange } from '../helpers/summer-time.ts';

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

const suite = timeSkippingSuite({
  name: 'support',
  staff: () => Object.values(STAFF).map((s) => ({ ...s, chair: false, createdAt: new Date() })),
});
const { suffix, taskQueue, started, idle, finished } = suite;

let support: SupportService;
/** Test-server time for the service's clock (what the API's clock would say at that moment). */
let clock = Date.now();

const STAFF = {
  woej: { _id: randomUUID(), email: `woej-${suffix}@buurtfonds.test`, name: 'Opbouwwerker Woej', role: 'welfare', organisation: 'Woej', active: true },
  woejLeft: { _id: randomUUID(), email: `woej-weg-${suffix}@buurtfonds.test`, name: 'Vertrokken Woej', role: 'welfare', organisation: 'Woej', active: false },
  senw: { _id: randomUUID(), email: `senw-${suffix}@buurtfonds.test`, name: 'Ondersteuner SenW', role: 'welfare', organisation: 'SenW', active: true },
  admin: { _id: randomUUID(), email: `admin-${suffix}@buurtfonds.test`, name: 'Beheerder', role: 'admin', active: true },
  panel: { _id: randomUUID(), email: `panel-${suffix}@buurtfonds.test`, name: 'Panellid', role: 'panel', active: true },
} as const;

beforeAll(() => {
  support = new SupportService({
    models: suite.models,
    organisations: loadConfig({}).support.wijkOrganisations,
    workflows: temporalSupportWorkflows(suite.env.client, taskQueue),
    logger: suite.logger,
    now: () => new Date(clock),
  });
});

// ---------------------------------------------------------------------------------

let referenceSeq = 0;

interface Case {
  applicationId: string;
  reference: string;
  handle: WorkflowHandle<typeof supportWorkflow>;
  /** Test-server time at which the workflow started. */
  startedAt: number;
}

/** An approved initiative (status reserved) in `wijken`, and its supportWorkflow started as the initiative workflow starts it; returns once the case is queued. */
async function queued(wijken: string[]): Promise<Case> {
  const applicationId = randomUUID();
  const reference = `VW-2026-${String(9000 + ++referenceSeq)}`;
  const now = await suite.env.currentTimeMs();
  const form = validApplication({ wijken, title: `Initiatief ${reference}` }) as unknown as ApplicationInput;
  await suite.models.Application.create({ ...submittedApplication({ id: applicationId, form, reference, year: 2026, submittedAt: new Date(now) }), status: 'reserved', statusSeq: 5 });
  await suite.env.client.workflow.start(supportWorkflow, {
    taskQueue,
    workflowId: supportWorkflowId(applicationId),
    args: [{ applicationId, reason: 'requested', wish: form.supportWish }],
  });
  // Not bound to this run: a release starts the next run under the same id.
  const handle = suite.env.client.workflow.getHandle<typeof supportWorkflow>(supportWorkflowId(applicationId));
  started.push(handle);
  await eventually(() => support.get(applicationId), 15_000, `${reference} queued`);
  return { applicationId, reference, handle, startedAt: now };
}

/** Lets the test server's clock run to `at`; the service's clock follows. */
async function sleepUntil(at: number): Promise<void> {
  await suite.sleepUntil(at);
  clock = await suite.env.currentTimeMs();
}

const mailsAbout = (c: Case): CapturedMail[] => suite.mail.mails.filter((m) => m.subject.includes(c.reference));
const to = (mails: CapturedMail[]) => mails.flatMap((m) => m.to).sort();

/** When the reminder (7) or the flag (14) of the case's current wait is due: the end of that day after the wait began, ms. */
async function dueAfter(c: Case, days: number): Promise<number> {
  return endOfAmsterdamDay(new Date((await support.get(c.applicationId))!.waitingSince), days).getTime();
}

async function kinds(c: Case): Promise<string[]> {
  return (await support.get(c.applicationId))!.history.map((h) => h.type);
}

// ---------------------------------------------------------------------------------

describe('supportWorkflow', () => {
  it('reminds the active welfare workers of the wijk organisation when the 7th day after the queueing has ended (Amsterdam), and only them', async () => {
    const bovenveen = await queued(['Bovenveen']); // Woej
    const voorburg = await queued(['Voorburg-Midden', 'Bovenveen']); // the first wijk counts: SenW
    expect((await support.get(bovenveen.applicationId))!.organisation).toBe('Woej');
    expect((await support.get(voorburg.applicationId))!.organisation).toBe('SenW');
    await idle(bovenveen.handle);
    await idle(voorburg.handle);

    const [dueB, dueV] = [await dueAfter(bovenveen, 7), await dueAfter(voorburg, 7)];
    await sleepUntil(Math.min(dueB, dueV) - HOUR_MS);
    await idle(bovenveen.handle);
    expect(mailsAbout(bovenveen), 'no reminder before the 7th day has ended').toEqual([]);

    await sleepUntil(Math.max(dueB, dueV) + MINUTE_MS);
    await eventually(async () => mailsAbout(bovenveen).length > 0 && mailsAbout(voorburg).length > 0, 20_000, 'both reminders');
    await idle(bovenveen.handle);
    await idle(voorburg.handle);
    // Woej's active worker only (not the one who left, not SenW, not the admin or panel).
    expect(to(mailsAbout(bovenveen))).toEqual([STAFF.woej.email]);
    expect(to(mailsAbout(voorburg))).toEqual([STAFF.senw.email]);
    const mail = mailsAbout(bovenveen)[0]!;
    expect(mail.subject).toBe(`Ondersteuningsvraag ${bovenveen.reference} wacht al 7 dagen op een opbouwwerker`);
    expect(mail.text).toContain('Beste Opbouwwerker Woej,');
    expect(mail.text).toContain('Hulp bij het aanvragen van de vergunning');
    expect(mail.text).toContain(`http://buurtfonds.test/api/v1/support/${bovenveen.applicationId}`);

    const c = (await support.get(bovenveen.applicationId))!;
    expect(c.state).toBe('unclaimed');
    expect(Date.parse(c.reminderSentAt!) - Date.parse(c.queuedAt)).toBeGreaterThanOrEqual(7 * DAY_MS);
    expect(Date.parse(c.reminderSentAt!) - dueB).toBeGreaterThanOrEqual(0);
    expect(Date.parse(c.reminderSentAt!) - dueB).toBeLessThan(MINUTE_MS);
    expect(c.flaggedAt).toBeUndefined();
    expect(await kinds(bovenveen)).toEqual(['queued', 'reminder_sent']);
    expect((await support.queue({ state: 'unclaimed' })).map((q) => q.reference)).toEqual(expect.arrayContaining([bovenveen.reference, voorburg.reference]));
  });

  it('flags the case to the admin when the 14th day has ended, and completes when it is claimed after all', async () => {
    const c = await queued(['Stompwijk']);
    await idle(c.handle);
    await sleepUntil((await dueAfter(c, 7)) + MINUTE_MS);
    await eventually(async () => mailsAbout(c).length === 1, 20_000, 'the reminder');
    await idle(c.handle);
    const flagDue = await dueAfter(c, 14);
    await sleepUntil(flagDue - HOUR_MS);
    await idle(c.handle);
    expect(to(mailsAbout(c)), 'no flag before the 14th day has ended').toEqual([STAFF.woej.email]);

    await sleepUntil(flagDue + MINUTE_MS);
    await eventually(async () => mailsAbout(c).length === 2, 20_000, 'the flag');
    await idle(c.handle);
    const flag = mailsAbout(c).find((m) => m.to.includes(STAFF.admin.email))!;
    expect(flag.subject).toBe(`Ondersteuningsvraag ${c.reference} is na 14 dagen nog niet opgepakt`);
    expect(flag.text).toContain('Beste Beheerder,');
    const state = (await support.get(c.applicationId))!;
    expect(Date.parse(state.flaggedAt!) - flagDue).toBeGreaterThanOrEqual(0);
    expect(Date.parse(state.flaggedAt!) - flagDue).toBeLessThan(MINUTE_MS);
    expect(await kinds(c)).toEqual(['queued', 'reminder_sent', 'flagged']);
    expect((await c.handle.describe()).status.name).toBe('RUNNING');

    // Flagged and reminded: it waits for a claim, and completes when one comes.
    await support.claim(c.applicationId, { id: STAFF.woej._id, role: 'welfare' });
    expect(await finished(c.handle)).toMatchObject({ outcome: 'claimed', timing: { state: 'claimed', reminderSent: true, flagged: true } });
    await sleepUntil(c.startedAt + 30 * DAY_MS);
    expect(mailsAbout(c)).toHaveLength(2);
  });

  it('sends no reminder for a case claimed before 7 days (the workflow completes at the claim)', async () => {
    const c = await queued(['Bovenveen']);
    await idle(c.handle);
    await sleepUntil(c.startedAt + 2 * DAY_MS);
    const claimed = await support.claim(c.applicationId, { id: STAFF.senw._id, role: 'welfare' });
    expect(claimed.claimedBy).toMatchObject({ id: STAFF.senw._id, name: 'Ondersteuner SenW', organisation: 'SenW' });
    expect(await finished(c.handle)).toMatchObject({ outcome: 'claimed', timing: { state: 'claimed', reminderSent: false, flagged: false } });

    await sleepUntil(c.startedAt + 15 * DAY_MS);
    expect(mailsAbout(c)).toEqual([]);
    expect(await kinds(c)).toEqual(['queued', 'claimed']);
    expect(await suite.models.Outbox.countDocuments({ applicationId: c.applicationId })).toBe(0);
  });

  it('starts the wait again at a release: the reminder comes 7 days after the release, not after the queueing', async () => {
    const c = await queued(['Damsigt']);
    await idle(c.handle);
    await sleepUntil(c.startedAt + 1 * DAY_MS);
    await support.claim(c.applicationId, { id: STAFF.woej._id, role: 'welfare' });
    await finished(c.handle);

    await sleepUntil(c.startedAt + 3 * DAY_MS);
    const releasedAt = clock;
    const released = await support.release(c.applicationId, { id: STAFF.woej._id, role: 'welfare' });
    expect(released.state).toBe('unclaimed');
    expect(released.waitingSince).toBe(new Date(releasedAt).toISOString());
    // Signal-with-start: a new run under the same id.
    await eventually(async () => (await c.handle.describe()).status.name === 'RUNNING', 15_000, 'the new run');
    await idle(c.handle);

    await sleepUntil(c.startedAt + 9 * DAY_MS);
    await idle(c.handle);
    expect(mailsAbout(c), 'no reminder 7 days after the queueing').toEqual([]);
    await sleepUntil(endOfAmsterdamDay(new Date(releasedAt), 7).getTime() + MINUTE_MS);
    await eventually(async () => mailsAbout(c).length === 1, 20_000, 'the reminder after the release');
    expect(to(mailsAbout(c))).toEqual([STAFF.woej.email]);
    const state = (await support.get(c.applicationId))!;
    expect(Date.parse(state.reminderSentAt!) - releasedAt).toBeGreaterThanOrEqual(7 * DAY_MS);
    expect(await kinds(c)).toEqual(['queued', 'claimed', 'released', 'reminder_sent']);
  });

  it('ends the wait without a reminder when the initiative is withdrawn', async () => {
    const c = await queued(['Prinsenhof']);
    await idle(c.handle);
    await suite.models.Application.updateOne({ _id: c.applicationId }, { $set: { status: 'withdrawn' } });
    await sleepUntil((await dueAfter(c, 7)) + MINUTE_MS);
    expect(await finished(c.handle)).toMatchObject({ outcome: 'ended' });
    expect(mailsAbout(c)).toEqual([]);
    expect(await kinds(c)).toEqual(['queued']);
    // Not in the queue any more.
    expect((await support.queue()).map((q) => q.reference)).not.toContain(c.reference);
  });

  // Last in the file: it moves the test server's clock to the next change to winter time.
  it('queued late on the Saturday before the last Sunday of October: the reminder and the flag as the 7th and 14th days end in Amsterdam (winter time), not 7 × 24 h later', async () => {
    const sunday = nextChange('october', await suite.env.currentTimeMs(), 2);
    const saturday = addCalendarDays(sunday, -1);
    // 23:30 summer time: 7 × 24 h from here would end at 22:30 winter time on the 7th day, an hour and a half early.
    await sleepUntil(instantAt(saturday, '23:30:00.000', 2));
    const c = await queued(['Bovenveen']);
    await idle(c.handle);
    const waiting = (await support.get(c.applicationId))!;
    expect(amsterdamDate(new Date(waiting.waitingSince))).toBe(saturday);

    const remindAt = instantAt(addCalendarDays(saturday, 7), '23:59:59.999', 1);
    await sleepUntil(remindAt - MINUTE_MS);
    await idle(c.handle);
    expect(mailsAbout(c), 'no reminder before the 7th day has ended').toEqual([]);
    await sleepUntil(remindAt + MINUTE_MS);
    await eventually(async () => mailsAbout(c).length === 1, 20_000, 'the reminder');
    const reminder = mailsAbout(c)[0]!;
    expect(reminder.subject).toBe(`Ondersteuningsvraag ${c.reference} wacht al 7 dagen op een opbouwwerker`);
    expect(reminder.text).toContain(`sinds ${formatDate(new Date(`${saturday}T12:00:00Z`))} in de ondersteuningswachtrij`);
    await idle(c.handle);
    const reminded = (await support.get(c.applicationId))!;
    expect(Date.parse(reminded.reminderSentAt!)).toBeGreaterThanOrEqual(remindAt);
    expect(Date.parse(reminded.reminderSentAt!)).toBeLessThan(remindAt + MINUTE_MS);

    const flagAt = instantAt(addCalendarDays(saturday, 14), '23:59:59.999', 1);
    await sleepUntil(flagAt - MINUTE_MS);
    await idle(c.handle);
    expect(mailsAbout(c), 'no flag before the 14th day has ended').toHaveLength(1);
    await sleepUntil(flagAt + MINUTE_MS);
    await eventually(async () => mailsAbout(c).length === 2, 20_000, 'the flag');
    await idle(c.handle);
    const flagged = (await support.get(c.applicationId))!;
    expect(Date.parse(flagged.flaggedAt!)).toBeGreaterThanOrEqual(flagAt);
    expect(Date.parse(flagged.flaggedAt!)).toBeLessThan(flagAt + MINUTE_MS);
    expect(await kinds(c)).toEqual(['queued', 'reminder_sent', 'flagged']);
  });
});
