/**
 * The daily retention sweep on the real worker and dev server: applications that ended
 * longer ago than RETENTION_PERSONAL_DAYS lose their personal data; recent ones and
 * open ones keep it. The retention runs through the end (Amsterdam) of its last day, also
 * across a change of clocks. The sweep reads only the `ended` keys that are due (src/privacy/keys.ts).
 * The Schedule that runs the sweep is created once and updated after.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { addKeys, refsUnder } from '../../src/db/keys.ts';
import { backfillEndedKeys, endedKey } from '../../src/privacy/keys.ts';
import { monitoredDatabase, notById } from '../helpers/id-queries.ts';
import { createTestContext, type TestContext } from '../helpers/context.ts';
import { submitReady, waitForStatus } from '../helpers/grants.ts';
import { retentionSweepWorkflow } from '../../workflows/retention.ts';
import { ensureRetentionSchedule } from '../../src/temporal/schedule.ts';
import { loadConfig } from '../../src/config.ts';
import { createRetentionActivities } from '../../activities/retention.ts';
import { submittedApplication } from '../../src/db/models.ts';
import type { ApplicationInput } from '../../src/domain/application.ts';
import { validApplication } from '../helpers/fixtures.ts';

describe('personal-data retention sweep', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext({ env: { RETENTION_PERSONAL_DAYS: '30' } });
  });
  afterAll(async () => ctx?.close());

  /** Moves the end of an application back `days` days: its `updatedAt` and its key (as if it had ended then). */
  const endedAgo = async (id: string, days: number) => {
    const at = new Date(Date.now() - days * 86_400_000);
    await ctx.models.Application.collection.updateOne({ _id: id } as never, { $set: { updatedAt: at } });
    await addKeys(ctx.models, [endedKey(id, at)]);
    return at;
  };

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
    // The old one ended 32 days ago (its 30 days are over, whatever the hour); its workflow has completed.
    const oldEnd = await endedAgo(old.id, 32);
    // An open one last written long ago, with a key a crash could have left (not final: never due).
    const openEnd = await endedAgo(open.id, 400);

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
    // The keys the sweeps read and found no longer due are gone: the erased one's, the open one's.
    const left = (await refsUnder(ctx.models, 'ended', [])).map((k) => k._id);
    expect(left).not.toContain(endedKey(old.id, oldEnd)._id);
    expect(left).not.toContain(endedKey(open.id, openEnd)._id);
    expect(left.filter((k) => k.endsWith(`:${recent.id}`)), 'the recent one keeps its key (written by the withdrawal)').toHaveLength(1);
  }, 90_000);

  it('reads only what is due, by key (no query but by _id); an application written again after it ended waits for its new end; the backfill keys what ended before keys existed', async () => {
    const db = await monitoredDatabase(inject('mongoUri'), ctx.models.connection.name);
    try {
      const { findErasable } = createRetentionActivities({ models: db.models, retentionPersonalDays: 30 });
      const withdrawn = async (endedAt: Date, keyAt: Date | null) => {
        const id = randomUUID();
        const form = validApplication() as unknown as ApplicationInput;
        await ctx.models.Application.create({ ...submittedApplication({ id, form, reference: `VW-2026-${id.slice(0, 4)}`, year: 2026, submittedAt: new Date('2026-01-01T10:00:00Z') }), status: 'withdrawn' });
        await ctx.models.Application.collection.updateOne({ _id: id } as never, { $set: { updatedAt: endedAt } });
        if (keyAt) await addKeys(ctx.models, [endedKey(id, keyAt)]);
        return id;
      };
      const at = '2026-09-01T01:00:00.000Z';
      // Due: ended in June. Written again in August (its key from June): not due, moved to August.
      const due = await withdrawn(new Date('2026-06-01T10:00:00Z'), new Date('2026-06-01T10:00:00Z'));
      const rewritten = await withdrawn(new Date('2026-08-20T10:00:00Z'), new Date('2026-06-02T10:00:00Z'));
      // Ended in June before the keys existed: found once the backfill has run.
      const unkeyed = await withdrawn(new Date('2026-06-03T10:00:00Z'), null);
      const from = db.commands.length;
      const first = await findErasable({ at, limit: 10_000 });
      expect(notById(db, from), 'queries not by _id').toEqual([]);
      expect(first).toContain(due);
      expect(first).not.toContain(rewritten);
      expect(first).not.toContain(unkeyed);
      expect((await refsUnder(ctx.models, 'ended', [])).filter((k) => k.ref === rewritten).map((k) => k._id), 'keyed again at its new end').toEqual([endedKey(rewritten, '2026-08-20T10:00:00Z')._id]);
      expect(await findErasable({ at: '2026-09-20T01:00:00.000Z', limit: 10_000 }), 'due 30 days after it was written again').toContain(rewritten);

      expect(await backfillEndedKeys(ctx.models)).toBeGreaterThanOrEqual(1);
      expect(await findErasable({ at, limit: 10_000 })).toContain(unkeyed);
      expect(await backfillEndedKeys(ctx.models), 'once per database').toBe(0);
      // `limit`: the first due, in the order they ended.
      expect(await findErasable({ at, limit: 1 })).toHaveLength(1);
    } finally {
      await db.models.connection.close();
    }
  });

  it('keeps the personal data through the end of the last retention day in Amsterdam, across the change to summer time', async () => {
    const { findErasable } = createRetentionActivities({ models: ctx.models, retentionPersonalDays: 30 });
    /** A withdrawn application that ended at `updatedAt` (stored directly: only its status and end matter here). */
    const endedAt = async (updatedAt: string) => {
      const id = randomUUID();
      const form = validApplication() as unknown as ApplicationInput;
      await addKeys(ctx.models, [endedKey(id, updatedAt)]); // as the status projection writes it
      await ctx.models.Application.create({ ...submittedApplication({ id, form, reference: `VW-2027-${id.slice(0, 4)}`, year: 2027, submittedAt: new Date('2027-03-01T10:00:00Z') }), status: 'withdrawn' });
      await ctx.models.Application.collection.updateOne({ _id: id } as never, { $set: { updatedAt: new Date(updatedAt) } });
      return id;
    };
    // Ended at 23:59:59.999 on 10 March 2027 (winter time) and at 00:00 on 11 March: the 30 days run
    // through 9 and 10 April (summer time). 30 × 24 h would erase both at the sweep of 03:00 on 10 April.
    const tenth = await endedAt('2027-03-10T22:59:59.999Z');
    const eleventh = await endedAt('2027-03-10T23:00:00.000Z');
    const due = async (at: string) => {
      const ids = await findErasable({ at, limit: 10_000 });
      return [tenth, eleventh].filter((id) => ids.includes(id));
    };
    expect(await due('2027-04-09T21:59:59.999Z')).toEqual([]); // 23:59:59.999 on 9 April: its last day
    expect(await due('2027-04-09T22:00:00.000Z')).toEqual([tenth]); // 00:00 on 10 April
    expect(await due('2027-04-10T01:00:00.000Z')).toEqual([tenth]); // the sweep at 03:00 on 10 April
    expect(await due('2027-04-10T21:59:59.999Z')).toEqual([tenth]);
    expect(await due('2027-04-10T22:00:00.000Z')).toEqual([tenth, eleventh]); // 00:00 on 11 April
  });

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
