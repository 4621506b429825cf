/**
 * Retention: the initiative workflow erases the application's personal data a set
 * time after it ended (RETENTION_PERSONAL_DAYS, see src/privacy/erasure.ts for what
 * goes and what stays). The financial records are kept for the fiscal retention
 * period (RETENTION_FINANCIAL_YEARS): the ledger journal (it names no person: amounts,
 * application ids, actors by role) and the payout batches' SEPA files, which do hold
 * the account holder's name and IBAN but are the municipality's payment records;
 * this activity leaves both alone.
 *
 * Idempotent (Temporal retries it): every step rewrites to the same erased values or
 * deletes what is left, and the marker (`erasedAt`) is written last, so a retry after
 * a crash completes the work. It runs after the workflow's last projection, when no
 * one else writes the application's documents (FerretDB v1 updates are not isolated).
 */
import { ApplicationFailure } from '@temporalio/activity';
import { recordAudit } from '../src/services/audit.ts';
import { insertOnce, type ApplicationDoc, type Models } from '../src/db/models.ts';
import { documentsOfApplication, documentsWithContent, eventsOfApplication, insertEvent, removeDocumentsOfApplication, movementsOfApplication, removeSecretsOfApplication } from '../src/db/keys.ts';
import type { DocumentStore } from '../src/documents/store.ts';
import { isFinal, type TimelineEventType } from '../src/domain/status.ts';
import { payoutEndToEndId } from '../src/domain/payouts.ts';
import { amsterdamYear } from '../src/domain/dates.ts';
import { applicationErasure, erasedAgendaItem, erasedMailVars, erasedNote, ERASED, financialRetentionEnd } from '../src/privacy/erasure.ts';
import { applicantMail, supportCase } from '../src/privacy/records.ts';
import { supportEventModel } from '../src/db/support-models.ts';
import { meetingsOfApplication } from '../src/privacy/keys.ts';
import { removeStoryKeys } from '../src/reports/stories.ts';

export interface PrivacyActivityDeps {
  models: Models;
  /** The document store (absent in a worker built without one: erasure then fails and is retried until it is there). */
  store?: DocumentStore;
  retention?: { financialYears: number };
  now?: () => Date;
}

export interface ErasePersonalDataInput {
  applicationId: string;
}

export interface ErasureResult {
  applicationId: string;
  /** When the personal data was erased (the first run's time on a retry). */
  erasedAt: string;
  documentsRemoved: number;
  filesRemoved: number;
  accessTokensRemoved: number;
  idempotencyKeysRemoved: number;
  mailsStripped: number;
  timelineNotesStripped: number;
  supportEntriesStripped: number;
  agendaItemsStripped: number;
  paymentInstructionStripped: boolean;
  /** End of the fiscal retention of the ledger movements and SEPA files that stay (null: the application moved no money). */
  financialRecordsKeptUntil: string | null;
}

type ErasableApplication = ApplicationDoc & { erasedAt?: Date };

/** The timeline event that shows the erasure (one per application); cast until TimelineEventType names it. */
const erasedEventType: TimelineEventType = 'personal_data_erased';

export function createPrivacyActivities(deps: PrivacyActivityDeps) {
  const { Application, Document, Outbox, Event, Payout, Meeting, Audit } = deps.models;
  const financialYears = deps.retention?.financialYears ?? 7;

  return {
    /**
     * Erases the personal data of an application that has ended (closed, reclaimed,
     * rejected, withdrawn, lapsed), keeping its figures and financial records.
     */
    async erasePersonalData(input: ErasePersonalDataInput): Promise<ErasureResult> {
      const { applicationId } = input;
      const store = deps.store;
      if (!store) throw new Error('erasePersonalData needs the document store: pass `store` to createActivities');
      const app = (await Application.findById(applicationId).lean()) as ErasableApplication | null;
      if (!app) throw ApplicationFailure.nonRetryable(`application ${applicationId} not found`, 'ApplicationNotFound');
      if (!isFinal(app.status)) throw ApplicationFailure.nonRetryable(`application ${applicationId} is still ${app.status}`, 'ApplicationNotEnded');
      const payout = await Payout.findById(payoutEndToEndId(app.reference)).lean();
      // The IBAN of a payout that may still go out is needed for its SEPA file.
      if (payout && payout.status !== 'paid' && payout.status !== 'cancelled') {
        throw ApplicationFailure.nonRetryable(`payout ${payout._id} is still ${payout.status}`, 'PayoutNotSettled');
      }
      const erasedAt = app.erasedAt ? new Date(app.erasedAt) : (deps.now?.() ?? new Date());

      // Files before their Document records: a retry after a crash still knows which files were the application's.
      const documents = await documentsOfApplication(deps.models, applicationId);
      let filesRemoved = 0;
      for (const sha256 of new Set(documents.map((d) => d.sha256))) {
        // Content-addressed: the same file uploaded with another application stays for that one.
        if ((await documentsWithContent(deps.models, sha256)).some((d) => d.applicationId !== applicationId)) continue;
        if (await store.has(sha256)) {
          await store.remove(sha256);
          filesRemoved += 1;
        }
      }
      const documentsRemoved = await removeDocumentsOfApplication(deps.models, applicationId);
      const { accessTokens: accessTokensRemoved, idempotencyKeys: idempotencyKeysRemoved } = await removeSecretsOfApplication(deps.models, applicationId);

      let mailsStripped = 0;
      for (const mail of await applicantMail(deps.models, applicationId)) {
        const vars = erasedMailVars(mail.vars);
        if (mail.to === ERASED && mail.lastError === undefined && JSON.stringify(vars) === JSON.stringify(mail.vars ?? {})) continue;
        await Outbox.updateOne({ _id: mail._id }, { $set: { to: ERASED, vars }, $unset: { lastError: '' } });
        mailsStripped += 1;
      }

      let timelineNotesStripped = 0;
      for (const event of await eventsOfApplication(deps.models, applicationId)) {
        if (event.note === undefined || erasedNote(event.note) === event.note) continue;
        await Event.updateOne({ _id: event._id }, { $set: { note: ERASED } });
        timelineNotesStripped += 1;
      }

      let supportEntriesStripped = 0;
      const SupportEvent = await supportEventModel(deps.models.connection);
      for (const e of await supportCase(deps.models, applicationId)) {
        const $set: Record<string, unknown> = {};
        if (e.note && e.note.text !== ERASED) $set.note = { ...e.note, text: ERASED };
        if (e.queued?.wish !== undefined && e.queued.wish !== ERASED) $set.queued = { ...e.queued, wish: ERASED };
        if (Object.keys($set).length === 0) continue;
        await SupportEvent.updateOne({ _id: e._id }, { $set });
        supportEntriesStripped += 1;
      }

      let agendaItemsStripped = 0;
      for (const meeting of await meetingsOfApplication(deps.models, applicationId)) {
        let changed = 0;
        const agenda = meeting.agenda.map((item) => {
          if (item.applicationId !== applicationId) return item;
          const erased = erasedAgendaItem(item);
          if (JSON.stringify(erased) !== JSON.stringify(item)) changed += 1;
          return erased;
        });
        if (changed === 0) continue;
        await Meeting.updateOne({ _id: meeting._id }, { $set: { agenda } });
        agendaItemsStripped += changed;
      }

      let paymentInstructionStripped = false;
      if (payout && (payout.iban !== ERASED || payout.accountHolder !== ERASED)) {
        await Payout.updateOne({ _id: payout._id }, { $set: { iban: ERASED, accountHolder: ERASED } });
        paymentInstructionStripped = true;
      }

      const movements = await movementsOfApplication(deps.models, applicationId);
      const financialRecordsKeptUntil = financialRetentionEnd(movements.map((m) => amsterdamYear(new Date(m.at))), financialYears);

      // The marker last. Through the driver: the schema does not declare `erasedAt` (mongoose would drop it).
      await Application.collection.updateOne({ _id: applicationId as never }, applicationErasure(app, erasedAt));
      // The report's text is gone: no story for the monitoring any more (its keys after the text).
      await removeStoryKeys(deps.models, app);
      await insertEvent(deps.models, { _id: `${applicationId}:personal_data_erased`, applicationId, at: erasedAt.toISOString(), type: erasedEventType, actor: 'system' });

      const result: ErasureResult = {
        applicationId,
        erasedAt: erasedAt.toISOString(),
        documentsRemoved,
        filesRemoved,
        accessTokensRemoved,
        idempotencyKeysRemoved,
        mailsStripped,
        timelineNotesStripped,
        supportEntriesStripped,
        agendaItemsStripped,
        paymentInstructionStripped,
        financialRecordsKeptUntil,
      };
      // What was erased is named, never repeated: the audit log must not keep what was removed.
      await recordAudit(deps.models, {
        _id: `privacy:erased:${applicationId}`,
        at: erasedAt,
        actor: 'system',
        action: 'privacy.erased',
        target: `application:${applicationId}`,
        after: { ...result, kept: ['figures', 'ledger journal', 'payout amount and end-to-end id', 'SEPA batch files'] },
      });
      return result;
    },
  };
}
