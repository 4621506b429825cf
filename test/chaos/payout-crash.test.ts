/**
 * Issue: "a payout happens exactly once, even if the worker is killed mid-way".
 *
 * The Temporal worker runs as a child process (worker-child.ts) that kills itself with
 * SIGKILL at planned activity boundaries; a supervisor starts it again each time. The
 * API runs in this process, except for one batch request, made by a child API process
 * that dies right after the batch's register insert (batch-child.ts).
 *
 * Every boundary of the grant → reserve → payout → batch → executed path is killed at
 * once: each activity call of the path (recordProgress of approved/reserved/paid,
 * notifyApplicant of the decision and of the payment, reserveBudget, createPayout,
 * recordPayment), before it runs and after it returned but before Temporal heard of
 * it: 16 worker kills, each at a different application so that the waits for the
 * activity timeouts (10 s to 1 min before the retry) overlap instead of adding up.
 *
 *   P1..P10: decided one after the other; each dies at one boundary before the payout.
 *            Their payouts go into one batch, made by the API child that dies mid-way.
 *   Q1..Q6:  decided, batched and executed one after the other (a batch each, so each
 *            execution wakes one workflow); each dies at one boundary after the payout.
 *            Q1 and Q2 (the last e-mail, retried only after 1 min) go first.
 *
 * About 2 minutes. CHAOS_LOG_LEVEL=info makes the children log (the last lines are in
 * the failure messages); the timeline of kills and restarts is printed at the end.
 *
 * At the end, from the database: every application paid; one payout each, in exactly
 * one batch (register and files), executed once; the ledger checks out and has exactly
 * one reserve and one pay per application; every kill was at a planned boundary and the
 * killed activity was run to completion by a later worker.
 */
import { createHash, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BudgetLedger } from '../../src/budget/ledger.ts';
import { decisionSignal, scheduledSignal } from '../../workflows/initiative-signals.ts';
import { stateQuery } from '../../workflows/initiative.ts';
import { createTestContext, eventually, type TestContext } from '../helpers/context.ts';
import { submitReady, type Granted } from '../helpers/grants.ts';
import { validApplication } from '../helpers/fixtures.ts';
import { batchKillPoint, files, readJsonLines, type Crossing, type KillRecord, type PlannedKill } from './protocol.ts';
import type { Supervisor } from './supervisor.ts';
import { startChaosWorker, type ChaosWorker } from './chaos-worker.ts';

const here = dirname(fileURLToPath(import.meta.url));
const YEAR = 2027; // the fixtures' activity date

/** Kills before the payout exists, in this order (the long activity timeouts first, so their waits overlap the rest). */
const beforePayout = [
  'notifyApplicant:approved/before',
  'notifyApplicant:approved/after',
  'recordProgress:approved/before',
  'recordProgress:approved/after',
  'recordProgress:reserved/before',
  'recordProgress:reserved/after',
  'reserveBudget/before',
  'reserveBudget/after',
  'createPayout/before',
  'createPayout/after',
];
/** Kills after the batch was executed. */
const afterPayout = [
  'notifyApplicant:paid/before',
  'notifyApplicant:paid/after',
  'recordProgress:paid/before',
  'recordProgress:paid/after',
  'recordPayment/before',
  'recordPayment/after',
];

interface App extends Granted {
  name: string;
  amountCents: number;
  point: string;
  meetingId: string;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const as = (t: string) => ({ Authorization: `Bearer ${t}` });

describe('a payout happens exactly once, even if the worker is killed mid-way', () => {
  let ctx: TestContext;
  let chaos: ChaosWorker;
  let dir: string;
  let worker: Supervisor;
  const t0 = Date.now();
  const timings: string[] = [];
  const mark = (what: string) => timings.push(`${((Date.now() - t0) / 1000).toFixed(1)} s  ${what}`);

  beforeAll(async () => {
    ctx = await createTestContext({ noWorker: true });
    chaos = await startChaosWorker(ctx);
    ({ dir, worker } = chaos);
    mark('setup: test context, workflow bundle, first worker');
  });

  afterAll(async () => {
    await chaos?.stop();
    await ctx?.close();
    console.log(`chaos test timeline:\n${timings.join('\n')}`);
  });

  const statusInDb = async (id: string) => (await ctx.models.Application.findById(id, { status: 1 }).lean())?.status;
  async function waitStatus(a: App, status: string, timeoutMs: number): Promise<void> {
    let last: string | undefined;
    try {
      await eventually(async () => (last = await statusInDb(a.id)) === status, timeoutMs, `${a.name} (${a.point}) in ${status}`);
    } catch (err) {
      throw new Error(`${String(err)} (last seen: ${last})\n${worker.output()}`);
    }
  }
  /** Every e-mail of the application delivered (nothing half sent that a kill could still hit). */
  const mailsSettled = (a: App, atLeast: number) =>
    eventually(async () => {
      const rows = await ctx.models.Outbox.find({ applicationId: a.id }, { status: 1 }).lean();
      return rows.length >= atLeast && rows.every((r) => r.status === 'sent');
    }, 120_000, `e-mails of ${a.name} sent`);
  const killsOf = () => readJsonLines<KillRecord>(files(dir).kills);
  /** Waits until the worker died at the application's boundary and a new worker runs. */
  async function killedAt(a: App, since: number): Promise<KillRecord> {
    const kill = await eventually(async () => killsOf().find((k) => k.applicationId === a.id && k.point === a.point), 60_000, `the kill of ${a.name} at ${a.point}\n${worker.output()}`);
    const pid = await worker.waitReady(kill.pid);
    const killedAfter = Date.parse(kill.at) - since;
    const restart = worker.started.find((s) => s.pid === pid)!.at - worker.exits.find((e) => e.pid === kill.pid)!.at;
    mark(`killed at ${a.point} (${a.name}, pid ${kill.pid}) ${(killedAfter / 1000).toFixed(1)} s after the ${a.name.startsWith('P') ? 'decision' : 'execution'}; worker up again in ${(restart / 1000).toFixed(1)} s`);
    return kill;
  }
  async function decide(a: App): Promise<void> {
    await ctx.client.workflow.getHandle(`initiative-${a.id}`).signal(decisionSignal, {
      meetingId: a.meetingId,
      outcome: 'approved',
      grantedCents: a.amountCents,
      requestedCents: a.amountCents,
      reasons: [],
      struckLines: [],
      decidedAt: new Date().toISOString(),
    });
  }

  it('kills the worker at every activity boundary and the API mid-batch; every grant is paid once, in one batch', async () => {
    const finance = await ctx.login('financien@buurtfonds.test');

    // ---- Applications P1..P10 and Q1..Q6, submitted, screened and on a meeting's agenda.
    const points = [...beforePayout.map((p, i) => ({ name: `P${i + 1}`, point: p })), ...afterPayout.map((p, i) => ({ name: `Q${i + 1}`, point: p }))];
    const apps: App[] = [];
    for (let i = 0; i < points.length; i += 4) {
      apps.push(
        ...(await Promise.all(
          points.slice(i, i + 4).map(async ({ name, point }, k) => {
            const n = i + k + 1;
            const lines = [
              { description: 'Huur partytent', amountCents: 40_000 + n * 1_000 },
              { description: 'Springkussen', amountCents: 15_000 + n },
            ];
            const amountCents = lines[0]!.amountCents + lines[1]!.amountCents;
            const form = validApplication({
              title: `Buurtfeest ${name}`,
              applicant: { ...validApplication().applicant, name: `Aanvrager ${name}`, email: `chaos-${name.toLowerCase()}@example.nl` },
              accountHolder: `Aanvrager ${name}`,
              budgetLines: lines,
              amountRequestedCents: amountCents,
            });
            const a = await submitReady(ctx, form);
            const meetingId = `meeting-chaos-${randomUUID()}`;
            const startsAt = new Date(Date.now() + 86_400_000).toISOString();
            await ctx.client.workflow.getHandle(`initiative-${a.id}`).signal(scheduledSignal, { meetingId, date: startsAt.slice(0, 10), startsAt });
            return { ...a, name, amountCents, point, meetingId };
          }),
        )),
      );
    }
    for (const a of apps) {
      await waitStatus(a, 'scheduled', 30_000);
      await mailsSettled(a, 2); // confirmation, meeting_scheduled
    }
    expect(killsOf()).toEqual([]);
    expect(worker.exits).toEqual([]);
    mark(`${apps.length} applications scheduled`);

    // The plan: one boundary per application.
    const plan: PlannedKill[] = apps.map((a) => ({ point: a.point, applicationId: a.id }));
    writeFileSync(files(dir).plan, JSON.stringify(plan));
    const byId = new Map(apps.map((a) => [a.id, a]));
    const P = apps.filter((a) => a.name.startsWith('P'));
    const Q = apps.filter((a) => a.name.startsWith('Q'));

    /** A Q application: decided, reserved, in a batch of its own, executed; dies at its boundary after the payout. */
    async function payAlone(a: App): Promise<void> {
      await decide(a);
      await waitStatus(a, 'reserved', 30_000);
      await mailsSettled(a, 3); // + the decision
      const created = await ctx.http().post('/api/v1/payouts/batches').set(as(finance)).send();
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      expect(created.body.numberOfTransactions).toBe(1);
      const since = Date.now();
      const done = await ctx.http().post(`${created.body.fileUrl}/executed`).set(as(finance)).send();
      expect(done.status, JSON.stringify(done.body)).toBe(200);
      await killedAt(a, since);
    }

    // ---- Q1, Q2 first (the kills around the last e-mail: its retry comes a minute later, so start early).
    for (const a of Q.slice(0, 2)) await payAlone(a);

    // ---- Before the payout: decide P1..P10 one at a time, each kills the worker once.
    for (const a of P) {
      const since = Date.now();
      await decide(a);
      await killedAt(a, since);
    }
    for (const a of P) await waitStatus(a, 'reserved', 120_000);
    mark('P1..P10 reserved');

    // ---- The API dies in the middle of the batch request.
    const payoutsP = await ctx.models.Payout.find({ applicationId: { $in: P.map((a) => a.id) } }).lean();
    expect(payoutsP.map((p) => p.applicationId).sort()).toEqual(P.map((a) => a.id).sort());
    expect(payoutsP.every((p) => p.status === 'pending')).toBe(true);
    const registerBefore = await ctx.models.PayoutEvent.countDocuments({});
    const api = spawn(process.execPath, [join(here, 'batch-child.ts')], { env: chaos.env, stdio: ['ignore', 'ignore', 'pipe'] });
    let apiErr = '';
    api.stderr?.on('data', (c: Buffer) => (apiErr += c.toString()));
    const apiExit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => api.once('exit', (code, signal) => r({ code, signal })));
    expect(apiExit, apiErr).toEqual({ code: null, signal: 'SIGKILL' });
    expect(killsOf().filter((k) => k.point === batchKillPoint)).toEqual([expect.objectContaining({ pid: api.pid })]);
    mark('API killed after the batch register insert');

    // What the crash left: the batch in the register, no file, payouts not projected yet.
    const registerAfterCrash = (await ctx.models.PayoutEvent.find({}).sort({ seq: 1 }).lean()).slice(registerBefore);
    expect(registerAfterCrash.map((e) => e.kind)).toEqual(['batch']);
    const crashBatch = registerAfterCrash[0]!;
    expect([...crashBatch.endToEndIds].sort()).toEqual(payoutsP.map((p) => p._id).sort());
    expect(await ctx.models.PayoutBatch.exists({ _id: crashBatch.batchId! })).toBeNull();
    expect((await ctx.models.Payout.find({ applicationId: { $in: P.map((a) => a.id) } }).lean()).every((p) => p.status === 'pending')).toBe(true);

    // The API that is up again: the file is there (rendered again: the bytes the register recorded) …
    const fileUrl = `/api/v1/payouts/batches/${crashBatch.batchId}`;
    const file = await ctx.http().get(fileUrl).set(as(finance));
    expect(file.status, file.text).toBe(200);
    expect(sha256(file.text)).toBe(crashBatch.batch!.sha256);
    expect(file.headers.etag).toBe(`"${crashBatch.batch!.sha256}"`);
    expect((await ctx.http().get(fileUrl).set(as(finance))).text).toBe(file.text);
    expect((await ctx.models.PayoutBatch.findById(crashBatch.batchId).lean())?.sha256).toBe(crashBatch.batch!.sha256);
    // … nothing can be batched twice …
    const again = await ctx.http().post('/api/v1/payouts/batches').set(as(finance)).send();
    expect(again.status, JSON.stringify(again.body)).toBe(409);
    expect(again.body.error.code).toBe('no_pending_payouts');
    // … its start-up reconciliation projects the batch, and executing it pays everyone once.
    await ctx.deps.payouts.reconcile();
    const batched = await ctx.models.Payout.find({ applicationId: { $in: P.map((a) => a.id) } }).lean();
    expect(batched.every((p) => p.status === 'batched' && p.batchId === crashBatch.batchId)).toBe(true);
    const executed = await ctx.http().post(`${fileUrl}/executed`).set(as(finance)).send();
    expect(executed.status, JSON.stringify(executed.body)).toBe(200);
    for (const a of P) await waitStatus(a, 'paid', 60_000);
    mark('crash batch read back, executed; P1..P10 paid');

    // ---- After the payout: Q3..Q6, one at a time.
    for (const a of Q.slice(2)) await payAlone(a);

    // ---- Everyone paid, and told so.
    for (const a of apps) {
      await waitStatus(a, 'paid', 120_000);
      await eventually(async () => (await ctx.models.Outbox.findById(`${a.id}:paid`, { status: 1 }).lean())?.status === 'sent', 120_000, `paid e-mail of ${a.name}`);
    }
    // Each killed activity ran to completion later, in another worker (after a kill
    // "after", that is its second run). The notifyApplicant retries come last: 1 min + 5 s.
    const crossingsNow = () => readJsonLines<Crossing>(files(dir).crossings);
    const completedLater = (k: KillRecord) => {
      const label = k.point.split('/')[0];
      return crossingsNow().some((c) => c.applicationId === k.applicationId && c.label === label && c.phase === 'after' && c.pid !== k.pid && c.at >= k.at);
    };
    for (const k of killsOf().filter((k) => k.point !== batchKillPoint)) {
      await eventually(async () => completedLater(k), 120_000, `${k.point} of ${byId.get(k.applicationId)?.name} run again after the kill`);
    }
    // A kill also drops what else was running then (e.g. the decision e-mail next to reserveBudget): those come a minute later.
    for (const a of apps) await mailsSettled(a, 4); // confirmation, meeting, decision, paid
    mark('all applications paid and told; every killed activity completed by a later worker');

    // ================= The invariants, from the database =================

    // The kills: each planned boundary exactly once, each by a worker that then died of SIGKILL.
    const kills = killsOf();
    const workerKills = kills.filter((k) => k.point !== batchKillPoint);
    expect(workerKills.map((k) => `${byId.get(k.applicationId)?.name} ${k.point}`).sort()).toEqual(apps.map((a) => `${a.name} ${a.point}`).sort());
    expect(kills).toHaveLength(apps.length + 1);
    const sigkilled = worker.exits.filter((e) => e.signal === 'SIGKILL').map((e) => e.pid);
    expect(sigkilled.sort()).toEqual(workerKills.map((k) => k.pid).sort());
    expect(worker.exits.filter((e) => e.signal !== 'SIGKILL')).toEqual([]);
    expect(new Set(sigkilled).size).toBe(sigkilled.length);

    // Each killed activity was run to completion later, by another worker (so a kill "after" made the activity run twice).
    const crossings = crossingsNow();
    for (const k of workerKills) {
      const [label, phase] = k.point.split('/') as [string, string];
      expect(completedLater(k), `${k.point} of ${byId.get(k.applicationId)?.name} completed after the kill`).toBe(true);
      const runs = crossings.filter((c) => c.applicationId === k.applicationId && c.label === label && c.phase === 'after').length;
      if (phase === 'after') expect(runs, `${k.point} of ${byId.get(k.applicationId)?.name}: runs to the end`).toBeGreaterThanOrEqual(2);
    }

    // Every grant reached paid, and its workflow says so.
    for (const a of apps) {
      expect(await statusInDb(a.id), a.name).toBe('paid');
      const state = await ctx.client.workflow.getHandle(`initiative-${a.id}`).query(stateQuery);
      expect(state.status, a.name).toBe('paid');
      expect(state.grant, a.name).toMatchObject({ budgetYear: YEAR, reservedCents: a.amountCents, paid: { batchId: expect.any(String) } });
    }

    // One payout per grant, paid, for the granted amount.
    const payouts = await ctx.models.Payout.find({}).lean();
    expect(payouts.map((p) => p.applicationId).sort()).toEqual(apps.map((a) => a.id).sort());
    for (const p of payouts) {
      expect(p.status, p.reference).toBe('paid');
      expect(p.amountCents, p.reference).toBe(byId.get(p.applicationId)!.amountCents);
    }

    // The register: every payout in exactly one batch, every batch executed once, nothing cancelled.
    const register = await ctx.models.PayoutEvent.find({}).sort({ seq: 1 }).lean();
    const batches = register.filter((e) => e.kind === 'batch');
    expect(batches).toHaveLength(1 + Q.length);
    expect(register.filter((e) => e.kind === 'cancel')).toEqual([]);
    const inBatches = batches.flatMap((b) => b.endToEndIds);
    expect([...inBatches].sort()).toEqual(payouts.map((p) => p._id).sort());
    expect(new Set(inBatches).size).toBe(inBatches.length);
    const executions = register.filter((e) => e.kind === 'executed').map((e) => e.batchId);
    expect([...executions].sort()).toEqual(batches.map((b) => b.batchId).sort());
    for (const p of payouts) {
      const holding = batches.filter((b) => b.endToEndIds.includes(p._id));
      expect(holding.map((b) => b.batchId), p.reference).toEqual([p.batchId]);
      const state = await ctx.client.workflow.getHandle(`initiative-${p.applicationId}`).query(stateQuery);
      expect(state.grant?.endToEndId, p.reference).toBe(p._id);
      expect(state.grant?.paid?.batchId, p.reference).toBe(p.batchId);
    }

    // The files: one per batch, the bytes the register recorded, every payout in exactly one of them once.
    const stored = await ctx.models.PayoutBatch.find({}).lean();
    expect(stored.map((f) => f._id).sort()).toEqual(batches.map((b) => b.batchId!).sort());
    const allXml = stored.map((f) => f.xml).join('\n');
    for (const f of stored) expect(sha256(f.xml), f._id).toBe(batches.find((b) => b.batchId === f._id)!.batch!.sha256);
    for (const p of payouts) expect(allXml.split(`<EndToEndId>${p._id}</EndToEndId>`).length - 1, p.reference).toBe(1);
    const nothingLeft = await ctx.http().post('/api/v1/payouts/batches').set(as(finance)).send();
    expect(nothingLeft.status).toBe(409);

    // The ledger: the balances are the journal's sum; exactly one reserve and one pay per grant, nothing else.
    const ledger = new BudgetLedger({ models: ctx.models, defaultTotalCents: ctx.config.fund.annualBudgetCents });
    const check = await ledger.check();
    expect(check.ok, JSON.stringify(check.years.map((y) => y.problems))).toBe(true);
    const journal = await ledger.journal(YEAR);
    for (const a of apps) {
      const moves = journal.filter((e) => e.applicationId === a.id).map((e) => `${e.kind} ${e.amountCents}`);
      expect(moves, a.name).toEqual([`reserve ${a.amountCents}`, `pay ${a.amountCents}`]);
    }
    const total = apps.reduce((s, a) => s + a.amountCents, 0);
    const year = check.years.find((y) => y.year === YEAR)!;
    expect(year.balances).toMatchObject({ committedCents: 0, paidCents: total, totalCents: ctx.config.fund.annualBudgetCents });
    expect(await ledger.balances(YEAR)).toEqual(year.balances);

    // The audit log has each movement once.
    for (const a of apps) {
      const actions = (await ctx.models.Audit.find({ target: `application:${a.id}` }, { action: 1 }).lean()).map((e) => e.action).filter((x) => /^(ledger|payout)\./.test(x));
      expect(actions.sort(), a.name).toEqual(['ledger.pay', 'ledger.reserve', 'payout.batched', 'payout.created', 'payout.paid']);
    }

    // The applicants were told: the decision and the payment at least once (a kill between
    // the SMTP send and the outbox update may send one twice; it carries the same Message-ID).
    for (const a of apps) {
      const to = ctx.mail.mails.filter((m) => m.to.includes(`chaos-${a.name.toLowerCase()}@example.nl`));
      expect(to.filter((m) => m.messageId.includes(`${a.id}.paid@`)).length, a.name).toBeGreaterThanOrEqual(1);
      expect(to.filter((m) => m.messageId.includes(`${a.id}.decision.`)).length, a.name).toBeGreaterThanOrEqual(1);
    }
    const ids = ctx.mail.mails.map((m) => m.messageId);
    mark(`invariants hold; ${kills.length} kills (${workerKills.length} worker, 1 API), ${crossings.length} activity crossings, ${ids.length - new Set(ids).size} duplicate e-mails`);
  }, 420_000);
});
