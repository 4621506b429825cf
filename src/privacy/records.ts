/** Reading what is stored about one application, for the export and the erasure alike. */
import type { Models, OutboxDoc } from '../db/models.ts';
import { idRange } from '../db/chain.ts';
import { mailsOfApplication } from '../db/keys.ts';
import { supportChainName } from '../support/service.ts';
import { supportEventModel, type SupportEventDoc } from '../db/support-models.ts';

/**
 * The e-mails of an application that went to the applicant: every outbox row of the
 * application except those to a staff account (agenda, flags and follow-up notices to
 * the panel, admin and welfare workers). Decided by address and not by template, so
 * it also holds for e-mails added later; and not by the applicant's own address,
 * which is gone after erasure (a retried erasure must find the same rows).
 */
export async function applicantMail(models: Models, applicationId: string): Promise<OutboxDoc[]> {
  const [rows, staff] = await Promise.all([
    mailsOfApplication(models, applicationId),
    models.StaffUser.find({}, { email: 1 }).lean(),
  ]);
  const staffAddresses = new Set(staff.map((s) => s.email.toLowerCase()));
  return rows.filter((r) => !staffAddresses.has(r.to.toLowerCase()));
}

/** The application's support case (welfare workers' claims and notes), oldest first. */
export async function supportCase(models: Models, applicationId: string): Promise<SupportEventDoc[]> {
  const SupportEvent = await supportEventModel(models.connection);
  // The case's chain (src/support/service.ts), an `_id` range in position order.
  return SupportEvent.find(idRange(supportChainName(applicationId))).sort({ _id: 1 }).lean<SupportEventDoc[]>();
}
