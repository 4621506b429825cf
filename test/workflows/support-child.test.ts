/**
 * A granted initiative's support case (supportWorkflow, started as its child with parent
 * close policy ABANDON) ends with the initiative, on the real time-skipping test server
 * with the real activities, database and SMTP server.
 *
 * The time-skipping server holds a time lock for every child that completes until the
 * parent has recorded that completion; a parent that has already closed never does, so a
 * child completing after its parent stopped the clock for good: every later `env.sleep`
 * hung (sdk-java issues #1618 and #2392). The initiative now signals its support case when
 * it ends (supportEnded, patched('support-ends-with-initiative')) and waits for the child it
 * started, so the child completes first. Every time skip here is bounded (`skip`): a held
 * lock fails the test in seconds instead of hanging it.
 */
import { describe, expect, it } from 'vitest';
import { temporal } from '@temporalio/proto';
import { DAY_MS, endOfAmsterdamDay } from '../../src/domain/dates.ts';
import { withdrawUpdate } from '../../workflows/initiative.ts';
import { eventually } from '../helpers/context.ts';
import { followUpStaff, timeSkippingSuite, WELFARE_WORKER } from '../helpers/time-skipping-suite.ts';

const MINUTE_MS = 60_000;
const ADMIN = 'admin@buurtfonds.test';

const suite = timeSkippingSuite({ name: 'supportchild', staff: followUpStaff });
const { decide, finished, idle, mailsTo, sleepUntil, waitForMail } = suite;

/** Lets the test server's clock run `ms` (or to `at` with sleepUntil); fails after 20 s of real time when the clock does not move (a held time lock). */
async function skip(what: string, sleep: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const stuck = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the test server's clock did not skip ${what}: a time lock is held`)), 20_000);
  });
  try {
    await Promise.race([sleep, stuck]);
  } finally {
    clearTimeout(timer);
  }
}

/** Submits an application that asks for support, grants it (reserved: the support case is queued); returns it with its support workflow's handle once the case waits. */
async function grantedWithSupport(label: string) {
  const app = await suite.submit(label);
  await decide(app, 'reserved', { meetingInDays: 2 });
  const reservedAt = await suite.env.currentTimeMs();
  const support = suite.supportHandle(app.applicationId);
  const queued = await eventually(() => suite.supportCase(app.applicationId), 20_000, `${app.reference} queued for support`);
  await idle(support);
  expect((await support.describe()).status.name).toBe('RUNNING');
  expect(queued).toMatchObject({ state: 'unclaimed', reason: 'requested', wish: 'Hulp bij het aanvragen van de vergunning', organisation: 'SenW' });
  return { ...app, support, reservedAt };
}

/** Both completed, the support case first (its result: ended), and the clock still skips: past the case's reminder and flag and a month on. */
async function endedWithInitiative(app: Awaited<ReturnType<typeof grantedWithSupport>>): Promise<void> {
  const initiative = await finished(app.handle);
  expect(initiative.status).toBe('withdrawn');
  expect(await finished(app.support)).toMatchObject({ outcome: 'ended', timing: { state: 'ended' } });
  const [parentClosed, childClosed] = await Promise.all([app.handle.describe(), app.support.describe()]).then((ds) => ds.map((d) => d.closeTime!.getTime()));
  expect(childClosed).toBeLessThanOrEqual(parentClosed!);
  const { EventType } = temporal.api.enums.v1;
  const types = (await app.handle.fetchHistory()).events!.map((e) => e.eventType);
  // It signalled its support case and recorded the case's completion, then completed.
  expect(types).toContain(EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED);
  expect(types.slice(types.indexOf(EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED)).at(-1)).toBe(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
  const before = await suite.env.currentTimeMs();
  await skip('30 days after the initiative ended', suite.env.sleep(30 * DAY_MS));
  expect((await suite.env.currentTimeMs()) - before).toBeGreaterThanOrEqual(30 * DAY_MS);
}

describe('supportWorkflow: the support case ends with its initiative', () => {
  it('withdrawn before the reminder: the support case ends (ended) before the initiative completes, nobody is reminded, and time skips past the case timers', async () => {
    const app = await grantedWithSupport('hulp-kort');
    await skip('two days', suite.env.sleep(2 * DAY_MS));
    expect(await app.handle.executeUpdate(withdrawUpdate, { args: [{ reason: 'Het feest gaat niet door' }] })).toMatchObject({ status: 'withdrawn' });
    await endedWithInitiative(app);
    expect(mailsTo(WELFARE_WORKER)).toEqual([]);
    expect(mailsTo(ADMIN).filter((m) => m.subject.includes(app.reference))).toEqual([]);
  });

  it('withdrawn after the reminder and the flag: the wait that followed the flag (it used to last for ever) ends with the initiative', async () => {
    const app = await grantedWithSupport('hulp-lang');
    const remindAt = endOfAmsterdamDay(new Date(app.reservedAt), 7).getTime();
    const flagAt = endOfAmsterdamDay(new Date(app.reservedAt), 14).getTime();
    await skip('to the reminder', sleepUntil(remindAt + MINUTE_MS));
    await waitForMail(WELFARE_WORKER, `Ondersteuningsvraag ${app.reference} wacht al 7 dagen op een opbouwwerker`);
    await skip('to the flag', sleepUntil(flagAt + MINUTE_MS));
    await waitForMail(ADMIN, `Ondersteuningsvraag ${app.reference} is na 14 dagen nog niet opgepakt`);
    await idle(app.support);
    expect((await app.support.describe()).status.name).toBe('RUNNING'); // reminded and flagged, waiting for a worker
    expect(await app.handle.executeUpdate(withdrawUpdate, { args: [{ reason: 'Niemand kon helpen' }] })).toMatchObject({ status: 'withdrawn' });
    await endedWithInitiative(app);
    expect(mailsTo(WELFARE_WORKER).map((m) => m.subject)).toEqual([`Ondersteuningsvraag ${app.reference} wacht al 7 dagen op een opbouwwerker`]);
  });
});
