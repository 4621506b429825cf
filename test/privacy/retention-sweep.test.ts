/**
 * The daily retention sweep on the real worker and dev server: applications that ended
 * longer ago than RETENTION_PERSONAL_DAYS lose their personal data; recent ones and
 * open ones keep it. The Schedule that runs the sweep is created once and updated after.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/context.ts';
import { submitReady, waitForStatus } from '../helpers/grants.ts';
import { retentionSweepWorkflow } from '../../workflows/retention.ts';
import { ensureRetentionSchedule } from '../../src/temporal/schedule.ts';
import { loadConfig } from '../../src/config.ts';

describe('personal-data retention sweep', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext({ env: { RETENTION_PERSONAL_DAYS: '30' } });
  });
  afterAll(async () => ctx?.close());

  const sweep = () =>
    ctx.client.workflow.execute(retentionSweepWorkflow, { taskQueue: ctx.config.temporal.taskQueue, workflowId: `retention-sweep-${randomUUID()}`, args: [] });

  it('erases what ended more than the retention period ago, and only that', async () => {
    const old = await submitReady(ctx, { applicant: { name: 'Oud Dossier', email: 'oud@example.nl', phone: '0612345678', address: { street: 'Laan 1', postalCode: '2271 AB', city: 'Voorburg' } } });
    const recent = await submitReady(ctx, { applicant: { name: 'Recent Dossier', email: 'recent@example.nl', phone: '0612345678', address: { street: 'Laan 2', postalCode: '2271 AB', city: 'Voorburg' } } });
    const open = await submitReady(ctx, { applicant: { name: 'Open Dossier', email: 'open@example.nl', phone: '0612345678', address: { street: 'Laan 3', postalCode: '2271 AB', city: 'Voorburg' } } });
    for (const a of [old, recent]) {
      expect((await ctx.http().post(`/api/v1/applications/${a.id}/withdraw`).set('Authorization', `Bearer ${a.token}`).send({ reason: 'Gaat niet door.' })).status).toBe(200);
      await waitForStatus(ctx, a, 'withdrawn');
    }
    // The old one ended 31 days ago; its workflow has completed.
    await ctx.models.Application.collection.updateOne({ _id: old.id } as never, { $set: { updatedAt: new Date(Date.now() - 31 * 86_400_000) } });
    await ctx.models.Application.collection.updateOne({ _id: open.id } as never, { $set: { updatedAt: new Date(Date.now() - 400 * 86_400_000) } });

    const result = await sweep();
    expect(result).toEqual({ erased: 1, failed: [] });
    const [o, r, op] = await Promise.all([old, recent, open].map((a) => ctx.models.Application.findById(a.id).lean()));
    expect(o?.erasedAt).toBeInstanceOf(Date);
    expect(JSON.stringify(o)).not.toContain('Oud Dossier');
    expect(JSON.stringify(o)).not.toContain('oud@example.nl');
    expect(o).toMatchObject({ status: 'withdrawn', amountRequestedCents: 60_050, wijken: ['Voorburg-Midden'] });
    expect(r?.erasedAt).toBeUndefined();
    expect(r?.applicant.name).toBe('Recent Dossier');
    expect(op?.erasedAt).toBeUndefined(); // still open, however old
    // The next sweep finds nothing new.
    expect(await sweep()).toEqual({ erased: 0, failed: [] });
  }, 90_000);

  it('keeps one daily Schedule at 03:00 Amsterdam, created once and updated after', async () => {
    const config = loadConfig({ NODE_ENV: 'test', TEMPORAL_TASK_QUEUE: ctx.config.temporal.taskQueue, RETENTION_SCHEDULE_ID: `retention-${randomUUID()}` });
    await ensureRetentionSchedule(ctx.client, config);
    await ensureRetentionSchedule(ctx.client, config);
    const handle = ctx.client.schedule.getHandle(config.retention.scheduleId);
    try {
      const d = await handle.describe();
      expect(d.spec.timezone).toBe('Europe/Amsterdam');
      expect(d.spec.calendars?.[0]).toMatchObject({ hour: [{ start: 3, end: 3, step: 1 }], minute: [{ start: 0, end: 0, step: 1 }] });
      expect(d.action).toMatchObject({ type: 'startWorkflow', workflowType: 'retentionSweepWorkflow' });
      expect(d.policies.overlap).toBe('SKIP');
    } finally {
      await handle.delete();
    }
  });
});
