/**
 * accountLockedWorkflow: tells a staff member their account was locked after many failed
 * logins (src/services/staff-login.ts). Started by the api process that claimed the lock,
 * with the lock as its id (`account-locked-<lock>`), so a lock gets one workflow and one
 * e-mail (the outbox row has the same key). The activity retries while SMTP is down, for
 * a day at most: after that the warning is stale.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import type { AccountLockedInput } from '../src/domain/workflow-types.ts';

export type { AccountLockedInput };

const { notifyAccountLocked } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  scheduleToCloseTimeout: '1 day',
  retry: { maximumInterval: '10 minutes' },
});

export function accountLockedWorkflowId(lockId: string): string {
  return `account-locked-${lockId}`;
}

export async function accountLockedWorkflow(input: AccountLockedInput): Promise<void> {
  await notifyAccountLocked(input);
}
