import type { Models } from '../src/db/models.ts';
import type { Mailer } from '../src/mail/mailer.ts';

export interface OutgoingRow {
  to: string;
  template: string;
  subject: string;
  text: string;
  applicationId?: string;
  vars?: Record<string, unknown>;
}

/**
 * Outbox row first (keyed by the notification's business key), then SMTP: the row
 * survives a crash, and a row marked sent is never sent again.
 */
export function createOutbox(deps: { models: Models; mailer: Mailer; mailDomain: string }) {
  const { Outbox } = deps.models;
  return async function deliver(key: string, row: OutgoingRow): Promise<'sent' | 'already_sent'> {
    const existing = await Outbox.findById(key).lean();
    if (existing?.status === 'sent') return 'already_sent' as const;
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
        $inc: { attempts: 1 },
      },
      { upsert: true },
    );
    const messageId = `<${key.replace(/[^A-Za-z0-9.-]/g, '.')}@${deps.mailDomain}>`;
    try {
      await deps.mailer.send({ to: row.to, subject: row.subject, text: row.text, messageId });
    } catch (err) {
      await Outbox.updateOne({ _id: key }, { $set: { lastError: String(err) } });
      throw err;
    }
    await Outbox.updateOne({ _id: key }, { $set: { status: 'sent', sentAt: new Date(), messageId }, $unset: { lastError: 1 } });
    return 'sent' as const;
  };
}
