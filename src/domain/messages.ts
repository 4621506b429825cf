import { formatEuros } from './money.ts';
/**
 * User-facing texts, Dutch first and English second. Error codes and logs stay
 * English; the `message` of an error response and every e-mail come from here.
 */
export type Locale = 'nl' | 'en';

export const errorMessages = {
  nl: {
    validation_failed: 'De aanvraag is niet volledig of niet juist ingevuld.',
    invalid_json: 'De gegevens konden niet worden gelezen: dit is geen geldige JSON.',
    malformed_multipart: 'Het formulier met bijlagen is beschadigd of onvolledig verstuurd.',
    unexpected_field: 'Het formulier bevat een onbekend veld.',
    file_too_large: 'Een bijlage is te groot.',
    too_many_files: 'Er zijn te veel bijlagen meegestuurd.',
    unsupported_file_type: 'Dit type bestand wordt niet geaccepteerd. Gebruik PDF, JPEG, PNG, een Office- of OpenDocument-bestand of CSV.',
    invalid_file_name: 'De bestandsnaam van een bijlage is niet toegestaan.',
    unsupported_media_type: 'Stuur de gegevens als JSON of als formulier met bijlagen (multipart/form-data).',
    unauthenticated: 'U moet inloggen of uw toegangscode meesturen.',
    forbidden: 'U heeft geen toegang tot dit onderdeel.',
    invalid_credentials: 'Het e-mailadres of wachtwoord is onjuist.',
    rate_limited: 'Te veel pogingen. Probeer het over een tijdje opnieuw.',
    not_found: 'Niet gevonden.',
    idempotency_key_reused: 'Deze Idempotency-Key is al gebruikt voor een andere aanvraag.',
    idempotency_key_in_progress: 'Een aanvraag met deze Idempotency-Key wordt nog verwerkt. Probeer het zo opnieuw.',
    invalid_idempotency_key: 'De Idempotency-Key is ongeldig (1 tot 200 tekens, letters, cijfers en -_.:).',
    invalid_state: 'Dit kan niet in de huidige fase van de aanvraag.',
    previous_application_not_found: 'De eerdere aanvraag waarnaar u verwijst bestaat niet.',
    previous_application_not_rejected: 'U kunt alleen opnieuw aanvragen na een afgewezen aanvraag.',
    service_unavailable: 'De dienst is tijdelijk niet beschikbaar. Probeer het later opnieuw.',
    internal_error: 'Er ging iets mis aan onze kant. Probeer het later opnieuw.',
    meeting_not_open: 'De agenda van deze vergadering staat nog niet vast.',
    meeting_closed: 'Deze vergadering is gesloten.',
    not_a_member: 'U bent geen lid van het panel van deze vergadering.',
    not_the_chair: 'Alleen de voorzitter kan de vergadering eerder sluiten.',
    recused: 'U heeft zich voor deze aanvraag verschoond en stemt er niet over.',
    not_on_agenda: 'Deze aanvraag staat niet op de agenda van deze vergadering.',
    invalid_amount: 'Bij een gedeeltelijke toekenning hoort een bedrag groter dan 0 en niet hoger dan het gevraagde bedrag.',
    reasons_required: 'Geef de redenen bij een gedeeltelijke toekenning of afwijzing.',
    reason_required: 'Geef een reden op.',
    invalid_struck_line: 'Deze begrotingsregel bestaat niet.',
    invalid_vote: 'Onbekende stem.',
    meeting_change_too_late: 'Na de sluitingsdatum van de agenda kan deze vergadering niet meer worden verplaatst of overgeslagen.',
    email_taken: 'Er bestaat al een account met dit e-mailadres.',
    meeting_update_limit: 'Deze vergadering kan geen stemmen of wijzigingen meer aannemen: het maximum is bereikt.',
    no_pending_payouts: 'Er staan geen uitbetalingen klaar om in een batch te zetten.',
    batch_not_found: 'Deze betaalbatch bestaat niet.',
    batch_already_executed: 'Deze betaalbatch is al als uitgevoerd gemeld.',
    budget_below_committed: 'Het budget kan niet lager worden dan wat al is toegekend of uitbetaald.',
    invalid_year: 'Dit is geen geldig begrotingsjaar.',
  },
  en: {
    validation_failed: 'The application is incomplete or contains invalid values.',
    invalid_json: 'The data could not be read: this is not valid JSON.',
    malformed_multipart: 'The form with attachments is damaged or incomplete.',
    unexpected_field: 'The form contains an unknown field.',
    file_too_large: 'An attachment is too large.',
    too_many_files: 'Too many attachments were sent.',
    unsupported_file_type: 'This type of file is not accepted. Use PDF, JPEG, PNG, an Office or OpenDocument file, or CSV.',
    invalid_file_name: 'The file name of an attachment is not allowed.',
    unsupported_media_type: 'Send the data as JSON or as a form with attachments (multipart/form-data).',
    unauthenticated: 'Log in or send your access token.',
    forbidden: 'You do not have access to this.',
    invalid_credentials: 'The e-mail address or password is incorrect.',
    rate_limited: 'Too many attempts. Please try again later.',
    not_found: 'Not found.',
    idempotency_key_reused: 'This Idempotency-Key was already used for a different application.',
    idempotency_key_in_progress: 'An application with this Idempotency-Key is still being processed. Please retry shortly.',
    invalid_idempotency_key: 'The Idempotency-Key is invalid (1 to 200 characters: letters, digits and -_.:).',
    invalid_state: 'This is not possible at the current stage of the application.',
    previous_application_not_found: 'The earlier application you refer to does not exist.',
    previous_application_not_rejected: 'You can only apply again after a rejected application.',
    service_unavailable: 'The service is temporarily unavailable. Please try again later.',
    internal_error: 'Something went wrong on our side. Please try again later.',
    meeting_not_open: 'The agenda of this meeting has not been frozen yet.',
    meeting_closed: 'This meeting is closed.',
    not_a_member: 'You are not a panel member of this meeting.',
    not_the_chair: 'Only the chair can close the meeting early.',
    recused: 'You recused yourself from this application and do not vote on it.',
    not_on_agenda: 'This application is not on the agenda of this meeting.',
    invalid_amount: 'A partial grant needs an amount above 0 and at most the amount requested.',
    reasons_required: 'Give the reasons for a partial grant or a rejection.',
    reason_required: 'Give a reason.',
    invalid_struck_line: 'This budget line does not exist.',
    invalid_vote: 'Unknown vote.',
    meeting_change_too_late: 'After the agenda cut-off this meeting can no longer be moved or skipped.',
    email_taken: 'An account with this e-mail address already exists.',
    meeting_update_limit: 'This meeting cannot take more votes or changes: its limit has been reached.',
    no_pending_payouts: 'There are no payouts waiting to be put in a batch.',
    batch_not_found: 'This payment batch does not exist.',
    batch_already_executed: 'This payment batch has already been reported as executed.',
    budget_below_committed: 'The budget cannot be lower than what has already been granted or paid.',
    invalid_year: 'This is not a valid budget year.',
  },
} as const satisfies Record<Locale, Record<string, string>>;

export type ErrorCode = keyof (typeof errorMessages)['nl'];
export const errorCodes = Object.keys(errorMessages.nl) as ErrorCode[];

/** Messages for the rules zod cannot express by itself, keyed by a stable detail code. */
export const ruleMessages = {
  nl: {
    budget_lines_sum_mismatch: 'De begrotingsregels tellen niet op tot het gevraagde bedrag.',
    amount_above_maximum: 'Het gevraagde bedrag is hoger dan het maximum per aanvraag.',
    activity_in_past: 'De activiteit ligt in het verleden.',
    end_before_start: 'De einddatum ligt voor de begindatum.',
    invalid_date: 'Dit is geen geldige datum (JJJJ-MM-DD).',
    invalid_iban: 'Dit IBAN klopt niet (controlegetal of land).',
    iban_not_sepa: 'Alleen rekeningen in een SEPA-land zijn mogelijk.',
    unknown_wijk: 'Deze wijk kennen we niet.',
    consent_required: 'U moet toestemming geven voor het verwerken van uw gegevens.',
    support_wish_required: 'Vertel waarmee u hulp wilt als u ondersteuning vraagt.',
    what_changed_required: 'Vertel wat er veranderd is ten opzichte van de eerdere aanvraag.',
    duplicate_value: 'Deze waarde staat er dubbel in.',
    answer_or_documents_required: 'Geef een antwoord of stuur documenten mee.',
  },
  en: {
    budget_lines_sum_mismatch: 'The budget lines do not add up to the amount requested.',
    amount_above_maximum: 'The amount requested exceeds the maximum per application.',
    activity_in_past: 'The activity date is in the past.',
    end_before_start: 'The end date is before the start date.',
    invalid_date: 'This is not a valid date (YYYY-MM-DD).',
    invalid_iban: 'This IBAN is not valid (check digits or country).',
    iban_not_sepa: 'Only accounts in a SEPA country are possible.',
    unknown_wijk: 'This district is not known.',
    consent_required: 'You must consent to the processing of your data.',
    support_wish_required: 'Tell us what help you would like when you ask for support.',
    what_changed_required: 'Tell us what changed since the earlier application.',
    duplicate_value: 'This value appears more than once.',
    answer_or_documents_required: 'Give an answer or attach documents.',
  },
} as const satisfies Record<Locale, Record<string, string>>;

export type RuleCode = keyof (typeof ruleMessages)['nl'];

export function pickLocale(acceptLanguage: string | undefined): Locale {
  if (!acceptLanguage) return 'nl';
  // First language tag wins; anything other than English gets Dutch.
  const first = acceptLanguage.split(',')[0]?.trim().toLowerCase() ?? '';
  return first.startsWith('en') ? 'en' : 'nl';
}

/** Warnings that accompany a success (the request was accepted). */
export const warningMessages = {
  nl: {
    budget_exhausted: (year: number, remainingCents: number) =>
      `Let op: het budget voor ${year} is bijna op (nog ${formatEuros(remainingCents, 'nl')} over). Uw aanvraag is ontvangen, maar op is op: als er bij het besluit niet genoeg over is, kan het panel haar niet toekennen.`,
  },
  en: {
    budget_exhausted: (year: number, remainingCents: number) =>
      `Please note: the ${year} budget is nearly used up (${formatEuros(remainingCents, 'en')} left). Your application has been received, but if not enough is left when the panel decides, it cannot be granted.`,
  },
} as const;
