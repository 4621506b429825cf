/**
 * A meeting with more updates than one workflow run may take (Temporal: 2,000) continues as
 * new instead of refusing votes. Here the meeting's input sets `updatesPerRun` to 10: six
 * items, five members voting on each item at the same moment, a changed vote, three
 * recusals and an invitation through the HTTP API against the real worker and dev server.
 * Every request is accepted (no 409 `meeting_update_limit`), the state the query reads from
 * the newest run holds every vote and recusal, the workflow ran in at least three runs,
 * each member gets the agenda mail once, and the chair's close decides each item from the
 * votes of all runs. Then a meeting whose own count would let it pass the server's limit:
 * the server's suggestion (continueAsNewSuggested, a long history) moves it first.
 *
 * The meetings are `meeting-2033-05-02` and `-05-16` (their own calendar, MEETING_FIRST_DATE):
 * no other test file starts a meeting workflow with those ids.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planMeeting } from '../../src/domain/meetings.ts';
import { calendarRules, meetingInput } from '../../src/temporal/schedule.ts';
import { meetingStateQuery, type panelMeetingWorkflow } from '../../workflows/meeting.ts';
import type { MeetingState } from '../../src/domain/workflow-types.ts';
import { createTestContext, eventually, type TestContext } from '../helpers/context.ts';
import { submitReady, waitForStatus, type Granted } from '../helpers/grants.ts';
import { validApplication } from '../helpers/fixtures.ts';

const MEETING_DATE = '2033-05-02';
const UPDATES_PER_RUN = 10;
const REQUESTED = validApplication().amountRequestedCents;
const members = ['panel1', 'panel2', 'panel3', 'panel4', 'panel5'];
const nextDate = '2033-05-16'; // the calendar's next meeting (fortnightly)
const started: string[] = [];

let ctx: TestContext;
const tokens: Record<string, string> = {};
const ids: Record<string, string> = {};
let meetingId: string;
let firstRunId: string;
const apps: Granted[] = [];

beforeAll(async () => {
  ctx = await createTestContext({ env: { MEETING_FIRST_DATE: MEETING_DATE } });
  for (const who of members) tokens[who] = await ctx.login(`${who}@buurtfonds.test`);
  for (const u of await ctx.models.StaffUser.find({}, { email: 1 }).lean()) ids[u.email.split('@')[0]!] = u._id;
  for (let i = 0; i < 6; i++) apps.push(await submitReady(ctx, { title: `Buurtinitiatief ${i + 1}` }));

  const planned = planMeeting(calendarRules(ctx.config), MEETING_DATE);
  meetingId = planned.meetingId;
  const handle = await ctx.client.workflow.start<typeof panelMeetingWorkflow>('panelMeetingWorkflow', {
    taskQueue: ctx.config.temporal.taskQueue,
    workflowId: meetingId,
    args: [{ ...meetingInput(ctx.config, planned), cutoffAt: new Date().toISOString(), endsAt: new Date(Date.now() + 86_400_000).toISOString(), updatesPerRun: UPDATES_PER_RUN }],
  });
  firstRunId = handle.firstExecutionRunId;
  await eventually(async () => (await state()).status === 'open', 15_000, 'agenda frozen');
}, 180_000);
afterAll(async () => {
  for (const id of [meetingId, ...started]) if (id) await ctx.client.workflow.getHandle(id).terminate('test over').catch(() => undefined);
  await ctx?.close();
});

const state = (): Promise<MeetingState> => ctx.client.workflow.getHandle(meetingId).query(meetingStateQuery);

async function post(who: string, what: 'votes' | 'recusals' | 'invitations' | 'close', body: Record<string, unknown> = {}) {
  const res = await ctx.http().post(`/api/v1/meetings/${meetingId}/${what}`).set('Authorization', `Bearer ${tokens[who]}`).send(body);
  expect(res.status, `${who} ${what} ${JSON.stringify(body)}: ${JSON.stringify(res.body)}`).toBe(200);
  return res.body;
}

/** Every member in `who` votes on the item at the same moment. */
async function voteAtOnce(who: string[], body: (member: string) => Record<string, unknown>) {
  await Promise.all(who.map((m) => post(m, 'votes', body(m))));
}

/** The workflow's runs, newest first (visibility follows the history shortly after). */
async function runIds(): Promise<string[]> {
  const runs: string[] = [];
  for await (const w of ctx.client.workflow.list({ query: `WorkflowId = '${meetingId}'` })) runs.push(w.runId);
  return runs;
}

describe('a meeting with more updates than one run takes', { timeout: 180_000 }, () => {
  it('accepts every vote, recusal and invitation across runs; the query reads the whole state from the newest run', async () => {
    const [a0, a1, a2, a3, a4, a5] = apps.map((a) => a.id) as [string, string, string, string, string, string];
    await voteAtOnce(members, () => ({ applicationId: a0, vote: 'approve' }));
    await post('panel2', 'invitations', { applicationId: a0 });
    await voteAtOnce(members, () => ({ applicationId: a1, vote: 'reject', reasons: 'Valt buiten de regeling.' }));
    await voteAtOnce(members, () => ({ applicationId: a2, vote: 'partial', amountCents: 40_000, struckLines: [1], reasons: 'Alleen de partytent.' }));
    await voteAtOnce(members, (m) => (['panel4', 'panel5'].includes(m) ? { applicationId: a3, vote: 'reject', reasons: 'Te duur.' } : { applicationId: a3, vote: 'approve' }));
    await voteAtOnce(members, () => ({ applicationId: a4, vote: 'defer' }));
    await Promise.all(['panel3', 'panel4', 'panel5'].map((m) => post(m, 'recusals', { applicationId: a5, reason: 'Mijn buurvrouw vraagt aan.' })));
    await voteAtOnce(['panel1', 'panel2'], () => ({ applicationId: a5, vote: 'approve' }));
    // Changed in a later run than the first vote: the last one counts.
    await post('panel3', 'votes', { applicationId: a3, vote: 'reject', reasons: 'Te duur.' });

    const s = await state();
    expect(s.status).toBe('open');
    expect(s.agenda.map((i) => [i.applicationId, i.invited])).toEqual(apps.map((a) => [a.id, a.id === a0]));
    expect(s.members.map((m) => m.id)).toEqual(members.map((m) => ids[m]));
    expect(s.votes).toHaveLength(5 * 5 + 2 + 1);
    const cast = (applicationId: string) => s.votes.filter((v) => v.applicationId === applicationId).map((v) => [v.memberId, v.vote]);
    const each = (vote: string) => members.map((m) => [ids[m]!, vote]);
    expect(cast(a0)).toEqual(expect.arrayContaining(each('approve')));
    expect(cast(a1)).toEqual(expect.arrayContaining(each('reject')));
    expect(s.votes.filter((v) => v.applicationId === a2).every((v) => v.vote === 'partial' && v.amountCents === 40_000 && v.struckLines?.[0] === 1)).toBe(true);
    expect(cast(a2)).toHaveLength(5);
    expect(cast(a3).at(-1)).toEqual([ids.panel3, 'reject']);
    expect(cast(a3)).toHaveLength(6);
    expect(cast(a4)).toEqual(expect.arrayContaining(each('defer')));
    expect(cast(a5).sort()).toEqual([[ids.panel1, 'approve'], [ids.panel2, 'approve']].sort());
    expect(s.recusals.map((r) => [r.applicationId, r.memberId]).sort()).toEqual(['panel3', 'panel4', 'panel5'].map((m) => [a5, ids[m]]).sort());

    // 32 updates at 10 a run: the run changed at least three times, and the query follows it.
    const { runId } = await ctx.client.workflow.getHandle(meetingId).describe();
    expect(runId).not.toBe(firstRunId);
    const runs = await eventually(async () => {
      const r = await runIds();
      return r.length >= 4 ? r : undefined;
    }, 15_000, 'four runs in visibility');
    expect(runs).toContain(firstRunId);
    expect(runs).toContain(runId);
    expect(new Set(runs).size).toBe(runs.length);

    // The agenda mail, left to the next run when a run continued before it went out, reached each member once.
    for (const who of members) {
      const agendaMails = () => ctx.mail.mails.filter((m) => m.to.includes(`${who}@buurtfonds.test`) && m.subject.startsWith('Agenda panelvergadering'));
      await eventually(async () => agendaMails().length > 0, 15_000, `agenda mail to ${who}`);
      expect(agendaMails()).toHaveLength(1);
    }
  });

  it("the chair's close decides each item from the votes of every run; the decisions reach the applications", async () => {
    const closed = await post('panel1', 'close');
    expect(closed.status).toBe('closed');
    expect(closed.outcomes).toEqual([
      { applicationId: apps[0]!.id, outcome: 'approved', grantedCents: REQUESTED, reasons: [], struckLines: [], flagged: false },
      { applicationId: apps[1]!.id, outcome: 'rejected', grantedCents: 0, reasons: ['Valt buiten de regeling.'], struckLines: [], flagged: false },
      { applicationId: apps[2]!.id, outcome: 'partially_approved', grantedCents: 40_000, reasons: ['Alleen de partytent.'], struckLines: [1], flagged: false },
      { applicationId: apps[3]!.id, outcome: 'rejected', grantedCents: 0, reasons: ['Te duur.'], struckLines: [], flagged: false },
      { applicationId: apps[4]!.id, outcome: 'rollover', grantedCents: 0, reasons: [], struckLines: [], rolloverReason: 'deferred', flagged: false },
      { applicationId: apps[5]!.id, outcome: 'rollover', grantedCents: 0, reasons: [], struckLines: [], rolloverReason: 'no_quorum', flagged: false },
    ]);
    expect((await waitForStatus(ctx, apps[0]!, 'reserved')).decision).toMatchObject({ meetingId, outcome: 'approved', grantedCents: REQUESTED });
    expect((await waitForStatus(ctx, apps[1]!, 'rejected')).decision).toMatchObject({ meetingId, outcome: 'rejected' });
    expect((await waitForStatus(ctx, apps[2]!, 'reserved')).decision).toMatchObject({ meetingId, outcome: 'partially_approved', grantedCents: 40_000, struckLines: [1] });
    expect((await waitForStatus(ctx, apps[3]!, 'rejected')).decision).toMatchObject({ meetingId, outcome: 'rejected' });
    expect((await waitForStatus(ctx, apps[4]!, 'ready_for_meeting')).rollovers).toBe(1);
    expect((await waitForStatus(ctx, apps[5]!, 'ready_for_meeting')).rollovers).toBe(1);
    // The read model has the outcome, and the workflow completed in its last run.
    await eventually(async () => (await ctx.models.Meeting.findById(meetingId, { status: 1 }).lean())?.status === 'closed', 15_000, 'read model closed');
    await eventually(async () => (await ctx.client.workflow.getHandle(meetingId).describe()).status.name === 'COMPLETED', 15_000, 'meeting workflow completed');
  });

  it("with a per-run count above the server's limit, the server's suggestion (a long history) still moves the meeting to a new run: 2,100 votes in a run's place, none refused", async () => {
    // The next meeting: the two rolled-over items are its agenda.
    const planned = planMeeting(calendarRules(ctx.config), nextDate);
    started.push(planned.meetingId);
    const handle = await ctx.client.workflow.start<typeof panelMeetingWorkflow>('panelMeetingWorkflow', {
      taskQueue: ctx.config.temporal.taskQueue,
      workflowId: planned.meetingId,
      args: [{ ...meetingInput(ctx.config, planned), cutoffAt: new Date().toISOString(), endsAt: new Date(Date.now() + 86_400_000).toISOString(), updatesPerRun: 1_000_000 }],
    });
    await eventually(async () => (await handle.query(meetingStateQuery)).status === 'open', 15_000, 'next agenda frozen');
    const args = { memberId: ids.panel1!, applicationId: apps[4]!.id, vote: 'approve' as const };
    // Eight at a time (the server takes ten in flight), through the service the routes use.
    for (let sent = 0; sent < 2_100; sent += 8) {
      const results = await Promise.allSettled(Array.from({ length: 8 }, () => ctx.deps.meetings.castVote(planned.meetingId, args)));
      expect(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
    }
    expect((await handle.query(meetingStateQuery)).votes).toHaveLength(2_104);
    expect((await handle.describe()).runId).not.toBe(handle.firstExecutionRunId);
  });
});
