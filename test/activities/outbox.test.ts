/**
 * The outbox (activities/outbox.ts) against a real database and real SMTP servers: each
 * attempt is recorded on the row before it goes out and its failure after, the mail
 * carries the row's Message-ID, a sent row is not sent again, and a send the server
 * never answers ends within the send timeout (below the activities' start-to-close
 * timeout, so a retry never runs beside it). What a crash between the server's 250 and
 * the mark leaves: test/chaos/mail-crash.test.ts.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { SMTPServer } from 'smtp-server';
import { createOutbox } from '../../activities/outbox.ts';
import { connectDatabase, type Models } from '../../src/db/models.ts';
import { freePort } from '../../src/embedded/servers.ts';
import { createLogger, temporalLogger } from '../../src/logger.ts';
import { createMailer } from '../../src/mail/mailer.ts';
import { outboxMessageId } from '../../src/mail/message-id.ts';
import { startMailCatcher } from '../helpers/mail.ts';

const DOMAIN = 'buurtfonds.test';
const logger = createLogger('silent');
let models: Models;
let catcher: Awaited<ReturnType<typeof startMailCatcher>>;

beforeAll(async () => {
  models = await connectDatabase(inject('mongoUri'), `t_outbox_${randomBytes(4).toString('hex')}`);
  catcher = await startMailCatcher();
});

afterAll(async () => {
  await catcher?.close();
  if (!models) return;
  await models.connection.dropDatabase().catch(() => undefined);
  await models.connection.close();
});

const mailerTo = (smtpUrl: string, sendTimeoutMs?: number) => createMailer({ smtpUrl, from: 'Buurtfonds <noreply@buurtfonds.test>', logger, ...(sendTimeoutMs ? { sendTimeoutMs } : {}) });
const deliverWith = (mailer: ReturnType<typeof createMailer>) => {
  const deliver = createOutbox({ models, mailer, mailDomain: DOMAIN });
  return (key: string, to: string) => new MockActivityEnvironment({}, { logger: temporalLogger(logger) }).run(() => deliver(key, { to, template: 'account_locked', subject: `Test ${key}`, text: 'Hallo' }));
};
const row = (key: string) => models.Outbox.findById(key).lean();

describe('outbox delivery', () => {
  it('sends a row once, with the Message-ID of its key, and records the attempt', async () => {
    const key = `account-locked:${randomUUID()}:2027-05-01T10:00:00.000Z`;
    const to = `${randomUUID()}@example.nl`;
    const deliver = deliverWith(mailerTo(catcher.url));
    expect(await deliver(key, to)).toBe('sent');
    const mail = await catcher.waitFor((m) => m.to.includes(to));
    expect(mail.messageId).toBe(outboxMessageId(key, DOMAIN));
    expect(await row(key)).toMatchObject({ status: 'sent', attempts: 1, messageId: mail.messageId, attemptedAt: expect.any(Date), sentAt: expect.any(Date) });
    expect((await row(key))?.possibleDuplicate).toBeUndefined();

    expect(await deliver(key, to)).toBe('already_sent');
    expect(catcher.mails.filter((m) => m.to.includes(to))).toHaveLength(1);
    expect((await row(key))?.attempts).toBe(1);
  });

  it('records a failed attempt on the row; the next one is not taken for a possible duplicate', async () => {
    const key = `account-locked:${randomUUID()}`;
    const to = `${randomUUID()}@example.nl`;
    const nobody = `smtp://127.0.0.1:${await freePort()}`;
    await expect(deliverWith(mailerTo(nobody))(key, to)).rejects.toThrow(/ECONNREFUSED/);
    expect(await row(key)).toMatchObject({ status: 'pending', attempts: 1, messageId: outboxMessageId(key, DOMAIN), lastError: expect.stringMatching(/ECONNREFUSED/) });

    expect(await deliverWith(mailerTo(catcher.url))(key, to)).toBe('sent');
    const after = await row(key);
    expect(after).toMatchObject({ status: 'sent', attempts: 2 });
    expect(after?.lastError).toBeUndefined();
    expect(after?.possibleDuplicate).toBeUndefined();
    expect(catcher.mails.filter((m) => m.to.includes(to)).map((m) => m.messageId)).toEqual([outboxMessageId(key, DOMAIN)]);
  });

  it('ends a send the server never answers after the send timeout, with the failure on the row', async () => {
    let received = 0;
    const silent = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream) {
        stream.resume();
        stream.on('end', () => received++); // and no answer to the message
      },
    });
    silent.on('error', () => undefined); // the sender hangs up on us
    const port = await freePort();
    await new Promise<void>((r) => silent.listen(port, '127.0.0.1', () => r()));
    try {
      const key = `account-locked:${randomUUID()}`;
      const started = Date.now();
      await expect(deliverWith(mailerTo(`smtp://127.0.0.1:${port}`, 1_000))(key, `${randomUUID()}@example.nl`)).rejects.toMatchObject({ name: 'AbortError' });
      const took = Date.now() - started;
      expect(took).toBeGreaterThanOrEqual(1_000);
      expect(took).toBeLessThan(10_000);
      expect(received).toBe(1);
      expect(await row(key)).toMatchObject({ status: 'pending', attempts: 1, lastError: expect.stringMatching(/abort/i) });
    } finally {
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });
});
