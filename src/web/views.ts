/** Parts of an application shown on more than one page: the timeline, the decision, the documents, the report. */
import type { Locale } from '../domain/messages.ts';
import { euros, type PageTexts } from '../domain/page-messages.ts';
import { formatDate, formatDateTime } from '../domain/dates.ts';
import type { TimelineEventType } from '../domain/status.ts';
import type { ApplicationView } from '../services/applications.ts';
import { dataList, heading, paragraph, table } from './components.ts';
import { html, type SafeHtml } from './html.ts';

export const kb = (bytes: number) => Math.max(1, Math.round(bytes / 1024));

/** What happened, oldest first, in plain words; staff also see who did it. */
export function timelineView(app: ApplicationView, t: PageTexts, locale: Locale, opts: { staff?: boolean } = {}): SafeHtml {
  return html`<ol class="bf-timeline">${app.timeline.map((e) => {
    const words = t.timeline[e.type as TimelineEventType] ?? e.type;
    const extra =
      (e.type === 'decided' || e.type === 'status_changed') && e.status
        ? ` ${t.statuses[e.status]}.`
        : e.type === 'information_requested' && opts.staff && e.note
          ? ` ${e.note}`
          : '';
    return html`<li><time datetime="${e.at}">${formatDateTime(new Date(e.at), locale)}</time>${words}${extra}${opts.staff && e.actor ? html` <span class="bf-muted">(${e.actor})</span>` : ''}</li>`;
  })}</ol>`;
}

/** The decision with its amount, the reasons and the budget lines, struck ones marked in words (not by colour alone). */
export function decisionView(app: ApplicationView, t: PageTexts, locale: Locale): SafeHtml {
  const d = app.decision;
  if (!d) return html``;
  const s = t.status;
  const text =
    app.status === 'rejected_budget_exhausted'
      ? s.exhaustedText
      : d.outcome === 'rejected'
        ? s.rejectedText
        : d.grantedCents < d.requestedCents
          ? s.grantedPartly(euros(d.grantedCents, locale), euros(d.requestedCents, locale))
          : s.granted(euros(d.grantedCents, locale));
  return html`<section aria-labelledby="decision-title">
${heading(2, s.decision, 'decision-title')}
${paragraph(html`<strong>${text}</strong>`)}
${d.reasons.length ? html`${heading(3, s.reasons)}<ul class="utrecht-unordered-list">${d.reasons.map((r) => html`<li class="utrecht-unordered-list__item">${r}</li>`)}</ul>` : ''}
${table({
  caption: s.budgetLines,
  head: [t.common.item, t.common.amount, t.common.status],
  rows: app.budgetLines.map((l, i) => {
    const struck = d.struckLines.includes(i);
    return [struck ? html`<span class="bf-struck">${l.description}</span>` : l.description, euros(l.amountCents, locale), d.outcome === 'rejected' ? '' : struck ? s.struck : s.kept];
  }),
  numeric: [1],
})}
</section>`;
}

/** The documents as links (opened in the browser where it can show them). */
export function documentsView(app: ApplicationView, t: PageTexts, href: (documentId: string) => string): SafeHtml {
  if (!app.documents.length) return paragraph(t.status.noDocuments);
  return html`<ul class="utrecht-unordered-list">${app.documents.map(
    (d) => html`<li class="utrecht-unordered-list__item"><a class="utrecht-link" href="${href(d.id)}">${d.fileName}</a> <span class="bf-muted">(${t.common.kb(kb(d.size))})</span></li>`,
  )}</ul>`;
}

/** The application's own answers (what the panel reads; what the applicant sent). */
export function summaryView(app: ApplicationView, t: PageTexts, locale: Locale, opts: { staff?: boolean } = {}): SafeHtml {
  const a = t.apply;
  return dataList([
    [a.planTitle, app.title],
    [t.status.submittedOn, formatDate(new Date(app.createdAt), locale)],
    [t.status.requested, euros(app.amountRequestedCents, locale)],
    [a.description, html`<span class="bf-pre">${app.description}</span>`],
    [a.purposes, app.purposes.map((p) => t.purposes[p as keyof PageTexts['purposes']] ?? p).join(', ')],
    [a.wijken, app.wijken.join(', ')],
    [a.targetGroup, app.targetGroup ?? ''],
    [a.participants, String(app.expectedParticipants ?? '')],
    [a.volunteers, String(app.volunteers ?? '')],
    [t.status.activity, `${formatDate(new Date(`${app.activity.startDate}T12:00:00Z`), locale)}${app.activity.endDate !== app.activity.startDate ? ` – ${formatDate(new Date(`${app.activity.endDate}T12:00:00Z`), locale)}` : ''}, ${app.activity.location}`],
    [a.coFunding, app.coFunding.length ? app.coFunding.map((c) => `${c.source}: ${euros(c.amountCents, locale)}`).join('; ') : t.common.none],
    [a.wantsSupport, app.wantsSupport ? `${t.common.yes}${app.supportWish ? `: ${app.supportWish}` : ''}` : t.common.no],
    ...(opts.staff
      ? ([
          [a.name, `${app.applicant.name}${app.applicant.organisation ? ` (${app.applicant.organisation})` : ''}`],
          [a.email, app.applicant.email],
          [a.phone, app.applicant.phone],
          [a.iban, `${app.iban} (${app.accountHolder})`],
        ] as [string, string][])
      : []),
    ...(app.previousApplicationId ? ([[a.whatChanged, app.whatChanged ?? '']] as [string, string][]) : []),
  ]);
}

/** The report as sent (text, people, traffic light, costs). */
export function reportView(app: ApplicationView, t: PageTexts, locale: Locale): SafeHtml {
  const r = app.report;
  if (!r) return html``;
  const costs = r.costLines ?? [];
  return html`${dataList([
    [t.status.reportText, html`<span class="bf-pre">${r.text}</span>`],
    [t.status.reportParticipants, String(r.participants)],
    [t.status.reportVolunteers, String(r.volunteers)],
    [t.status.selfAssessment, html`<span class="bf-traffic bf-traffic--${r.selfAssessment}">${t.trafficLights[r.selfAssessment]}</span>`],
  ])}
${table({ caption: t.status.costLines, head: [t.common.item, t.common.amount], rows: costs.map((c) => [c.description, euros(c.amountCents, locale)]), numeric: [1], foot: [t.common.total, euros(r.actualCostsCents, locale)] })}`;
}
