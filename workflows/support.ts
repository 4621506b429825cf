/**
 * supportWorkflow: an approved initiative waiting for a welfare worker (id
 * `support-<applicationId>`). The initiative workflow starts it as a child (parent close
 * policy ABANDON) once the grant is reserved, when the applicant asked for help or the
 * panel flagged it.
 *
 * The case itself is the chain `support-<applicationId>` in MongoDB (src/support/): the
 * API appends claims, releases, hand-overs and notes there. This workflow only drives the
 * timers of a wait: it opens the case (queued), and while nobody has claimed it, e-mails
 * the welfare workers of the wijk's organisation at the end of the 7th day (Amsterdam)
 * after the day the wait began and flags the case to the admin at the end of the 14th.
 * Every step is decided on the case as stored (the activities re-read it), so a claim
 * the workflow has not heard of never gets a reminder.
 *
 * Claims reach it as a signal after the API's append; it then completes. A release
 * starts the next wait with signal-with-start (a new run under the same id, or the
 * signal to the run still going), and the reminder and flag count again from the release.
 * An initiative that ends (withdrawn, reclaimed, closed) ends the wait without a reminder:
 * its workflow signals supportEnded as it completes (and waits for this one when it is its child).
 */
import { condition, defineQuery, defineSignal, patched, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { DAY_MS, endOfAmsterdamDay } from '../src/domain/dates.ts';
import { AMSTERDAM_DEADLINES, SUPPORT_FLAG_DAYS, SUPPORT_REMINDER_DAYS, type SupportOutcome, type SupportTiming, type SupportWorkflowInput, type WaitStepInput } from '../src/domain/workflow-types.ts';

export function supportWorkflowId(applicationId: string): string {
  return `support-${applicationId}`;
}

/** Sent by the API after it appended a claim to the case. */
export const supportClaimedSignal = defineSignal<[{ at: string }]>('supportClaimed');
/** Sent (with start) by the API after it appended a release: a new wait begins. */
export const supportReleasedSignal = defineSignal<[{ at: string }]>('supportReleased');
/** Sent by the initiative workflow when the initiative is over (withdrawn, reclaimed, closed): the case is read again and the wait ends. */
export const supportEndedSignal = defineSignal<[{ at: string }]>('supportEnded');
export const supportTimingQuery = defineQuery<SupportTiming | undefined>('supportTiming');

const { openSupportCase, readSupportTiming, remindSupportWorkers, flagSupportCase } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' },
});

export async function supportWorkflow(input: SupportWorkflowInput): Promise<SupportOutcome> {
  const { applicationId } = input;
  const reminderDays = input.reminderDays ?? SUPPORT_REMINDER_DAYS;
  const flagDays = input.flagDays ?? SUPPORT_FLAG_DAYS;
  const nowIso = () => new Date().toISOString(); // workflow time: deterministic

  /** Counts signals; `readAt` is its value when `timing` was last read from the case. */
  let signals = 0;
  let readAt = 0;
  let timing: SupportTiming | undefined;
  setHandler(supportClaimedSignal, () => void (signals += 1));
  setHandler(supportReleasedSignal, () => void (signals += 1));
  setHandler(supportEndedSignal, () => void (signals += 1));
  setHandler(supportTimingQuery, () => timing);

  readAt = signals;
  timing = await openSupportCase({ applicationId, reason: input.reason, ...(input.wish ? { wish: input.wish } : {}), at: nowIso() });
  for (;;) {
    // A claim or release arrived after the last read: read the case again before deciding.
    if (signals !== readAt) {
      readAt = signals;
      timing = await readSupportTiming({ applicationId });
      continue;
    }
    if (timing.state !== 'unclaimed') return { outcome: timing.state, timing };
    const since = Date.parse(timing.waitingSince);
    const step: 'remind' | 'flag' | undefined = !timing.reminderSent ? 'remind' : !timing.flagged ? 'flag' : undefined;
    if (!step) {
      // Reminded and flagged: nothing more to do until someone claims it (or it is released again).
      await condition(() => signals !== readAt);
      continue;
    }
    const days = step === 'remind' ? reminderDays : flagDays;
    // At the end of the Nth day (Amsterdam) after the day the wait began; waits timed before this rule: N × 24 h.
    const due = patched(AMSTERDAM_DEADLINES) ? endOfAmsterdamDay(new Date(since), days).getTime() : since + days * DAY_MS;
    if (await condition(() => signals !== readAt, Math.max(due - Date.now(), 1))) continue;
    readAt = signals;
    const args: WaitStepInput = { applicationId, period: timing.period, at: nowIso(), days };
    timing = step === 'remind' ? await remindSupportWorkers(args) : await flagSupportCase(args);
  }
}
