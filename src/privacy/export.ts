/**
 * The applicant's right of access (GDPR art. 15): everything stored about one
 * application, as the entries of a zip archive.
 *
 * What is in it and why:
 * - the application as the API shows it (timeline, information requests with the
 *   panel's questions and the answers, decision with its reasons, payout, report,
 *   review, settlement), plus what the API view leaves out but is the applicant's
 *   data: the payment instruction with IBAN and account holder, and the support case
 *   including the welfare workers' notes. Notes staff keep about a person are that
 *   person's personal data too (CJEU C-434/16 Nowak: an examiner's comments are the
 *   candidate's personal data), so they are included, with the worker's name and
 *   organisation (the applicant dealt with them in that role) but not staff ids;
 * - the e-mails sent to the applicant (subject, text, when), the text rendered again
 *   from the stored variables: the sent text itself is not stored;
 * - the application's ledger movements (kind, amount, year, when), without the
 *   year's balances, which are the fund's figures and not about the applicant;
 * - every document file, byte for byte.
 * Not in it: the individual panel members' votes and recusals (the panel members'
 * personal data and the collegial body's deliberation; the applicant gets the decision
 * and its reasons), the audit log (it repeats those votes; the timeline and ledger
 * movements cover the facts), and staff ids.
 */
import type { Config } from '../config.ts';
import type { Models } from '../db/models.ts';
import { documentsOfApplication, eventsOfApplication, movementsOfApplication } from '../db/keys.ts';
import type { DocumentStore } from '../documents/store.ts';
import type { PayoutService } from '../payouts/service.ts';
import { renderEmail, type EmailTemplate, type EmailVars } from '../domain/emails.ts';
import { applicationView } from '../services/applications.ts';
import { pagePaths } from '../web/paths.ts';
import { ERASED } from './erasure.ts';
import { exportReadme } from './readme.ts';
import { applicantMail, supportCase } from './records.ts';
import type { ZipEntry } from './zip.ts';

export interface ExportDeps {
  models: Models;
  store: DocumentStore;
  payouts: PayoutService;
  config: Pick<Config, 'publicBaseUrl' | 'retention'> & { fund: Pick<Config['fund'], 'name'> };
  now?: () => Date;
}

export interface PersonalDataExport {
  reference: string;
  entries: ZipEntry[];
}

const json = (value: unknown) => Buffer.from(`${JSON.stringify(value, null, 2)}\n`, 'utf8');
const iso = (d: Date | string | undefined | null) => (d ? new Date(d).toISOString() : undefined);

/** The export of one application, or null when there is no such application. */
export async function personalDataExport(deps: ExportDeps, applicationId: string): Promise<PersonalDataExport | null> {
  const { models, store } = deps;
  const app = await models.Application.findById(applicationId).lean();
  if (!app) return null;
  const exportedAt = (deps.now?.() ?? new Date()).toISOString();
  const [events, documents, payout, movements, mails, support] = await Promise.all([
    eventsOfApplication(models, applicationId),
    documentsOfApplication(models, applicationId),
    deps.payouts.byApplication(app.reference),
    movementsOfApplication(models, applicationId),
    applicantMail(models, applicationId),
    supportCase(models, applicationId),
  ]);
  const erasedAt = (app as { erasedAt?: Date }).erasedAt;

  // Oldest first; one upload's files (same time) by name. File names are checked at upload (no
  // separators or control characters); the number keeps equal names apart.
  documents.sort((x, y) => new Date(x.uploadedAt).getTime() - new Date(y.uploadedAt).getTime() || x.fileName.localeCompare(y.fileName) || x._id.localeCompare(y._id));
  const files = await Promise.all(
    documents.map(async (d, i) => ({
      doc: d,
      path: `documents/${String(i + 1).padStart(2, '0')}-${d.fileName}`,
      present: await store.has(d.sha256),
    })),
  );

  const application = {
    export: { exportedAt, reference: app.reference, ...(erasedAt ? { personalDataErasedAt: iso(erasedAt) } : {}) },
    application: applicationView(app, events, documents, payout),
    paymentInstruction: payout
      ? {
          endToEndId: payout._id,
          amountCents: payout.amountCents,
          budgetYear: payout.year,
          iban: payout.iban,
          accountHolder: payout.accountHolder,
          remittance: payout.remittance,
          status: payout.status,
          createdAt: iso(payout.createdAt),
          ...(payout.batchId ? { batchId: payout.batchId } : {}),
          ...(payout.paidAt ? { paidAt: iso(payout.paidAt) } : {}),
        }
      : null,
    supportCase: support.map((e) => ({
      at: e.occurredAt,
      kind: e.kind,
      ...(e.queued ? { reason: e.queued.reason, ...(e.queued.wish ? { wish: e.queued.wish } : {}), organisation: e.queued.organisation } : {}),
      ...(e.worker ? { worker: { name: e.worker.name, ...(e.worker.organisation ? { organisation: e.worker.organisation } : {}) } } : {}),
      ...(e.note ? { note: { kind: e.note.kind, text: e.note.text, by: { name: e.note.by.name, ...(e.note.by.organisation ? { organisation: e.note.by.organisation } : {}) } } } : {}),
    })),
    files: files.map((f) => ({ documentId: f.doc._id, fileName: f.doc.fileName, sha256: f.doc.sha256, size: f.doc.size, ...(f.present ? { path: f.path } : { missing: true }) })),
  };

  const statusUrl = `${deps.config.publicBaseUrl}${pagePaths.status(applicationId)}`;
  const emails = mails.map((m) => ({
    to: m.to,
    subject: m.subject,
    ...(m.to !== ERASED ? { text: mailText(m.template, { ...(m.vars as unknown as EmailVars), statusUrl }) } : {}),
    template: m.template,
    status: m.status,
    createdAt: iso(m.createdAt),
    ...(m.sentAt ? { sentAt: iso(m.sentAt) } : {}),
  }));

  const ledger = movements.map((e) => ({ id: e._id, at: iso(e.at), budgetYear: e.year, kind: e.kind, amountCents: e.amountCents, ...(e.note ? { note: e.note } : {}) }));

  const readme = exportReadme({
    fundName: deps.config.fund.name,
    reference: app.reference,
    exportedAt,
    erased: erasedAt !== undefined,
    personalDataDays: deps.config.retention.personalDataDays,
    financialYears: deps.config.retention.financialYears,
  });
  const at = new Date(exportedAt);
  return {
    reference: app.reference,
    entries: [
      { name: 'LEESMIJ.txt', content: () => [Buffer.from(readme, 'utf8')], compress: true, modifiedAt: at },
      { name: 'application.json', content: () => [json(application)], compress: true, modifiedAt: at },
      { name: 'emails.json', content: () => [json(emails)], compress: true, modifiedAt: at },
      { name: 'ledger.json', content: () => [json(ledger)], compress: true, modifiedAt: at },
      ...files.filter((f) => f.present).map((f) => ({ name: f.path, content: () => store.open(f.doc.sha256), modifiedAt: new Date(f.doc.uploadedAt) })),
    ],
  };
}

/** The text as the template renders it from the stored variables; undefined for a template that no longer exists. */
function mailText(template: string, vars: EmailVars): string | undefined {
  try {
    return renderEmail(template as EmailTemplate, vars).text;
  } catch {
    return undefined;
  }
}
