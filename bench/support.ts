/**
 * What the benchmarks in bench/ share: their environment settings, the servers and the
 * production worker and API they start (withBenchStack), or FerretDB alone for those that
 * need no Temporal (withFerretBench), the operation pool that
 * measures a phase (runPool) with the CPU time of each process, the alternating rounds
 * (runRounds), the summary of a side and the comparison of the two (compareSides), and
 * the writing and printing of the result.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { arch, cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import type { Client } from '@temporalio/client';
import { loadConfig, type Config } from '../src/config.ts';
import { connectDatabase, type Models } from '../src/db/models.ts';
import { freePort, startFerretDB, startTemporalDevServer } from '../src/embedded/servers.ts';
import { buildApiDeps, connectTemporalClient } from '../src/runtime.ts';
import { createApp } from '../src/api/app.ts';
import type { Server } from 'node:http';
import { startApi, startWorker, type Running } from '../src/start.ts';

const benchDir = dirname(fileURLToPath(import.meta.url));
export const resultsDir = join(benchDir, 'results');

export type Log = (line: string) => void;
export const stdoutLog: Log = (l) => process.stdout.write(`${l}\n`);

export function envInt(name: string, def: number, min = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min} (got ${JSON.stringify(raw)})`);
  return n;
}

/** What every benchmark reads from the environment; in this order in its result file. */
export interface BenchSettings {
  /** Operations per side per round. */
  n: number;
  /** Operations in flight. */
  concurrency: number;
  rounds: number;
  /** Operations per side before the measured rounds. */
  warmup: number;
  /** The API's and the worker's log level (the log goes to /dev/null). */
  logLevel: string;
}

/** BENCH_N, BENCH_CONCURRENCY, BENCH_ROUNDS, BENCH_WARMUP and BENCH_LOG_LEVEL, or the benchmark's defaults. */
export function benchSettings(defaults: Omit<BenchSettings, 'logLevel'>): BenchSettings {
  return {
    n: envInt('BENCH_N', defaults.n),
    concurrency: envInt('BENCH_CONCURRENCY', defaults.concurrency),
    rounds: envInt('BENCH_ROUNDS', defaults.rounds),
    warmup: envInt('BENCH_WARMUP', defaults.warmup, 0),
    logLevel: process.env.BENCH_LOG_LEVEL || 'info',
  };
}

export const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return round(sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!);
}

/** The 1, 5 and 15 minute load averages, rounded. */
export const loadAverage = () => loadavg().map((x) => round(x));

// --- CPU time per process (Linux /proc; empty elsewhere) -------------------------------

export type CpuSample = Record<string, number>; // ms of CPU (user + system) per process name
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

// --- the servers, the worker and the API --------------------------------------------------

type Stop = () => Promise<void>;

/**
 * A temp dir for one benchmark's servers and what it starts: `body` registers each part's
 * stop as it starts it (onStop); at the end, or on SIGINT/SIGTERM, they are stopped in
 * reverse order and the dir is removed.
 */
async function withBenchDir<T>(name: string, log: Log, body: (dir: string, onStop: (stop: Stop) => void, stopAll: Stop) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), `buurtfonds-bench-${name}-`));
  const stops: Stop[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) {
      await stop().catch((err: unknown) => log(`${name}: stop failed: ${String(err)}`));
    }
    stops.length = 0;
    rmSync(dir, { recursive: true, force: true });
  };
  const onSignal = () => void stopAll().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await body(dir, (stop) => void stops.push(stop), stopAll);
  } finally {
    await stopAll();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

export interface BenchStack {
  dir: string;
  config: Config;
  api: Awaited<ReturnType<typeof startApi>>;
  /** The baseline's own connections, like the API's: one mongoose connection, one Temporal client. */
  models: Models;
  client: Client;
  /** CPU ms so far of this process, FerretDB and Temporal. */
  cpu: () => CpuSample;
  /** Stops the production worker now (once; stopAll then leaves it). */
  stopWorker(): Promise<void>;
  /** Stops everything in reverse order and removes the temp dir; again is a no-op. */
  stopAll(): Promise<void>;
}

/**
 * Starts FerretDB and a headless Temporal dev server in a temp dir, the production worker
 * and API on them (startWorker / startApi, as npm start wires them, logging to /dev/null)
 * and the baseline's connections, runs `body` and stops everything, also on SIGINT/SIGTERM.
 */
export async function withBenchStack<T>(
  opts: { name: string; logLevel: string; env?: Record<string, string>; log: Log },
  body: (stack: BenchStack) => Promise<T>,
): Promise<T> {
  const { name, log } = opts;
  return withBenchDir(name, log, async (dir, onStop, stopAll) => {
    log(`${name}: starting FerretDB and the Temporal dev server in ${dir}`);
    const [ferret, temporal] = await Promise.all([startFerretDB({ dir: join(dir, 'ferretdb') }), startTemporalDevServer({ headless: true })]);
    onStop(() => ferret.stop());
    onStop(() => temporal.stop());
    const cpu = () => sampleCpu({ ferretdb: ferret.child.pid, temporal: temporal.child.pid });
    const mongoUri = `${ferret.uri}buurtfonds`;
    const port = await freePort();
    const config: Config = loadConfig({
      NODE_ENV: 'production',
      AUTH_SECRET: randomBytes(32).toString('hex'),
      PAYOUT_DEBTOR_IBAN: 'NL34BNGH0285000001',
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: opts.logLevel,
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
      DATA_DIR: join(dir, 'data'),
      TEMPORAL_ADDRESS: temporal.address,
      MONGODB_URI: mongoUri,
      TEMPORAL_TASK_QUEUE: 'buurtfonds-bench',
      DEMO_SEED: 'false',
      ...opts.env,
    });
    // The production logger's level and serialisation, written to /dev/null.
    const logger = pino(
      { name: 'buurtfonds', level: config.logLevel, base: { service: 'buurtfonds' }, timestamp: pino.stdTimeFunctions.isoTime },
      pino.destination({ dest: '/dev/null', sync: false }),
    );
    const target = { config, logger, temporalAddress: temporal.address, mongoUri };
    let worker: Running | undefined = await startWorker(target);
    const stopWorker = async () => {
      const running = worker;
      worker = undefined;
      await running?.stop();
    };
    onStop(stopWorker);
    const api = await startApi(target);
    onStop(() => api.stop());

    const models: Models = await connectDatabase(mongoUri);
    onStop(() => models.connection.close());
    const client: Client = await connectTemporalClient(temporal.address, config.temporal.namespace);
    onStop(() => client.connection.close());

    return body({ dir, config, api, models, client, cpu, stopWorker, stopAll });
  });
}

export interface FerretBench {
  dir: string;
  /** The benchmark's database on FerretDB. */
  mongoUri: string;
  /** CPU ms so far of this process and FerretDB. */
  cpu: () => CpuSample;
  /** Stops `stop` with the rest (in reverse order of registration): connections the benchmark opens. */
  onStop(stop: () => Promise<void>): void;
  /** Stops everything in reverse order and removes the temp dir; again is a no-op. */
  stopAll(): Promise<void>;
}

/**
 * For benchmarks that need no Temporal: starts FerretDB alone (temp dir, free port), runs
 * `body` and stops everything, also on SIGINT/SIGTERM.
 */
export async function withFerretBench<T>(opts: { name: string; log: Log }, body: (bench: FerretBench) => Promise<T>): Promise<T> {
  const { name, log } = opts;
  return withBenchDir(name, log, async (dir, onStop, stopAll) => {
    log(`${name}: starting FerretDB in ${dir}`);
    const ferret = await startFerretDB({ dir: join(dir, 'ferretdb') });
    onStop(() => ferret.stop());
    const cpu = () => sampleCpu({ ferretdb: ferret.child.pid });
    return body({ dir, mongoUri: `${ferret.uri}buurtfonds`, cpu, onStop, stopAll });
  });
}

// --- phases -----------------------------------------------------------------------------

export interface PhaseResult {
  ops: number;
  ms: number;
  opsPerSec: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  /** CPU ms per operation, per process ("node" is this process: load generator, API, and the worker when it runs). */
  cpuMsPerOp: Record<string, number>;
  /** live worker only: workflows not yet in `screening` when the last operation returned, and the time to catch up. */
  pendingAtEnd?: number;
  drainMs?: number;
}

/** Runs op(0..n-1) with at most `concurrency` in flight; any failure fails the phase. */
export async function runPool(n: number, concurrency: number, op: (i: number) => Promise<void>, cpu: () => CpuSample): Promise<PhaseResult> {
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

/**
 * `rounds` rounds of `n` operations of each side, the order alternating per round, each
 * phase logged as `<name>: round r/rounds <side> <ops>/s …` (with `after`'s note, if any).
 */
export async function runRounds(opts: {
  name: string;
  unit: string;
  rounds: number;
  n: number;
  concurrency: number;
  candidateOp: (i: number) => Promise<void>;
  baselineOp: (i: number) => Promise<void>;
  cpu: () => CpuSample;
  log: Log;
  /** Runs after each phase, still on the clock of neither side; returns a note for the log line. */
  after?: (result: PhaseResult) => Promise<string>;
}): Promise<{ candidate: PhaseResult[]; baseline: PhaseResult[] }> {
  const { rounds, n, concurrency, cpu } = opts;
  const candidate: PhaseResult[] = [];
  const baseline: PhaseResult[] = [];
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? (['candidate', 'baseline'] as const) : (['baseline', 'candidate'] as const);
    for (const side of order) {
      const result = await runPool(n, concurrency, side === 'candidate' ? opts.candidateOp : opts.baselineOp, cpu);
      const note = opts.after ? await opts.after(result) : '';
      (side === 'candidate' ? candidate : baseline).push(result);
      opts.log(
        `${opts.name}: round ${r + 1}/${rounds} ${side.padEnd(9)} ${String(result.opsPerSec).padStart(8)} ${opts.unit}/s  p50 ${result.latencyMs.p50} ms  p95 ${result.latencyMs.p95} ms` +
          `  cpu/op ${JSON.stringify(result.cpuMsPerOp)}` +
          note,
      );
    }
  }
  return { candidate, baseline };
}

// --- summary ----------------------------------------------------------------------------

export interface SideSummary {
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

export interface Comparison {
  candidate: SideSummary;
  baseline: SideSummary;
  /** candidate opsPerSec / baseline opsPerSec (higher is better). */
  ratio: number;
  roundRatios: number[];
  /** live worker only: the same counting the time the worker needed to catch up. */
  ratioEndToEnd?: number;
  goal: number;
  pass: boolean;
}

/** Both sides summarised and their ratio, overall and per round, against the goal. */
export function compareSides(
  sides: { candidate: PhaseResult[]; baseline: PhaseResult[] },
  descriptions: { candidate: string; baseline: string },
  goal: number,
  live = false,
): Comparison {
  const c = summarize(descriptions.candidate, sides.candidate, live);
  const b = summarize(descriptions.baseline, sides.baseline, live);
  const ratio = round(c.opsPerSec / b.opsPerSec, 3);
  return {
    candidate: c,
    baseline: b,
    ratio,
    roundRatios: sides.candidate.map((p, i) => round(p.opsPerSec / sides.baseline[i]!.opsPerSec, 3)),
    ...(live ? { ratioEndToEnd: round(c.endToEndOpsPerSec! / b.endToEndOpsPerSec!, 3) } : {}),
    goal,
    pass: ratio >= goal,
  };
}

export interface RunInfo {
  node: string;
  machine: { platform: string; release: string; arch: string; cpus: number; cpuModel: string; totalMemGiB: number; loadavgAtStart: number[]; loadavgAtEnd: number[] };
  servers: { ferretdb: string; temporal: string };
}

/** Node, the machine (load average at start and now) and the servers, for the result file. */
export function runInfo(loadavgAtStart: number[]): RunInfo {
  const cpuList = cpus();
  return {
    node: process.version,
    machine: {
      platform: platform(),
      release: release(),
      arch: arch(),
      cpus: cpuList.length,
      cpuModel: cpuList[0]?.model ?? 'unknown',
      totalMemGiB: round(totalmem() / 2 ** 30, 1),
      loadavgAtStart,
      loadavgAtEnd: loadAverage(),
    },
    servers: { ferretdb: 'FerretDB v1 (SQLite backend)', temporal: 'Temporal CLI dev server (headless, in-memory)' },
  };
}

/** Stops the stack, fills in durationSec and writes bench/results/<fileName> (default <name>.json); returns its path. */
export async function writeResult(stack: { stopAll(): Promise<void> }, result: { name: string; durationSec: number }, startedAt: number, fileName = `${result.name}.json`): Promise<string> {
  await stack.stopAll();
  result.durationSec = round((Date.now() - startedAt) / 1000, 1);
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, fileName);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  return resolve(file);
}

/** The candidate's and the baseline's lines of the final report and the ratio line. */
export function logComparison(log: Log, cmp: Comparison, labels: { candidate: string; baseline: string }, unit: string): void {
  const cpuLine = (s: SideSummary) => Object.entries(s.cpuMsPerOp).map(([k, v]) => `${k} ${v}`).join(', ');
  const side = (label: string, s: SideSummary) =>
    `  ${label}${String(s.opsPerSec).padStart(8)} ${unit}/s   p50 ${s.latencyMs.p50} ms  p95 ${s.latencyMs.p95} ms   cpu ms/op: ${cpuLine(s)}`;
  log(side(labels.candidate, cmp.candidate));
  log(side(labels.baseline, cmp.baseline));
  log(`  ratio ${cmp.ratio} (goal >= ${cmp.goal}: ${cmp.pass ? 'met' : 'NOT met'}); per round ${cmp.roundRatios.join(', ')}`);
}

/** Runs the benchmark when its module is the one node was started with, and exits. */
export function runIfMain(moduleUrl: string, run: () => Promise<unknown>): void {
  if (!process.argv[1] || resolve(process.argv[1]) !== fileURLToPath(moduleUrl)) return;
  run().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}

// --- an API of our own on data a benchmark inserted ---------------------------------------

/**
 * A fresh API (buildApiDeps + createApp, as a new process would have) on real HTTP on a
 * free port: the benchmark inserted its data straight into the database, and a running
 * API would have its journals in memory, so callers load them before the clock.
 */
export async function startFreshApi(args: Parameters<typeof buildApiDeps>[0]): Promise<{ deps: ReturnType<typeof buildApiDeps>; url: string; close(): Promise<void> }> {
  const deps = buildApiDeps(args);
  const { app } = createApp(deps);
  const port = await freePort();
  const server: Server = await new Promise((ok) => {
    const s = app.listen(port, '127.0.0.1', () => ok(s));
  });
  return { deps, url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((ok) => server.close(() => ok())) };
}
