/**
 * The production path of a meeting: the Schedule fires at a cut-off, meetingCutoffWorkflow
 * finds the meeting of that cut-off and starts `meeting-<date>`, which freezes the agenda.
 * Runs in a namespace of its own on the dev server, so its meeting ids cannot meet those
 * of other test files.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { amsterdamDate } from '../../src/domain/dates.ts';
import { ensureSearchAttributes } from '../../src/runtime.ts';
import { projectRoot } from '../../src/embedded/servers.ts';
import { ensureMeetingSchedule } from '../../src/temporal/schedule.ts';
import { meetingStateQuery } from '../../workflows/meeting.ts';
import { createTestContext, eventually, type TestContext } from '../helpers/context.ts';
import { validApplication } from '../helpers/fixtures.ts';

const namespace = `cutoff-${randomBytes(4).toString('hex')}`;
const CUTOFF_DAYS = 7;
let ctx: TestContext;
let meetingId: string;

/** Amsterdam wall-clock HH:MM of an instant. */
function amsterdamTime(at: Date): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Amsterdam', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(at);
}

beforeAll(async () => {
  const connection = await Connection.connect({ address: inject('temporalAddress') });
  await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
  await eventually(async () => (await connection.workflowService.describeNamespace({ namespace })).namespaceInfo?.name === namespace, 20_000, 'namespace');
  await ensureSearchAttributes(connection, namespace);
  await connection.close();

  // A calendar whose first meeting has its cut-off 30 to 90 seconds from now (the
  // schedule has minute precision, and the set-up below must finish before it).
  const cutoff = new Date(Date.now() + 90_000);
  const meetingDay = amsterdamDate(new Date(cutoff.getTime() + CUTOFF_DAYS * 86_400_000));
  meetingId = `meeting-${meetingDay}`;
  ctx = await createTestContext({
    env: {
      TEMPORAL_NAMESPACE: namespace,
      MEETING_SCHEDULE: 'true',
      MEETING_FIRST_DATE: meetingDay,
      MEETING_TIME: amsterdamTime(cutoff),
      MEETING_CUTOFF_DAYS: String(CUTOFF_DAYS),
    },
  });
});

afterAll(async () => {
  await ctx?.client.schedule.getHandle(ctx.config.meetings.scheduleId).delete().catch(() => undefined);
  await ctx?.close();
});

describe('the Schedule starts each meeting at its cut-off', () => {
  it('fires, finds the meeting of the cut-off, and starts meeting-<date> which freezes the agenda', async () => {
    const app = await ctx.http().post('/api/v1/applications').send(validApplication({ title: 'Op de agenda via het schema' }));
    expect(app.status).toBe(201);
    const panel = await ctx.staff.panel();
    await eventually(async () => (await ctx.models.Application.findById(app.body.id).lean())?.status === 'screening');
    expect((await ctx.http().post(`/api/v1/applications/${app.body.id}/screening/complete`).set('Authorization', `Bearer ${panel}`)).status).toBe(200);

    await ensureMeetingSchedule(ctx.client, ctx.config, ctx.models);
    const schedule = ctx.client.schedule.getHandle(ctx.config.meetings.scheduleId);
    const next = (await schedule.describe()).info.nextActionTimes[0]!;
    expect(next.getTime() - Date.now()).toBeGreaterThan(0);
    expect(next.getTime() - Date.now()).toBeLessThan(90_000);

    // The schedule fires by itself at the cut-off (within about a minute).
    const meeting = ctx.client.workflow.getHandle(meetingId);
    const state = await eventually(
      async () => {
        const s = await meeting.query(meetingStateQuery).catch(() => undefined);
        return s?.status === 'open' ? s : undefined;
      },
      150_000,
      `${meetingId} open`,
    );
    expect(state.agenda.map((i) => i.applicationId)).toEqual([app.body.id]);
    expect(state.members).toHaveLength(5);

    const info = await schedule.describe();
    expect(info.info.recentActions.length).toBeGreaterThanOrEqual(1);
    const cutoffRun = info.info.recentActions[0]!.action.workflow;
    const cutoffHandle = ctx.client.workflow.getHandle(cutoffRun.workflowId, cutoffRun.firstExecutionRunId);
    expect(await cutoffHandle.result()).toEqual({ meetingId });
    if (process.env.RECORD_HISTORIES) {
      // `RECORD_HISTORIES=1` refreshes the committed history the replay test uses.
      const history = historyToJSON(await cutoffHandle.fetchHistory());
      writeFileSync(join(projectRoot, 'test/histories/meeting-cutoff.json'), `${JSON.stringify(JSON.parse(history), null, 2)}\n`);
    }

    // The initiative learns its meeting.
    await eventually(async () => (await ctx.models.Application.findById(app.body.id).lean())?.status === 'scheduled', 15_000, 'scheduled');
  }, 240_000); // waits for the real clock to reach the cut-off (up to 90 s)
});
