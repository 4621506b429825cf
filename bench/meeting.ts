/**
 * Meeting vote throughput benchmark (not a test).
 *
 * Starts its own FerretDB and headless Temporal dev server (temp dir, free ports), the
 * production worker and API (startWorker / startApi from src/start.ts), seeds 5 panel
 * members and BENCH_ITEMS (500) applications `ready_for_meeting` directly in the database,
 * and starts the panelMeetingWorkflow of the next regular meeting with its cut-off now, so
 * freezeAgenda puts all of them on the agenda at once (the initiative workflows do not
 * exist: the meeting's signals to them fail and are swallowed, which this run also checks).
 * Then it measures in the same run, on the same meeting, in alternating rounds:
 *
 *   candidate  POST /api/v1/meetings/:id/votes over real HTTP with a member's bearer token
 *              (token check, active-account check, body validation, Workflow Update, log line);
 *   baseline   the raw minimum of the same work: handle.executeUpdate(castVoteUpdate, …)
 *              with the same arguments on its own Temporal client.
 *
 * Both sides cast the same mix of votes (approve, partial with an amount and reasons, reject
 * with reasons) for the next (member, item) pairs in turn: 5 members × 500 items. The worker
 * runs throughout (an update completes only when the workflow has handled it).
 *
 * Size of the run. Every vote is one Workflow Update in the one meeting workflow, whose
 * history grows by about 5 events per update. Temporal's defaults (server 1.32, also the
 * dev server) refuse more than 2000 updates in one workflow execution
 * (history.maxTotalUpdates) and more than 10 in flight at once (history.maxInFlightUpdates);
 * the history limits are 51 200 events and 50 MB. So a full round of 5 × 500 = 2500 votes
 * does not fit one meeting execution; the default run casts 2 × (25 + 3 × 300) = 1850 votes
 * with 5 in flight, and refuses a configuration above BENCH_MAX_UPDATES (1950). The
 * history's length and size at the end are reported.
 *
 * Afterwards the chair closes the meeting (decisions for 500 items, the audit log of every
 * vote, 500 signals to missing initiatives) and the run waits for the workflow to complete.
 *
 * Environment: BENCH_ITEMS, BENCH_N (votes per side per round), BENCH_ROUNDS,
 * BENCH_WARMUP (votes per side), BENCH_CONCURRENCY (in flight, ≤ 10), BENCH_MAX_UPDATES,
 * BENCH_LOG_LEVEL (API and worker log level; the log goes to /dev/null).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { arch, cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import argon2 from 'argon2';
import { pino } from 'pino';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { loadConfig, type Config } from '../src/config.ts';
import { connectDatabase, type Models } from '../src/db/models.ts';
import { freePort, startFerretDB, startTemporalDevServer, type RunningServer } from '../src/embedded/servers.ts';
import { connectTemporalClient } from '../src/runtime.ts';
import { startApi, startWorker, type Running } from '../src/start.ts';
import { amsterdamYear } from '../src/domain/dates.ts';
import { upcomingMeetings } from '../src/domain/meetings.ts';
import { initiativeWorkflowId } from '../src/temporal/starter.ts';
import { calendarRules, meetingInput } from '../src/temporal/schedule.ts';
import { castVoteUpdate, meetingStateQuery, type CastVoteArgs, type panelMeetingWorkflow } from '../workflows/meeting.ts';
import { validApplication } from '../test/helpers/fixtures.ts';

const benchDir = dirname(fileURLToPath(import.meta.url));
const resultsDir = join(benchDir, 'results');

/** Temporal server defaults that bound this benchmark (see the header). */
const TEMPORAL_LIMITS = { maxTotalUpdates: 2000, maxInFlightUpdates: 10, historyEvents: 51_200, historyBytes: 50 * 1024 * 1024 };

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

type CpuSample = Record<string, number>;
let clockTicks = 100;
try {
  clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  // keep 100
}
function procCpuMs(pid: number | undefined): number | undefined {
  if (!pid || !existsSync(`/proc/${pid}/stat`)) return undefined;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks;
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
  /** CPU ms per vote, per process ("node" is this process: load generator, API and worker). */
  cpuMsPerOp: Record<string, number>;
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
  opsPerSec: number;
  medianRoundOpsPerSec: number;
  rounds: number[];
  ops: number;
  ms: number;
  latencyMs: PhaseResult['latencyMs'];
  cpuMsPerOp: Record<string, number>;
}

function summarize(description: string, phases: PhaseResult[]): SideSummary {
  const ops = phases.reduce((s, p) => s + p.ops, 0);
  const ms = phases.reduce((s, p) => s + p.ms, 0);
  const med = (k: keyof PhaseResult['latencyMs']) => round(median(phases.map((p) => p.latencyMs[k])));
  const cpuMsPerOp: Record<string, number> = {};
  for (const k of Object.keys(phases[0]?.cpuMsPerOp ?? {})) cpuMsPerOp[k] = round(phases.reduce((s, p) => s + (p.cpuMsPerOp[k] ?? 0) * p.ops, 0) / ops);
  return {
    description,
    opsPerSec: round((ops / ms) * 1000),
    medianRoundOpsPerSec: round(median(phases.map((p) => p.opsPerSec))),
    rounds: phases.map((p) => p.opsPerSec),
    ops,
    ms: round(ms),
    latencyMs: { p50: med('p50'), p95: med('p95'), p99: med('p99'), max: round(Math.max(...phases.map((p) => p.latencyMs.max))) },
    cpuMsPerOp,
  };
}

export interface MeetingBenchResult {
  name: 'meeting';
  date: string;
  meetingId: string;
  items: number;
  voters: number;
  n: number;
  concurrency: number;
  rounds: number;
  warmup: number;
  logLevel: string;
  candidate: SideSummary;
  baseline: SideSummary;
  /** candidate opsPerSec / baseline opsPerSec (higher is better). */
  ratio: number;
  roundRatios: number[];
  goal: number;
  pass: boolean;
  /** Starting the workflow until the agenda is frozen and the meeting open (500 items, 500 failed signals). */
  freeze: { ms: number; agendaItems: number; members: number };
  /** The meeting workflow's history when voting was over, against Temporal's default limits. */
  history: { updates: number; votesInState: number; events: number; sizeBytes: number; limits: typeof TEMPORAL_LIMITS };
  /** The chair's close (decisions) and the workflow's completion (audit log, 500 signals). */
  close: { closeMs: number; completedMs: number; outcomes: Record<string, number>; auditEntries: number; finalHistoryEvents: number; finalHistorySizeBytes: number };
  node: string;
  machine: { platform: string; release: string; arch: string; cpus: number; cpuModel: string; totalMemGiB: number; loadavgAtStart: number[]; loadavgAtEnd: number[] };
  servers: { ferretdb: string; temporal: string };
  durationSec: number;
}

export async function runMeetingBench(log: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<MeetingBenchResult> {
  const items = envInt('BENCH_ITEMS', 500);
  const n = envInt('BENCH_N', 300);
  const rounds = envInt('BENCH_ROUNDS', 3);
  const warmup = envInt('BENCH_WARMUP', 25, 0);
  const concurrency = envInt('BENCH_CONCURRENCY', 5);
  const maxUpdates = envInt('BENCH_MAX_UPDATES', 1950);
  const logLevel = process.env.BENCH_LOG_LEVEL || 'info';
  const voters = 5;
  const goal = 0.6;
  const plannedUpdates = 2 * (warmup + rounds * n) + 1; // + the chair's close
  if (plannedUpdates > maxUpdates) {
    throw new Error(
      `meeting: ${plannedUpdates} updates planned in one meeting workflow; Temporal refuses more than ${TEMPORAL_LIMITS.maxTotalUpdates} per execution by default (BENCH_MAX_UPDATES=${maxUpdates}). Lower BENCH_N, BENCH_ROUNDS or BENCH_WARMUP.`,
    );
  }
  if (concurrency > TEMPORAL_LIMITS.maxInFlightUpdates) throw new Error(`BENCH_CONCURRENCY must be <= ${TEMPORAL_LIMITS.maxInFlightUpdates} (Temporal's in-flight update limit per workflow)`);

  const startedAt = Date.now();
  const loadavgAtStart = loadavg().map((x) => round(x));
  const dir = mkdtempSync(join(tmpdir(), 'buurtfonds-bench-meeting-'));
  const stack: (Running | RunningServer | { stop(): Promise<void> })[] = [];
  const stopAll = async () => {
    for (const part of stack.reverse()) {
      await part.stop().catch((err: unknown) => log(`meeting: stop failed: ${String(err)}`));
    }
    stack.length = 0;
    rmSync(dir, { recursive: true, force: true });
  };
  const onSignal = () => void stopAll().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    log(`meeting: starting FerretDB and the Temporal dev server in ${dir}`);
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
      // The meeting is started by hand below; no Schedule needed.
      MEETING_SCHEDULE: 'false',
    });
    const logger = pino(
      { name: 'buurtfonds', level: config.logLevel, base: { service: 'buurtfonds' }, timestamp: pino.stdTimeFunctions.isoTime },
      pino.destination({ dest: '/dev/null', sync: false }),
    );
    const target = { config, logger, temporalAddress: temporal.address, mongoUri };
    const worker = await startWorker(target);
    stack.push(worker);
    const api = await startApi(target);
    stack.push(api);

    // The baseline's own connections, like the API's: one mongoose connection, one Temporal client.
    const models: Models = await connectDatabase(mongoUri);
    stack.push({ stop: () => models.connection.close() });
    const client: Client = await connectTemporalClient(temporal.address, config.temporal.namespace);
    stack.push({ stop: () => client.connection.close() });

    // --- panel and applications, straight into the database ---------------------------
    const password = randomBytes(12).toString('base64url');
    const passwordHash = await argon2.hash(password);
    const members = Array.from({ length: voters }, (_, k) => ({
      _id: randomUUID(),
      email: `panel${k + 1}@bench.test`,
      name: `Panellid ${k + 1}`,
      role: 'panel' as const,
      chair: k === 0,
      active: true,
      passwordHash,
      createdAt: new Date(),
    }));
    await models.StaffUser.insertMany(members);

    const year = amsterdamYear(new Date());
    const t0 = Date.now() - items * 1000;
    const applicationIds = Array.from({ length: items }, () => randomUUID());
    await models.Application.collection.insertMany(
      applicationIds.map((id, i) => {
        const createdAt = new Date(t0 + i * 1000); // oldest first on the agenda
        return {
          ...validApplication({ title: `Initiatief ${i + 1}`, applicant: { ...validApplication().applicant, email: `aanvrager${i + 1}@example.nl` } }),
          _id: id as never,
          reference: `BENCH-${String(i + 1).padStart(4, '0')}`,
          year,
          status: 'ready_for_meeting',
          statusSeq: 3,
          informationRequests: [],
          workflowId: initiativeWorkflowId(id),
          rollovers: 0,
          createdAt,
          updatedAt: createdAt,
        };
      }),
    );

    // --- the meeting ---------------------------------------------------------------------
    const planned = upcomingMeetings(calendarRules(config), [], new Date(), 1)[0]!;
    const meetingId = planned.meetingId;
    const freezeStart = performance.now();
    const handle: WorkflowHandle<typeof panelMeetingWorkflow> = await client.workflow.start<typeof panelMeetingWorkflow>('panelMeetingWorkflow', {
      taskQueue: config.temporal.taskQueue,
      workflowId: meetingId,
      args: [{ ...meetingInput(config, planned), cutoffAt: new Date().toISOString(), endsAt: new Date(Date.now() + 24 * 3600_000).toISOString() }],
    });
    for (;;) {
      const s = await handle.query(meetingStateQuery);
      if (s.status === 'open') break;
      if (performance.now() - freezeStart > 300_000) throw new Error('meeting: the agenda was not frozen within 5 minutes');
      await new Promise((r) => setTimeout(r, 100));
    }
    const freezeMs = round(performance.now() - freezeStart);
    const opened = await handle.query(meetingStateQuery);
    if (opened.agenda.length !== items || opened.members.length !== voters) {
      throw new Error(`meeting: expected ${items} items and ${voters} members on the agenda, got ${opened.agenda.length} and ${opened.members.length}`);
    }
    const agendaIds = opened.agenda.map((i) => i.applicationId);
    log(`meeting: ${meetingId} open with ${items} items and ${voters} members after ${Math.round(freezeMs)} ms (freeze + ${items} signals to initiatives that do not exist)`);

    // --- voters' tokens, through the real login ---------------------------------------------
    const tokens: string[] = [];
    for (const m of members) {
      const res = await fetch(`${api.url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: m.email, password }) });
      const body = (await res.json()) as { token?: string };
      if (res.status !== 200 || !body.token) throw new Error(`meeting: login ${m.email}: ${res.status} ${JSON.stringify(body)}`);
      tokens.push(body.token);
    }

    // --- the operations ------------------------------------------------------------------------
    /** Vote number `k` (over the whole run): member k mod 5 on item ⌊k/5⌋ mod 500, a mix of vote kinds. */
    let seq = 0;
    const nextVote = (): { member: number; args: Omit<CastVoteArgs, 'memberId'> } => {
      const k = seq++;
      const member = k % voters;
      const applicationId = agendaIds[Math.floor(k / voters) % items]!;
      const kind = k % 3;
      const args: Omit<CastVoteArgs, 'memberId'> =
        kind === 0
          ? { applicationId, vote: 'approve' }
          : kind === 1
            ? { applicationId, vote: 'partial', amountCents: 40_000, struckLines: [1], reasons: 'Het springkussen valt af.' }
            : { applicationId, vote: 'reject', reasons: 'Past niet binnen de regeling.' };
      return { member, args };
    };

    const votesUrl = `${api.url}/api/v1/meetings/${meetingId}/votes`;
    const candidateOp = async () => {
      const { member, args } = nextVote();
      const res = await fetch(votesUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[member]}` }, body: JSON.stringify(args) });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`POST ${votesUrl}: ${res.status} ${text}`);
    };
    const baselineHandle = client.workflow.getHandle(meetingId);
    const baselineOp = async () => {
      const { member, args } = nextVote();
      await baselineHandle.executeUpdate(castVoteUpdate, { args: [{ ...args, memberId: members[member]!._id }] });
    };

    if (warmup > 0) {
      log(`meeting: warm-up (${warmup} votes of each)`);
      await runPool(warmup, concurrency, candidateOp, cpu);
      await runPool(warmup, concurrency, baselineOp, cpu);
    }

    const candidate: PhaseResult[] = [];
    const baseline: PhaseResult[] = [];
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? (['candidate', 'baseline'] as const) : (['baseline', 'candidate'] as const);
      for (const side of order) {
        const result = await runPool(n, concurrency, side === 'candidate' ? candidateOp : baselineOp, cpu);
        (side === 'candidate' ? candidate : baseline).push(result);
        log(
          `meeting: round ${r + 1}/${rounds} ${side.padEnd(9)} ${String(result.opsPerSec).padStart(8)} votes/s  p50 ${result.latencyMs.p50} ms  p95 ${result.latencyMs.p95} ms` +
            `  cpu/op ${JSON.stringify(result.cpuMsPerOp)}`,
        );
      }
    }

    // --- sanity: every vote landed; the history against the limits ------------------------------
    const votesCast = seq;
    const state = await handle.query(meetingStateQuery);
    if (state.votes.length !== votesCast) throw new Error(`meeting: ${votesCast} votes cast, ${state.votes.length} in the meeting`);
    const described = await handle.describe();
    const history = {
      updates: votesCast,
      votesInState: state.votes.length,
      events: described.historyLength,
      sizeBytes: described.historySize ?? 0,
      limits: TEMPORAL_LIMITS,
    };
    log(`meeting: history after ${votesCast} votes: ${history.events} events, ${round(history.sizeBytes / 1024 / 1024, 2)} MB`);

    // --- the chair closes: decisions, audit log, 500 signals -------------------------------------
    const closeStart = performance.now();
    const closeRes = await fetch(`${api.url}/api/v1/meetings/${meetingId}/close`, { method: 'POST', headers: { authorization: `Bearer ${tokens[0]}` } });
    const closeBody = (await closeRes.json()) as { status?: string; outcomes?: { outcome: string }[] };
    if (closeRes.status !== 200 || closeBody.status !== 'closed') throw new Error(`meeting: close: ${closeRes.status} ${JSON.stringify(closeBody).slice(0, 500)}`);
    const closeMs = round(performance.now() - closeStart);
    const final = await handle.result();
    const completedMs = round(performance.now() - closeStart);
    const outcomes: Record<string, number> = {};
    for (const o of final.outcomes) outcomes[o.outcome] = (outcomes[o.outcome] ?? 0) + 1;
    const auditEntries = await models.Audit.countDocuments({ _id: new RegExp(`^${meetingId}:`) });
    if (final.outcomes.length !== items || auditEntries !== votesCast + items) {
      throw new Error(`meeting: expected ${items} outcomes and ${votesCast + items} audit entries, got ${final.outcomes.length} and ${auditEntries}`);
    }
    const finalDescribed = await handle.describe();
    log(`meeting: closed in ${Math.round(closeMs)} ms, completed after ${Math.round(completedMs)} ms: ${JSON.stringify(outcomes)}; ${auditEntries} audit entries`);

    const c = summarize('POST /api/v1/meetings/:id/votes over HTTP: bearer token, active-account check, validation, Workflow Update castVote', candidate);
    const b = summarize('raw handle.executeUpdate(castVoteUpdate) on its own Temporal client', baseline);
    const ratio = round(c.opsPerSec / b.opsPerSec, 3);
    const cpuList = cpus();
    const result: MeetingBenchResult = {
      name: 'meeting',
      date: new Date().toISOString(),
      meetingId,
      items,
      voters,
      n,
      concurrency,
      rounds,
      warmup,
      logLevel,
      candidate: c,
      baseline: b,
      ratio,
      roundRatios: candidate.map((p, i) => round(p.opsPerSec / baseline[i]!.opsPerSec, 3)),
      goal,
      pass: ratio >= goal,
      freeze: { ms: freezeMs, agendaItems: opened.agenda.length, members: opened.members.length },
      history,
      close: { closeMs, completedMs, outcomes, auditEntries, finalHistoryEvents: finalDescribed.historyLength, finalHistorySizeBytes: finalDescribed.historySize ?? 0 },
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
    writeFileSync(join(resultsDir, 'meeting.json'), `${JSON.stringify(result, null, 2)}\n`);
    const cpuLine = (s: SideSummary) => Object.entries(s.cpuMsPerOp).map(([k, v]) => `${k} ${v}`).join(', ');
    log('');
    log(`meeting: ${items} items, ${voters} voters; ${n} votes per side per round, ${concurrency} in flight, ${rounds} rounds; node ${process.version}, ${cpuList.length} cpu(s)`);
    log(`  candidate (HTTP vote)          ${String(c.opsPerSec).padStart(8)} votes/s   p50 ${c.latencyMs.p50} ms  p95 ${c.latencyMs.p95} ms   cpu ms/op: ${cpuLine(c)}`);
    log(`  baseline  (raw executeUpdate)  ${String(b.opsPerSec).padStart(8)} votes/s   p50 ${b.latencyMs.p50} ms  p95 ${b.latencyMs.p95} ms   cpu ms/op: ${cpuLine(b)}`);
    log(`  ratio ${ratio} (goal >= ${goal}: ${result.pass ? 'met' : 'NOT met'}); per round ${result.roundRatios.join(', ')}`);
    log(`  history: ${history.events} events, ${round(history.sizeBytes / 1024, 1)} KiB after ${votesCast} updates (limits: ${TEMPORAL_LIMITS.maxTotalUpdates} updates, ${TEMPORAL_LIMITS.historyEvents} events, 50 MB)`);
    log(`  written to ${resolve(resultsDir, 'meeting.json')}`);
    return result;
  } finally {
    await stopAll();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  runMeetingBench().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
