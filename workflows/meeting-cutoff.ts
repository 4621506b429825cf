/**
 * meetingCutoffWorkflow: what the `panel-meetings` Schedule starts at each cut-off.
 * It finds the meeting of this cut-off (the calendar with skips and moves applied)
 * and starts its panelMeetingWorkflow under the business id `meeting-<date>`.
 */
import { defineSearchAttributeKey, SearchAttributeType, WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ParentClosePolicy, proxyActivities, startChild, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { panelMeetingWorkflow } from './meeting.ts';

const { meetingForCutoff, refreshMeetingSchedule } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

const scheduledStartTime = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

export async function meetingCutoffWorkflow(): Promise<{ meetingId?: string }> {
  const info = workflowInfo();
  const scheduledAt = info.typedSearchAttributes.get(scheduledStartTime) ?? info.startTime;
  const meeting = await meetingForCutoff({ cutoffAt: scheduledAt.toISOString() });
  // Keep the schedule's calendar a year ahead.
  await refreshMeetingSchedule();
  if (!meeting) return {};
  try {
    await startChild(panelMeetingWorkflow, {
      workflowId: meeting.meetingId,
      args: [meeting],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
  return { meetingId: meeting.meetingId };
}
