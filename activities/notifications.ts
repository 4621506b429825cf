import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Models } from '../src/db/models.ts';
import type { Mailer } from '../src/mail/mailer.ts';
import { createOutbox } from './outbox.ts';
import { renderAccountLockedEmail, renderAgendaEmail, renderEmail, renderStaffEmail, type EmailTemplate, type EmailVars, type StaffEmailTemplate } from '../src/domain/emails.ts';
import type { AccountLockedInput } from '../src/domain/workflow-types.ts';

export interface NotifyApplicantInput {
  /** Business key of this notification, e.g. "<applicationId>:information_request:<requestId>". */
  key: string;
  applicationId: string;
  template: EmailTemplate;
  vars?: Pick<EmailVars, 'missing' | 'deadline' | 'reason' | 'meetingAt' | 'grantedCents' | 'requestedCents' | 'reasons' | 'budgetYear' | 'remainingCents'>;
  /** Budget lines the panel struck (indexes): named in the e-mail by their description. */
  struckLines?: number[];
}

export interface NotificationDeps {
  models: Models;
  mailer: Mailer;
  fundName: string;
  mailDomain: string;
  /** The applicant's status link, with a signed link token. */
  statusUrl(applicationId: string): Promise<string>;
  /** Where staff read a meeting's agenda. */
  meetingUrl(meetingId: string): string;
  /** The fund's account for refunds (the municipality's, as in the SEPA files). */
  refundIban?: string;
  /** Where staff read an application (default: the API path). */
  applicationUrl?(applicationId: string): string;
  /** The staff login page (in the e-mail about a locked account). */
  loginUrl?: string;
}

export function createNotificationActivities(deps: NotificationDeps) {
  const { Application, Outbox, Meeting, StaffUser } = deps.models;

  const deliver = createOutbox(deps);

  return {
    /** Each panel member of the meeting gets the frozen agenda. */
    async notifyMeetingMembers(input: { meetingId: string }): Promise<{ sent: number }> {
      const meeting = await Meeting.findById(input.meetingId).lean();
      if (!meeting) throw ApplicationFailure.nonRetryable(`meeting ${input.meetingId} not found`, 'MeetingNotFound');
      const members = await StaffUser.find({ _id: { $in: meeting.members.map((m) => m.id) } }, { email: 1, name: 1 }).lean();
      let sent = 0;
      for (const m of members) {
        const mail = renderAgendaEmail({
          fundName: deps.fundName,
          memberName: m.name,
          meetingAt: new Date(meeting.startsAt).toISOString(),
          items: meeting.agenda,
          agendaUrl: deps.meetingUrl(input.meetingId),
        });
        if ((await deliver(`${input.meetingId}:agenda:${m._id}`, { to: m.email, template: 'meeting_agenda', ...mail })) === 'sent') sent++;
      }
      return { sent };
    },

    /** Each active panel member and admin gets a staff e-mail about one application. */
    async notifyPanel(input: { key: string; applicationId: string; template: StaffEmailTemplate }): Promise<{ sent: number }> {
      const app = await Application.findById(input.applicationId, { reference: 1, title: 1 }).lean();
      if (!app) throw ApplicationFailure.nonRetryable(`application ${input.applicationId} not found`, 'ApplicationNotFound');
      const staff = await StaffUser.find({ role: { $in: ['panel', 'admin'] }, active: true }, { email: 1, name: 1 }).lean();
      const url = deps.applicationUrl?.(input.applicationId) ?? `/api/v1/applications/${input.applicationId}`;
      let sent = 0;
      for (const s of staff) {
        const mail = renderStaffEmail(input.template, { fundName: deps.fundName, staffName: s.name, reference: app.reference, title: app.title, url });
        if ((await deliver(`${input.key}:${s._id}`, { to: s.email, template: input.template, applicationId: input.applicationId, ...mail })) === 'sent') sent++;
      }
      return { sent };
    },

    /** The holder of an account locked after many failed logins is told once per lock (the outbox row is keyed by the lock). */
    async notifyAccountLocked(input: AccountLockedInput): Promise<{ status: 'sent' | 'already_sent' | 'no_account' }> {
      const user = await StaffUser.findById(input.userId, { email: 1, name: 1, active: 1 }).lean();
      if (!user?.active) return { status: 'no_account' };
      const mail = renderAccountLockedEmail({ fundName: deps.fundName, staffName: user.name, email: user.email, failures: input.failures, lockedUntil: input.lockedUntil, loginUrl: deps.loginUrl ?? '/inloggen' });
      return { status: await deliver(`account-locked:${input.lockId}`, { to: user.email, template: 'account_locked', ...mail }) };
    },

    /**
     * Outbox first, then SMTP: the outbox row (keyed by the notification's business
     * key) survives a crash, and a row marked sent is never sent again.
     */
    async notifyApplicant(input: NotifyApplicantInput): Promise<{ status: 'sent' | 'already_sent' }> {
      if ((await Outbox.findById(input.key, { status: 1 }).lean())?.status === 'sent') return { status: 'already_sent' };

      const app = await Application.findById(input.applicationId, { applicant: 1, reference: 1, title: 1, budgetLines: 1, budgetWarning: 1 }).lean();
      if (!app) throw ApplicationFailure.nonRetryable(`application ${input.applicationId} not found`, 'ApplicationNotFound');
      const vars: EmailVars = {
        fundName: deps.fundName,
        applicantName: app.applicant.name,
        reference: app.reference,
        title: app.title,
        ...(input.template === 'confirmation' && app.budgetWarning
          ? { budgetWarning: true, budgetYear: app.budgetWarning.year, remainingCents: app.budgetWarning.remainingCents }
          : {}),
        ...(deps.refundIban ? { fundIban: deps.refundIban } : {}),
        ...input.vars,
        ...(input.struckLines?.length ? { struck: input.struckLines.map((i) => app.budgetLines[i]?.description ?? `#${i + 1}`).join(', ') } : {}),
      };
      // The link token is signed at send time and never stored in the outbox.
      const { subject, text } = renderEmail(input.template, { ...vars, statusUrl: await deps.statusUrl(input.applicationId) });
      const status = await deliver(input.key, { to: app.applicant.email, template: input.template, subject, text, applicationId: input.applicationId, vars: { ...vars } });
      if (status === 'already_sent') return { status };
      Context.current().log.info('applicant notified', { template: input.template, key: input.key });
      return { status: 'sent' };
    },
  };
}
