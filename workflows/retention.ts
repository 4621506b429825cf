/**
 * retentionSweepWorkflow: started daily by the `personal-data-retention` Schedule. It
 * erases the personal data of every application that ended more than the retention
 * period ago (activities/privacy.ts erasePersonalData: idempotent, keeps the figures and
 * the financial records). One application's failure does not stop the others; the next
 * day's sweep tries it again.
 */
import { log, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';

const { findErasable } = proxyActivities<Activities>({ startToCloseTimeout: '1 minute', retry: { maximumAttempts: 5 } });
const { erasePersonalData } = proxyActivities<Activities>({ startToCloseTimeout: '2 minutes', retry: { maximumAttempts: 3 } });

/** Erased per run at most (a run's history stays small; the rest follows the next day). */
const BATCH = 500;

export async function retentionSweepWorkflow(): Promise<{ erased: number; failed: string[] }> {
  const at = new Date(workflowInfo().startTime ?? Date.now()).toISOString();
  const ids = await findErasable({ at, limit: BATCH });
  const failed: string[] = [];
  let erased = 0;
  for (const applicationId of ids) {
    try {
      await erasePersonalData({ applicationId });
      erased += 1;
    } catch (err) {
      log.warn('personal data not erased; the next sweep tries again', { applicationId, error: String(err) });
      failed.push(applicationId);
    }
  }
  return { erased, failed };
}
