/**
 * Scale benchmark (not a test): does a user-facing path cost the same with 100,000
 * applications stored as with 1,000?
 *
 * Starts FerretDB and a headless Temporal dev server with the production worker
 * (withBenchStack), and per step inserts synthetic applications of one year directly
 * (bench/reports.ts's generator: decisions in the fund's proportions, reports, their
 * budget-ledger journal and documents) plus four timeline events per application and a
 * closed meeting per fortnight. Then a fresh API (buildApiDeps + createApp on real HTTP;
 * a running API has its journals in memory, so they are loaded before the clock) and, per
 * path, BENCH_N requests one after the other (after a short warm-up), timed one by one:
 *
 *   intake       POST /api/v1/applications (JSON; the initiative workflow starts)
 *   application  GET /api/v1/applications/:id as a panel member (a random stored one)
 *   staffList    GET /beheer/aanvragen?status=closed&year=… page 2, with a staff session cookie
 *   vote         POST /api/v1/meetings/:id/votes on a meeting opened for this step (12 items)
 *   reservation  BudgetLedger.reserve of one cent for a new application, in the big year
 *   budget       GET /api/v1/budget/:year
 *   summary      GET /api/v1/reports/summary?year= with the report cache and the tally's fold emptied first (newest snapshot + tail)
 *                (BENCH_SUMMARY_N requests: it is the slow one)
 *
 * The ratio of a path is its p50 at the first step / its p50 at the last step (1 = flat;
 * the goal is ≥ 0.8); the headline `ratio` is the lowest. The p95s are reported beside.
 *
 * Environment: BENCH_SCALE_STEPS (default 1000,100000), BENCH_N (default 40),
 * BENCH_SUMMARY_N (default 3), BENCH_LOG_LEVEL.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus } from 'node:os';
import argon2 from 'argon2';
import { pino } from 'pino';
import type { WorkflowHandle } from '@temporalio/client';
import type { ApplicationDoc, Models } from '../src/db/models.ts';
import { applicationKey, keysOfApplication } from '../src/db/keys.ts';
import { openStore } from '../src/runtime.ts';
import { reportsFor } from '../src/api/routes/reports.ts';
import { BudgetLedger } from '../src/budget/ledger.ts';
import { ReportTally } from '../src/reports/tally.ts';
import { upcomingMeetings } from '../src/domain/meetings.ts';
import { amsterdamYear } from '../src/domain/dates.ts';
import { initiativeWorkflowId } from '../src/temporal/starter.ts';
import { calendarRules, meetingInput } from '../src/temporal/schedule.ts';
import { meetingStateQuery, type panelMeetingWorkflow } from '../workflows/meeting.ts';
import { validApplication } from '../test/helpers/fixtures.ts';
import { documentDoc, insertInBatches, SyntheticLedger, syntheticApplication, SYNTHETIC_YEAR, tallySynthetic } from './reports.ts';
import { envInt, loadAverage, resultsDir, round, runIfMain, runInfo, startFreshApi, stdoutLog, withBenchStack, type Log, type RunInfo } from './support.ts';

const PATHS = ['intake', 'application', 'staffList', 'vote', 'reservation', 'budget', 'summary'] as const;
type PathName = (typeof PATHS)[number];

interface Latency {
  n: number;
  p50: number;
  p95: number;
  max: number;
}

export interface ScaleStep {
  applications: number;
  events: number;
  ledgerEntries: number;
  meetings: number;
  insertSec: number;
  /** A fresh process's first use of the big year (its newest snapshot and the entries after it; before the clock). */
  journalLoadMs: number;
  paths: Record<PathName, Latency>;
}

export interface ScaleBenchResult extends RunInfo {
  name: 'scale';
  date: string;
  ratioDefinition: string;
  ratio: number;
  goal: number;
  pass: boolean;
  pathRatios: Record<PathName, number>;
  p95Ratios: Record<PathName, number>;
  summaryUncachedMsAtLargest: number;
  steps: ScaleStep[];
  durationSec: number;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
};

/** Runs `op` n times one after the other (after `warmup` untimed runs) and returns the latencies. */
async function timed(n: number, warmup: number, op: (i: number) => Promise<void>): Promise<Latency> {
  for (let i = 0; i < warmup; i++) await op(-1 - i);
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await op(i);
    ms.push(performance.now() - t);
  }
  return { n, p50: round(pct(ms, 50)), p95: round(pct(ms, 95)), max: round(Math.max(...ms)) };
}

/** Four timeline events per application, as the initiative workflow projects them. */
function eventsOf(app: ApplicationDoc): Record<string, unknown>[] {
  const at = new Date(app.createdAt).getTime();
  const steps: [string, string][] = [
    ['submitted', 'submitted'],
    ['screening_started', 'screening'],
    ['screening_completed', 'ready_for_meeting'],
    ['decided', app.status],
  ];
  return steps.map(([type, status], k) => ({ _id: `${app._id}:bench-${k}`, applicationId: app._id, at: new Date(at + k * 86_400_000).toISOString(), type, status, actor: 'system' }));
}

/** A closed meeting per fortnight of the year, its agenda a slice of the applications. */
function meetingsOf(apps: ApplicationDoc[], from: number, year: number): Record<string, unknown>[] {
  const meetings: Record<string, unknown>[] = [];
  for (let k = 0; k < 26; k++) {
    const date = new Date(Date.UTC(year, 0, 7 + 14 * k, 18));
    const day = date.toISOString().slice(0, 10);
    const agenda = apps.slice(k * 4, k * 4 + 4).map((a) => ({ applicationId: a._id, reference: a.reference, title: a.title, applicantName: a.applicant.name }));
    meetings.push({ _id: `meeting-${day}-bench-${from}`, date: day, startsAt: date, cutoffAt: new Date(date.getTime() - 7 * 86_400_000), endsAt: date, status: 'closed', agenda, members: [], frozenAt: date, closedAt: date });
  }
  return meetings;
}

export async function runScaleBench(log: Log = stdoutLog): Promise<ScaleBenchResult> {
  const steps = (process.env.BENCH_SCALE_STEPS || '1000,100000').split(',').map((s) => Number(s.trim()));
  if (steps.length < 2 || steps.some((s, i) => !Number.isInteger(s) || s < 1 || (i > 0 && s <= steps[i - 1]!))) throw new Error('BENCH_SCALE_STEPS: two or more increasing integers, e.g. 1000,100000');
  const n = envInt('BENCH_N', 40);
  const summaryN = envInt('BENCH_SUMMARY_N', 3);
  const logLevel = process.env.BENCH_LOG_LEVEL || 'warn';
  const goal = 0.8;
  const startedAt = Date.now();
  const loadavgAtStart = loadAverage();
  const YEAR = SYNTHETIC_YEAR;

  return withBenchStack({ name: 'scale', logLevel, env: { MEETING_SCHEDULE: 'false' }, log }, async (stack) => {
    const { config, models, client } = stack;
    const password = randomBytes(12).toString('base64url');
    const passwordHash = await argon2.hash(password);
    const members = Array.from({ length: 5 }, (_, k) => ({ _id: randomUUID(), email: `panel${k + 1}@bench.test`, name: `Panellid ${k + 1}`, role: 'panel' as const, chair: k === 0, active: true, passwordHash, createdAt: new Date() }));
    await models.StaffUser.insertMany(members);
    const store = await openStore(config);
    const logger = pino({ level: logLevel }, pino.destination({ dest: '/dev/null', sync: false }));

    const ledger = new SyntheticLedger();
    const tally = new ReportTally({ models });
    let inserted = 0;
    let eventCount = 0;
    let meetingCount = 0;
    const result: ScaleStep[] = [];
    const seenApps: string[] = [];

    for (const [stepIndex, target] of steps.entries()) {
      // --- the data -------------------------------------------------------------------------
      const t0 = performance.now();
      // In a function of its own, so nothing of the seed stays reachable while the paths are
      // timed: a heap holding 100,000 applications and 400,000 events makes every garbage
      // collection of this process (which is also the API) slower, which a real API does not pay.
      const seed = async () => {
        const apps: ApplicationDoc[] = [];
        const documents: ReturnType<typeof documentDoc>[] = [];
        for (let i = inserted; i < target; i++) apps.push(syntheticApplication(i, ledger, documents));
        // The vote's meeting gets the 12 applications inserted for it below, not the synthetic ones
        // waiting for a meeting (a real agenda has tens of items, not thousands).
        for (const a of apps) if (a.status === 'ready_for_meeting') a.status = 'screening';
        const events = apps.flatMap(eventsOf);
        const meetings = meetingsOf(apps, inserted, YEAR);
        const claims = Array.from({ length: target - inserted }, (_, k) => ({ _id: `${YEAR}-${inserted + k + 1}`, year: YEAR, seq: inserted + k + 1, createdAt: new Date() }));
        const [entries] = await Promise.all([
          ledger.insert(models),
          insertInBatches(models.Application.collection as never, apps),
          insertInBatches(models.ReferenceClaim.collection as never, claims),
          insertInBatches(models.Document.collection as never, documents),
          insertInBatches(models.Event.collection as never, events),
          insertInBatches(models.Meeting.collection as never, meetings),
          // The keys the service writes with its applications, events and documents (src/db/keys.ts).
          insertInBatches(models.Key.collection as never, [
            ...apps.flatMap(keysOfApplication),
            ...events.map((e) => applicationKey.event(e.applicationId as string, e._id as string)),
            ...documents.flatMap((d, i) => [applicationKey.document(d.applicationId, d._id, d.uploadedAt, i), applicationKey.content(d.sha256, d._id)]),
          ]),
        ]);
        await tallySynthetic(tally, YEAR, apps, entries);
        for (const a of apps) if (seenApps.length < 5_000 || Math.random() < 5_000 / target) seenApps.push(a._id);
        return { events: events.length, meetings: meetings.length };
      };
      const seeded = await seed();
      eventCount += seeded.events;
      meetingCount += seeded.meetings;
      inserted = target;
      const insertSec = round((performance.now() - t0) / 1000, 1);
      log(`scale: ${target} applications, ${eventCount} events, ${ledger.count} ledger entries, ${meetingCount} meetings; inserted in ${insertSec} s`);

      // --- a fresh API on the data --------------------------------------------------------------
      const { deps, url, close } = await startFreshApi({ config, logger, models, client, store, secret: config.auth.secret! });
      const { token } = await deps.signer.signStaff({ id: members[0]!._id, role: 'panel', name: members[0]!.name });
      const memberTokens = await Promise.all(members.map((m) => deps.signer.signStaff({ id: m._id, role: 'panel', name: m.name }).then((s) => s.token)));
      // A fresh process's first use of the year: its newest snapshot and the entries after it.
      const tj = performance.now();
      await deps.ledger.balances(YEAR);
      const journalLoadMs = round(performance.now() - tj);
      const reserver = new BudgetLedger({ models, defaultTotalCents: config.fund.annualBudgetCents });
      log(`scale: ${target}: first load of the ${YEAR} journal (${ledger.count} entries) in ${journalLoadMs} ms`);

      /** One request; `auth` is a bearer token, or null for none (the resident, or a page with a cookie). */
      const request = async (method: string, path: string, init: { body?: unknown; auth?: string | null; cookie?: string; expect: number }) => {
        const bearer = init.auth === undefined ? token : init.auth;
        const res = await fetch(`${url}${path}`, {
          method,
          headers: {
            ...(init.body ? { 'content-type': 'application/json' } : {}),
            ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
            ...(init.cookie ? { cookie: init.cookie } : {}),
          },
          ...(init.body ? { body: JSON.stringify(init.body) } : {}),
        });
        const text = await res.text();
        if (res.status !== init.expect) throw new Error(`scale: ${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
      };

      // --- a meeting to vote in: 12 applications ready, the cut-off now --------------------------
      const itemIds = Array.from({ length: 12 }, () => randomUUID());
      const thisYear = amsterdamYear(new Date());
      const items = itemIds.map((id, i) => {
        const createdAt = new Date(Date.now() - (12 - i) * 1000);
        return { ...validApplication({ title: `Stemming ${i + 1}` }), _id: id, reference: `SCALE-${target}-${i + 1}`, year: thisYear, status: 'ready_for_meeting', statusSeq: 3, informationRequests: [], workflowId: initiativeWorkflowId(id), rollovers: 0, createdAt, updatedAt: createdAt } as unknown as ApplicationDoc;
      });
      await models.Key.collection.insertMany(items.flatMap(keysOfApplication) as never[]);
      await models.Application.collection.insertMany(items as never[]);
      const planned = upcomingMeetings(calendarRules(config), [], new Date(), steps.length)[stepIndex]!;
      const handle: WorkflowHandle<typeof panelMeetingWorkflow> = await client.workflow.start<typeof panelMeetingWorkflow>('panelMeetingWorkflow', {
        taskQueue: config.temporal.taskQueue,
        workflowId: planned.meetingId,
        args: [{ ...meetingInput(config, planned), cutoffAt: new Date().toISOString(), endsAt: new Date(Date.now() + 24 * 3600_000).toISOString() }],
      });
      for (const started = Date.now(); (await handle.query(meetingStateQuery)).status !== 'open'; ) {
        if (Date.now() - started > 600_000) throw new Error('scale: the meeting agenda was not frozen within 10 minutes');
        await new Promise((r) => setTimeout(r, 200));
      }
      // The synthetic applications that wait for a meeting are on the agenda too; the votes go to ours.
      const onAgenda = new Set((await handle.query(meetingStateQuery)).agenda.map((i) => i.applicationId));
      if (!itemIds.every((id) => onAgenda.has(id))) throw new Error('scale: the meeting agenda lacks the applications inserted for it');
      const agenda = itemIds;

      // --- the paths ------------------------------------------------------------------------------
      const pick = () => seenApps[Math.floor(Math.random() * seenApps.length)]!;
      const cookie = `bf_sessie=${token}`;
      const reports = reportsFor(deps);
      let vote = 0;
      const votesUrl = `/api/v1/meetings/${planned.meetingId}/votes`;
      const paths: Record<PathName, Latency> = {
        intake: await timed(n, 3, () => request('POST', '/api/v1/applications', { body: validApplication({ title: 'Schaal' }), auth: null, expect: 201 })),
        application: await timed(n, 3, () => request('GET', `/api/v1/applications/${pick()}`, { expect: 200 })),
        staffList: await timed(n, 3, () => request('GET', `/beheer/aanvragen?status=closed&year=${YEAR}&page=2`, { cookie, auth: null, expect: 200 })),
        vote: await timed(Math.min(n, 5 * 12 - 3), 3, async () => {
          const k = vote++;
          const member = k % 5;
          const applicationId = agenda[Math.floor(k / 5) % agenda.length]!;
          await request('POST', votesUrl, { body: { applicationId, vote: 'approve' }, auth: memberTokens[member]!, expect: 200 });
        }),
        reservation: await timed(n, 3, async () => {
          const r = await reserver.reserve({ applicationId: `scale-${randomUUID()}`, year: YEAR, amountCents: 1, wijken: [], actor: 'bench' });
          if (r.outcome !== 'reserved') throw new Error(`scale: reservation ${r.outcome}`);
        }),
        budget: await timed(n, 3, () => request('GET', `/api/v1/budget/${YEAR}`, { expect: 200 })),
        summary: await timed(summaryN, 1, async () => {
          reports.invalidate(YEAR);
          await request('GET', `/api/v1/reports/summary?year=${YEAR}`, { expect: 200 });
          await reports.idle();
        }),
      };
      ledger.follow(await reserver.journal(YEAR)); // setting up the next step (a download's read), not measured
      await close();
      await handle.terminate('scale bench step done').catch(() => undefined);
      for (const p of PATHS) log(`scale: ${target}: ${p.padEnd(12)} p50 ${paths[p].p50} ms, p95 ${paths[p].p95} ms (n ${paths[p].n})`);
      result.push({ applications: target, events: eventCount, ledgerEntries: ledger.count, meetings: meetingCount, insertSec, journalLoadMs, paths });
    }

    const first = result[0]!;
    const last = result[result.length - 1]!;
    const ratioOf = (k: 'p50' | 'p95') => Object.fromEntries(PATHS.map((p) => [p, round(first.paths[p][k] / last.paths[p][k], 3)])) as Record<PathName, number>;
    const pathRatios = ratioOf('p50');
    const ratio = Math.min(...Object.values(pathRatios));
    const out: ScaleBenchResult = {
      name: 'scale',
      date: new Date().toISOString(),
      ratioDefinition: `per path: p50 latency at ${first.applications} applications / p50 latency at ${last.applications} (1 = flat); ratio = the lowest path`,
      ratio,
      goal,
      pass: ratio >= goal && last.paths.summary.p50 < 2_000,
      pathRatios,
      p95Ratios: ratioOf('p95'),
      summaryUncachedMsAtLargest: last.paths.summary.p50,
      steps: result,
      ...runInfo(loadavgAtStart),
      durationSec: round((Date.now() - startedAt) / 1000, 1),
    };
    const file = join(resultsDir, 'scale.json');
    writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
    log('');
    log(`scale: ${first.applications} → ${last.applications} applications; node ${process.version}, ${cpus().length} cpu(s)`);
    for (const p of PATHS) log(`  ${p.padEnd(12)} p50 ${first.paths[p].p50} → ${last.paths[p].p50} ms  ratio ${pathRatios[p]}`);
    log(`  ratio ${ratio} (goal ≥ ${goal}); summary uncached at ${last.applications}: ${last.paths.summary.p50} ms (goal < 2000)`);
    log(`  written to ${file}`);
    return out;
  });
}

runIfMain(import.meta.url, runScaleBench);
