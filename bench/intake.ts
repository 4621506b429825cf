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
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { arch, cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import type { Client } from '@temporalio/client';
import { loadConfig, type Config } from '../src/config.ts';
import { connectDatabase, type Models } from '../src/db/models.ts';
import { freePort, startFerretDB, startTemporalDevServer, type RunningServer } from '../src/embedded/servers.ts';
import { connectTemporalClient } from '../src/runtime.ts';
import { startApi, startWorker, type Running } from '../src/start.ts';
import { amsterdamYear } from '../src/domain/dates.ts';
import { referenceSearchAttribute, statusSearchAttribute } from '../src/domain/search-attributes.ts';
import { initiativeWorkflowId } from '../src/temporal/starter.ts';
import { initiativeWorkflow } from '../workflows/initiative.ts';
import { validApplication } from '../test/helpers/fixtures.ts';

const benchDir = dirname(fileURLToPath(import.meta.url));
export const resultsDir = join(benchDir, 'results');

function envInt(name: string, def: number, min = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min} (got ${JSON.stringify(raw)})`);
  return n;
}

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return round(sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!);
}

// --- CPU time per process (Linux /proc; empty elsewhere) -------------------------------

type CpuSample = Record<string, number>; // ms of CPU (user + system) per process name
let clockTicks = 100;
try {
  clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  // keep 100
}
function procCpuMs(pid: number | undefined): number | undefined {
  if (!pid || !existsSync(`/proc/${pid}/stat`)) return undefined;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from the 3rd (state) on
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks; // utime, stime
}
function sampleCpu(pids: Record<string, number | undefined>): CpuSample {
  const own = process.cpuUsage();
  const sample: CpuSample = { node: (own.user + own.system) / 1000 };
  for (const [name, pid] of Object.entries(pids)) {
    const ms = procCpuMs(pid);
    if (ms !== undefined) sample[name] = ms;
  }
  return sample;
}

// --- phases -----------------------------------------------------------------------------

interface PhaseResult {
  ops: number;
  ms: number;
  opsPerSec: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  /** CPU ms per operation, per process ("node" is this process: load generator, API, and the worker when live). */
  cpuMsPerOp: Record<string, number>;
  /** live worker only: workflows not yet in `screening` when the last operation returned, and the time to catch up. */
  pendingAtEnd?: number;
  drainMs?: number;
}

/** Runs op(0..n-1) with at most `concurrency` in flight; any failure fails the phase. */
async function runPool(n: number, concurrency: number, op: (i: number) => Promise<void>, cpu: () => CpuSample): Promise<PhaseResult> {
  const latencies: number[] = [];
  let next = 0;
  let failure: unknown;
  const cpuBefore = cpu();
  const started = performance.now();
  const lane = async () => {
    while (failure === undefined) {
      const i = next++;
      if (i >= n) return;
      const t0 = performance.now();
      try {
        await op(i);
      } catch (err) {
        failure ??= err;
        return;
      }
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, lane));
  const ms = performance.now() - started;
  const cpuAfter = cpu();
  if (failure !== undefined) throw failure;
  latencies.sort((a, b) => a - b);
  const cpuMsPerOp: Record<string, number> = {};
  for (const k of Object.keys(cpuAfter)) cpuMsPerOp[k] = round((cpuAfter[k]! - (cpuBefore[k] ?? 0)) / n);
  cpuMsPerOp.total = round(Object.values(cpuMsPerOp).reduce((a, b) => a + b, 0));
  return {
    ops: n,
    ms: round(ms),
    opsPerSec: round((n / ms) * 1000),
    latencyMs: { p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99), max: percentile(latencies, 100) },
    cpuMsPerOp,
  };
}

interface SideSummary {
  description: string;
  /** Total operations over total measured time, all rounds. */
  opsPerSec: number;
  medianRoundOpsPerSec: number;
  rounds: number[];
  ops: number;
  ms: number;
  /** Medians over the rounds (max: the largest). */
  latencyMs: PhaseResult['latencyMs'];
  cpuMsPerOp: Record<string, number>;
  /** live worker only: operations over (measured time + time the worker needed to catch up). */
  endToEndOpsPerSec?: number;
  pendingAtEnd?: number[];
}

function summarize(description: string, phases: PhaseResult[], live: boolean): SideSummary {
  const ops = phases.reduce((s, p) => s + p.ops, 0);
  const ms = phases.reduce((s, p) => s + p.ms, 0);
  const med = (k: keyof PhaseResult['latencyMs']) => round(median(phases.map((p) => p.latencyMs[k])));
  const cpuMsPerOp: Record<string, number> = {};
  for (const k of Object.keys(phases[0]?.cpuMsPerOp ?? {})) cpuMsPerOp[k] = round(phases.reduce((s, p) => s + (p.cpuMsPerOp[k] ?? 0) * p.ops, 0) / ops);
  const drainMs = phases.reduce((s, p) => s + (p.drainMs ?? 0), 0);
  return {
    description,
    opsPerSec: round((ops / ms) * 1000),
    medianRoundOpsPerSec: round(median(phases.map((p) => p.opsPerSec))),
    rounds: phases.map((p) => p.opsPerSec),
    ops,
    ms: round(ms),
    latencyMs: { p50: med('p50'), p95: med('p95'), p99: med('p99'), max: round(Math.max(...phases.map((p) => p.latencyMs.max))) },
    cpuMsPerOp,
    ...(live ? { endToEndOpsPerSec: round((ops / (ms + drainMs)) * 1000), pendingAtEnd: phases.map((p) => p.pendingAtEnd ?? 0) } : {}),
  };
}

export interface IntakeBenchResult {
  name: 'intake';
  date: string;
  n: number;
  concurrency: number;
  rounds: number;
  warmup: number;
  logLevel: string;
  workerMode: 'paused' | 'live';
  candidate: SideSummary;
  baseline: SideSummary;
  /** candidate opsPerSec / baseline opsPerSec (higher is better). */
  ratio: number;
  roundRatios: number[];
  /** live worker only: the same counting the time the worker needed to catch up. */
  ratioEndToEnd?: number;
  goal: number;
  pass: boolean;
  node: string;
  machine: { platform: string; release: string; arch: string; cpus: number; cpuModel: string; totalMemGiB: number; loadavgAtStart: number[]; loadavgAtEnd: number[] };
  servers: { ferretdb: string; temporal: string };
  durationSec: number;
}

export async function runIntakeBench(log: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<IntakeBenchResult> {
  const n = envInt('BENCH_N', 250);
  const concurrency = envInt('BENCH_CONCURRENCY', 8);
  const rounds = envInt('BENCH_ROUNDS', 3);
  const warmup = envInt('BENCH_WARMUP', 30, 0);
  const logLevel = process.env.BENCH_LOG_LEVEL || 'info';
  const workerMode = process.env.BENCH_WORKER || 'paused';
  if (workerMode !== 'paused' && workerMode !== 'live') throw new Error('BENCH_WORKER must be "paused" or "live"');
  const live = workerMode === 'live';
  const goal = 0.7;
  const startedAt = Date.now();
  const loadavgAtStart = loadavg().map((x) => round(x));

  const dir = mkdtempSync(join(tmpdir(), 'buurtfonds-bench-'));
  const stack: (Running | RunningServer | { stop(): Promise<void> })[] = [];
  const stopAll = async () => {
    for (const part of stack.reverse()) {
      await part.stop().catch((err: unknown) => log(`intake: stop failed: ${String(err)}`));
    }
    stack.length = 0;
    rmSync(dir, { recursive: true, force: true });
  };
  const onSignal = () => void stopAll().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    log(`intake: starting FerretDB and the Temporal dev server in ${dir}`);
    const [ferret, temporal] = await Promise.all([startFerretDB({ dir: join(dir, 'ferretdb') }), startTemporalDevServer({ headless: true })]);
    stack.push(ferret, temporal);
    const cpu = () => sampleCpu({ ferretdb: ferret.child.pid, temporal: temporal.child.pid });
    const mongoUri = `${ferret.uri}buurtfonds`;
    const port = await freePort();
    const config: Config = loadConfig({
      NODE_ENV: 'production',
      AUTH_SECRET: randomBytes(32).toString('hex'),
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: logLevel,
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
      DATA_DIR: join(dir, 'data'),
      TEMPORAL_ADDRESS: temporal.address,
      MONGODB_URI: mongoUri,
      TEMPORAL_TASK_QUEUE: 'buurtfonds-bench',
      DEMO_SEED: 'false',
    });
    // The production logger's level and serialisation, written to /dev/null.
    const logger = pino(
      { name: 'buurtfonds', level: config.logLevel, base: { service: 'buurtfonds' }, timestamp: pino.stdTimeFunctions.isoTime },
      pino.destination({ dest: '/dev/null', sync: false }),
    );
    const target = { config, logger, temporalAddress: temporal.address, mongoUri };
    let worker: Running | undefined = await startWorker(target);
    stack.push({ stop: async () => worker?.stop() });
    const api = await startApi(target);
    stack.push(api);

    // The baseline's own connections, like the API's: one mongoose connection, one Temporal client.
    const models: Models = await connectDatabase(mongoUri);
    stack.push({ stop: () => models.connection.close() });
    const client: Client = await connectTemporalClient(temporal.address, config.temporal.namespace);
    stack.push({ stop: () => client.connection.close() });
    const applications = models.Application.collection;
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
      await applications.insertOne({
        ...validApplication({ title: `Straatfeest ${seq}` }),
        _id: applicationId as never,
        reference,
        year,
        status: 'submitted',
        statusSeq: 1,
        informationRequests: [],
        workflowId,
        createdAt: now,
        updatedAt: now,
      });
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
    if (!live && worker) {
      await worker.stop();
      worker = undefined;
    }

    const candidate: PhaseResult[] = [];
    const baseline: PhaseResult[] = [];
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? (['candidate', 'baseline'] as const) : (['baseline', 'candidate'] as const);
      for (const side of order) {
        const result = await runPool(n, concurrency, side === 'candidate' ? candidateOp : baselineOp, cpu);
        if (live) {
          result.pendingAtEnd = await pending();
          const t0 = performance.now();
          await drain();
          result.drainMs = round(performance.now() - t0);
        }
        (side === 'candidate' ? candidate : baseline).push(result);
        log(
          `intake: round ${r + 1}/${rounds} ${side.padEnd(9)} ${String(result.opsPerSec).padStart(8)} ops/s  p50 ${result.latencyMs.p50} ms  p95 ${result.latencyMs.p95} ms` +
            `  cpu/op ${JSON.stringify(result.cpuMsPerOp)}` +
            (live ? `  (worker behind by ${result.pendingAtEnd}, caught up in ${Math.round(result.drainMs!)} ms)` : ''),
        );
      }
    }

    // Sanity: every operation stored its application and started its workflow.
    const total = warmup + rounds * n;
    const fromApi = await applications.countDocuments({ reference: { $not: /^BENCH-/ } });
    const fromBaseline = await applications.countDocuments({ reference: /^BENCH-/ });
    const tokens = await applications.countDocuments({ reference: { $not: /^BENCH-/ }, accessTokenHash: { $exists: true } });
    const workflows = (await client.workflow.count(`TaskQueue = '${t.taskQueue}'`)).count;
    if (fromApi !== total || fromBaseline !== total || tokens !== total || workflows !== 2 * total) {
      throw new Error(`expected ${total} applications and tokens from each side and ${2 * total} workflows; found api ${fromApi}, baseline ${fromBaseline}, tokens ${tokens}, workflows ${workflows}`);
    }

    const c = summarize('POST /api/v1/applications (JSON) over HTTP: reference claim, access token, event, application, workflow start', candidate, live);
    const b = summarize('native insertOne of an equivalent application document + raw client.workflow.start(initiativeWorkflow)', baseline, live);
    const ratio = round(c.opsPerSec / b.opsPerSec, 3);
    const cpuList = cpus();
    const result: IntakeBenchResult = {
      name: 'intake',
      date: new Date().toISOString(),
      n,
      concurrency,
      rounds,
      warmup,
      logLevel,
      workerMode,
      candidate: c,
      baseline: b,
      ratio,
      roundRatios: candidate.map((p, i) => round(p.opsPerSec / baseline[i]!.opsPerSec, 3)),
      ...(live ? { ratioEndToEnd: round(c.endToEndOpsPerSec! / b.endToEndOpsPerSec!, 3) } : {}),
      goal,
      pass: ratio >= goal,
      node: process.version,
      machine: {
        platform: platform(),
        release: release(),
        arch: arch(),
        cpus: cpuList.length,
        cpuModel: cpuList[0]?.model ?? 'unknown',
        totalMemGiB: round(totalmem() / 2 ** 30, 1),
        loadavgAtStart,
        loadavgAtEnd: loadavg().map((x) => round(x)),
      },
      servers: { ferretdb: 'FerretDB v1 (SQLite backend)', temporal: 'Temporal CLI dev server (headless, in-memory)' },
      durationSec: 0,
    };
    await stopAll();
    result.durationSec = round((Date.now() - startedAt) / 1000, 1);

    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(join(resultsDir, 'intake.json'), `${JSON.stringify(result, null, 2)}\n`);
    const cpuLine = (s: SideSummary) => Object.entries(s.cpuMsPerOp).map(([k, v]) => `${k} ${v}`).join(', ');
    log('');
    log(`intake: ${n} operations per side per round, ${concurrency} in flight, ${rounds} rounds, worker ${workerMode}; node ${process.version}, ${cpuList.length} cpu(s)`);
    log(`  candidate (HTTP intake)      ${String(c.opsPerSec).padStart(8)} ops/s   p50 ${c.latencyMs.p50} ms  p95 ${c.latencyMs.p95} ms   cpu ms/op: ${cpuLine(c)}`);
    log(`  baseline  (insert + start)   ${String(b.opsPerSec).padStart(8)} ops/s   p50 ${b.latencyMs.p50} ms  p95 ${b.latencyMs.p95} ms   cpu ms/op: ${cpuLine(b)}`);
    log(`  ratio ${ratio} (goal >= ${goal}: ${result.pass ? 'met' : 'NOT met'}); per round ${result.roundRatios.join(', ')}`);
    if (live) log(`  counting the worker catching up: candidate ${c.endToEndOpsPerSec} ops/s, baseline ${b.endToEndOpsPerSec} ops/s, ratio ${result.ratioEndToEnd}`);
    log(`  load average at start ${loadavgAtStart.join(' ')}, at end ${result.machine.loadavgAtEnd.join(' ')}`);
    log(`  written to ${resolve(resultsDir, 'intake.json')}`);
    return result;
  } finally {
    await stopAll();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  runIntakeBench().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
