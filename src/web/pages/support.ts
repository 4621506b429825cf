/**
 * The welfare workers' pages: the queue of their organisation (others on request), one
 * click to claim a case (a taken case says who has it), and the case itself: the
 * applicant's wish and contact details (for a welfare worker only on the cases of their
 * organisation, as the application), release, hand over, and short notes that only
 * staff see. The support e-mails link to the case page.
 */
import type { ApiDeps } from '../../api/deps.ts';
import { isAllowed, outsideCases } from '../../api/auth.ts';
import type { RouteSpec } from '../../api/route-spec.ts';
import { WHOLE_MUNICIPALITY } from '../../domain/application.ts';
import { formatDate, formatDateTime } from '../../domain/dates.ts';
import { AppError } from '../../domain/errors.ts';
import { supportNoteKinds } from '../../domain/report.ts';
import type { SupportActor } from '../../support/service.ts';
import type { SupportCase } from '../../support/case.ts';
import { actionForm, button, choices, csrfField, dataList, errorSummary, FormErrors, heading, paragraph, query, select, table, textArea } from '../components.ts';
import { opt, str, validate, type FormBody } from '../forms.ts';
import { html } from '../html.ts';
import { pagePaths, staffPaths } from '../paths.ts';
import { sameAccessAs, type Page, type PageSpec } from '../router.ts';
import { noteInputSchema } from '../../api/routes/support.ts';

export function supportPages(deps: ApiDeps, routes: readonly RouteSpec[]): PageSpec[] {
  const rule = {
    queue: sameAccessAs(routes, 'get', '/api/v1/support/queue'),
    read: sameAccessAs(routes, 'get', '/api/v1/support/:applicationId'),
    claim: sameAccessAs(routes, 'post', '/api/v1/support/:applicationId/claim'),
    release: sameAccessAs(routes, 'post', '/api/v1/support/:applicationId/release'),
    handover: sameAccessAs(routes, 'post', '/api/v1/support/:applicationId/handover'),
    notes: sameAccessAs(routes, 'post', '/api/v1/support/:applicationId/notes'),
    application: sameAccessAs(routes, 'get', '/api/v1/applications/:id'),
  };
  const organisations = deps.config.support.wijkOrganisations.organisations;
  const wijken = [...deps.config.fund.wijken, WHOLE_MUNICIPALITY];
  const base = (id: string) => pagePaths.supportCase(id);
  const actor = (page: Page): SupportActor => ({ id: page.staff!.userId, role: page.staff!.role, requestId: String(page.req.id) });

  async function myOrganisation(page: Page): Promise<string | undefined> {
    if (page.staff?.role !== 'welfare') return undefined;
    return (await deps.models.StaffUser.findById(page.staff.userId, { organisation: 1 }).lean())?.organisation ?? undefined;
  }

  async function casePage(page: Page, id: string, note?: { body: FormBody; errors: FormErrors }, status = 200): Promise<void> {
    const { t, locale } = page;
    const w = t.welfare;
    const c = await deps.support.get(id);
    if (!c) throw new AppError(404, 'not_found');
    // The applicant's contact details are the application's: for those who may read it (a welfare worker: their organisation's cases).
    const readsApplication = isAllowed(rule.application, page.principal, { id }) && !(await outsideCases(rule.application, page.principal, { id }, deps.support));
    const app = readsApplication ? await deps.applications.load(id) : undefined;
    const me = page.staff!.userId;
    const mine = c.claimedBy?.id === me;
    const can = (r: typeof rule.claim) => isAllowed(r, page.principal, page.req.params);
    const colleagues = can(rule.handover) && (mine || page.staff!.role === 'admin') && c.state === 'claimed'
      ? (await deps.models.StaffUser.find({ role: 'welfare', active: true }, { name: 1, organisation: 1 }).lean()).filter((u) => u._id !== c.claimedBy?.id)
      : [];
    const errors = note?.errors ?? new FormErrors();
    page.render(
      w.caseTitle(c.reference),
      html`<p class="utrecht-paragraph"><a class="utrecht-link" href="${staffPaths.support}">${t.common.back}</a></p>
${heading(1, w.caseTitle(c.reference))}
${errorSummary(t, errors)}
${paragraph(html`<strong>${c.title}</strong> · ${c.wijken.join(', ')} · ${w.reason[c.reason]}`)}
${paragraph(html`${t.common.status}: <strong>${c.claimedBy ? w.claimedBy(`${c.claimedBy.name}${c.claimedBy.organisation ? ` (${c.claimedBy.organisation})` : ''}`) : w.states.unclaimed}</strong>`)}
${c.wish ? html`${heading(2, w.wish)}<p class="utrecht-paragraph bf-pre">${c.wish}</p>` : ''}
${heading(2, w.contact)}
${
  app
    ? html`${dataList([
        [t.apply.name, `${app.applicant.name}${app.applicant.organisation ? ` (${app.applicant.organisation})` : ''}`],
        [t.apply.email, html`<a class="utrecht-link" href="mailto:${app.applicant.email}">${app.applicant.email}</a>`],
        [t.apply.phone, app.applicant.phone],
        [t.status.activity, `${formatDate(new Date(`${app.activity.startDate}T12:00:00Z`), locale)}, ${app.activity.location}`],
      ])}
<p class="utrecht-paragraph"><a class="utrecht-link" href="${pagePaths.application(id)}">${t.staff.detailTitle(c.reference)}</a></p>`
    : paragraph(w.contactHidden)
}
<div class="bf-actions">
${!c.claimedBy && can(rule.claim) ? actionForm(`${base(id)}/oppakken`, page.csrf, w.claimButton) : ''}
${c.claimedBy && (mine || page.staff!.role === 'admin') && can(rule.release) ? actionForm(`${base(id)}/teruggeven`, page.csrf, w.releaseButton, { variant: 'secondary' }) : ''}
</div>
${
  colleagues.length
    ? html`<section aria-labelledby="handover-title">${heading(2, w.handoverTitle, 'handover-title')}<form class="bf-form bf-filters" method="post" action="${base(id)}/overdragen" novalidate>${csrfField(page.csrf)}
${select({ name: 'toUserId', label: w.handoverTo, options: colleagues.map((u) => ({ value: u._id, label: `${u.name}${u.organisation ? ` (${u.organisation})` : ''}` })) })}
<div class="bf-actions">${button(w.handoverButton, { variant: 'secondary' })}</div></form></section>`
    : ''
}
<section aria-labelledby="notes-title">${heading(2, w.notesTitle, 'notes-title')}${paragraph(w.notesHint, 'bf-muted')}
${c.notes.length ? html`<ul class="bf-cards">${c.notes.map((n) => html`<li class="bf-card"><p class="utrecht-paragraph"><strong>${w.noteKinds[n.kind]}</strong> · ${n.byName} · ${formatDateTime(new Date(n.at), locale)}</p><p class="utrecht-paragraph bf-pre">${n.text}</p></li>`)}</ul>` : paragraph(w.noNotes)}
${
  mine && can(rule.notes)
    ? html`<form class="bf-form" method="post" action="${base(id)}/notities" novalidate>${csrfField(page.csrf)}
${choices({ name: 'kind', label: w.noteKind, type: 'radio', options: supportNoteKinds.map((k) => ({ value: k, label: w.noteKinds[k]! })), checked: [note ? str(note.body, 'kind') : 'contact'], error: errors.of('kind') })}
${textArea({ name: 'noteText', label: w.noteText, value: note ? str(note.body, 'noteText') : '', rows: 4, error: errors.of('noteText') })}
<div class="bf-actions">${button(w.noteButton)}</div></form>`
    : ''
}</section>
<section aria-labelledby="history-title">${heading(2, w.history, 'history-title')}<ol class="bf-timeline">${c.history.map((h) => html`<li><time datetime="${h.at}">${formatDateTime(new Date(h.at), locale)}</time>${h.type}${h.byName ? ` · ${h.byName}` : ''}${h.toName ? ` → ${h.toName}` : ''}</li>`)}</ol></section>`,
      { status, hasErrors: errors.any },
    );
  }

  /** A refused claim, release or hand-over (someone else was quicker): the case page says who has it now. */
  function refused(page: Page, id: string, err: unknown): void {
    if (err instanceof AppError && (err.status === 409 || err.status === 403 || err.status === 422)) return page.redirect(base(id), 'state_changed');
    throw err;
  }

  return [
    {
      method: 'get',
      path: staffPaths.support,
      access: rule.queue,
      async handler(page) {
        const { t, locale } = page;
        const w = t.welfare;
        const mine = await myOrganisation(page);
        const q = page.req.query;
        const organisation = typeof q.organisatie === 'string' ? (organisations.includes(q.organisatie) ? q.organisatie : undefined) : mine;
        const wijk = typeof q.wijk === 'string' && wijken.includes(q.wijk) ? q.wijk : undefined;
        const cases: SupportCase[] = await deps.support.queue({ ...(organisation ? { organisation } : {}), ...(wijk ? { wijk } : {}) });
        const canClaim = isAllowed(rule.claim, page.principal, page.req.params);
        page.render(
          w.queueTitle,
          html`${heading(1, w.queueTitle)}
${paragraph(mine ? w.intro(mine) : w.introAll)}
<form class="bf-form bf-filters" method="get" action="${staffPaths.support}">
${select({ name: 'organisatie', label: w.organisation, value: organisation ?? '', options: [{ value: '', label: w.all }, ...organisations.map((o) => ({ value: o, label: o }))] })}
${select({ name: 'wijk', label: t.common.wijk, value: wijk ?? '', options: [{ value: '', label: t.staff.any }, ...wijken.map((x) => ({ value: x, label: x }))] })}
<div class="bf-actions">${button(t.common.filter, { variant: 'secondary' })}</div>
</form>
${
  cases.length
    ? table({
        head: [t.common.reference, t.common.title, t.common.wijk, w.organisation, w.waitingSince, w.state, t.common.actions],
        rows: cases.map((c) => [
          html`<a class="utrecht-link" href="${base(c.applicationId)}">${c.reference}</a>`,
          html`${c.title}<br><span class="bf-muted">${w.reason[c.reason]}</span>`,
          c.wijken.join(', '),
          c.organisation,
          formatDate(new Date(c.waitingSince), locale),
          c.claimedBy ? w.claimedBy(c.claimedBy.name) : w.states.unclaimed,
          !c.claimedBy && canClaim ? actionForm(`${base(c.applicationId)}/oppakken`, page.csrf, w.claimButton) : '',
        ]),
      })
    : paragraph(w.empty)
}
${organisation ? html`<p class="utrecht-paragraph"><a class="utrecht-link" href="${staffPaths.support}${query({ organisatie: '' })}">${w.all}</a></p>` : ''}`,
          { wide: true },
        );
      },
    },
    {
      method: 'get',
      path: `${staffPaths.support}/:id`,
      access: rule.read,
      async handler(page) {
        await casePage(page, page.param('id'));
      },
    },
    {
      method: 'post',
      path: `${staffPaths.support}/:id/oppakken`,
      access: rule.claim,
      async handler(page) {
        const id = page.param('id');
        try {
          await deps.support.claim(id, actor(page));
        } catch (err) {
          return refused(page, id, err);
        }
        page.req.log.info({ applicationId: id, supportWorkflowId: `support-${id}` }, 'support case claimed (page)');
        page.redirect(base(id), 'claimed');
      },
    },
    {
      method: 'post',
      path: `${staffPaths.support}/:id/teruggeven`,
      access: rule.release,
      async handler(page) {
        const id = page.param('id');
        try {
          await deps.support.release(id, actor(page));
        } catch (err) {
          return refused(page, id, err);
        }
        page.redirect(staffPaths.support, 'released');
      },
    },
    {
      method: 'post',
      path: `${staffPaths.support}/:id/overdragen`,
      access: rule.handover,
      async handler(page) {
        const id = page.param('id');
        const to = str(page.req.body as FormBody, 'toUserId');
        try {
          await deps.support.handover(id, actor(page), to);
        } catch (err) {
          return refused(page, id, err);
        }
        page.redirect(base(id), 'handed_over');
      },
    },
    {
      method: 'post',
      path: `${staffPaths.support}/:id/notities`,
      access: rule.notes,
      async handler(page) {
        const id = page.param('id');
        const body = (page.req.body ?? {}) as FormBody;
        const errors = new FormErrors();
        const input = validate(noteInputSchema, { kind: opt(body, 'kind'), text: opt(body, 'noteText') }, errors, { t: page.t, locale: page.locale, fieldOf: (p) => (p === 'text' ? 'noteText' : p) });
        if (!input) return casePage(page, id, { body, errors }, 422);
        try {
          await deps.support.addNote(id, actor(page), input);
        } catch (err) {
          return refused(page, id, err);
        }
        page.redirect(base(id), 'note_added');
      },
    },
  ];
}
