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
import { randomBytes, randomUUID } from 'node:crypto';
import { keysOfApplication } from '../src/db/keys.ts';
import type { ApplicationDoc } from '../src/db/models.ts';
import { cpus } from 'node:os';
import argon2 from 'argon2';
import type { WorkflowHandle } from '@temporalio/client';
import { amsterdamYear } from '../src/domain/dates.ts';
import { upcomingMeetings } from '../src/domain/meetings.ts';
import { initiativeWorkflowId } from '../src/temporal/starter.ts';
import { calendarRules, meetingInput } from '../src/temporal/schedule.ts';
import { castVoteUpdate, meetingStateQuery, type panelMeetingWorkflow } from '../workflows/meeting.ts';
import type { CastVoteArgs } from '../src/domain/workflow-types.ts';
import { validApplication } from '../test/helpers/fixtures.ts';
import { benchSettings, compareSides, envInt, loadAverage, logComparison, round, runIfMain, runInfo, runPool, runRounds, stdoutLog, withBenchStack, writeResult, type BenchSettings, type Comparison, type RunInfo } from './support.ts';

/** Temporal server defaults that bound this benchmark (see the header). */
const TEMPORAL_LIMITS = { maxTotalUpdates: 2000, maxInFlightUpdates: 10, historyEvents: 51_200, historyBytes: 50 * 1024 * 1024 };

export interface MeetingBenchResult extends BenchSettings, Comparison, RunInfo {
  name: 'meeting';
  date: string;
  meetingId: string;
  items: number;
  voters: number;
  /** Starting the workflow until the agenda is frozen and the meeting open (500 items, 500 failed signals). */
  freeze: { ms: number; agendaItems: number; members: number };
  /** The meeting workflow's history when voting was over, against Temporal's default limits. */
  history: { updates: number; votesInState: number; events: number; sizeBytes: number; limits: typeof TEMPORAL_LIMITS };
  /** The chair's close (decisions) and the workflow's completion (audit log, 500 signals). */
  close: { closeMs: number; completedMs: number; outcomes: Record<string, number>; auditEntries: number; finalHistoryEvents: number; finalHistorySizeBytes: number };
  durationSec: number;
}

export async function runMeetingBench(log = stdoutLog): Promise<MeetingBenchResult> {
  const items = envInt('BENCH_ITEMS', 500);
  const settings = benchSettings({ n: 300, concurrency: 5, rounds: 3, warmup: 25 });
  const { n, concurrency, rounds, warmup, logLevel } = settings;
  const maxUpdates = envInt('BENCH_MAX_UPDATES', 1950);
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
  const loadavgAtStart = loadAverage();

  // The meeting is started by hand below; no Schedule needed.
  return withBenchStack({ name: 'meeting', logLevel, env: { MEETING_SCHEDULE: 'false' }, log }, async (stack) => {
    const { config, api, models, client, cpu } = stack;

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
    const ready = applicationIds.map((id, i) => {
        const createdAt = new Date(t0 + i * 1000); // oldest first on the agenda
        return {
          ...validApplication({ title: `Initiatief ${i + 1}`, applicant: { ...validApplication().applicant, email: `aanvrager${i + 1}@example.nl` } }),
          _id: id,
          reference: `BENCH-${String(i + 1).padStart(4, '0')}`,
          year,
          status: 'ready_for_meeting',
          statusSeq: 3,
          informationRequests: [],
          workflowId: initiativeWorkflowId(id),
          rollovers: 0,
          createdAt,
          updatedAt: createdAt,
        } as unknown as ApplicationDoc;
      });
    // With the keys the service writes at intake (src/db/keys.ts): the agenda is found by them.
    await models.Key.collection.insertMany(ready.flatMap(keysOfApplication) as never[]);
    await models.Application.collection.insertMany(ready as never[]);

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

    const phases = await runRounds({ name: 'meeting', unit: 'votes', rounds, n, concurrency, candidateOp, baselineOp, cpu, log });

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

    const comparison = compareSides(
      phases,
      {
        candidate: 'POST /api/v1/meetings/:id/votes over HTTP: bearer token, active-account check, validation, Workflow Update castVote',
        baseline: 'raw handle.executeUpdate(castVoteUpdate) on its own Temporal client',
      },
      goal,
    );
    const result: MeetingBenchResult = {
      name: 'meeting',
      date: new Date().toISOString(),
      meetingId,
      items,
      voters,
      ...settings,
      ...comparison,
      freeze: { ms: freezeMs, agendaItems: opened.agenda.length, members: opened.members.length },
      history,
      close: { closeMs, completedMs, outcomes, auditEntries, finalHistoryEvents: finalDescribed.historyLength, finalHistorySizeBytes: finalDescribed.historySize ?? 0 },
      ...runInfo(loadavgAtStart),
      durationSec: 0,
    };
    const file = await writeResult(stack, result, startedAt);

    log('');
    log(`meeting: ${items} items, ${voters} voters; ${n} votes per side per round, ${concurrency} in flight, ${rounds} rounds; node ${process.version}, ${cpus().length} cpu(s)`);
    logComparison(log, comparison, { candidate: 'candidate (HTTP vote)          ', baseline: 'baseline  (raw executeUpdate)  ' }, 'votes');
    log(`  history: ${history.events} events, ${round(history.sizeBytes / 1024, 1)} KiB after ${votesCast} updates (limits: ${TEMPORAL_LIMITS.maxTotalUpdates} updates, ${TEMPORAL_LIMITS.historyEvents} events, 50 MB)`);
    log(`  written to ${file}`);
    return result;
  });
}

runIfMain(import.meta.url, runMeetingBench);
