/**
 * The panel's (and admin's) applications, and a welfare worker's support cases (the
 * `welfare_case` rule of the API routes): the list with filters and paging, and one
 * application with its documents, the screening actions (ask for information with a
 * deadline, mark complete: from the moment the application is stored), the support flag
 * and the review of the report. Refunds are booked on finance's payouts page
 * (src/web/pages/payouts.ts), which this page links to (finance). Every action is the
 * API route's service call, under that route's rule.
 */
import type { ApiDeps } from '../../api/deps.ts';
import { caseScoped, isAllowed, type Access } from '../../api/auth.ts';
import type { RouteSpec } from '../../api/route-spec.ts';
import { inspectFile, uploadedFiles, type IngestedFile } from '../../api/uploads.ts';
import { applicationListQuery } from '../../api/schemas.ts';
import { WHOLE_MUNICIPALITY, informationRequestInputSchema } from '../../domain/application.ts';
import { formatDate, formatDeadline } from '../../domain/dates.ts';
import { AppError } from '../../domain/errors.ts';
import { euros } from '../../domain/page-messages.ts';
import { refundOpen, reportReviewInputSchema, trafficLights } from '../../domain/report.ts';
import { applicationStatuses, canScreen, type ApplicationStatus } from '../../domain/status.ts';
import { sendDocument } from '../../documents/send.ts';
import type { ApplicationView } from '../../services/applications.ts';
import { actionForm, button, checkbox, choices, csrfField, errorSummary, fileField, FormErrors, heading, pagination, paragraph, query, select, statusBadge, table, textArea, textField } from '../components.ts';
import { amount, int, opt, str, validate, type FormBody } from '../forms.ts';
import { html, type SafeHtml } from '../html.ts';
import { pagePaths, staffPaths } from '../paths.ts';
import { sameAccessAs, type Page, type PageSpec } from '../router.ts';
import { decisionView, documentsView, reportView, summaryView, timelineView } from '../views.ts';

type Forms = { ask?: { body: FormBody; errors: FormErrors }; review?: { body: FormBody; errors: FormErrors } };

export function staffApplicationPages(deps: ApiDeps, routes: readonly RouteSpec[]): PageSpec[] {
  const staffOnly = (a: readonly Access[]) => a.filter((x) => x !== 'applicant_self' && x !== 'anonymous');
  const rule = {
    list: sameAccessAs(routes, 'get', '/api/v1/applications'),
    read: staffOnly(sameAccessAs(routes, 'get', '/api/v1/applications/:id')),
    document: staffOnly(sameAccessAs(routes, 'get', '/api/v1/applications/:id/documents/:documentId')),
    addDocuments: staffOnly(sameAccessAs(routes, 'post', '/api/v1/applications/:id/documents')),
    ask: sameAccessAs(routes, 'post', '/api/v1/applications/:id/information-requests'),
    complete: sameAccessAs(routes, 'post', '/api/v1/applications/:id/screening/complete'),
    flag: sameAccessAs(routes, 'post', '/api/v1/support/:applicationId/flag'),
    review: sameAccessAs(routes, 'post', '/api/v1/applications/:id/report/review'),
    refund: sameAccessAs(routes, 'post', '/api/v1/applications/:id/refunds'),
  };
  const base = (id: string) => pagePaths.application(id);
  const wijken = [...deps.config.fund.wijken, WHOLE_MUNICIPALITY];
  const may = (page: Page, access: readonly Access[]) => isAllowed(access, page.principal, page.req.params);

  function detail(page: Page, app: ApplicationView, forms: Forms = {}, status = 200): void {
    const { t, locale } = page;
    const st = t.staff;
    const id = app.id;
    const sections: SafeHtml[] = [];
    const allErrors = new FormErrors();
    for (const f of Object.values(forms)) for (const e of f?.errors.list ?? []) allErrors.add(e.field, e.message, e.anchor);

    if (canScreen(app.status) && may(page, rule.ask)) {
      const f = forms.ask;
      sections.push(html`<section class="bf-panel" aria-labelledby="ask-title">${heading(2, st.askTitle, 'ask-title')}
<form class="bf-form" method="post" action="${base(id)}/aanvulling-vragen" novalidate>${csrfField(page.csrf)}
${textArea({ name: 'missing', label: st.askMissing, hint: st.askMissingHint, value: f ? str(f.body, 'missing') : '', rows: 4, error: f?.errors.of('missing') })}
${textField({ name: 'deadlineDays', label: st.askDeadline, hint: st.askDeadlineHint(deps.config.fund.infoDeadlineDays), value: f ? str(f.body, 'deadlineDays') : String(deps.config.fund.infoDeadlineDays), inputmode: 'numeric', width: 'short', error: f?.errors.of('deadlineDays') })}
<div class="bf-actions">${button(st.askButton)}</div></form></section>
<section class="bf-panel" aria-labelledby="complete-title">${heading(2, st.completeTitle, 'complete-title')}${paragraph(st.completeText)}${actionForm(`${base(id)}/compleet`, page.csrf, st.completeButton)}</section>`);
    }
    if (app.informationRequests.length) {
      sections.push(html`<section aria-labelledby="requests-title">${heading(2, st.requests, 'requests-title')}${table({
        head: [t.common.date, st.askMissing, st.deadline, t.common.status, st.answer],
        rows: app.informationRequests.map((r) => [formatDate(new Date(r.requestedAt), locale), html`<span class="bf-pre">${r.missing}</span>`, formatDeadline(r.deadline, locale), st.requestState[r.state] ?? r.state, r.answer ? html`<span class="bf-pre">${r.answer}</span>` : '']),
      })}</section>`);
    }
    sections.push(decisionView(app, t, locale));
    if (app.payout) sections.push(paragraph(html`<strong>${st.payout}:</strong> ${euros(app.payout.amountCents, locale)}, ${st.payoutStatus[app.payout.status] ?? app.payout.status}${app.payout.batchId ? ` (${app.payout.batchId})` : ''}`));
    const support = app.support as { state: string; organisation: string } | null;
    if (support) sections.push(html`<section aria-labelledby="support-title">${heading(2, st.flagTitle, 'support-title')}${paragraph(html`${st.supportState(support.state, support.organisation)} <a class="utrecht-link" href="${pagePaths.supportCase(id)}">${t.nav.support}</a>`)}</section>`);
    else if (['approved', 'partially_approved', 'reserved', 'paid'].includes(app.status) && may(page, rule.flag)) {
      sections.push(html`<section aria-labelledby="support-title">${heading(2, st.flagTitle, 'support-title')}${paragraph(st.flagText)}${actionForm(`${base(id)}/ondersteuning`, page.csrf, st.flagButton, { variant: 'secondary' })}</section>`);
    }
    if (app.report) sections.push(html`<section aria-labelledby="report-title">${heading(2, t.status.reportReceived, 'report-title')}${reportView(app, t, locale)}</section>`);
    const escalated = app.timeline.some((e) => e.type === 'report_escalated');
    if ((app.status === 'report_received' || (escalated && (app.status === 'report_due' || app.status === 'clarification_requested'))) && may(page, rule.review)) {
      const f = forms.review;
      const v = (n: string) => (f ? str(f.body, n) : '');
      sections.push(html`<section class="bf-panel" aria-labelledby="review-title">${heading(2, st.reviewTitle, 'review-title')}
<form class="bf-form" method="post" action="${base(id)}/beoordeling" novalidate>${csrfField(page.csrf)}
${choices({ name: 'outcome', label: st.reviewOutcome, type: 'radio', options: (app.status === 'report_received' ? (['accept', 'clarify', 'reject'] as const) : (['reject'] as const)).map((o) => ({ value: o, label: st.reviewOutcomes[o]! })), checked: [v('outcome')], error: f?.errors.of('outcome') })}
${choices({ name: 'trafficLight', label: st.reviewLight, hint: st.reviewLightHint, type: 'radio', options: trafficLights.map((l) => ({ value: l, label: t.trafficLights[l] })), checked: [v('trafficLight')], optional: t.common.optional, error: f?.errors.of('trafficLight') })}
${textArea({ name: 'note', label: st.reviewNote, value: v('note'), rows: 4, error: f?.errors.of('note') })}
${checkbox({ name: 'reclaim', label: st.reviewReclaim, value: 'ja', checked: v('reclaim') === 'ja' })}
<div class="bf-actions">${button(st.reviewButton)}</div></form></section>`);
    }
    const s = app.settlement;
    if (s && refundOpen(s)) {
      sections.push(html`<section class="bf-panel" aria-labelledby="refund-title">${heading(2, st.refundTitle, 'refund-title')}${paragraph(st.refundDue(euros(s.refundDueCents, locale), euros(s.refundReceivedCents ?? 0, locale)))}${
        may(page, rule.refund) ? paragraph(html`<a class="utrecht-link" href="${staffPaths.payouts}#refunds-title">${t.finance.refundsTitle}</a>`) : ''
      }</section>`);
    }

    page.render(
      st.detailTitle(app.reference),
      html`<p class="utrecht-paragraph"><a class="utrecht-link" href="${staffPaths.applications}">${t.common.back}</a></p>
${heading(1, st.detailTitle(app.reference))}
${errorSummary(t, allErrors)}
<p class="utrecht-paragraph">${t.common.status}: ${statusBadge(app.status, t)}</p>
${sections}
<section aria-labelledby="summary-title">${heading(2, t.status.summary, 'summary-title')}${summaryView(app, t, locale, { staff: true })}
${table({ caption: t.meeting.budget, head: [t.common.item, t.common.amount], rows: app.budgetLines.map((l) => [l.description, euros(l.amountCents, locale)]), numeric: [1], foot: [t.common.total, euros(app.amountRequestedCents, locale)] })}</section>
<section aria-labelledby="documents-title">${heading(2, st.documents, 'documents-title')}${documentsView(app, t, (d) => `${base(id)}/documenten/${d}`)}
${
  may(page, rule.addDocuments) && ['submitted', 'screening', 'awaiting_information', 'ready_for_meeting', 'scheduled'].includes(app.status)
    ? html`<form class="bf-form" method="post" action="${base(id)}/documenten" enctype="multipart/form-data" novalidate>${csrfField(page.csrf)}${fileField({ name: 'documents', label: st.addDocuments })}${button(st.addDocumentsButton, { variant: 'secondary' })}</form>`
    : ''
}</section>
<section aria-labelledby="timeline-title">${heading(2, st.timeline, 'timeline-title')}${timelineView(app, t, locale, { staff: true })}</section>`,
      { status, hasErrors: allErrors.any, wide: true },
    );
  }

  /** After an action: back to the application, once the read model shows the change. */
  async function done(page: Page, id: string, changed: (status: ApplicationStatus) => boolean, flash: Parameters<Page['redirect']>[1]): Promise<void> {
    await deps.applications.settled(id, (a) => changed(a.status));
    page.redirect(base(id), flash);
  }

  function refused(page: Page, id: string, err: unknown): void {
    if (err instanceof AppError && err.status === 409) return page.redirect(base(id), 'state_changed');
    throw err;
  }

  return [
    {
      method: 'get',
      path: staffPaths.applications,
      access: rule.list,
      async handler(page) {
        const { t, locale } = page;
        const st = t.staff;
        const raw = Object.fromEntries(Object.entries(page.req.query).filter(([, v]) => typeof v === 'string' && v !== ''));
        const parsed = applicationListQuery.safeParse(raw);
        const q = parsed.success ? parsed.data : { page: 1, pageSize: 20 };
        const result = await deps.applications.list(q, caseScoped(rule.list, page.principal));
        const filters = { status: q.status, wijk: q.wijk, year: q.year };
        page.render(
          st.applicationsTitle,
          html`${heading(1, st.applicationsTitle)}
<form class="bf-form bf-filters" method="get" action="${staffPaths.applications}">
${select({ name: 'status', label: st.filterStatus, value: q.status ?? '', options: [{ value: '', label: st.any }, ...applicationStatuses.map((s) => ({ value: s, label: t.statuses[s] }))] })}
${select({ name: 'wijk', label: st.filterWijk, value: q.wijk ?? '', options: [{ value: '', label: st.any }, ...wijken.map((w) => ({ value: w, label: w }))] })}
${textField({ name: 'year', label: st.filterYear, value: q.year, inputmode: 'numeric', width: 'short' })}
<div class="bf-actions">${button(t.common.filter, { variant: 'secondary' })}</div>
</form>
${paragraph(st.count(result.total))}
${
  result.items.length
    ? table({
        head: [t.common.reference, t.common.title, t.common.status, t.common.wijk, st.requested, st.submitted],
        rows: result.items.map((a) => [html`<a class="utrecht-link" href="${base(a.id)}">${a.reference}</a>`, a.title, statusBadge(a.status, t), a.wijken.join(', '), euros(a.amountRequestedCents, locale), formatDate(new Date(a.createdAt), locale)]),
        numeric: [4],
      })
    : paragraph(st.noApplications)
}
${pagination(t, { page: result.page, pageSize: result.pageSize, total: result.total, href: (p) => `${staffPaths.applications}${query({ ...filters, page: p })}` })}`,
          { wide: true },
        );
      },
    },
    {
      method: 'get',
      path: `${staffPaths.applications}/:id`,
      access: rule.read,
      async handler(page) {
        detail(page, await deps.applications.view(page.param('id'), 'staff'));
      },
    },
    {
      method: 'get',
      path: `${staffPaths.applications}/:id/documenten/:documentId`,
      access: rule.document,
      async handler(page) {
        const { document, stream } = await deps.applications.openDocument(page.param('id'), page.param('documentId'));
        await sendDocument(page.res, document, stream, { inline: true });
      },
    },
    {
      method: 'post',
      path: `${staffPaths.applications}/:id/documenten`,
      access: rule.addDocuments,
      upload: true,
      async handler(page) {
        const id = page.param('id');
        const files: IngestedFile[] = [];
        for (const [i, f] of uploadedFiles(page.req).entries()) {
          const r = await inspectFile(f, i);
          if (r instanceof AppError) throw r;
          files.push(r);
        }
        if (page.req.uploadError) throw page.req.uploadError;
        try {
          await deps.applications.addDocuments(id, files, { actor: page.actor, uploadedBy: 'staff' });
        } catch (err) {
          if (err instanceof AppError && err.status === 422) return page.redirect(base(id), 'not_possible');
          return refused(page, id, err);
        }
        page.redirect(base(id), 'documents_added');
      },
    },
    {
      method: 'post',
      path: `${staffPaths.applications}/:id/aanvulling-vragen`,
      access: rule.ask,
      async handler(page) {
        const id = page.param('id');
        const body = (page.req.body ?? {}) as FormBody;
        const errors = new FormErrors();
        const input = validate(informationRequestInputSchema, { missing: opt(body, 'missing'), ...(str(body, 'deadlineDays') ? { deadlineDays: int(body, 'deadlineDays') } : {}) }, errors, { t: page.t, locale: page.locale });
        if (!input) return detail(page, await deps.applications.view(id, 'staff'), { ask: { body, errors } }, 422);
        try {
          await deps.applications.requestInformation(id, input, page.actor);
        } catch (err) {
          return refused(page, id, err);
        }
        await done(page, id, (s) => s === 'awaiting_information', 'information_requested');
      },
    },
    {
      method: 'post',
      path: `${staffPaths.applications}/:id/compleet`,
      access: rule.complete,
      async handler(page) {
        const id = page.param('id');
        try {
          await deps.applications.completeScreening(id, page.actor);
        } catch (err) {
          return refused(page, id, err);
        }
        await done(page, id, (s) => !canScreen(s), 'screening_completed');
      },
    },
    {
      method: 'post',
      path: `${staffPaths.applications}/:id/ondersteuning`,
      access: rule.flag,
      async handler(page) {
        const id = page.param('id');
        try {
          await deps.support.flag(id, { id: page.staff!.userId, role: page.staff!.role, requestId: String(page.req.id) });
        } catch (err) {
          return refused(page, id, err);
        }
        page.redirect(base(id), 'flagged');
      },
    },
    {
      method: 'post',
      path: `${staffPaths.applications}/:id/beoordeling`,
      access: rule.review,
      async handler(page) {
        const id = page.param('id');
        const body = (page.req.body ?? {}) as FormBody;
        const errors = new FormErrors();
        const outcome = opt(body, 'outcome');
        const input = validate(
          reportReviewInputSchema,
          {
            outcome,
            ...(opt(body, 'trafficLight') ? { trafficLight: opt(body, 'trafficLight') } : {}),
            ...(opt(body, 'note') ? { note: opt(body, 'note') } : {}),
            ...(outcome === 'reject' ? { reclaim: str(body, 'reclaim') === 'ja' } : {}),
          },
          errors,
          { t: page.t, locale: page.locale },
        );
        if (!input) return detail(page, await deps.applications.view(id, 'staff'), { review: { body, errors } }, 422);
        try {
          await deps.applications.reviewReport(id, input, page.actor);
        } catch (err) {
          return refused(page, id, err);
        }
        await done(page, id, (s) => s !== 'report_received', 'report_reviewed');
      },
    },
  ];
}

