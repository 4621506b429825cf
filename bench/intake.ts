/**
 * Intake throughput benchmark (not a test).
 *
 * Starts its own FerretDB and headless Temporal dev server (temp dir, free ports),
 * the production worker and API (startWorker / startApi from src/start.ts, as npm start
 * wires them), and then measures in the same run, in alternating rounds:
 *
 *   candidate  POST /api/v1/applications with a valid JSON application over real HTTP
 *              (reference claim, access token, `submitted` event, application, workflow start);
 *   baseline   the raw minimum of the same work: one native insertOne of an equivalent
 *              application document, then a raw client.workflow.start(initiativeWorkflow)
 *              on the same task queue with a unique id and the same options.
 *
 * The worker. Both sides start the same workflow, so the work behind each is the same, but
 * when it runs is not: the faster side is done before the worker gets going and leaves its
 * share to after the measurement, the slower side takes it inside it (the worker writes to
 * the same FerretDB). With the worker live the ratio jumps between runs (0.16 to 0.93 for
 * the same code), so by default (BENCH_WORKER=paused) the worker handles the warm-up (which
 * checks that both kinds of submission reach `screening`) and is stopped for the measured
 * phases. BENCH_WORKER=live keeps it running, drains it before each phase and also reports
 * throughput counting the time the worker needs to catch up.
 *
 * CPU time per operation of this process (client + API), FerretDB and Temporal is read from
 * /proc for each phase: it shows where the time goes.
 *
 * Environment: BENCH_N (operations per side per round), BENCH_CONCURRENCY (in flight),
 * BENCH_ROUNDS, BENCH_WARMUP (operations per side), BENCH_WORKER (paused | live),
 * BENCH_LOG_LEVEL (API and worker log level; the log goes to /dev/null).
 */
import { submittedApplication } from '../src/db/models.ts';
import { randomUUID } from 'node:crypto';
import { cpus } from 'node:os';
import { amsterdamYear } from '../src/domain/dates.ts';
import { referenceSearchAttribute, statusSearchAttribute } from '../src/domain/search-attributes.ts';
import { initiativeWorkflowId } from '../src/temporal/starter.ts';
import { initiativeWorkflow } from '../workflows/initiative.ts';
import { validApplication } from '../test/helpers/fixtures.ts';
import { benchSettings, compareSides, loadAverage, logComparison, round, runIfMain, runInfo, runPool, runRounds, stdoutLog, withBenchStack, writeResult, type BenchSettings, type Comparison, type RunInfo } from './support.ts';

export { resultsDir } from './support.ts';

export interface IntakeBenchResult extends BenchSettings, Comparison, RunInfo {
  name: 'intake';
  date: string;
  workerMode: 'paused' | 'live';
  durationSec: number;
}

export async function runIntakeBench(log = stdoutLog): Promise<IntakeBenchResult> {
  const settings = benchSettings({ n: 250, concurrency: 8, rounds: 3, warmup: 30 });
  const { n, concurrency, rounds, warmup, logLevel } = settings;
  const workerMode = process.env.BENCH_WORKER || 'paused';
  if (workerMode !== 'paused' && workerMode !== 'live') throw new Error('BENCH_WORKER must be "paused" or "live"');
  const live = workerMode === 'live';
  const goal = 0.7;
  const startedAt = Date.now();
  const loadavgAtStart = loadAverage();

  return withBenchStack({ name: 'intake', logLevel, log }, async (stack) => {
    const { config, api, client, cpu } = stack;
    const applications = stack.models.Application.collection;
    log(`intake: api ${api.url}, worker on task queue ${config.temporal.taskQueue} (${workerMode} during the measured phases)`);

    const url = `${api.url}/api/v1/applications`;
    let seq = 0;
    const candidateOp = async () => {
      const body = JSON.stringify(validApplication({ title: `Straatfeest ${++seq}` }));
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const text = await res.text();
      if (res.status !== 201) throw new Error(`POST /api/v1/applications: ${res.status} ${text}`);
    };

    const { fund, temporal: t } = config;
    const year = amsterdamYear(new Date());
    const baselineOp = async () => {
      const applicationId = randomUUID();
      const workflowId = initiativeWorkflowId(applicationId);
      const reference = `BENCH-${++seq}`;
      const now = new Date();
      await applications.insertOne(
        submittedApplication({ id: applicationId, form: validApplication({ title: `Straatfeest ${seq}` }), reference, year, submittedAt: now }) as never,
      );
      await client.workflow.start(initiativeWorkflow, {
        taskQueue: t.taskQueue,
        workflowId,
        args: [{ applicationId, submittedAt: now.toISOString(), informationDeadlineDays: fund.infoDeadlineDays, informationReminderDays: fund.infoReminderDays }],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        workflowIdConflictPolicy: 'USE_EXISTING',
        typedSearchAttributes: [
          { key: statusSearchAttribute, value: 'submitted' },
          { key: referenceSearchAttribute, value: reference },
        ],
      });
    };

    /** Applications the worker has not yet taken to `screening` (statusSeq 2). */
    const pending = () => applications.countDocuments({ statusSeq: 1 });
    const drain = async () => {
      const deadline = Date.now() + 300_000;
      for (;;) {
        const left = await pending();
        if (left === 0) return;
        if (Date.now() > deadline) throw new Error(`the worker did not catch up: ${left} applications still in submitted`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };

    if (warmup > 0) {
      log(`intake: warm-up (${warmup} of each, worker running)`);
      await runPool(warmup, concurrency, candidateOp, cpu);
      await runPool(warmup, concurrency, baselineOp, cpu);
      await drain(); // both kinds of submission went all the way to `screening`
    }
    if (!live) await stack.stopWorker();

    const phases = await runRounds({
      name: 'intake',
      unit: 'ops',
      rounds,
      n,
      concurrency,
      candidateOp,
      baselineOp,
      cpu,
      log,
      after: async (result) => {
        if (!live) return '';
        result.pendingAtEnd = await pending();
        const t0 = performance.now();
        await drain();
        result.drainMs = round(performance.now() - t0);
        return `  (worker behind by ${result.pendingAtEnd}, caught up in ${Math.round(result.drainMs)} ms)`;
      },
    });

    // Sanity: every operation stored its application and started its workflow.
    const total = warmup + rounds * n;
    const fromApi = await applications.countDocuments({ reference: { $not: /^BENCH-/ } });
    const fromBaseline = await applications.countDocuments({ reference: /^BENCH-/ });
    const tokens = await applications.countDocuments({ reference: { $not: /^BENCH-/ }, accessTokenHash: { $exists: true } });
    const workflows = (await client.workflow.count(`TaskQueue = '${t.taskQueue}'`)).count;
    if (fromApi !== total || fromBaseline !== total || tokens !== total || workflows !== 2 * total) {
      throw new Error(`expected ${total} applications and tokens from each side and ${2 * total} workflows; found api ${fromApi}, baseline ${fromBaseline}, tokens ${tokens}, workflows ${workflows}`);
    }

    const comparison = compareSides(
      phases,
      {
        candidate: 'POST /api/v1/applications (JSON) over HTTP: reference claim, access token, event, application, workflow start',
        baseline: 'native insertOne of an equivalent application document + raw client.workflow.start(initiativeWorkflow)',
      },
      goal,
      live,
    );
    const result: IntakeBenchResult = {
      name: 'intake',
      date: new Date().toISOString(),
      ...settings,
      workerMode,
      ...comparison,
      ...runInfo(loadavgAtStart),
      durationSec: 0,
    };
    const file = await writeResult(stack, result, startedAt);

    const { candidate: c, baseline: b } = comparison;
    log('');
    log(`intake: ${n} operations per side per round, ${concurrency} in flight, ${rounds} rounds, worker ${workerMode}; node ${process.version}, ${cpus().length} cpu(s)`);
    logComparison(log, comparison, { candidate: 'candidate (HTTP intake)      ', baseline: 'baseline  (insert + start)   ' }, 'ops');
    if (live) log(`  counting the worker catching up: candidate ${c.endToEndOpsPerSec} ops/s, baseline ${b.endToEndOpsPerSec} ops/s, ratio ${result.ratioEndToEnd}`);
    log(`  load average at start ${loadavgAtStart.join(' ')}, at end ${result.machine.loadavgAtEnd.join(' ')}`);
    log(`  written to ${file}`);
    return result;
  });
}

runIfMain(import.meta.url, runIntakeBench);
