/**
 * What erasing an application's personal data changes, as pure functions of what is
 * stored (the activity in activities/privacy.ts applies them). The rule is the
 * domain's: personal data goes a set time after closing, the figures and the
 * financial records stay.
 *
 * Kept: reference, year, status and its history, title, wijken, purposes, dates of
 * the activity, participant and volunteer counts, budget lines and co-funding (the
 * grant was computed from them: financial record), amounts, the decision (outcome,
 * amounts, struck lines and the panel's reasons: the grounds of a decision on public
 * money, also in the audit log), the report's figures and cost lines, the traffic
 * light, the settlement, and the privacy consent (proof it was given).
 *
 * Erased: who the applicant is and how to reach or pay them (name, e-mail, phone,
 * address, organisation, IBAN, account holder), and every free text that may name
 * or describe a person: the description, the target group, the activity's location,
 * the support wish, what changed since an earlier application, the panel's questions
 * and the applicant's answers, the report's text, clarification questions and
 * answers, the review note, and such notes in the timeline.
 */
import type { AgendaItemDoc, ApplicationDoc } from '../db/models.ts';
import type { InformationRequest } from '../domain/status.ts';
import type { InitiativeReport, ReportReview } from '../domain/report.ts';

/** What stands where personal data was (a string field stays a string: readers need not change). */
export const ERASED = '[verwijderd]';

/**
 * Timeline notes the workflow writes itself: a year, a date or time, a count, a
 * batch id, a traffic light, a fixed word. Anything else is a person's text
 * (a question, an answer, a reason) and is erased.
 */
const machineNote = /^(\d{1,9}|\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z)?|[A-Z]{2}-\d{4}-\d{1,6}|green|orange|red|flagged|clarification)$/;

export function erasedNote(note: string | undefined): string | undefined {
  if (note === undefined || note === ERASED || machineNote.test(note)) return note;
  return ERASED;
}

/** Outbox variables that are no one's personal data (the rest, e.g. the applicant's name, a reason, is dropped). */
const keptMailVars = new Set(['fundName', 'reference', 'title', 'deadline', 'meetingAt', 'grantedCents', 'requestedCents', 'budgetYear', 'remainingCents', 'budgetWarning', 'fundIban']);

export function erasedMailVars(vars: Record<string, unknown> | undefined): Record<string, unknown> {
  return Object.fromEntries(Object.entries(vars ?? {}).filter(([k]) => keptMailVars.has(k)));
}

const erasedRequest = (r: InformationRequest): InformationRequest => ({ ...r, missing: ERASED, ...(r.answer !== undefined ? { answer: ERASED } : {}) });

function erasedReport(r: InitiativeReport): InitiativeReport {
  return {
    ...r,
    text: ERASED,
    ...(r.clarifications
      ? { clarifications: r.clarifications.map((c) => ({ ...c, question: ERASED, ...(c.answer !== undefined ? { answer: ERASED } : {}) })) }
      : {}),
  };
}

const erasedReview = (r: ReportReview): ReportReview => (r.note !== undefined ? { ...r, note: ERASED } : r);

/** The one update that erases the application document; the same result however often it is applied. */
export function applicationErasure(app: ApplicationDoc, erasedAt: Date): { $set: Record<string, unknown>; $unset: Record<string, ''> } {
  const $set: Record<string, unknown> = {
    applicant: { name: ERASED, email: ERASED, phone: ERASED, address: { street: ERASED, postalCode: ERASED, city: ERASED } },
    description: ERASED,
    targetGroup: ERASED,
    activity: { ...app.activity, location: ERASED },
    iban: ERASED,
    accountHolder: ERASED,
    informationRequests: (app.informationRequests ?? []).map(erasedRequest),
    erasedAt,
    updatedAt: erasedAt,
  };
  if (app.supportWish !== undefined) $set.supportWish = ERASED;
  if (app.whatChanged !== undefined) $set.whatChanged = ERASED;
  if (app.report) $set.report = erasedReport(app.report);
  if (app.review) $set.review = erasedReview(app.review);
  // Tokens go with the AccessToken documents; an idempotency key is the client's own text.
  return { $set, $unset: { accessTokenHash: '', idempotencyKey: '' } };
}

/** A frozen agenda item of the application: the applicant's name and their "what changed" go. */
export function erasedAgendaItem(item: AgendaItemDoc): AgendaItemDoc {
  const earlier = item.fairSpread.earlierRejection;
  return {
    ...item,
    applicantName: ERASED,
    fairSpread: {
      ...item.fairSpread,
      ...(earlier ? { earlierRejection: { applicationId: earlier.applicationId, reference: earlier.reference, ...(earlier.whatChanged !== undefined ? { whatChanged: ERASED } : {}) } } : {}),
    },
  };
}

/**
 * The end of the fiscal retention of the application's financial records: the end
 * of the year `financialYears` after the last year with a movement of its money.
 */
export function financialRetentionEnd(movementYears: number[], financialYears: number): string | null {
  if (movementYears.length === 0) return null;
  return `${Math.max(...movementYears) + financialYears}-12-31`;
}
