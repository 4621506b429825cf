import nodemailer, { type Transporter } from 'nodemailer';
import type { Logger } from 'pino';

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  /** Stable per notification, so a receiving system can drop a duplicate delivery. */
  messageId: string;
}

export interface Mailer {
  send(mail: OutgoingMail): Promise<void>;
  close(): void;
}

/**
 * How long one send may take, connection to the server's answer. Below the mail
 * activities' 1-minute start-to-close timeout (workflows/), so an attempt has ended
 * (and its failure is on the outbox row) before Temporal starts the next one: two
 * attempts at one mail never run side by side.
 */
export const SEND_TIMEOUT_MS = 30_000;

/** SMTP through nodemailer; without SMTP_URL (local demo) mails are written to the log instead. */
export function createMailer(opts: { smtpUrl?: string; from: string; logger: Logger; sendTimeoutMs?: number }): Mailer {
  const transport: Transporter = opts.smtpUrl
    ? nodemailer.createTransport(opts.smtpUrl)
    : nodemailer.createTransport({ streamTransport: true, buffer: true });
  return {
    async send(mail) {
      const info = await transport.sendMail({
        from: opts.from,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        messageId: mail.messageId,
        signal: AbortSignal.timeout(opts.sendTimeoutMs ?? SEND_TIMEOUT_MS),
      });
      if (!opts.smtpUrl) opts.logger.info({ to: mail.to, subject: mail.subject, messageId: info.messageId }, 'mail (no SMTP_URL): not delivered');
    },
    close() {
      transport.close();
    },
  };
}
