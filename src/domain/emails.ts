/** Notification e-mails: Dutch first, English second. Pure functions of their variables. */
import { formatDate, formatDateTime, formatDeadline } from './dates.ts';
import { formatEuros } from './money.ts';
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
  meetingAt?: string; // ISO 8601
  grantedCents?: number;
  requestedCents?: number;
  reasons?: string;
  /** Descriptions of the budget lines the panel struck. */
  struck?: string;
  /** The budget year a grant is charged to, and what is left in it. */
  budgetYear?: number;
  remainingCents?: number;
  /** Set on the confirmation when the activity's budget year cannot cover the request at submission. */
  budgetWarning?: boolean;
  /** The fund's account a refund goes to. */
  fundIban?: string;
}

export type EmailTemplate =
  | 'confirmation'
  | 'information_request'
  | 'information_reminder'
  | 'lapsed'
  | 'withdrawn'
  | 'meeting_scheduled'
  | 'invited_to_explain'
  | 'approved'
  | 'partially_approved'
  | 'rejected'
  | 'rejected_budget_exhausted'
  | 'paid'
  | 'report_upcoming'
  | 'report_due'
  | 'report_overdue'
  | 'report_clarification'
  | 'report_accepted'
  | 'report_rejected'
  | 'grant_reclaimed';

export interface RenderedEmail {
  subject: string;
  text: string;
}

const when = (iso: string | undefined, locale: Locale) => (iso ? formatDate(new Date(iso), locale) : '');
/** The day a deadline names (the last day on which it can be met). */
const deadlineDay = (iso: string | undefined, locale: Locale) => (iso ? formatDeadline(iso, locale) : '');
const at = (iso: string | undefined, locale: Locale) => (iso ? formatDateTime(new Date(iso), locale) : '');
const euros = (cents: number | undefined, locale: Locale) => formatEuros(cents ?? 0, locale);

const templates: Record<Locale, Record<EmailTemplate, (v: EmailVars) => RenderedEmail>> = {
  nl: {
    confirmation: (v) => ({
      subject: `Uw aanvraag ${v.reference} is ontvangen`,
      text: [
        `Beste ${v.applicantName},`,
        '',
        `Bedankt voor uw aanvraag "${v.title}" bij ${v.fundName}. Uw aanvraag heeft het kenmerk ${v.reference}.`,
        'Wij kijken eerst of de aanvraag compleet is. Daarna bespreekt het panel de aanvraag in een van de vergaderingen, die elke twee weken zijn.',
        ...(v.budgetWarning
          ? ['', `Let op: het budget voor ${v.budgetYear ?? ''} is bijna op (nog ${euros(v.remainingCents, 'nl')} over). Op is op: als er bij het besluit niet genoeg over is, kan het panel uw aanvraag niet toekennen.`]
          : []),
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
        `Stuur uw antwoord uiterlijk ${deadlineDay(v.deadline, 'nl')}. Zonder antwoord vervalt de aanvraag na die datum.`,
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
        `Stuur uw antwoord uiterlijk ${deadlineDay(v.deadline, 'nl')}, anders vervalt de aanvraag.`,
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
    meeting_scheduled: (v) => ({
      subject: `Uw aanvraag ${v.reference} wordt besproken op ${when(v.meetingAt, 'nl')}`,
      text: [
        `Beste ${v.applicantName},`,
        '',
        `Uw aanvraag "${v.title}" (${v.reference}) is compleet en staat op de agenda van het panel van ${at(v.meetingAt, 'nl')}.`,
        'U hoort na de vergadering wat het panel heeft besloten.',
        '',
        'Met vriendelijke groet,',
        v.fundName,
      ].join('\n'),
    }),
    invited_to_explain: (v) => ({
      subject: `Uitnodiging: licht uw plan ${v.reference} toe op ${when(v.meetingAt, 'nl')}`,
      text: [
        `Beste ${v.applicantName},`,
        '',
        `Het panel nodigt u uit om uw plan "${v.title}" (${v.reference}) mondeling toe te lichten in de vergadering van ${at(v.meetingAt, 'nl')}.`,
        'Laat ons weten of u kunt komen door op deze e-mail te antwoorden.',
        '',
        'Met vriendelijke groet,',
        v.fundName,
      ].join('\n'),
    }),
    approved: (v) => ({
      subject: `Uw aanvraag ${v.reference} is toegekend`,
      text: [
        `Beste ${v.applicantName},`,
        '',
        `Goed nieuws: het panel heeft uw aanvraag "${v.title}" (${v.reference}) toegekend. U ontvangt ${euros(v.grantedCents, 'nl')}.`,
        'Wij maken het bedrag over naar het rekeningnummer dat u heeft opgegeven.',
        '',
        'Met vriendelijke groet,',
        v.fundName,
      ].join('\n'),
    }),
    partially_approved: (v) => ({
      subject: `Uw aanvraag ${v.reference} is gedeeltelijk toegekend`,
      text: [
        `Beste ${v.applicantName},`,
        '',
        `Het panel heeft uw aanvraag "${v.title}" (${v.reference}) gedeeltelijk toegekend: u ontvangt ${euros(v.grantedCents, 'nl')} van de gevraagde ${euros(v.requestedCents, 'nl')}.`,
        ...(v.struck ? [`Niet toegekend: ${v.struck}.`] : []),
        '',
        'De reden:',
        v.reasons ?? '',
        '',
        'Met vriendelijke groet,',
        v.fundName,
      ].join('\n'),
    }),
    rejected: (v) => ({
      subject: `Uw aanvraag ${v.reference} is afgewezen`,
      text: [
        `Beste ${v.applicantName},`,
        '',
        `Het panel heeft uw aanvraag "${v.title}" (${v.reference}) helaas afgewezen.`,
        '',
        'De reden:',
        v.reasons ?? '',
        '',
        'U mag opnieuw een aanvraag indienen; vertel dan wat er veranderd is.',
        '',
        'Met vriendelijke groet,',
        v.fundName,
      ].join('\n'),
    }),
    rejected_budget_exhausted: (v) => ({
      subject: `Het budget ${v.budgetYear ?? ''} is op: ${v.reference} kan niet worden toegekend`,
      text: [
        `Beste ${v.applicantName},`,
        '',
        `Het panel was positief over uw aanvraag "${v.title}" (${v.reference}) en wilde ${euros(v.grantedCents, 'nl')} toekennen.`,
        `Helaas is het budget van ${v.fundName} voor ${v.budgetYear ?? ''} op: er is nog ${euros(v.remainingCents, 'nl')} over, niet genoeg voor dit bedrag. Op is op, dus wij kunnen het bedrag niet toekennen.`,
        'Vindt uw activiteit ook volgend jaar plaats? Dan kunt u opnieuw aanvragen voor een datum in dat jaar; die komt ten laste van het budget van volgend jaar.',
        '',
        'Met vriendelijke groet,',
        v.fundName,
      ].join('\n'),
    }),
    paid: (v) => ({
      subject: `Het bedrag voor ${v.reference} is overgemaakt`,
      text: [
        `Beste ${v.applicantName},`,
        '',
        `Wij hebben ${euros(v.grantedCents, 'nl')} voor "${v.title}" (${v.reference}) overgemaakt naar de rekening die u opgaf. Het bedrag staat binnen enkele werkdagen op uw rekening.`,
        'Bewaar de bonnetjes: na de activiteit vragen wij u te laten weten hoe het ging en waaraan het geld is besteed.',
        '',
        'Met vriendelijke groet,',
        v.fundName,
      ].join('\n'),
    }),
    report_upcoming: (v) => ({
      subject: `Uw activiteit ${v.reference} is bijna: vergeet de foto's en bonnetjes niet`,
      text: [
        `Beste ${v.applicantName},`,
        '',
        `Over een week is "${v.title}" (${v.reference}) voorbij. Maak foto's en bewaar alle bonnetjes en facturen: na afloop vragen wij u te vertellen hoe het ging, hoeveel mensen meededen en waaraan het geld is besteed.`,
        `U kunt uw verslag straks insturen via: ${v.statusUrl ?? ''}`,
        '',
        'Met vriendelijke groet,',
        v.fundName,
      ].join('\n'),
    }),
    report_due: (v) => ({
      subject: `Herinnering: uw verslag over ${v.reference}`,
      text: [
        `Beste ${v.applicantName},`,
        '',
        `De termijn voor het verslag over "${v.title}" (${v.reference}) liep tot en met ${deadlineDay(v.deadline, 'nl')}. Wij hebben het nog niet ontvangen.`,
        "Stuur ons wat er gebeurd is, hoeveel deelnemers en vrijwilligers er waren, de werkelijke kosten met bonnetjes en een paar foto's.",
        `Dat kan via: ${v.statusUrl ?? ''}`,
        '',
        'Met vriendelijke groet,',
        v.fundName,
      ].join('\n'),
    }),
    report_overdue: (v) => ({
      subject: `Laatste herinnering: uw verslag over ${v.reference}`,
      text: [
        `Beste ${v.applicantName},`,
        '',
        `Het verslag over "${v.title}" (${v.reference}) had er op ${deadlineDay(v.deadline, 'nl')} moeten zijn. Dit is de laatste herinnering: wij leggen de zaak nu voor aan het panel, dat de subsidie kan terugvorderen als het verslag uitblijft.`,
        `Stuur het verslag zo snel mogelijk via: ${v.statusUrl ?? ''}`,
        '',
        'Met vriendelijke groet,',
        v.fundName,
      ].join('\n'),
    }),
    report_clarification: (v) => ({
      subject: `Vraag over uw verslag ${v.reference}`,
      text: [
        `Beste ${v.applicantName},`,
        '',
        `Het panel heeft uw verslag over "${v.title}" (${v.reference}) gelezen en heeft een vraag:`,
        '',
        v.missing ?? '',
        '',
        `Stuur uw aangevulde verslag uiterlijk ${deadlineDay(v.deadline, 'nl')} via: ${v.statusUrl ?? ''}`,
        '',
        'Met vriendelijke groet,',
        v.fundName,
      ].join('\n'),
    }),
    report_accepted: (v) => ({
      subject: `Uw verslag over ${v.reference} is goedgekeurd`,
      text: [
        `Beste ${v.applicantName},`,
        '',
        `Dank voor uw verslag over "${v.title}" (${v.reference}). Het panel heeft het goedgekeurd.`,
        ...((v.remainingCents ?? 0) > 0
          ? [`Er is ${euros(v.remainingCents, 'nl')} niet uitgegeven. Wilt u dat bedrag terugbetalen op rekening ${v.fundIban ?? ''} ten name van de gemeente, onder vermelding van ${v.reference}? Daarna sluiten wij het dossier.`]
          : ['Het dossier is hiermee gesloten.']),
        '',
        'Met vriendelijke groet,',
        v.fundName,
      ].join('\n'),
    }),
    report_rejected: (v) => ({
      subject: `Uw verslag over ${v.reference} is niet goedgekeurd`,
      text: [
        `Beste ${v.applicantName},`,
        '',
        `Het panel heeft het verslag over "${v.title}" (${v.reference}) niet goedgekeurd. De reden:`,
        v.reason ?? '',
        '',
        'Met vriendelijke groet,',
        v.fundName,
      ].join('\n'),
    }),
    grant_reclaimed: (v) => ({
      subject: `De subsidie voor ${v.reference} wordt teruggevorderd`,
      text: [
        `Beste ${v.applicantName},`,
        '',
        `Het panel vordert de subsidie van ${euros(v.grantedCents, 'nl')} voor "${v.title}" (${v.reference}) terug. De reden:`,
        v.reason ?? '',
        '',
        `Betaal het bedrag terug op rekening ${v.fundIban ?? ''} ten name van de gemeente, onder vermelding van ${v.reference}.`,
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
        ...(v.budgetWarning
          ? ['', `Please note: the ${v.budgetYear ?? ''} budget is nearly used up (${euros(v.remainingCents, 'en')} left). If not enough is left when the panel decides, it cannot grant your application.`]
          : []),
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
        `Please answer by ${deadlineDay(v.deadline, 'en')}; without an answer the application lapses after that date.`,
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
        `Please answer by ${deadlineDay(v.deadline, 'en')}, otherwise the application lapses.`,
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
    meeting_scheduled: (v) => ({
      subject: `Your application ${v.reference} will be discussed on ${when(v.meetingAt, 'en')}`,
      text: [
        `Dear ${v.applicantName},`,
        '',
        `Your application "${v.title}" (${v.reference}) is complete and on the agenda of the panel meeting of ${at(v.meetingAt, 'en')}.`,
        'You will hear the decision after the meeting.',
        '',
        'Kind regards,',
        v.fundName,
      ].join('\n'),
    }),
    invited_to_explain: (v) => ({
      subject: `Invitation: explain your plan ${v.reference} on ${when(v.meetingAt, 'en')}`,
      text: [
        `Dear ${v.applicantName},`,
        '',
        `The panel invites you to explain your plan "${v.title}" (${v.reference}) at its meeting of ${at(v.meetingAt, 'en')}.`,
        'Please reply to this e-mail to let us know whether you can come.',
        '',
        'Kind regards,',
        v.fundName,
      ].join('\n'),
    }),
    approved: (v) => ({
      subject: `Your application ${v.reference} has been granted`,
      text: [
        `Dear ${v.applicantName},`,
        '',
        `Good news: the panel granted your application "${v.title}" (${v.reference}). You will receive ${euros(v.grantedCents, 'en')}.`,
        'We will transfer the amount to the account you gave.',
        '',
        'Kind regards,',
        v.fundName,
      ].join('\n'),
    }),
    partially_approved: (v) => ({
      subject: `Your application ${v.reference} has been partly granted`,
      text: [
        `Dear ${v.applicantName},`,
        '',
        `The panel partly granted your application "${v.title}" (${v.reference}): you will receive ${euros(v.grantedCents, 'en')} of the ${euros(v.requestedCents, 'en')} requested.`,
        ...(v.struck ? [`Not granted: ${v.struck}.`] : []),
        '',
        'The reason:',
        v.reasons ?? '',
        '',
        'Kind regards,',
        v.fundName,
      ].join('\n'),
    }),
    rejected: (v) => ({
      subject: `Your application ${v.reference} has been rejected`,
      text: [
        `Dear ${v.applicantName},`,
        '',
        `Unfortunately the panel rejected your application "${v.title}" (${v.reference}).`,
        '',
        'The reason:',
        v.reasons ?? '',
        '',
        'You may apply again; then tell us what changed.',
        '',
        'Kind regards,',
        v.fundName,
      ].join('\n'),
    }),
    rejected_budget_exhausted: (v) => ({
      subject: `The ${v.budgetYear ?? ''} budget is used up: ${v.reference} cannot be granted`,
      text: [
        `Dear ${v.applicantName},`,
        '',
        `The panel was positive about your application "${v.title}" (${v.reference}) and wanted to grant ${euros(v.grantedCents, 'en')}.`,
        `Unfortunately the ${v.fundName} budget for ${v.budgetYear ?? ''} is used up: ${euros(v.remainingCents, 'en')} is left, not enough for this amount. When it is gone, it is gone, so we cannot grant it.`,
        'Does your activity also take place next year? Then you can apply again for a date in that year; it is charged to next year\'s budget.',
        '',
        'Kind regards,',
        v.fundName,
      ].join('\n'),
    }),
    paid: (v) => ({
      subject: `The amount for ${v.reference} has been transferred`,
      text: [
        `Dear ${v.applicantName},`,
        '',
        `We transferred ${euros(v.grantedCents, 'en')} for "${v.title}" (${v.reference}) to the account you gave. It will be in your account within a few working days.`,
        'Keep the receipts: after the activity we will ask you how it went and what the money was spent on.',
        '',
        'Kind regards,',
        v.fundName,
      ].join('\n'),
    }),
    report_upcoming: (v) => ({
      subject: `Your activity ${v.reference} is almost here: keep the photos and receipts`,
      text: [
        `Dear ${v.applicantName},`,
        '',
        `In a week "${v.title}" (${v.reference}) is over. Take photos and keep all receipts and invoices: afterwards we ask you how it went, how many took part and what the money was spent on.`,
        `You can send your report at: ${v.statusUrl ?? ''}`,
        '',
        'Kind regards,',
        v.fundName,
      ].join('\n'),
    }),
    report_due: (v) => ({
      subject: `Reminder: your report on ${v.reference}`,
      text: [
        `Dear ${v.applicantName},`,
        '',
        `The report on "${v.title}" (${v.reference}) was due by the end of ${deadlineDay(v.deadline, 'en')}. We have not received it yet.`,
        'Tell us what happened, how many participants and volunteers there were, the actual costs with receipts, and send a few photos.',
        `You can do so at: ${v.statusUrl ?? ''}`,
        '',
        'Kind regards,',
        v.fundName,
      ].join('\n'),
    }),
    report_overdue: (v) => ({
      subject: `Last reminder: your report on ${v.reference}`,
      text: [
        `Dear ${v.applicantName},`,
        '',
        `The report on "${v.title}" (${v.reference}) was due on ${deadlineDay(v.deadline, 'en')}. This is the last reminder: we now refer the case to the panel, which may reclaim the grant if no report comes.`,
        `Please send the report as soon as possible at: ${v.statusUrl ?? ''}`,
        '',
        'Kind regards,',
        v.fundName,
      ].join('\n'),
    }),
    report_clarification: (v) => ({
      subject: `A question about your report ${v.reference}`,
      text: [
        `Dear ${v.applicantName},`,
        '',
        `The panel read your report on "${v.title}" (${v.reference}) and has a question:`,
        '',
        v.missing ?? '',
        '',
        `Please send your completed report by ${deadlineDay(v.deadline, 'en')} at: ${v.statusUrl ?? ''}`,
        '',
        'Kind regards,',
        v.fundName,
      ].join('\n'),
    }),
    report_accepted: (v) => ({
      subject: `Your report on ${v.reference} has been approved`,
      text: [
        `Dear ${v.applicantName},`,
        '',
        `Thank you for your report on "${v.title}" (${v.reference}). The panel approved it.`,
        ...((v.remainingCents ?? 0) > 0
          ? [`${euros(v.remainingCents, 'en')} was not spent. Please pay that amount back to account ${v.fundIban ?? ''} in the name of the municipality, quoting ${v.reference}. Then we close the file.`]
          : ['The file is now closed.']),
        '',
        'Kind regards,',
        v.fundName,
      ].join('\n'),
    }),
    report_rejected: (v) => ({
      subject: `Your report on ${v.reference} has not been approved`,
      text: [
        `Dear ${v.applicantName},`,
        '',
        `The panel did not approve the report on "${v.title}" (${v.reference}). The reason:`,
        v.reason ?? '',
        '',
        'Kind regards,',
        v.fundName,
      ].join('\n'),
    }),
    grant_reclaimed: (v) => ({
      subject: `The grant for ${v.reference} is reclaimed`,
      text: [
        `Dear ${v.applicantName},`,
        '',
        `The panel reclaims the grant of ${euros(v.grantedCents, 'en')} for "${v.title}" (${v.reference}). The reason:`,
        v.reason ?? '',
        '',
        `Please pay the amount back to account ${v.fundIban ?? ''} in the name of the municipality, quoting ${v.reference}.`,
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

export interface AgendaEmailItem {
  reference: string;
  title: string;
  amountRequestedCents: number;
  wijken: string[];
}

/** The agenda as panel members receive it at the cut-off. */
export function renderAgendaEmail(v: { fundName: string; memberName: string; meetingAt: string; items: AgendaEmailItem[]; agendaUrl: string }): RenderedEmail {
  const lines = v.items.length
    ? v.items.map((i, n) => `${n + 1}. ${i.reference} — ${i.title} (${i.wijken.join(', ')}): ${formatEuros(i.amountRequestedCents)}`)
    : ['Er staan geen aanvragen op de agenda.'];
  return {
    subject: `Agenda panelvergadering ${formatDate(new Date(v.meetingAt))}`,
    text: [
      `Beste ${v.memberName},`,
      '',
      `De agenda voor de vergadering van ${formatDateTime(new Date(v.meetingAt))} staat vast:`,
      '',
      ...lines,
      '',
      `Bekijk de aanvragen en stukken: ${v.agendaUrl}`,
      '',
      v.fundName,
    ].join('\n'),
  };
}

/** To the admin: an item rolled over so often that it needs attention. */
export function renderFlaggedEmail(v: { fundName: string; adminName: string; reference: string; title: string; rollovers: number; meetingAt: string; agendaUrl: string }): RenderedEmail {
  return {
    subject: `Aanvraag ${v.reference} is ${v.rollovers} keer doorgeschoven`,
    text: [
      `Beste ${v.adminName},`,
      '',
      `De aanvraag "${v.title}" (${v.reference}) is in de vergadering van ${formatDateTime(new Date(v.meetingAt))} opnieuw niet besloten en is nu ${v.rollovers} keer doorgeschoven.`,
      'Kijk of er iets nodig is: een quorum, meer informatie, of een gesprek met de aanvrager.',
      '',
      `De vergadering: ${v.agendaUrl}`,
      '',
      v.fundName,
    ].join('\n'),
  };
}

export type StaffEmailTemplate = 'report_received' | 'report_escalated';

/** To the panel (and admin): a report to review, or an initiative whose report is missing. */
export function renderStaffEmail(template: StaffEmailTemplate, v: { fundName: string; staffName: string; reference: string; title: string; url: string }): RenderedEmail {
  const lines =
    template === 'report_received'
      ? [`Het verslag over "${v.title}" (${v.reference}) is binnen en wacht op uw beoordeling: goedkeuren, om verduidelijking vragen of afkeuren.`]
      : [`Het verslag over "${v.title}" (${v.reference}) is na de laatste herinnering niet binnengekomen (of een vraag erover is niet beantwoord).`, 'Het panel kan de subsidie terugvorderen.'];
  return {
    subject: template === 'report_received' ? `Verslag ${v.reference} wacht op beoordeling` : `Verslag ${v.reference} ontbreekt: besluit nodig`,
    text: [`Beste ${v.staffName},`, '', ...lines, '', `Bekijk het dossier: ${v.url}`, '', 'Met vriendelijke groet,', v.fundName].join('\n'),
  };
}

/** What the support e-mails to staff say about a case. */
export interface SupportEmailVars {
  fundName: string;
  staffName: string;
  reference: string;
  title: string;
  wijken: string[];
  organisation: string;
  reason: 'requested' | 'flagged';
  wish?: string;
  /** Start of the wait, ISO 8601. */
  waitingSince: string;
  days: number;
  url: string;
}

const supportReason = {
  nl: (v: SupportEmailVars) => (v.reason === 'requested' ? `De initiatiefnemer vraagt om hulp${v.wish ? `: "${v.wish}"` : '.'}` : `Het panel vraagt om ondersteuning van dit initiatief${v.wish ? `: "${v.wish}"` : '.'}`),
  en: (v: SupportEmailVars) => (v.reason === 'requested' ? `The initiator asks for help${v.wish ? `: "${v.wish}"` : '.'}` : `The panel asks for support for this initiative${v.wish ? `: "${v.wish}"` : '.'}`),
};

/** To the active welfare workers of the wijk's organisation: an initiative has waited N days in the queue. */
export function renderSupportReminderEmail(v: SupportEmailVars, locale: Locale = 'nl'): RenderedEmail {
  if (locale === 'en') {
    return {
      subject: `Support request ${v.reference} has waited ${v.days} days for a worker`,
      text: [
        `Dear ${v.staffName},`,
        '',
        `The initiative "${v.title}" (${v.reference}, ${v.wijken.join(', ')}) has been in the support queue of ${v.organisation} since ${formatDate(new Date(v.waitingSince), 'en')} and nobody has taken it yet.`,
        supportReason.en(v),
        '',
        `Claim it in the queue: ${v.url}`,
        '',
        'Kind regards,',
        v.fundName,
      ].join('\n'),
    };
  }
  return {
    subject: `Ondersteuningsvraag ${v.reference} wacht al ${v.days} dagen op een opbouwwerker`,
    text: [
      `Beste ${v.staffName},`,
      '',
      `Het initiatief "${v.title}" (${v.reference}, ${v.wijken.join(', ')}) staat sinds ${formatDate(new Date(v.waitingSince))} in de ondersteuningswachtrij van ${v.organisation} en is nog door niemand opgepakt.`,
      supportReason.nl(v),
      '',
      `Pak het op in de wachtrij: ${v.url}`,
      '',
      'Met vriendelijke groet,',
      v.fundName,
    ].join('\n'),
  };
}

/** To the admin: an initiative still waits for a welfare worker after N days. */
export function renderSupportFlaggedEmail(v: SupportEmailVars, locale: Locale = 'nl'): RenderedEmail {
  if (locale === 'en') {
    return {
      subject: `Support request ${v.reference} has not been taken after ${v.days} days`,
      text: [
        `Dear ${v.staffName},`,
        '',
        `The initiative "${v.title}" (${v.reference}, ${v.wijken.join(', ')}) has been waiting for a welfare worker of ${v.organisation} since ${formatDate(new Date(v.waitingSince), 'en')}. The workers were reminded, but nobody has taken it.`,
        supportReason.en(v),
        'Please contact the organisation, or ask another organisation to help.',
        '',
        `The case: ${v.url}`,
        '',
        'Kind regards,',
        v.fundName,
      ].join('\n'),
    };
  }
  return {
    subject: `Ondersteuningsvraag ${v.reference} is na ${v.days} dagen nog niet opgepakt`,
    text: [
      `Beste ${v.staffName},`,
      '',
      `Het initiatief "${v.title}" (${v.reference}, ${v.wijken.join(', ')}) wacht sinds ${formatDate(new Date(v.waitingSince))} op een opbouwwerker van ${v.organisation}. De opbouwwerkers hebben een herinnering gekregen, maar niemand heeft het opgepakt.`,
      supportReason.nl(v),
      'Neem contact op met de organisatie, of vraag een andere organisatie om te helpen.',
      '',
      `Het dossier: ${v.url}`,
      '',
      'Met vriendelijke groet,',
      v.fundName,
    ].join('\n'),
  };
}

/**
 * To a staff member whose account is locked after many failed logins (from any
 * address). Dutch only, like the other staff e-mails: staff accounts have no language.
 */
export function renderAccountLockedEmail(v: { fundName: string; staffName: string; email: string; failures: number; lockedUntil: string; loginUrl: string }): RenderedEmail {
  const until = formatDateTime(new Date(v.lockedUntil));
  return {
    subject: `Inloggen bij ${v.fundName} is tijdelijk geblokkeerd`,
    text: [
      `Beste ${v.staffName},`,
      '',
      `Er is ${v.failures} keer kort na elkaar geprobeerd in te loggen met uw e-mailadres (${v.email}) en een verkeerd wachtwoord.`,
      `Om uw account te beschermen kan tot ${until} niemand met dit e-mailadres inloggen, ook niet met het juiste wachtwoord.`,
      '',
      `Was u dit zelf? Log dan na ${until} opnieuw in: ${v.loginUrl}`,
      '',
      `Was u dit niet? Dan probeert iemand anders misschien uw wachtwoord te raden. Neem contact op met de beheerder van ${v.fundName}, zodat die uw wachtwoord kan vervangen, en gebruik dit wachtwoord nergens anders. Wij vragen nooit per e-mail of telefoon naar uw wachtwoord.`,
      '',
      'Met vriendelijke groet,',
      v.fundName,
    ].join('\n'),
  };
}
