import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Models } from '../src/db/models.ts';
import type { Mailer } from '../src/mail/mailer.ts';
import { renderEmail, type EmailTemplate, type EmailVars } from '../src/domain/emails.ts';

export interface NotifyApplicantInput {
  /** Business key of this notification, e.g. "<applicationId>:information_request:<requestId>". */
  key: string;
  applicationId: string;
  template: EmailTemplate;
  vars?: Pick<EmailVars, 'missing' | 'deadline' | 'reason'>;
}

export interface NotificationDeps {
  models: Models;
  mailer: Mailer;
  fundName: string;
  mailDomain: string;
  /** The applicant's status link, with a signed link token. */
  statusUrl(applicationId: string): Promise<string>;
}

export function createNotificationActivities(deps: NotificationDeps) {
  const { Application, Outbox } = deps.models;
  return {
    /**
     * Outbox first, then SMTP: the outbox row (keyed by the notification's business
     * key) survives a crash, and a row marked sent is never sent again.
     */
    async notifyApplicant(input: NotifyApplicantInput): Promise<{ status: 'sent' | 'already_sent' }> {
      const existing = await Outbox.findById(input.key).lean();
      if (existing?.status === 'sent') return { status: 'already_sent' };

      const app = await Application.findById(input.applicationId, { applicant: 1, reference: 1, title: 1 }).lean();
      if (!app) throw ApplicationFailure.nonRetryable(`application ${input.applicationId} not found`, 'ApplicationNotFound');
      const vars: EmailVars = {
        fundName: deps.fundName,
        applicantName: app.applicant.name,
        reference: app.reference,
        title: app.title,
        ...input.vars,
      };
      const subject = renderEmail(input.template, vars).subject;
      await Outbox.updateOne(
        { _id: input.key },
        {
          $setOnInsert: {
            applicationId: input.applicationId,
            to: app.applicant.email,
            template: input.template,
            locale: 'nl',
            vars,
            subject,
            status: 'pending',
            createdAt: new Date(),
          },
          $inc: { attempts: 1 },
        },
        { upsert: true },
      );
      // The link token is signed at send time and never stored in the outbox.
      const { text } = renderEmail(input.template, { ...vars, statusUrl: await deps.statusUrl(input.applicationId) });
      const messageId = `<${input.key.replace(/[^A-Za-z0-9.-]/g, '.')}@${deps.mailDomain}>`;
      try {
        await deps.mailer.send({ to: app.applicant.email, subject, text, messageId });
      } catch (err) {
        await Outbox.updateOne({ _id: input.key }, { $set: { lastError: String(err) } });
        throw err;
      }
      await Outbox.updateOne({ _id: input.key }, { $set: { status: 'sent', sentAt: new Date(), messageId }, $unset: { lastError: 1 } });
      Context.current().log.info('applicant notified', { template: input.template, key: input.key });
      return { status: 'sent' };
    },
  };
}
