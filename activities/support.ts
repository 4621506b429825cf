import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Models } from '../src/db/models.ts';
import type { Mailer } from '../src/mail/mailer.ts';
import { renderSupportFlaggedEmail, renderSupportReminderEmail } from '../src/domain/emails.ts';
import { SupportNotFound, SupportService } from '../src/support/service.ts';
import type { WijkOrganisations } from '../src/support/organisations.ts';
import type { SupportTiming, WaitStepInput } from '../src/domain/workflow-types.ts';
import { createOutbox } from './outbox.ts';

export interface SupportActivityDeps {
  models: Models;
  mailer: Mailer;
  fundName: string;
  mailDomain: string;
  /** WIJK_ORGANISATIONS: who is responsible for an initiative's wijk. */
  wijkOrganisations: WijkOrganisations;
  /** Where staff read a support case. */
  supportUrl(applicationId: string): string;
}

/** The support workflow's activities: the case in the queue, its reminder and its flag. Each idempotent (keyed by case and wait). */
export function createSupportActivities(deps: SupportActivityDeps) {
  const { StaffUser } = deps.models;
  const support = new SupportService({ models: deps.models, organisations: deps.wijkOrganisations });
  const deliver = createOutbox(deps);

  /** Writes the reminder or flag of the wait (once, and only while nobody has the case), then e-mails its recipients. */
  async function markAndTell(input: WaitStepInput, kind: 'reminder_sent' | 'flagged'): Promise<SupportTiming> {
    const before = await support.get(input.applicationId);
    if (!before) throw ApplicationFailure.nonRetryable(`no support case for ${input.applicationId}`, 'SupportNotFound');
    const filter = kind === 'reminder_sent' ? { role: 'welfare' as const, active: true, organisation: before.organisation } : { role: 'admin' as const, active: true };
    const staff = await StaffUser.find(filter, { email: 1, name: 1 }).lean();
    const { entry, case: c, timing } = await support.markWait({ applicationId: input.applicationId, kind, period: input.period, at: input.at, recipients: staff.map((s) => s._id) });
    if (!entry) return timing; // claimed, released or ended meanwhile: nobody to tell
    // Those recorded with the entry (a retry tells the same people; the outbox sends each once).
    const recipients = await StaffUser.find({ _id: { $in: entry.recipients ?? [] } }, { email: 1, name: 1 }).lean();
    if (recipients.length === 0) Context.current().log.warn('nobody to tell about a waiting support case', { applicationId: input.applicationId, kind, organisation: c.organisation });
    const render = kind === 'reminder_sent' ? renderSupportReminderEmail : renderSupportFlaggedEmail;
    for (const s of recipients) {
      const mail = render({
        fundName: deps.fundName,
        staffName: s.name,
        reference: c.reference,
        title: c.title,
        wijken: c.wijken,
        organisation: c.organisation,
        reason: c.reason,
        ...(c.wish ? { wish: c.wish } : {}),
        waitingSince: c.waitingSince,
        days: input.days,
        url: deps.supportUrl(input.applicationId),
      });
      await deliver(`${entry._id}:${s._id}`, { to: s.email, template: kind === 'reminder_sent' ? 'support_reminder' : 'support_flagged', applicationId: input.applicationId, ...mail });
    }
    return timing;
  }

  return {
    /**
     * Whether a granted initiative goes to the support queue, and why: the applicant asked
     * for help (`wantsSupport`, with their `supportWish`), or else the panel flagged it.
     * Null: no support case. For the initiative workflow, before it starts supportWorkflow.
     */
    async supportNeeded(input: { applicationId: string; flagged?: boolean }): Promise<{ reason: 'requested' | 'flagged'; wish?: string } | null> {
      const app = await deps.models.Application.findById(input.applicationId, { wantsSupport: 1, supportWish: 1 }).lean();
      if (!app) throw ApplicationFailure.nonRetryable(`application ${input.applicationId} not found`, 'ApplicationNotFound');
      if (app.wantsSupport) return { reason: 'requested', ...(app.supportWish ? { wish: app.supportWish } : {}) };
      return input.flagged ? { reason: 'flagged' } : null;
    },

    /** Puts the initiative in the support queue (once) and returns the case's timing. */
    async openSupportCase(input: { applicationId: string; reason: 'requested' | 'flagged'; wish?: string; at: string }): Promise<SupportTiming> {
      return notRetriedWhenMissing(() => support.open(input));
    },

    /** The case's timing as stored now (after a claim or release signal). */
    async readSupportTiming(input: { applicationId: string }): Promise<SupportTiming> {
      return notRetriedWhenMissing(() => support.timing(input.applicationId));
    },

    /** After 7 days unclaimed: the active welfare workers of the wijk's organisation are e-mailed. */
    async remindSupportWorkers(input: WaitStepInput): Promise<SupportTiming> {
      return markAndTell(input, 'reminder_sent');
    },

    /** After 14 days unclaimed: the case is flagged and the admins are e-mailed. */
    async flagSupportCase(input: WaitStepInput): Promise<SupportTiming> {
      return markAndTell(input, 'flagged');
    },
  };
}

async function notRetriedWhenMissing<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof SupportNotFound) throw ApplicationFailure.nonRetryable(err.message, 'SupportNotFound');
    throw err;
  }
}
