/**
 * Issue: "e-mail after a crash between sending and marking sent: a resend carries the
 * same Message-ID".
 *
 * The worker (worker-child.ts, restarted by the supervisor) kills itself with SIGKILL
 * at the one point where the outbox can send an e-mail twice: the SMTP server has
 * answered 250 to the meeting e-mail of an application, the outbox row is not marked
 * sent yet. Temporal retries the activity once its start-to-close timeout (1 minute,
 * workflows/initiative.ts) tells it the attempt is lost; the restarted worker sends the
 * e-mail again. About 75 s, most of it that timeout.
 *
 * Shown: the e-mail arrived twice with the same Message-ID (the one of the row's key);
 * the row ends sent, after two attempts, marked and logged as a possible duplicate;
 * nothing else was sent or recorded twice.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventsOfApplication } from '../../src/db/keys.ts';
import { mailDomain, outboxMessageId } from '../../src/mail/message-id.ts';
import { scheduledSignal } from '../../workflows/initiative-signals.ts';
import { stateQuery } from '../../workflows/initiative.ts';
import { createTestContext, eventually, type TestContext } from '../helpers/context.ts';
import { submitReady } from '../helpers/grants.ts';
import { validApplication } from '../helpers/fixtures.ts';
import { startChaosWorker, type ChaosWorker } from './chaos-worker.ts';
import { files, mailAcceptedPoint, readJsonLines, type Crossing, type KillRecord, type PlannedKill } from './protocol.ts';

describe('an e-mail sent again after a crash between the SMTP 250 and marking it sent', () => {
  let ctx: TestContext;
  let chaos: ChaosWorker;

  beforeAll(async () => {
    ctx = await createTestContext({ noWorker: true });
    // warn: the restarted worker's warning about the possible duplicate is part of what is shown.
    chaos = await startChaosWorker(ctx, { logLevel: 'warn' });
  });

  afterAll(async () => {
    await chaos?.stop();
    await ctx?.close();
  });

  it('kills the worker after the 250 and before the mark; the restarted worker sends it again with the same Message-ID, the row ends sent once, nothing else twice', async () => {
    const { dir, worker } = chaos;
    const email = `mail-crash-${randomUUID()}@example.nl`;
    const a = await submitReady(ctx, { applicant: { ...validApplication().applicant, email } });
    const confirmationKey = `${a.id}:confirmation`;
    await eventually(async () => (await ctx.models.Outbox.findById(confirmationKey, { status: 1 }).lean())?.status === 'sent', 30_000, 'the confirmation sent');

    // The plan: die once the SMTP server accepted the meeting e-mail (its Message-ID is a function of the row's key).
    const meetingId = `meeting-mail-crash-${randomUUID()}`;
    const key = `${a.id}:meeting:${meetingId}`;
    const messageId = outboxMessageId(key, mailDomain(ctx.config.publicBaseUrl));
    writeFileSync(files(dir).plan, JSON.stringify([{ point: mailAcceptedPoint(messageId), applicationId: a.id }] satisfies PlannedKill[]));
    const startsAt = new Date(Date.now() + 86_400_000).toISOString();
    await ctx.client.workflow.getHandle(`initiative-${a.id}`).signal(scheduledSignal, { meetingId, date: startsAt.slice(0, 10), startsAt });

    const kill = await eventually(async () => readJsonLines<KillRecord>(files(dir).kills)[0], 30_000, `the kill after the 250\n${worker.output()}`);
    expect(kill).toMatchObject({ point: mailAcceptedPoint(messageId), applicationId: a.id });
    const restarted = await worker.waitReady(kill.pid);

    // What the crash left: the e-mail delivered, its row still pending after one attempt that recorded no result.
    const toApplicant = () => ctx.mail.mails.filter((m) => m.to.includes(email));
    expect(toApplicant().filter((m) => m.messageId === messageId)).toHaveLength(1);
    const left = await ctx.models.Outbox.findById(key).lean();
    expect(left).toMatchObject({ status: 'pending', attempts: 1, messageId });
    expect(left?.lastError).toBeUndefined();
    expect(left?.sentAt).toBeUndefined();

    // The retry (after the lost attempt's start-to-close timeout) runs in the new worker and sends it again.
    const sent = await eventually(
      async () => {
        const r = await ctx.models.Outbox.findById(key).lean();
        return r?.status === 'sent' ? r : undefined;
      },
      120_000,
      `the meeting e-mail marked sent\n${worker.output()}`,
    );

    // Twice, with one Message-ID: the row's, the same in both processes.
    const copies = toApplicant().filter((m) => m.subject === sent.subject);
    expect(copies.map((m) => m.messageId)).toEqual([messageId, messageId]);
    // The row: sent once, by the second attempt, after the kill; marked and logged as a possible duplicate.
    expect(sent).toMatchObject({ status: 'sent', attempts: 2, messageId, possibleDuplicate: true });
    expect(sent.lastError).toBeUndefined();
    expect(sent.sentAt!.getTime()).toBeGreaterThan(Date.parse(kill.at));
    const warning = worker
      .output()
      .split('\n')
      .filter((l) => l.includes('may arrive twice'));
    expect(warning).toHaveLength(1);
    expect(warning[0]).toContain(`[${restarted}]`);
    expect(warning[0]).toContain(key);
    expect(warning[0]).toContain(messageId);

    // The activity: run to its end once, by the new worker; the kill was the only one.
    const crossings = readJsonLines<Crossing>(files(dir).crossings).filter((c) => c.applicationId === a.id);
    const runs = (label: string, phase: Crossing['phase']) => crossings.filter((c) => c.label === label && c.phase === phase).map((c) => c.pid);
    expect(runs('notifyApplicant:meeting_scheduled', 'before')).toEqual([kill.pid, restarted]);
    expect(runs('notifyApplicant:meeting_scheduled', 'after')).toEqual([restarted]);
    expect(runs('recordProgress:scheduled', 'after')).toEqual([kill.pid]);
    expect(readJsonLines<KillRecord>(files(dir).kills)).toEqual([kill]);
    expect(worker.exits.map((e) => [e.pid, e.signal])).toEqual([[kill.pid, 'SIGKILL']]);

    // Nothing else twice: the applicant's e-mails, the outbox rows, the timeline, the status.
    expect(toApplicant().map((m) => m.messageId)).toEqual([outboxMessageId(confirmationKey, mailDomain(ctx.config.publicBaseUrl)), messageId, messageId]);
    const rows = await ctx.models.Outbox.find({ applicationId: a.id }).sort({ _id: 1 }).lean();
    expect(rows.map((r) => [r._id, r.status, r.attempts, r.possibleDuplicate ?? false]).sort()).toEqual(
      [
        [confirmationKey, 'sent', 1, false],
        [key, 'sent', 2, true],
      ].sort(),
    );
    const events = await eventsOfApplication(ctx.models, a.id);
    expect(events.filter((e) => e.type === 'meeting_scheduled')).toHaveLength(1);
    expect(new Set(events.map((e) => e._id)).size).toBe(events.length);
    expect((await ctx.models.Application.findById(a.id, { status: 1 }).lean())?.status).toBe('scheduled');
    expect((await ctx.client.workflow.getHandle(`initiative-${a.id}`).query(stateQuery)).status).toBe('scheduled');
  }, 180_000);
});
