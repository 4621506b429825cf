import { addMailKey } from '../src/db/keys.ts';
import { log } from '@temporalio/activity';
import type { Models } from '../src/db/models.ts';
import type { Mailer } from '../src/mail/mailer.ts';
import { outboxMessageId } from '../src/mail/message-id.ts';

export interface OutgoingRow {
  to: string;
  template: string;
  subject: string;
  text: string;
  applicationId?: string;
  vars?: Record<string, unknown>;
}

/**
 * Outbox row first (keyed by the notification's business key), then SMTP, then the row
 * marked sent: the row survives a crash, and a row marked sent is never sent again.
 *
 * At least once: a crash after the SMTP server accepted the mail and before the row is
 * marked sent sends it again. Between the two there is nothing but the one update, and
 * the resend carries the same Message-ID (a function of the row's key). Each attempt is
 * recorded on the row before it is sent and its failure after; an attempt that left
 * neither a failure nor `sent` ended without a result (a crash, or a timeout of the
 * activity), so the next one is logged and marked as a possible duplicate.
 */
export function createOutbox(deps: { models: Models; mailer: Mailer; mailDomain: string }) {
  const { Outbox } = deps.models;
  return async function deliver(key: string, row: OutgoingRow): Promise<'sent' | 'already_sent'> {
    const messageId = outboxMessageId(key, deps.mailDomain);
    const existing = await Outbox.findById(key, { status: 1, attempts: 1, lastError: 1 }).lean();
    if (existing?.status === 'sent') return 'already_sent' as const;
    // The application's e-mails are found by key (the privacy export and erasure).
    if (!existing && row.applicationId) await addMailKey(deps.models, row.applicationId, key);
    const unfinished = existing !== null && existing.attempts > 0 && existing.lastError === undefined;
    if (unfinished) log.warn('outbox: resending an e-mail whose last attempt ended without a result; it may arrive twice, with the same Message-ID', { key, messageId, attempts: existing.attempts });
    await Outbox.updateOne(
      { _id: key },
      {
        $setOnInsert: {
          ...(row.applicationId ? { applicationId: row.applicationId } : {}),
          to: row.to,
          template: row.template,
          locale: 'nl',
          vars: row.vars ?? {},
          subject: row.subject,
          status: 'pending',
          createdAt: new Date(),
        },
        $set: { messageId, attemptedAt: new Date(), ...(unfinished ? { possibleDuplicate: true } : {}) },
        $unset: { lastError: 1 },
        $inc: { attempts: 1 },
      },
      { upsert: true },
    );
    try {
      await deps.mailer.send({ to: row.to, subject: row.subject, text: row.text, messageId });
    } catch (err) {
      await Outbox.updateOne({ _id: key }, { $set: { lastError: String(err) } });
      throw err;
    }
    // The SMTP server has accepted the mail: nothing but this update until the row says so.
    await Outbox.updateOne({ _id: key }, { $set: { status: 'sent', sentAt: new Date() } });
    return 'sent' as const;
  };
}
