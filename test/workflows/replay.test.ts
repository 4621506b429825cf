/**
 * Replays the recorded histories in test/histories/ (scripts/record-histories.ts) against
 * the current workflow code. A change to the command sequence of a workflow (an activity
 * moved, a timer added, a step reordered) would break every initiative or meeting already
 * running in production; here it fails with a DeterminismViolationError instead.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { projectRoot } from '../../src/embedded/servers.ts';
import { createLogger, temporalLogger } from '../../src/logger.ts';
import { installTemporalRuntime, workflowsPath } from '../../src/runtime.ts';

const historiesDir = join(projectRoot, 'test/histories');
const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent', 'buurtfonds-test');

/** Every <workflow id>.json, e.g. initiative-lapse.json or meeting-chair-close.json: the history of that workflow id. */
function loadHistories() {
  return readdirSync(historiesDir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({
      file,
      workflowId: basename(file, '.json'),
      history: historyFromJSON(JSON.parse(readFileSync(join(historiesDir, file), 'utf8'))),
    }));
}

let workflowBundle: WorkflowBundleWithSourceMap;
beforeAll(async () => {
  installTemporalRuntime(logger);
  workflowBundle = await bundleWorkflowCode({ workflowsPath, logger: temporalLogger(logger) });
});

describe('workflow histories replay against the current code', () => {
  it('has the recorded initiative scenarios', () => {
    const scenarios = ['answered-after-reminder', 'happy-path', 'information-answered', 'lapse', 'withdraw'];
    // Initiatives through a meeting: scheduled, invited and partially approved; rejected (completed); rolled over.
    const throughMeeting = ['meeting-partial', 'meeting-rejected', 'meeting-rollover'];
    // After a grant (behind patched('budget-ledger')): reserved and paid; op is op (completed);
    // withdrawn with the payout pending (cancelled, released); withdrawn after the batch (paid, reclaimed);
    // released with a support case, whose end it signals and waits for (behind patched('support-ends-with-initiative')).
    const budget = ['grant-paid', 'budget-exhausted', 'grant-released', 'grant-reclaimed', 'grant-released-support'];
    // After the payout (behind patched('follow-up')): the whole life to closed (reminder, activity_held,
    // report_due, report, accept, refund in two parts); no report → reminders, escalation, reject with
    // reclaim (reclaimed); a clarification past its deadline (escalated), answered late, rejected (closed).
    const followUp = ['lifecycle-closed', 'report-reclaimed', 'report-clarified'];
    // A screening action right after intake, before the first step (behind patched('actions-before-screening')):
    // it waits for screening and is taken; its wait runs out (not ready).
    const early = ['early-request', 'early-not-ready'];
    // Deadlines at the end of an Amsterdam day (behind patched('amsterdam-deadlines')): the information
    // request that lapses, the report's due date and last reminder, the clarification; the files above keep N × 24 h.
    const amsterdamDeadlines = ['lapse-amsterdam', 'report-reclaimed-amsterdam', 'report-clarified-amsterdam'];
    expect(loadHistories().map((h) => h.workflowId)).toEqual(
      expect.arrayContaining([...scenarios, ...throughMeeting, ...budget, ...followUp, ...early, ...amsterdamDeadlines].map((s) => `initiative-${s}`)),
    );
  });

  it('has the recorded meeting scenarios', () => {
    // Votes, a changed vote, a recusal, an invitation and the chair closing early; no quorum and
    // an automatic close at the end of the day; an empty agenda; four updates a run: the first run
    // (continued as new) and the last (from the carried state to the chair's close).
    const scenarios = ['chair-close', 'automatic-rollover', 'empty-agenda', 'continue-as-new', 'continue-as-new-last-run'];
    // The Schedule's cut-off workflow starting its meeting (recorded by test/temporal/meeting-cutoff.test.ts).
    expect(loadHistories().map((h) => h.workflowId)).toContain('meeting-cutoff');
    expect(loadHistories().map((h) => h.workflowId)).toEqual(expect.arrayContaining(scenarios.map((s) => `meeting-${s}`)));
  });

  it('replays every history in test/histories without a determinism error', async () => {
    const histories = loadHistories();
    const results = [];
    for await (const result of Worker.runReplayHistories({ workflowBundle, replayName: 'buurtfonds-replay-test' }, histories)) {
      results.push({ workflowId: result.workflowId, error: result.error ? `${result.error.name}: ${result.error.message}` : undefined });
    }
    expect(results).toEqual(histories.map((h) => ({ workflowId: h.workflowId, error: undefined })));
  });
});
