/**
 * Finance's page: the payouts waiting for a batch, making the batch (one SEPA
 * pain.001 file), downloading the file for the bank, reporting it executed, and the
 * repayments of unspent money still open, each with a form to book what came in (in
 * parts; the last part closes the initiative). The same payout register as the API.
 */
import type { ApiDeps } from '../../api/deps.ts';
import { applicationsWithOpenRefund } from '../../db/keys.ts';
import { refundOpen, type Settlement } from '../../domain/report.ts';
import { isAllowed } from '../../api/auth.ts';
import type { RouteSpec } from '../../api/route-spec.ts';
import { formatDate, formatDateTime } from '../../domain/dates.ts';
import { AppError } from '../../domain/errors.ts';
import { euros } from '../../domain/page-messages.ts';
import { sumCents } from '../../domain/money.ts';
import { problemText } from '../../domain/validation-messages.ts';
import { actionForm, button, csrfField, errorSummary, fieldId, FormErrors, heading, paragraph, table, textField } from '../components.ts';
import { amount, str, type FormBody } from '../forms.ts';
import { html } from '../html.ts';
import { pagePaths, staffPaths } from '../paths.ts';
import { sameAccessAs, type Page, type PageSpec } from '../router.ts';

const BATCH_ID = /^PB-\d{4}-\d{4,}$/;
const refundFieldId = (applicationId: string) => fieldId(`refund.${applicationId}.amount`);
/** What is still to be repaid. */
const openCents = (s: Pick<Settlement, 'refundDueCents' | 'refundReceivedCents'> | null | undefined) => (s ? s.refundDueCents - (s.refundReceivedCents ?? 0) : 0);

export function payoutPages(deps: ApiDeps, routes: readonly RouteSpec[]): PageSpec[] {
  const rule = {
    list: sameAccessAs(routes, 'get', '/api/v1/payouts'),
    batch: sameAccessAs(routes, 'post', '/api/v1/payouts/batches'),
    file: sameAccessAs(routes, 'get', '/api/v1/payouts/batches/:id'),
    executed: sameAccessAs(routes, 'post', '/api/v1/payouts/batches/:id/executed'),
    refund: sameAccessAs(routes, 'post', '/api/v1/applications/:id/refunds'),
    read: sameAccessAs(routes, 'get', '/api/v1/applications/:id').filter((a) => a !== 'applicant_self'),
  };
  const batchPath = (id: string) => `${staffPaths.payouts}/batches/${id}`;
  const batchId = (raw: string) => {
    if (!BATCH_ID.test(raw)) throw new AppError(404, 'not_found');
    return raw;
  };

  async function payoutsPage(page: Page, refund?: { applicationId: string; body: FormBody; errors: FormErrors }, status = 200): Promise<void> {
    const { t, locale } = page;
    const f = t.finance;
    const [pending, batches, refunds] = await Promise.all([
      deps.payouts.list({ status: 'pending' }).then((r) => r.payouts),
      deps.payouts.listBatches(),
      applicationsWithOpenRefund(deps.models).then(async (ids) => (ids.length ? deps.models.Application.find({ _id: { $in: ids } }, { reference: 1, title: 1, status: 1, settlement: 1 }).lean() : [])),
    ]);
    const open = refunds.filter((a) => a.status === 'settled' && refundOpen(a.settlement)).sort((a, b) => a.reference.localeCompare(b.reference));
    const canBatch = isAllowed(rule.batch, page.principal, page.req.params);
    const canExecute = isAllowed(rule.executed, page.principal, page.req.params);
    const canRefund = isAllowed(rule.refund, page.principal, page.req.params);
    // A link to the application only for who may read it (finance reads payouts, not applications).
    const ref = (applicationId: string, reference: string) => (isAllowed(rule.read, page.principal, page.req.params) ? html`<a class="utrecht-link" href="${pagePaths.application(applicationId)}">${reference}</a>` : reference);
    const errors = refund?.errors ?? new FormErrors();
    // One form per open refund; its amount field's id is the one the error summary links to.
    const refundForm = (applicationId: string, reference: string) => {
      const mine = refund?.applicationId === applicationId;
      return html`<form class="bf-refund-form" method="post" action="${staffPaths.payouts}/terugbetalingen/${applicationId}" novalidate>${csrfField(page.csrf)}
${textField({ name: 'amount', id: refundFieldId(applicationId), label: `${f.refundAmount} (${reference})`, value: mine ? str(refund.body, 'amount') : '', inputmode: 'decimal', prefix: '€', width: 'short', error: mine ? errors.of('amount') : undefined })}
${button(f.refundButton, { variant: 'secondary' })}</form>`;
    };
    page.render(
      f.title,
      html`${heading(1, f.title)}
${errorSummary(t, errors)}
<section aria-labelledby="pending-title">${heading(2, f.pendingTitle, 'pending-title')}
${
  pending.length
    ? html`${table({
    head: [t.common.reference, f.holder, 'IBAN', t.common.amount, t.common.date],
    rows: pending.map((p) => [ref(p.applicationId, p.reference), p.accountHolder, p.iban, euros(p.amountCents, locale), formatDate(new Date(p.createdAt), locale)]),
    numeric: [3],
    foot: [t.common.total, '', '', euros(sumCents(pending.map((p) => p.amountCents)), locale), ''],
      })}
${canBatch ? html`<div class="bf-actions">${actionForm(`${staffPaths.payouts}/batches`, page.csrf, f.makeBatch)}</div>` : ''}`
    : paragraph(f.pendingNone)
}</section>
<section aria-labelledby="batches-title">${heading(2, f.batchesTitle, 'batches-title')}
${
  batches.length
    ? table({
    head: [f.batch, f.created, f.transactions, f.sum, f.executed, t.common.actions],
    rows: batches.map((b) => [
      b.id,
      formatDateTime(b.createdAt, locale),
      String(b.numberOfTransactions),
      euros(b.controlSumCents, locale),
      b.executed ? formatDateTime(new Date(b.executed.at), locale) : f.notExecuted,
      html`<a class="utrecht-link" href="${batchPath(b.id)}/bestand" download>${f.download}</a>${!b.executed && canExecute ? html`<br>${actionForm(`${batchPath(b.id)}/uitgevoerd`, page.csrf, f.reportExecuted, { variant: 'secondary' })}` : ''}`,
    ]),
    numeric: [2, 3],
      })
    : paragraph(f.noBatches)
}</section>
<section aria-labelledby="refunds-title">${heading(2, f.refundsTitle, 'refunds-title')}
${
  open.length
    ? table({
    head: [t.common.reference, t.common.title, f.refundOpen, ...(canRefund ? [t.common.actions] : [])],
    rows: open.map((a) => [
      html`<a class="utrecht-link" href="${pagePaths.application(a._id)}#refund-title">${a.reference}</a>`,
      a.title,
      euros(openCents(a.settlement), locale),
      ...(canRefund ? [refundForm(a._id, a.reference)] : []),
    ]),
    numeric: [2],
      })
    : paragraph(f.refundsNone)
}</section>`,
      { wide: true, status, hasErrors: errors.any },
    );
  }

  return [
    {
      method: 'get',
      path: staffPaths.payouts,
      access: rule.list,
      async handler(page) {
        await payoutsPage(page);
      },
    },
    {
      method: 'post',
      path: `${staffPaths.payouts}/batches`,
      access: rule.batch,
      async handler(page) {
        try {
          const batch = await deps.payouts.createBatch({ actor: page.actor, requestId: String(page.req.id) });
          page.req.log.info({ batchId: batch.id, transactions: batch.numberOfTransactions, controlSumCents: batch.controlSumCents }, 'payout batch created (page)');
        } catch (err) {
          if (err instanceof AppError && err.code === 'no_pending_payouts') return page.redirect(staffPaths.payouts, 'not_possible');
          throw err;
        }
        page.redirect(staffPaths.payouts, 'batch_created');
      },
    },
    {
      method: 'get',
      path: `${staffPaths.payouts}/batches/:id/bestand`,
      access: rule.file,
      async handler(page) {
        const id = batchId(page.param('id'));
        const { summary, xml } = await deps.payouts.getBatch(id);
        page.res.set('ETag', `"${summary.sha256}"`).type('application/xml; charset=utf-8').attachment(`${id}.xml`).send(xml);
      },
    },
    {
      method: 'post',
      path: `${staffPaths.payouts}/batches/:id/uitgevoerd`,
      access: rule.executed,
      async handler(page) {
        const id = batchId(page.param('id'));
        try {
          await deps.payouts.executeBatch(id, { actor: page.actor, requestId: String(page.req.id) });
        } catch (err) {
          if (err instanceof AppError && err.code === 'batch_already_executed') return page.redirect(staffPaths.payouts, 'not_possible');
          throw err;
        }
        page.req.log.info({ batchId: id }, 'payout batch executed (page)');
        page.redirect(staffPaths.payouts, 'batch_executed');
      },
    },
    {
      method: 'post',
      path: `${staffPaths.payouts}/terugbetalingen/:id`,
      access: rule.refund,
      async handler(page) {
        const id = page.param('id');
        // Only an open refund has a form on the page (its errors link to it): a refund already
        // closed (a second click, another tab) is said plainly instead.
        const app = await deps.models.Application.findById(id, { status: 1, settlement: 1 }).lean();
        if (!app) throw new AppError(404, 'not_found');
        if (app.status !== 'settled' || !refundOpen(app.settlement)) return page.redirect(staffPaths.payouts, 'not_possible');
        const body = (page.req.body ?? {}) as FormBody;
        const errors = new FormErrors({ amount: refundFieldId(id) });
        const cents = amount(body, 'amount', errors, page.t);
        if (cents === undefined && !errors.any) errors.add('amount', page.t.fields.required.amountCents!);
        else if (cents === 0) errors.add('amount', problemText({ kind: 'too_small', min: 0.01, inclusive: true }, page.locale));
        else if (cents !== undefined && cents > openCents(app.settlement)) errors.add('amount', page.t.finance.refundTooMuch(euros(openCents(app.settlement), page.locale)));
        if (errors.any || cents === undefined) return payoutsPage(page, { applicationId: id, body, errors }, 422);
        try {
          const state = await deps.applications.recordRefund(id, cents, page.actor);
          // The page finance lands on shows what is still open after this refund.
          const received = state.settlement?.refundReceivedCents ?? 0;
          await deps.applications.settled(id, (a) => (a.settlement?.refundReceivedCents ?? 0) >= received);
        } catch (err) {
          if (err instanceof AppError && err.status === 409) {
            errors.add('amount', page.message(err));
            return payoutsPage(page, { applicationId: id, body, errors }, 409);
          }
          throw err;
        }
        page.redirect(staffPaths.payouts, 'refund_recorded');
      },
    },
  ];
}
