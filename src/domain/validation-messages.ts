/**
 * Refused input in words, Dutch first and English second: what was sent (the subject of
 * the request: an application, a vote, the query, …) and, per field, what is wrong with
 * it. The API's 422 `validation_failed` says the subject as its message and each field's
 * problem with the field's path; the pages use the same words for a field when they
 * have none of their own (src/web/forms.ts).
 */
import { AppError, ValidationError, type ErrorDetail } from './errors.ts';
import type { FieldIssue, FieldProblem } from './field-issues.ts';
import { errorMessages, ruleMessages, type Locale } from './messages.ts';

export const validationSubjects = {
  nl: {
    application: 'De aanvraag is niet volledig of niet juist ingevuld.',
    documents: 'De documenten ontbreken of kloppen niet.',
    information_request: 'Het verzoek om informatie is niet volledig of niet juist ingevuld.',
    information_answer: 'Het antwoord op het verzoek om informatie is niet volledig of niet juist ingevuld.',
    report: 'De verantwoording is niet volledig of niet juist ingevuld.',
    report_review: 'De beoordeling van de verantwoording is niet volledig of niet juist ingevuld.',
    refund: 'De terugbetaling is niet juist ingevuld.',
    withdrawal: 'De intrekking van de aanvraag is niet juist ingevuld.',
    login: 'De inloggegevens zijn niet volledig of niet juist ingevuld.',
    panel_member: 'De gegevens van het nieuwe panellid zijn niet volledig of niet juist ingevuld.',
    vote: 'De stem is niet volledig of niet juist ingevuld.',
    recusal: 'De verschoning is niet volledig of niet juist ingevuld.',
    invitation: 'De uitnodiging voor de vergadering is niet juist ingevuld.',
    meeting_move: 'De verplaatsing van de vergadering is niet volledig of niet juist ingevuld.',
    extra_meeting: 'De extra vergadering is niet volledig of niet juist ingevuld.',
    budget: 'Het budget is niet juist ingevuld.',
    support_handover: 'De overdracht van de ondersteuning is niet juist ingevuld.',
    support_note: 'De notitie is niet volledig of niet juist ingevuld.',
    no_body: 'Bij dit verzoek horen geen gegevens: stuur niets mee.',
    query: 'De parameters in het webadres (na het vraagteken) kloppen niet.',
    path: 'Het webadres bevat een ongeldig kenmerk.',
  },
  en: {
    application: 'The application is incomplete or contains invalid values.',
    documents: 'The documents are missing or not valid.',
    information_request: 'The information request is incomplete or contains invalid values.',
    information_answer: 'The answer to the information request is incomplete or contains invalid values.',
    report: 'The report is incomplete or contains invalid values.',
    report_review: 'The review of the report is incomplete or contains invalid values.',
    refund: 'The refund contains invalid values.',
    withdrawal: 'The withdrawal of the application contains invalid values.',
    login: 'The login details are incomplete or contain invalid values.',
    panel_member: 'The details of the new panel member are incomplete or contain invalid values.',
    vote: 'The vote is incomplete or contains invalid values.',
    recusal: 'The recusal is incomplete or contains invalid values.',
    invitation: 'The invitation to the meeting contains invalid values.',
    meeting_move: 'The move of the meeting is incomplete or contains invalid values.',
    extra_meeting: 'The extra meeting is incomplete or contains invalid values.',
    budget: 'The budget contains invalid values.',
    support_handover: 'The hand-over of the support case contains invalid values.',
    support_note: 'The note is incomplete or contains invalid values.',
    no_body: 'This request takes no data: send nothing with it.',
    query: 'The parameters in the web address (after the question mark) are not valid.',
    path: 'The web address contains an invalid identifier.',
  },
} as const satisfies Record<Locale, Record<string, string>>;

export type ValidationSubject = keyof (typeof validationSubjects)['nl'];

/** What is wrong with a field. Numbers and lists come in already written out for the locale. */
export const fieldProblemTexts = {
  nl: {
    field: (path: string) => `Veld '${path}'`,
    required: 'Dit ontbreekt of is leeg.',
    notWholeNumber: 'Dit is geen heel getal. Gebruik alleen cijfers, zonder punten of letters.',
    wrongType: {
      text: 'Dit moet tekst zijn.',
      yes_no: 'Dit moet ja of nee zijn (een booleaanse waarde).',
      list: 'Dit moet een lijst zijn.',
      object: 'Dit moet een groep velden zijn (een object).',
    },
    tooShort: (min: string) => `Dit is te kort. Gebruik minstens ${min} tekens.`,
    tooLong: (max: string) => `Dit is te lang. Gebruik hoogstens ${max} tekens.`,
    tooSmall: (min: string) => `Dit getal is te klein: het moet minstens ${min} zijn.`,
    notAbove: (min: string) => `Dit getal is te klein: het moet groter zijn dan ${min}.`,
    tooBig: (max: string) => `Dit getal is te groot: het mag hoogstens ${max} zijn.`,
    notBelow: (max: string) => `Dit getal is te groot: het moet kleiner zijn dan ${max}.`,
    tooFew: (min: string) => `Dit zijn er te weinig: minstens ${min}.`,
    tooMany: (max: string) => `Dit zijn er te veel: hoogstens ${max}.`,
    notAllowed: (values: string) => `Deze waarde is niet toegestaan. Kies uit: ${values}.`,
    email: 'Dit is geen geldig e-mailadres. Gebruik een adres zoals naam@voorbeeld.nl.',
    uuid: 'Dit is geen geldig kenmerk (een UUID zoals 0b6d2f5e-8c1a-4e0f-9a4b-3c2d1e0f9a8b).',
    datetime: 'Dit is geen geldig tijdstip. Gebruik ISO 8601 met tijdzone, bijvoorbeeld 2027-05-01T09:30:00+02:00.',
    pattern: 'Dit heeft niet de juiste vorm.',
    patternHints: {
      postalCode: 'Gebruik een postcode zoals 2262 AB.',
      phone: 'Gebruik een telefoonnummer zoals 070 123 4567.',
      time: 'Gebruik een tijd als UU:MM, bijvoorbeeld 19:30.',
      cutoffTime: 'Gebruik een tijd als UU:MM of UU:MM:SS, bijvoorbeeld 19:25.',
    } as Record<string, string>,
    unknownField: 'Dit veld bestaat hier niet. Laat het weg of controleer de spelling.',
    invalid: 'Deze waarde klopt niet.',
  },
  en: {
    field: (path: string) => `Field '${path}'`,
    required: 'This is missing or empty.',
    notWholeNumber: 'This is not a whole number. Use digits only, without dots or letters.',
    wrongType: {
      text: 'This must be text.',
      yes_no: 'This must be yes or no (true or false).',
      list: 'This must be a list.',
      object: 'This must be a group of fields (an object).',
    },
    tooShort: (min: string) => `This is too short. Use at least ${min} characters.`,
    tooLong: (max: string) => `This is too long. Use at most ${max} characters.`,
    tooSmall: (min: string) => `This number is too small: it must be at least ${min}.`,
    notAbove: (min: string) => `This number is too small: it must be greater than ${min}.`,
    tooBig: (max: string) => `This number is too large: it may be at most ${max}.`,
    notBelow: (max: string) => `This number is too large: it must be less than ${max}.`,
    tooFew: (min: string) => `There are too few: at least ${min}.`,
    tooMany: (max: string) => `There are too many: at most ${max}.`,
    notAllowed: (values: string) => `This value is not allowed. Choose from: ${values}.`,
    email: 'This is not a valid email address. Use an address like name@example.com.',
    uuid: 'This is not a valid identifier (a UUID like 0b6d2f5e-8c1a-4e0f-9a4b-3c2d1e0f9a8b).',
    datetime: 'This is not a valid moment. Use ISO 8601 with a time zone, for example 2027-05-01T09:30:00+02:00.',
    pattern: 'This does not have the right form.',
    patternHints: {
      postalCode: 'Use a postcode like 2262 AB.',
      phone: 'Use a phone number like 070 123 4567.',
      time: 'Use a time as HH:MM, for example 19:30.',
      cutoffTime: 'Use a time as HH:MM or HH:MM:SS, for example 19:25.',
    },
    unknownField: 'This field does not exist here. Leave it out or check the spelling.',
    invalid: 'This value is not valid.',
  },
} as const satisfies Record<Locale, unknown>;

const numberFormats: Record<Locale, Intl.NumberFormat> = { nl: new Intl.NumberFormat('nl-NL'), en: new Intl.NumberFormat('en-GB') };

/** A field's problem in words; `path` picks the example for a field with a fixed form (postal code, phone, time). */
export function problemText(problem: FieldProblem, locale: Locale, path = ''): string {
  const t = fieldProblemTexts[locale];
  const n = (x: number) => numberFormats[locale].format(x);
  switch (problem.kind) {
    case 'required':
      return t.required;
    case 'rule':
      return ruleMessages[locale][problem.rule];
    case 'not_whole_number':
      return t.notWholeNumber;
    case 'wrong_type':
      return t.wrongType[problem.expected];
    case 'too_short':
      return t.tooShort(n(problem.min));
    case 'too_long':
      return t.tooLong(n(problem.max));
    case 'too_small':
      return problem.inclusive ? t.tooSmall(n(problem.min)) : t.notAbove(n(problem.min));
    case 'too_big':
      return problem.inclusive ? t.tooBig(n(problem.max)) : t.notBelow(n(problem.max));
    case 'too_few':
      return t.tooFew(n(problem.min));
    case 'too_many':
      return t.tooMany(n(problem.max));
    case 'not_allowed':
      return t.notAllowed(problem.values.join(', '));
    case 'format': {
      if (problem.format !== 'pattern') return t[problem.format];
      const hint = (t.patternHints as Record<string, string>)[path.split('.').pop() ?? ''];
      return hint ? `${t.pattern} ${hint}` : t.pattern;
    }
    case 'unknown_field':
      return t.unknownField;
    case 'invalid':
      return t.invalid;
  }
}

/** "dit …" after the field's name; a text that opens with an abbreviation (IBAN) keeps it. */
const lowerFirst = (s: string) => (/^\p{Lu}\p{Ll}/u.test(s) ? s[0]!.toLowerCase() + s.slice(1) : s);

/** One field's problem as the API says it: the field by its path, then what is wrong. */
export function issueMessage(issue: FieldIssue, locale: Locale): string {
  const text = problemText(issue.problem, locale, issue.path);
  return issue.path ? `${fieldProblemTexts[locale].field(issue.path)}: ${lowerFirst(text)}` : text;
}

/** The message of a refusal in the caller's language; a refused input names what was sent. */
export function errorMessage(e: AppError, locale: Locale): string {
  return e instanceof ValidationError ? validationSubjects[locale][e.subject] : errorMessages[locale][e.code];
}

/** The details of a refusal, each field's problem worded in the caller's language. */
export function errorDetails(e: AppError, locale: Locale): ErrorDetail[] {
  return e instanceof ValidationError ? e.issues.map((i) => ({ path: i.path, code: i.code, message: issueMessage(i, locale) })) : e.details;
}
