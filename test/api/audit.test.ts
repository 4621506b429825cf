/**
 * The audit log through the HTTP API, on records the real system wrote: a panel meeting
 * decides a grant (votes and the decision are written by the meeting workflow's
 * `recordMeetingOutcome` activity, so the grant here goes through a whole meeting, not the
 * shortcut of test/helpers/grants.ts), the worker reserves it and creates its payout,
 * finance batches and executes it, the worker records the payment, and the admin changes
 * the year's total. Then: admin only; filters on target, action (exact and prefix),
 * actor and time; newest first; pagination.
 *
 * The meeting is `meeting-2031-06-02` (its own calendar, MEETING_FIRST_DATE): no other
 * test file starts a meeting workflow with that id.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planMeeting } from '../../src/domain/meetings.ts';
import { calendarRules, meetingInput } from '../../src/temporal/schedule.ts';
import { meetingStateQuery, type panelMeetingWorkflow } from '../../workflows/meeting.ts';
import { createTestContext, eventually, type TestContext } from '../helpers/context.ts';
import { submitReady, waitForStatus, type Granted } from '../helpers/grants.ts';
import { validApplication } from '../helpers/fixtures.ts';

const MEETING_DATE = '2031-06-02';
const REQUESTED = validApplication().amountRequestedCents;

interface Entry {
  id: string;
  at: string;
  actor: string;
  action: string;
  target: string;
  before?: Record<string, unknown>;
  after?: Record<string, unknown>;
  requestId?: string;
}

let ctx: TestContext;
const tokens: Record<string, string> = {};
const ids: Record<string, string> = {};
let meetingId: string;
let meetingStarted = false;
let app: Granted;
let batchId: string;
let setTotalAt: { before: string; after: string };

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const audit = (query = '', token = tokens.admin!) => ctx.http().get(`/api/v1/audit${query}`).set(bearer(token));
async function entries(query = ''): Promise<{ total: number; offset: number; limit: number; entries: Entry[] }> {
  const res = await audit(query);
  expect(res.status, `${query}: ${JSON.stringify(res.body)}`).toBe(200);
  return res.body;
}
const actions = (es: Entry[]) => es.map((e) => e.action);

beforeAll(async () => {
  ctx = await createTestContext({ env: { MEETING_FIRST_DATE: MEETING_DATE } });
  tokens.admin = await ctx.staff.admin();
  tokens.welfare = await ctx.staff.welfare();
  tokens.finance = await ctx.login('financien@buurtfonds.test');
  for (const n of [1, 2, 3, 4, 5]) tokens[`panel${n}`] = await ctx.login(`panel${n}@buurtfonds.test`);
  for (const u of await ctx.models.StaffUser.find({}, { email: 1 }).lean()) ids[u.email.split('@')[0]!] = u._id;

  // A whole panel meeting decides the application.
  app = await submitReady(ctx, { title: 'Buurtfeest met audit' });
  const planned = planMeeting(calendarRules(ctx.config), MEETING_DATE);
  meetingId = planned.meetingId;
  await ctx.client.workflow.start<typeof panelMeetingWorkflow>('panelMeetingWorkflow', {
    taskQueue: ctx.config.temporal.taskQueue,
    workflowId: meetingId,
    args: [{ ...meetingInput(ctx.config, planned), cutoffAt: new Date().toISOString(), endsAt: new Date(Date.now() + 86_400_000).toISOString() }],
  });
  meetingStarted = true;
  await eventually(async () => (await ctx.client.workflow.getHandle(meetingId).query(meetingStateQuery)).status === 'open', 15_000, 'agenda frozen');
  await waitForStatus(ctx, app, 'scheduled');
  for (const n of [1, 2, 3, 4, 5]) {
    const res = await ctx.http().post(`/api/v1/meetings/${meetingId}/votes`).set(bearer(tokens[`panel${n}`]!)).send({ applicationId: app.id, vote: 'approve' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  }
  const closed = await ctx.http().post(`/api/v1/meetings/${meetingId}/close`).set(bearer(tokens.panel1!)); // panel1 chairs
  expect(closed.status, JSON.stringify(closed.body)).toBe(200);
  await waitForStatus(ctx, app, 'reserved');

  // Finance batches and executes the payout; the worker records the payment.
  const batch = await ctx.http().post('/api/v1/payouts/batches').set(bearer(tokens.finance!));
  expect(batch.status, JSON.stringify(batch.body)).toBe(201);
  batchId = batch.body.id;
  expect((await ctx.http().post(`/api/v1/payouts/batches/${batchId}/executed`).set(bearer(tokens.finance!))).status).toBe(200);
  await waitForStatus(ctx, app, 'paid');

  // The admin lowers the year's total.
  const before = new Date().toISOString();
  await new Promise((r) => setTimeout(r, 5));
  const put = await ctx.http().put('/api/v1/budget/2027').set(bearer(tokens.admin)).send({ totalCents: 8_000_000 });
  expect(put.status, JSON.stringify(put.body)).toBe(200);
  await new Promise((r) => setTimeout(r, 5));
  setTotalAt = { before, after: new Date().toISOString() };
  // The meeting's outcome (votes, decision) is in the log once the workflow has finished.
  await eventually(async () => (await ctx.client.workflow.getHandle(meetingId).describe()).status.name === 'COMPLETED', 15_000, 'meeting workflow completed');
}, 120_000);
afterAll(async () => {
  if (meetingStarted) await ctx.client.workflow.getHandle(meetingId).terminate('test over').catch(() => undefined);
  await ctx?.close();
});

describe('GET /api/v1/audit', () => {
  it('is for the admin only: anonymous 401; panel, welfare, finance and the applicant 403', async () => {
    expect((await audit()).status).toBe(200);
    const anonymous = await ctx.http().get('/api/v1/audit');
    expect([anonymous.status, anonymous.body.error.code]).toEqual([401, 'unauthenticated']);
    for (const who of ['panel1', 'welfare', 'finance']) {
      for (const query of ['', `?target=application:${app.id}`]) {
        const res = await audit(query, tokens[who]);
        expect({ who, query, status: res.status, code: res.body.error?.code }).toEqual({ who, query, status: 403, code: 'forbidden' });
        expect(JSON.stringify(res.body)).not.toContain('ledger.');
      }
    }
    const applicant = await audit(`?target=application:${app.id}`, app.token);
    expect([applicant.status, applicant.body.error?.code]).toEqual([403, 'forbidden']);
  });

  it("has the grant's whole story: votes, the decision, the reservation, the payout created, batched and paid, the payment", async () => {
    const { entries: es, total } = await entries(`?target=application:${app.id}`);
    expect(total).toBe(es.length);
    for (const e of es) expect(e.target).toBe(`application:${app.id}`);
    expect([...actions(es)].sort()).toEqual(
      ['decision.made', 'ledger.pay', 'ledger.reserve', 'payout.batched', 'payout.created', 'payout.paid', ...Array(5).fill('vote.cast')].sort(),
    );
    const one = (action: string) => es.find((e) => e.action === action)!;
    const financeActor = `staff:${ids.financien}`;
    expect(one('decision.made')).toMatchObject({ actor: `meeting:${meetingId}`, after: { applicationId: app.id, outcome: 'approved', grantedCents: REQUESTED } });
    expect(es.filter((e) => e.action === 'vote.cast').map((e) => e.actor).sort()).toEqual([1, 2, 3, 4, 5].map((n) => `staff:${ids[`panel${n}`]}`).sort());
    expect(one('ledger.reserve')).toMatchObject({
      actor: `meeting:${meetingId}`,
      before: { committedCents: 0 },
      after: { amountCents: REQUESTED, balances: { committedCents: REQUESTED, paidCents: 0 } },
    });
    expect(one('payout.created')).toMatchObject({ actor: 'system', after: { endToEndId: `BF-${app.reference}`, amountCents: REQUESTED, status: 'pending' } });
    expect(one('payout.batched')).toMatchObject({ actor: financeActor, before: { status: 'pending' }, after: { status: 'batched', batchId } });
    expect(one('payout.paid')).toMatchObject({ actor: financeActor, before: { status: 'batched' }, after: { status: 'paid', batchId } });
    expect(one('ledger.pay')).toMatchObject({ before: { committedCents: REQUESTED, paidCents: 0 }, after: { amountCents: REQUESTED, balances: { committedCents: 0, paidCents: REQUESTED } } });
    // The story in time order (newest first): decided, reserved, payout created; batched; paid in the register, then in the ledger.
    const order = actions(es).filter((a) => a !== 'vote.cast').reverse();
    expect(order.indexOf('decision.made')).toBeLessThan(order.indexOf('ledger.reserve'));
    expect(order.indexOf('ledger.reserve')).toBeLessThan(order.indexOf('payout.created'));
    expect(order.indexOf('payout.created')).toBeLessThan(order.indexOf('payout.batched'));
    expect(order.indexOf('payout.batched')).toBeLessThan(order.indexOf('payout.paid'));
    expect(order.indexOf('payout.paid')).toBeLessThanOrEqual(order.indexOf('ledger.pay'));
  });

  it('has the batch and the budget changes, with before and after', async () => {
    const batch = (await entries(`?target=payout-batch:${batchId}`)).entries;
    expect(batch).toHaveLength(1);
    expect(batch[0]).toMatchObject({ action: 'payout_batch.created', actor: `staff:${ids.financien}`, after: { numberOfTransactions: 1, controlSumCents: REQUESTED, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) } });
    expect(batch[0]!.requestId).toEqual(expect.any(String));

    const budget = (await entries('?target=budget:2027')).entries;
    expect(actions(budget)).toEqual(['budget.set_total', 'budget.open']);
    expect(budget[0]).toMatchObject({
      actor: `staff:${ids.admin}`,
      before: { totalCents: 9_000_000, committedCents: 0, paidCents: REQUESTED },
      after: { amountCents: 8_000_000, balances: { totalCents: 8_000_000, committedCents: 0, paidCents: REQUESTED } },
    });
    expect(budget[0]!.requestId).toEqual(expect.any(String));
    expect(budget[1]).toMatchObject({ actor: 'system', after: { amountCents: 9_000_000 } });
  });

  it('filters by action: exact, or a prefix ending in a dot (matched literally)', async () => {
    const reserve = (await entries('?action=ledger.reserve')).entries;
    expect(reserve.length).toBeGreaterThan(0);
    expect(new Set(actions(reserve))).toEqual(new Set(['ledger.reserve']));

    const ledger = (await entries('?action=ledger.')).entries;
    expect(new Set(actions(ledger))).toEqual(new Set(['ledger.reserve', 'ledger.pay']));

    // `payout.` is not `payout_batch.`.
    const payout = (await entries('?action=payout.')).entries;
    expect(new Set(actions(payout))).toEqual(new Set(['payout.created', 'payout.batched', 'payout.paid']));
    expect(new Set(actions((await entries('?action=budget.')).entries))).toEqual(new Set(['budget.open', 'budget.set_total']));

    // No dot at the end: exact only. A dot in the prefix is a dot, not "any character".
    expect((await entries('?action=ledger')).total).toBe(0);
    expect((await entries('?action=ledger.res')).total).toBe(0);
    expect((await entries('?action=l.dger.')).total).toBe(0);
    expect((await entries('?action=.*')).total).toBe(0);
    expect((await entries('?action=unknown.action')).total).toBe(0);
  });

  it('filters by actor and combines filters', async () => {
    const finance = (await entries(`?actor=staff:${ids.financien}`)).entries;
    // The pay entry of the ledger names the finance member who reported the batch executed.
    expect(new Set(actions(finance))).toEqual(new Set(['payout_batch.created', 'payout.batched', 'payout.paid', 'ledger.pay']));
    const meeting = (await entries(`?actor=meeting:${meetingId}`)).entries;
    expect(new Set(actions(meeting))).toEqual(new Set(['decision.made', 'ledger.reserve']));
    const panel2 = (await entries(`?actor=staff:${ids.panel2}`)).entries;
    expect(actions(panel2)).toEqual(['vote.cast']);
    expect((await entries(`?actor=staff:${ids.panel2}&action=ledger.`)).total).toBe(0);
    const combined = (await entries(`?actor=staff:${ids.financien}&action=payout.&target=application:${app.id}`)).entries;
    expect(new Set(actions(combined))).toEqual(new Set(['payout.batched', 'payout.paid']));
    expect((await entries('?actor=staff:nobody')).total).toBe(0);
  });

  it('filters by time (from and to, inclusive), and refuses a bad time or page with 422', async () => {
    const all = (await entries('?limit=500')).entries;
    const window = (await entries(`?from=${setTotalAt.before}&to=${setTotalAt.after}`)).entries;
    expect(actions(window)).toEqual(['budget.set_total']);
    const setTotal = window[0]!;
    // Both bounds are inclusive.
    expect(actions((await entries(`?from=${setTotal.at}&to=${setTotal.at}`)).entries)).toEqual(['budget.set_total']);
    const since = (await entries(`?from=${setTotalAt.before}`)).entries;
    expect(since.every((e) => e.at >= setTotalAt.before)).toBe(true);
    expect(actions(since)).toContain('budget.set_total');
    const until = (await entries(`?to=${setTotalAt.before}&limit=500`)).entries;
    expect(until.length + since.length).toBe(all.length);
    expect(until.every((e) => e.at <= setTotalAt.before)).toBe(true);
    // An offset other than Z.
    const amsterdam = new Date(Date.parse(setTotalAt.before) + 3_600_000).toISOString().replace('Z', '+01:00');
    expect((await entries(`?from=${encodeURIComponent(amsterdam)}`)).total).toBe(since.length);
    expect((await entries(`?from=${new Date(Date.now() + 60_000).toISOString()}`)).total).toBe(0);

    for (const q of ['?from=gisteren', '?to=2027-01-01', '?limit=0', '?limit=501', '?offset=-1', '?limit=x', `?action=${'a'.repeat(101)}`]) {
      const res = await audit(q);
      expect({ q, status: res.status, code: res.body?.error?.code }).toEqual({ q, status: 422, code: 'validation_failed' });
    }
  });

  it('lists newest first and paginates with offset and limit', async () => {
    const all = await entries('?limit=500');
    expect(all.total).toBe(all.entries.length);
    expect(all.total).toBeGreaterThanOrEqual(15);
    const times = all.entries.map((e) => Date.parse(e.at));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(all.entries[0]!.action).toBe('budget.set_total'); // the last thing done

    const pages: Entry[] = [];
    for (let offset = 0; offset < all.total; offset += 4) {
      const page = await entries(`?offset=${offset}&limit=4`);
      expect(page).toMatchObject({ total: all.total, offset, limit: 4 });
      expect(page.entries.length).toBe(Math.min(4, all.total - offset));
      pages.push(...page.entries);
    }
    expect(pages).toEqual(all.entries);
    expect((await entries(`?offset=${all.total}`)).entries).toEqual([]);
    expect(await entries()).toMatchObject({ offset: 0, limit: 100 });
    // Filters and pages together: the total is of the filtered list.
    const page = await entries(`?target=application:${app.id}&offset=2&limit=3`);
    expect(page.total).toBe(11);
    expect(page.entries).toEqual((await entries(`?target=application:${app.id}`)).entries.slice(2, 5));
  });
});
