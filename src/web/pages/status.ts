/**
 * The applicant's pages of one application, under /aanvraag/<id>: the confirmation
 * after sending, the status page the e-mail's link opens, answering an information
 * request, withdrawing (with a confirm step), the report after the activity, the
 * documents and the download of everything stored.
 *
 * The e-mail's link carries a token (?token=). On the first visit it is exchanged for
 * an access token of the application's own (stored as a hash), set as an HttpOnly
 * cookie for /aanvraag/<id> only, and the browser is sent to the same page without
 * the token: it is not in a later URL, in the history, in a Referer or in a log line.
 */
import type { ApiDeps } from '../../api/deps.ts';
import type { RouteSpec } from '../../api/route-spec.ts';
import { principalOf } from '../../api/auth.ts';
import { discardIngested, inspectFile, uploadedFiles, type IngestedFile } from '../../api/uploads.ts';
import { createAccessToken, hashToken } from '../../auth/tokens.ts';
import { informationAnswerSchema, withdrawInputSchema } from '../../domain/application.ts';
import { formatDate, formatDateTime, formatDeadline } from '../../domain/dates.ts';
import { AppError } from '../../domain/errors.ts';
import { remainingCents } from '../../domain/ledger.ts';
import { warningMessages } from '../../domain/messages.ts';
import { euros } from '../../domain/page-messages.ts';
import { refundOpen, reportInputSchema, trafficLights } from '../../domain/report.ts';
import { canWithdraw } from '../../domain/status.ts';
import { sendDocument } from '../../documents/send.ts';
import { sendExport } from '../../privacy/download.ts';
import type { ApplicationView } from '../../services/applications.ts';
import { alert, button, choices, csrfField, errorSummary, fieldId, fileField, FormErrors, heading, paragraph, statusBadge, textArea, textField } from '../components.ts';
import { amount, int, opt, rowIndexes, str, validate, type FormBody } from '../forms.ts';
import { html, type SafeHtml } from '../html.ts';
import { emailLinks, pagePaths } from '../paths.ts';
import { insertAccessToken } from '../../db/keys.ts';
import { cookies, sameAccessAs, type Page, type PageSpec } from '../router.ts';
import { decisionView, documentsView, reportView, summaryView, timelineView } from '../views.ts';

const REPORTABLE = ['activity_held', 'report_due', 'clarification_requested'];

interface Forms {
  answer?: { body: FormBody; errors: FormErrors };
  report?: { body: FormBody; errors: FormErrors };
}

export function statusPages(deps: ApiDeps, routes: readonly RouteSpec[]): PageSpec[] {
  const readAccess = sameAccessAs(routes, 'get', '/api/v1/applications/:id').filter((a) => a === 'applicant_self');
  const answerAccess = sameAccessAs(routes, 'post', '/api/v1/applications/:id/information');
  const withdrawAccess = sameAccessAs(routes, 'post', '/api/v1/applications/:id/withdraw');
  const reportAccess = sameAccessAs(routes, 'post', '/api/v1/applications/:id/report');
  const documentAccess = sameAccessAs(routes, 'get', '/api/v1/applications/:id/documents/:documentId').filter((a) => a === 'applicant_self');
  const exportAccess = sameAccessAs(routes, 'get', '/api/v1/applications/:id/export').filter((a) => a === 'applicant_self');
  const secure = deps.config.env === 'production';
  const applicant = { actor: 'applicant', uploadedBy: 'applicant' as const };
  const base = (id: string) => pagePaths.status(id);

  async function checkedFiles(page: Page, errors: FormErrors, field: string): Promise<IngestedFile[]> {
    const { t, req } = page;
    if (req.uploadError) errors.add(field, req.uploadError.code === 'too_many_files' ? t.fields.tooManyFiles(deps.config.uploads.maxFiles) : t.fields.fileTooLarge(Math.round(deps.config.uploads.maxBytes / 1024 / 1024)));
    const out: IngestedFile[] = [];
    for (const [i, f] of uploadedFiles(req).entries()) {
      const r = await inspectFile(f, i);
      if (r instanceof AppError) errors.add(field, r.code === 'invalid_file_name' ? t.fields.fileName(f.originalname) : t.fields.fileType(f.originalname));
      else out.push(r);
    }
    return out;
  }

  function answerForm(page: Page, app: ApplicationView, form?: Forms['answer']): SafeHtml {
    const { t, locale } = page;
    const s = t.status;
    const request = app.openRequests[0];
    if (!request) return html``;
    const errors = form?.errors ?? new FormErrors();
    return html`<section class="bf-panel" aria-labelledby="request-title">
${heading(2, s.openRequest, 'request-title')}
<p class="utrecht-paragraph bf-pre">${request.missing}</p>
${paragraph(html`<strong>${s.deadline(formatDeadline(request.deadline, locale))}</strong>`)}
${errorSummary(t, errors)}
<form class="bf-form" method="post" action="${base(app.id)}/aanvulling" enctype="multipart/form-data" novalidate data-progress="answer-progress">
${csrfField(page.csrf)}
${textArea({ name: 'answer', label: s.answer, value: form ? str(form.body, 'answer') : '', rows: 5, error: errors.of('answer') })}
${fileField({ name: 'documents', label: s.answerDocuments, hint: t.apply.documentsHint(deps.config.uploads.maxFiles, Math.round(deps.config.uploads.maxBytes / 1024 / 1024)), optional: t.common.optional, error: errors.of('documents') })}
<progress id="answer-progress" class="bf-progress" max="100" value="0" hidden></progress>
<div class="bf-actions">${button(s.sendAnswer)}</div>
</form>
</section>`;
  }

  function reportForm(page: Page, app: ApplicationView, form?: Forms['report']): SafeHtml {
    const { t, locale } = page;
    const s = t.status;
    const errors = form?.errors ?? new FormErrors({ costLines: fieldId('costLines.0.description') });
    const body = form?.body ?? {};
    const v = (n: string) => str(body, n);
    const indexes = rowIndexes(body, 'costLines');
    const lines = indexes.length ? indexes.map((i) => ({ description: v(`costLines.${i}.description`), amount: v(`costLines.${i}.amount`) })) : [{ description: '', amount: '' }];
    const due = [...app.timeline].reverse().find((e): e is typeof e & { note: string } => e.type === 'report_due' && 'note' in e && typeof e.note === 'string')?.note;
    const clarification = app.status === 'clarification_requested' ? app.report?.clarifications?.at(-1) : undefined;
    return html`<section aria-labelledby="report-title">
${heading(2, s.reportTitle, 'report-title')}
${paragraph(s.reportIntro)}
${due && app.status === 'report_due' ? paragraph(html`<strong>${s.reportDue(formatDeadline(due, locale))}</strong>`) : ''}
${clarification ? html`<div class="bf-panel">${heading(3, s.clarification)}<p class="utrecht-paragraph bf-pre">${clarification.question}</p>${paragraph(s.deadline(formatDeadline(clarification.deadline, locale)))}</div>` : ''}
${errorSummary(t, errors)}
<form class="bf-form" method="post" action="${base(app.id)}/verantwoording" enctype="multipart/form-data" novalidate data-progress="report-progress">
${csrfField(page.csrf)}
${textArea({ name: 'text', label: s.reportText, hint: s.reportTextHint, value: v('text') || (form ? '' : (app.report?.text ?? '')), rows: 7, error: errors.of('text') })}
${textField({ name: 'participants', label: s.reportParticipants, value: v('participants'), inputmode: 'numeric', width: 'short', error: errors.of('participants') })}
${textField({ name: 'volunteers', label: s.reportVolunteers, value: v('volunteers'), inputmode: 'numeric', width: 'short', error: errors.of('volunteers') })}
${choices({ name: 'selfAssessment', label: s.selfAssessment, type: 'radio', options: trafficLights.map((l) => ({ value: l, label: t.trafficLights[l] })), checked: [v('selfAssessment')], error: errors.of('selfAssessment') })}
<div class="utrecht-form-fieldset${errors.of('costLines') ? ' utrecht-form-field--invalid' : ''}">
<fieldset class="utrecht-form-fieldset--html-fieldset" aria-describedby="f-costLines-hint">
<legend class="utrecht-form-label">${s.costLines}</legend>
<p class="utrecht-form-field-description" id="f-costLines-hint">${s.costLinesHint} ${t.apply.amountHint}</p>
${errors.of('costLines') ? html`<p class="utrecht-form-field-error-message" id="f-costLines-error">${errors.of('costLines')}</p>` : ''}
<div class="bf-lines" id="lines-costs" data-lines data-total="total-costs">${lines.map(
      (l, i) => html`<div class="bf-line" data-line>
${textField({ name: `costLines.${i}.description`, label: s.costDescription(i + 1), dataLabel: s.costDescription(Number.NaN).replace('NaN', '{n}'), value: l.description, error: errors.of(`costLines.${i}.description`) })}
${textField({ name: `costLines.${i}.amount`, label: s.costAmount(i + 1), dataLabel: s.costAmount(Number.NaN).replace('NaN', '{n}'), value: l.amount, inputmode: 'decimal', amount: true, prefix: '€', error: errors.of(`costLines.${i}.amount`) })}
</div>`,
    )}</div>
${button(t.apply.addLine, { variant: 'secondary', name: 'action', value: 'add-line', dataAddLine: 'lines-costs' })}
<p class="utrecht-paragraph bf-total">${t.common.total}: <output id="total-costs" aria-live="polite"></output></p>
</fieldset>
</div>
${fileField({ name: 'documents', label: s.reportDocuments, hint: t.apply.documentsHint(deps.config.uploads.maxFiles, Math.round(deps.config.uploads.maxBytes / 1024 / 1024)), optional: t.common.optional, error: errors.of('documents') })}
<progress id="report-progress" class="bf-progress" max="100" value="0" hidden></progress>
<div class="bf-actions">${button(s.sendReport, { name: 'action', value: 'send' })}</div>
</form>
</section>`;
  }

  async function statusPage(page: Page, id: string, forms: Forms = {}, status = 200): Promise<void> {
    const { t, locale } = page;
    const s = t.status;
    const app = await deps.applications.view(id, 'applicant');
    const year = app.payout?.budgetYear ?? Number(app.activity.startDate.slice(0, 4));
    const left = remainingCents(await deps.ledger.balances(year));
    const pending = page.req.query.bezig === '1';
    const support = app.support as { state: string; organisation: string; claimedBy: { name: string; organisation?: string } | null } | null;
    const sections: SafeHtml[] = [];
    if (app.status === 'awaiting_information') sections.push(answerForm(page, app, forms.answer));
    if (app.meeting && app.status === 'scheduled') sections.push(paragraph(s.meeting(formatDateTime(new Date(app.meeting.startsAt), locale))));
    sections.push(decisionView(app, t, locale));
    if (app.decision && app.decision.outcome !== 'rejected') sections.push(paragraph(s.budgetLeft(year, euros(left, locale))));
    if (app.payout && app.payout.status !== 'cancelled') {
      sections.push(html`<section aria-labelledby="payout-title">${heading(2, s.payout, 'payout-title')}${paragraph(
        app.payout.status === 'paid' && app.payout.paidAt ? s.payoutPaid(euros(app.payout.amountCents, locale), formatDate(new Date(app.payout.paidAt), locale)) : s.payoutPending(euros(app.payout.amountCents, locale)),
      )}</section>`);
    }
    if (support) {
      sections.push(html`<section aria-labelledby="support-title">${heading(2, s.support, 'support-title')}${paragraph(
        support.claimedBy ? s.supportClaimed(support.claimedBy.name, support.claimedBy.organisation ?? support.organisation) : s.supportWaiting(support.organisation),
      )}</section>`);
    }
    if (REPORTABLE.includes(app.status)) sections.push(reportForm(page, app, forms.report));
    else if (app.status === 'paid' || app.status === 'reserved') sections.push(html`<section aria-labelledby="report-title">${heading(2, s.reportTitle, 'report-title')}${paragraph(s.reportLater)}</section>`);
    if (app.report && !REPORTABLE.includes(app.status)) sections.push(html`<section aria-labelledby="report-sent-title">${heading(2, s.reportReceived, 'report-sent-title')}${reportView(app, t, locale)}</section>`);
    if (app.settlement && refundOpen(app.settlement)) {
      sections.push(alert('warning', paragraph(s.refundDue(euros(app.settlement.refundDueCents - (app.settlement.refundReceivedCents ?? 0), locale)))));
    }
    page.render(
      s.title(app.reference),
      html`${heading(1, s.title(app.reference))}
${pending ? alert('info', paragraph(s.projectionPending)) : ''}
<p class="utrecht-paragraph">${s.statusNow}: ${statusBadge(app.status, t)}</p>
${sections}
<section aria-labelledby="summary-title">${heading(2, s.summary, 'summary-title')}${summaryView(app, t, locale)}</section>
<section aria-labelledby="timeline-title">${heading(2, s.timeline, 'timeline-title')}${timelineView(app, t, locale)}</section>
<section aria-labelledby="documents-title">${heading(2, s.documents, 'documents-title')}${documentsView(app, t, (d) => `${base(id)}/documenten/${d}`)}</section>
${canWithdraw(app.status) ? html`<section aria-labelledby="withdraw-title">${heading(2, s.withdrawTitle, 'withdraw-title')}${paragraph(s.withdrawText)}<p class="utrecht-paragraph"><a class="utrecht-link" href="${base(id)}/intrekken">${s.withdrawButton}</a></p></section>` : ''}
<section aria-labelledby="export-title">${heading(2, s.export, 'export-title')}${paragraph(s.exportText)}<p class="utrecht-paragraph"><a class="utrecht-link" href="${base(id)}/gegevens" download>${s.exportButton}</a></p></section>`,
      { status, script: true, hasErrors: !!(forms.answer?.errors.any || forms.report?.errors.any) },
    );
  }

  /** After an action: to the status page once the read model shows it (or with a note that it is on its way). */
  async function afterAction(page: Page, id: string, done: (status: string) => boolean, flash: 'answer_sent' | 'withdrawn' | 'report_sent'): Promise<void> {
    const shown = await deps.applications.settled(id, (a) => done(a.status));
    page.redirect(shown ? base(id) : `${base(id)}?bezig=1`, flash);
  }

  /** A refused action (the application moved on meanwhile): back to the page, saying so. */
  function refused(page: Page, id: string, err: unknown): void {
    if (err instanceof AppError && err.status === 409) return page.redirect(base(id), 'state_changed');
    throw err;
  }

  return [
    {
      // The e-mail's link: the token becomes a cookie for this application's pages, and leaves the URL.
      method: 'get',
      path: '/aanvraag/:id',
      access: ['anonymous'],
      when: (req) => typeof req.query.token === 'string',
      async handler(page) {
        const id = page.param('id');
        const p = await principalOf(deps, String(page.req.query.token));
        if (!p || p === 'inactive' || p.kind !== 'applicant' || p.applicationId !== id) {
          page.error(401, page.t.status.noAccessTitle, page.t.status.noAccess);
          return;
        }
        const token = createAccessToken(id);
        await insertAccessToken(deps.models, { _id: hashToken(token), applicationId: id, createdAt: new Date() });
        page.res.cookie(cookies.applicant, token, { path: base(id), httpOnly: true, sameSite: 'lax', secure, maxAge: 180 * 24 * 60 * 60 * 1000 });
        page.res.redirect(303, base(id));
      },
    },
    {
      method: 'get',
      path: '/aanvraag/:id',
      access: readAccess,
      async handler(page) {
        await statusPage(page, page.param('id'));
      },
    },
    {
      method: 'get',
      path: '/aanvraag/:id/verzonden',
      access: readAccess,
      async handler(page) {
        const { t, locale } = page;
        const id = page.param('id');
        const app = await deps.applications.load(id);
        const link = emailLinks(deps.config.publicBaseUrl).status(id, await deps.signer.signApplicantLink(id));
        page.render(
          t.sent.title,
          html`<div class="utrecht-alert utrecht-alert--ok" role="status">${heading(1, t.sent.title)}<p class="utrecht-paragraph">${t.sent.reference}:<br><span class="bf-reference">${app.reference}</span></p></div>
${app.budgetWarning ? alert('warning', paragraph(warningMessages[locale].budget_exhausted(app.budgetWarning.year, app.budgetWarning.remainingCents))) : ''}
${heading(2, t.sent.whatNext)}
<ol class="utrecht-ordered-list">${t.sent.steps.map((x) => html`<li class="utrecht-ordered-list__item">${x}</li>`)}</ol>
${heading(2, t.sent.statusLink)}
${paragraph(t.sent.statusLinkHint)}
<p class="bf-link-box">${link}</p>
<p class="utrecht-paragraph"><a class="utrecht-link" href="${base(id)}">${t.sent.openStatus}</a></p>`,
        );
      },
    },
    {
      method: 'post',
      path: '/aanvraag/:id/aanvulling',
      access: answerAccess,
      upload: true,
      async handler(page) {
        const id = page.param('id');
        const body = (page.req.body ?? {}) as FormBody;
        const errors = new FormErrors();
        const files = await checkedFiles(page, errors, 'documents');
        const input = validate(informationAnswerSchema, { ...(opt(body, 'answer') ? { answer: opt(body, 'answer') } : {}) }, errors, { t: page.t, locale: page.locale });
        if (input && !input.answer && files.length === 0) errors.add('answer', page.t.fields.required.answer!);
        if (errors.any || !input) {
          await discardIngested(files);
          return statusPage(page, id, { answer: { body, errors } }, 422);
        }
        try {
          await deps.applications.answerInformation(id, input, files, applicant);
        } catch (err) {
          return refused(page, id, err);
        }
        await afterAction(page, id, (s) => s !== 'awaiting_information', 'answer_sent');
      },
    },
    {
      method: 'get',
      path: '/aanvraag/:id/intrekken',
      access: withdrawAccess,
      async handler(page) {
        const { t } = page;
        const id = page.param('id');
        const app = await deps.applications.load(id);
        if (!canWithdraw(app.status)) return page.redirect(base(id), 'not_possible');
        page.render(
          t.status.withdrawConfirmTitle,
          html`${heading(1, t.status.withdrawConfirmTitle)}
${paragraph(html`${app.reference}: ${app.title}`)}
${paragraph(t.status.withdrawConfirmText)}
<form class="bf-form" method="post" action="${base(id)}/intrekken" novalidate>
${csrfField(page.csrf)}
${textArea({ name: 'reason', label: t.status.withdrawReason, optional: t.common.optional, rows: 3 })}
<div class="bf-actions">${button(t.status.withdrawConfirm, { variant: 'danger' })}<a class="utrecht-link" href="${base(id)}">${t.status.withdrawCancel}</a></div>
</form>`,
        );
      },
    },
    {
      method: 'post',
      path: '/aanvraag/:id/intrekken',
      access: withdrawAccess,
      async handler(page) {
        const id = page.param('id');
        const body = (page.req.body ?? {}) as FormBody;
        const errors = new FormErrors();
        const input = validate(withdrawInputSchema, { ...(opt(body, 'reason') ? { reason: opt(body, 'reason') } : {}) }, errors, { t: page.t, locale: page.locale });
        if (!input) return page.redirect(`${base(id)}/intrekken`);
        try {
          await deps.applications.withdraw(id, input);
        } catch (err) {
          return refused(page, id, err);
        }
        await afterAction(page, id, (s) => s === 'withdrawn', 'withdrawn');
      },
    },
    {
      method: 'post',
      path: '/aanvraag/:id/verantwoording',
      access: reportAccess,
      upload: true,
      async handler(page) {
        const { t } = page;
        const id = page.param('id');
        const body = (page.req.body ?? {}) as FormBody;
        const errors = new FormErrors({ costLines: fieldId('costLines.0.description') });
        const files = await checkedFiles(page, errors, 'documents');
        const indexes = rowIndexes(body, 'costLines').filter((i) => str(body, `costLines.${i}.description`) || str(body, `costLines.${i}.amount`));
        const discard = () => discardIngested(files);
        if (str(body, 'action') === 'add-line') {
          await discard();
          const next = Math.max(-1, ...rowIndexes(body, 'costLines')) + 1;
          return statusPage(page, id, { report: { body: { ...body, [`costLines.${next}.description`]: '', [`costLines.${next}.amount`]: '' }, errors: new FormErrors() } });
        }
        const raw = {
          text: opt(body, 'text'),
          participants: int(body, 'participants'),
          volunteers: int(body, 'volunteers'),
          selfAssessment: opt(body, 'selfAssessment'),
          costLines: indexes.map((i) => ({ description: opt(body, `costLines.${i}.description`), amountCents: amount(body, `costLines.${i}.amount`, errors, t) })),
        };
        const input = validate(reportInputSchema, raw, errors, {
          t,
          locale: page.locale,
          fieldOf: (p) => p.replace(/^costLines\.(\d+)\.amountCents$/, (_m, n: string) => `costLines.${indexes[Number(n)]}.amount`).replace(/^costLines\.(\d+)\.description$/, (_m, n: string) => `costLines.${indexes[Number(n)]}.description`),
        });
        if (!input) {
          await discard();
          return statusPage(page, id, { report: { body, errors } }, 422);
        }
        try {
          await deps.applications.submitReport(id, input, files, applicant);
        } catch (err) {
          return refused(page, id, err);
        }
        await afterAction(page, id, (s) => !REPORTABLE.includes(s), 'report_sent');
      },
    },
    {
      method: 'get',
      path: '/aanvraag/:id/documenten/:documentId',
      access: documentAccess,
      async handler(page) {
        const { document, stream } = await deps.applications.openDocument(page.param('id'), page.param('documentId'));
        await sendDocument(page.res, document, stream, { inline: true });
      },
    },
    {
      method: 'get',
      path: '/aanvraag/:id/gegevens',
      access: exportAccess,
      async handler(page) {
        await sendExport(deps, page.param('id'), page.actor, page.req, page.res);
      },
    },
  ];
}
