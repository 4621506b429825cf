/** Notification e-mails: Dutch first, English second. Pure functions of their variables. */
import { formatDate } from './dates.ts';
import type { Locale } from './messages.ts';

export interface EmailVars {
  fundName: string;
  applicantName: string;
  reference: string;
  title: string;
  statusUrl?: string;
  missing?: string;
  deadline?: string; // ISO 8601
  reason?: string;
}

export type EmailTemplate = 'confirmation' | 'information_request' | 'information_reminder' | 'lapsed' | 'withdrawn';

export interface RenderedEmail {
  subject: string;
  text: string;
}

const when = (iso: string | undefined, locale: Locale) => (iso ? formatDate(new Date(iso), locale) : '');

const templates: Record<Locale, Record<EmailTemplate, (v: EmailVars) => RenderedEmail>> = {
  nl: {
    confirmation: (v) => ({
      subject: `Uw aanvraag ${v.reference} is ontvangen`,
      text: [
        `Beste ${v.applicantName},`,
        '',
        `Bedankt voor uw aanvraag "${v.title}" bij ${v.fundName}. Uw aanvraag heeft het kenmerk ${v.reference}.`,
        'Wij kijken eerst of de aanvraag compleet is. Daarna bespreekt het panel de aanvraag in een van de vergaderingen, die elke twee weken zijn.',
        '',
        `U kunt de stand van zaken volgen via: ${v.statusUrl ?? ''}`,
        '',
        'Met vriendelijke groet,',
        v.fundName,
      ].join('\n'),
    }),
    information_request: (v) => ({
      subject: `Wij hebben meer informatie nodig over ${v.reference}`,
      text: [
        `Beste ${v.applicantName},`,
        '',
        `Om uw aanvraag "${v.title}" (${v.reference}) te kunnen beoordelen, hebben wij het volgende nodig:`,
        '',
        v.missing ?? '',
        '',
        `Stuur uw antwoord uiterlijk ${when(v.deadline, 'nl')}. Zonder antwoord vervalt de aanvraag na die datum.`,
        `U kunt antwoorden via: ${v.statusUrl ?? ''}`,
        '',
        'Met vriendelijke groet,',
        v.fundName,
      ].join('\n'),
    }),
    information_reminder: (v) => ({
      subject: `Herinnering: wij wachten op informatie over ${v.reference}`,
      text: [
        `Beste ${v.applicantName},`,
        '',
        `Wij hebben nog geen antwoord ontvangen op onze vraag over uw aanvraag "${v.title}" (${v.reference}):`,
        '',
        v.missing ?? '',
        '',
        `Stuur uw antwoord uiterlijk ${when(v.deadline, 'nl')}, anders vervalt de aanvraag.`,
        `U kunt antwoorden via: ${v.statusUrl ?? ''}`,
        '',
        'Met vriendelijke groet,',
        v.fundName,
      ].join('\n'),
    }),
    lapsed: (v) => ({
      subject: `Uw aanvraag ${v.reference} is vervallen`,
      text: [
        `Beste ${v.applicantName},`,
        '',
        `Wij hebben de gevraagde informatie over uw aanvraag "${v.title}" (${v.reference}) niet op tijd ontvangen. De aanvraag is daarom vervallen.`,
        'U kunt altijd een nieuwe aanvraag indienen.',
        '',
        'Met vriendelijke groet,',
        v.fundName,
      ].join('\n'),
    }),
    withdrawn: (v) => ({
      subject: `Uw aanvraag ${v.reference} is ingetrokken`,
      text: [
        `Beste ${v.applicantName},`,
        '',
        `U heeft uw aanvraag "${v.title}" (${v.reference}) ingetrokken. Wij behandelen deze aanvraag niet verder.`,
        '',
        'Met vriendelijke groet,',
        v.fundName,
      ].join('\n'),
    }),
  },
  en: {
    confirmation: (v) => ({
      subject: `Your application ${v.reference} has been received`,
      text: [
        `Dear ${v.applicantName},`,
        '',
        `Thank you for your application "${v.title}" to ${v.fundName}. Its reference is ${v.reference}.`,
        'We first check that the application is complete; then the panel discusses it at one of its fortnightly meetings.',
        '',
        `Follow its status at: ${v.statusUrl ?? ''}`,
        '',
        'Kind regards,',
        v.fundName,
      ].join('\n'),
    }),
    information_request: (v) => ({
      subject: `We need more information about ${v.reference}`,
      text: [
        `Dear ${v.applicantName},`,
        '',
        `To assess your application "${v.title}" (${v.reference}) we need:`,
        '',
        v.missing ?? '',
        '',
        `Please answer by ${when(v.deadline, 'en')}; without an answer the application lapses after that date.`,
        `Answer at: ${v.statusUrl ?? ''}`,
        '',
        'Kind regards,',
        v.fundName,
      ].join('\n'),
    }),
    information_reminder: (v) => ({
      subject: `Reminder: we are waiting for information about ${v.reference}`,
      text: [
        `Dear ${v.applicantName},`,
        '',
        `We have not yet received an answer to our question about "${v.title}" (${v.reference}):`,
        '',
        v.missing ?? '',
        '',
        `Please answer by ${when(v.deadline, 'en')}, otherwise the application lapses.`,
        `Answer at: ${v.statusUrl ?? ''}`,
        '',
        'Kind regards,',
        v.fundName,
      ].join('\n'),
    }),
    lapsed: (v) => ({
      subject: `Your application ${v.reference} has lapsed`,
      text: [
        `Dear ${v.applicantName},`,
        '',
        `We did not receive the requested information about "${v.title}" (${v.reference}) in time, so the application has lapsed.`,
        'You are welcome to submit a new application.',
        '',
        'Kind regards,',
        v.fundName,
      ].join('\n'),
    }),
    withdrawn: (v) => ({
      subject: `Your application ${v.reference} has been withdrawn`,
      text: [
        `Dear ${v.applicantName},`,
        '',
        `You withdrew your application "${v.title}" (${v.reference}). We will not process it further.`,
        '',
        'Kind regards,',
        v.fundName,
      ].join('\n'),
    }),
  },
};

export function renderEmail(template: EmailTemplate, vars: EmailVars, locale: Locale = 'nl'): RenderedEmail {
  return templates[locale][template](vars);
}
