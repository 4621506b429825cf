/**
 * The municipality's pages: the budget per year (admin sets it; finance reads it and
 * the journal), the panel members and the chair, the audit log, and the monitoring
 * figures for the council ("tellen en vertellen": tables and charts per wijk with the
 * focus wijken, per purpose and per month, the CSV for Excel, the stories).
 */
import { pipeline } from 'node:stream/promises';
import type { ApiDeps } from '../../api/deps.ts';
import { isAllowed } from '../../api/auth.ts';
import type { RouteSpec } from '../../api/route-spec.ts';
import { yearJournalCsv } from '../../api/routes/budget.ts';
import { reportsFor } from '../../api/routes/reports.ts';
import { WHOLE_MUNICIPALITY } from '../../domain/application.ts';
import { amsterdamYear, formatDateTime } from '../../domain/dates.ts';
import { AppError } from '../../domain/errors.ts';
import { panelMemberInputSchema } from '../../domain/meeting-inputs.ts';
import { euros } from '../../domain/page-messages.ts';
import { fieldProblemTexts } from '../../domain/validation-messages.ts';
import type { Figures } from '../../reports/figures.ts';
import { csvFileName, initiativesCsv } from '../../reports/csv.ts';
import { queryAudit } from '../../services/audit.ts';
import { setBudgetTotal } from '../../services/budget.ts';
import { barChart } from '../charts.ts';
import { actionForm, button, csrfField, errorSummary, FormErrors, heading, pagination, paragraph, query, select, table, textField } from '../components.ts';
import { amount, opt, str, validate, type FormBody } from '../forms.ts';
import { html } from '../html.ts';
import { pagePaths, staffPaths } from '../paths.ts';
import { sameAccessAs, type Page, type PageSpec } from '../router.ts';

const monthNames = {
  nl: ['januari', 'februari', 'maart', 'april', 'mei', 'juni', 'juli', 'augustus', 'september', 'oktober', 'november', 'december'],
  en: ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'],
};

/** Stories per page on the monitoring page. */
const STORIES_PER_PAGE = 10;

/** The page number asked for (`pagina`), 1 when absent or not a number. */
const pageNumber = (raw: unknown) => Math.max(1, Math.min(10_000, Math.floor(Number(raw)) || 1));

export function adminPages(deps: ApiDeps, routes: readonly RouteSpec[]): PageSpec[] {
  const rule = {
    setBudget: sameAccessAs(routes, 'put', '/api/v1/budget/:year'),
    journal: sameAccessAs(routes, 'get', '/api/v1/budget/:year/journal'),
    members: sameAccessAs(routes, 'get', '/api/v1/panel/members'),
    addMember: sameAccessAs(routes, 'post', '/api/v1/panel/members'),
    deactivate: sameAccessAs(routes, 'post', '/api/v1/panel/members/:id/deactivate'),
    chair: sameAccessAs(routes, 'post', '/api/v1/panel/members/:id/chair'),
    audit: sameAccessAs(routes, 'get', '/api/v1/audit'),
    summary: sameAccessAs(routes, 'get', '/api/v1/reports/summary'),
    csv: sameAccessAs(routes, 'get', '/api/v1/reports/initiatives.csv'),
    stories: sameAccessAs(routes, 'get', '/api/v1/reports/stories'),
  };
  const now = () => deps.now?.() ?? new Date();
  const storyWijken = [...deps.config.fund.wijken, WHOLE_MUNICIPALITY];
  const yearOf = (raw: unknown) => {
    const y = typeof raw === 'string' && /^\d{4}$/.test(raw) ? Number(raw) : amsterdamYear(now());
    return y >= 2000 && y <= 2100 ? y : amsterdamYear(now());
  };

  async function budgetPage(page: Page, form?: { body: FormBody; errors: FormErrors }, status = 200): Promise<void> {
    const { t, locale } = page;
    const a = t.admin;
    const thisYear = amsterdamYear(now());
    const years = [thisYear - 1, thisYear, thisYear + 1];
    const summaries = await Promise.all(years.map((y) => deps.ledger.summary(y, now())));
    const canSet = isAllowed(rule.setBudget, page.principal, page.req.params);
    const errors = form?.errors ?? new FormErrors();
    page.render(
      a.budgetTitle,
      html`${heading(1, a.budgetTitle)}
${errorSummary(t, errors)}
${table({
  head: [a.budgetYear, t.budgetPage.total, t.budgetPage.committed, t.budgetPage.paid, t.budgetPage.remaining, t.common.actions],
  rows: summaries.map((s) => [
    String(s.year),
    euros(s.totalCents, locale),
    euros(s.committedCents, locale),
    euros(s.paidCents, locale),
    euros(s.remainingCents, locale),
    html`<a class="utrecht-link" href="${pagePaths.budget(s.year)}">${t.budgetPage.title(s.year)}</a>${isAllowed(rule.journal, page.principal, page.req.params) ? html` · <a class="utrecht-link" href="${staffPaths.budget}/${s.year}/journaal.csv" download>${a.journal}</a>` : ''}`,
  ]),
  numeric: [1, 2, 3, 4],
})}
${
  canSet
    ? html`<form class="bf-form bf-filters" method="post" action="${staffPaths.budget}" novalidate>${csrfField(page.csrf)}
${textField({ name: 'year', label: a.budgetYear, value: form ? str(form.body, 'year') : String(thisYear), inputmode: 'numeric', width: 'short', error: errors.of('year') })}
${textField({ name: 'total', label: a.budgetTotal, value: form ? str(form.body, 'total') : '', inputmode: 'decimal', prefix: '€', width: 'medium', error: errors.of('total') })}
<div class="bf-actions">${button(a.budgetSave)}</div></form>`
    : ''
}`,
      { status, hasErrors: errors.any, wide: true },
    );
  }

  async function panelPage(page: Page, form?: { body: FormBody; errors: FormErrors }, status = 200): Promise<void> {
    const { t } = page;
    const a = t.admin;
    const members = await deps.panel.members();
    const errors = form?.errors ?? new FormErrors();
    const v = (n: string) => (form ? str(form.body, n) : '');
    page.render(
      a.panelTitle,
      html`${heading(1, a.panelTitle)}
${errorSummary(t, errors)}
${table({
  head: [a.memberName, a.memberEmail, t.common.status, t.common.actions],
  rows: members.map((m) => [
    `${m.name}${m.chair ? ` (${t.meeting.chair})` : ''}`,
    m.email,
    m.active ? a.active : a.inactive,
    m.active
      ? html`${!m.chair ? actionForm(`${staffPaths.panel}/${m.id}/voorzitter`, page.csrf, a.makeChair, { variant: 'secondary' }) : ''} ${actionForm(`${staffPaths.panel}/${m.id}/deactiveren`, page.csrf, a.deactivate, { variant: 'danger' })}`
      : '',
  ]),
})}
${heading(2, a.addMember)}
<form class="bf-form" method="post" action="${staffPaths.panel}" novalidate>${csrfField(page.csrf)}
${textField({ name: 'name', label: a.memberName, value: v('name'), error: errors.of('name') })}
${textField({ name: 'email', label: a.memberEmail, type: 'email', value: v('email'), spellcheck: false, error: errors.of('email') })}
${textField({ name: 'password', label: a.memberPassword, hint: a.memberPasswordHint, type: 'password', autocomplete: 'new-password', error: errors.of('password') })}
<div class="bf-actions">${button(a.addMember)}</div></form>`,
      { status, hasErrors: errors.any },
    );
  }

  const by = (page: Page) => ({ userId: page.staff!.userId, requestId: String(page.req.id) });

  /** The figures of a row of the monitoring tables. */
  function figureCells(f: Figures, locale: 'nl' | 'en') {
    return [String(f.applications), String(f.grantedFull), String(f.grantedPartial), String(f.rejected + f.rejectedBudgetExhausted), euros(f.requestedCents, locale), euros(f.grantedCents, locale), euros(f.paidCents, locale), `${f.participantsExpected} / ${f.participantsReached}`];
  }

  return [
    {
      method: 'get',
      path: staffPaths.budget,
      access: rule.journal,
      async handler(page) {
        await budgetPage(page);
      },
    },
    {
      method: 'post',
      path: staffPaths.budget,
      access: rule.setBudget,
      async handler(page) {
        const { t } = page;
        const body = (page.req.body ?? {}) as FormBody;
        const errors = new FormErrors();
        const year = Number(str(body, 'year'));
        if (!/^\d{4}$/.test(str(body, 'year')) || year < 2000 || year > 2100) errors.add('year', fieldProblemTexts[page.locale].invalid);
        const cents = amount(body, 'total', errors, t);
        if (cents === undefined && !errors.of('total')) errors.add('total', t.fields.required.totalCents!);
        if (errors.any || cents === undefined) return budgetPage(page, { body, errors }, 422);
        try {
          await setBudgetTotal(deps.ledger, { year, totalCents: cents, actor: page.actor, requestId: String(page.req.id) });
        } catch (err) {
          if (err instanceof AppError && err.code === 'budget_below_committed') {
            const d = err.details[0] as unknown as { committedCents: number; paidCents: number };
            errors.add('total', t.admin.budgetBelow(euros(d.committedCents, page.locale), euros(d.paidCents, page.locale)));
            return budgetPage(page, { body, errors }, 409);
          }
          throw err;
        }
        page.redirect(staffPaths.budget, 'budget_saved');
      },
    },
    {
      method: 'get',
      path: `${staffPaths.budget}/:year/journaal.csv`,
      access: rule.journal,
      async handler(page) {
        const year = yearOf(page.param('year'));
        page.res.type('text/csv; charset=utf-8').attachment(`budget-${year}-journal.csv`).send(await yearJournalCsv(deps.ledger, year));
      },
    },
    {
      method: 'get',
      path: staffPaths.panel,
      access: rule.members,
      async handler(page) {
        await panelPage(page);
      },
    },
    {
      method: 'post',
      path: staffPaths.panel,
      access: rule.addMember,
      async handler(page) {
        const body = (page.req.body ?? {}) as FormBody;
        const errors = new FormErrors();
        const input = validate(panelMemberInputSchema, { name: opt(body, 'name'), email: opt(body, 'email'), password: typeof body.password === 'string' && body.password ? body.password : undefined }, errors, { t: page.t, locale: page.locale });
        if (!input) return panelPage(page, { body, errors }, 422);
        try {
          await deps.panel.add(input, by(page));
        } catch (err) {
          if (err instanceof AppError && err.code === 'email_taken') {
            errors.add('email', page.message(err));
            return panelPage(page, { body, errors }, 409);
          }
          throw err;
        }
        page.redirect(staffPaths.panel, 'member_added');
      },
    },
    {
      method: 'post',
      path: `${staffPaths.panel}/:id/voorzitter`,
      access: rule.chair,
      async handler(page) {
        try {
          await deps.panel.nameChair(page.param('id'), by(page));
        } catch (err) {
          if (err instanceof AppError && err.status === 409) return page.redirect(staffPaths.panel, 'not_possible');
          throw err;
        }
        page.redirect(staffPaths.panel, 'chair_named');
      },
    },
    {
      method: 'post',
      path: `${staffPaths.panel}/:id/deactiveren`,
      access: rule.deactivate,
      async handler(page) {
        await deps.panel.deactivate(page.param('id'), by(page));
        page.redirect(staffPaths.panel, 'member_deactivated');
      },
    },
    {
      method: 'get',
      path: staffPaths.audit,
      access: rule.audit,
      async handler(page) {
        const { t, locale } = page;
        const a = t.admin;
        const q = page.req.query;
        const action = typeof q.actie === 'string' ? q.actie.slice(0, 100) : '';
        const target = typeof q.onderwerp === 'string' ? q.onderwerp.slice(0, 200) : '';
        const pageNo = pageNumber(q.pagina);
        const pageSize = 50;
        const result = await queryAudit(deps.models, { ...(action ? { action } : {}), ...(target ? { target } : {}), offset: (pageNo - 1) * pageSize, limit: pageSize });
        page.render(
          a.auditTitle,
          html`${heading(1, a.auditTitle)}
<form class="bf-form bf-filters" method="get" action="${staffPaths.audit}">
${textField({ name: 'actie', label: a.auditFilterAction, value: action })}
${textField({ name: 'onderwerp', label: a.auditFilterTarget, value: target })}
<div class="bf-actions">${button(t.common.filter, { variant: 'secondary' })}</div></form>
${
  result.entries.length
    ? table({
        head: [a.auditWhen, a.auditActor, a.auditAction, a.auditTarget],
        rows: result.entries.map((e) => [formatDateTime(new Date(e.at), locale), e.actor, e.action, e.target]),
      })
    : paragraph(a.auditNone)
}
${pagination(t, { page: pageNo, pageSize, total: result.total, href: (p) => `${staffPaths.audit}${query({ actie: action, onderwerp: target, pagina: p })}` })}`,
          { wide: true },
        );
      },
    },
    {
      method: 'get',
      path: staffPaths.monitoring,
      access: rule.summary,
      async handler(page) {
        const { t, locale } = page;
        const a = t.admin;
        const year = yearOf(page.req.query.jaar);
        const reports = reportsFor(deps);
        // The stories a page at a time (by key: src/reports/stories.ts), of one wijk or all.
        const storyWijk = typeof page.req.query.wijk === 'string' && storyWijken.includes(page.req.query.wijk) ? page.req.query.wijk : undefined;
        const storyPage = pageNumber(page.req.query.pagina);
        const [served, stories] = await Promise.all([
          reports.summary(year),
          reports.stories(year, { ...(storyWijk ? { wijk: storyWijk } : {}), offset: (storyPage - 1) * STORIES_PER_PAGE, limit: STORIES_PER_PAGE }),
        ]);
        const s = served.value;
        const head = [a.applications, a.grantedFull, a.grantedPartial, a.rejected, a.requestedMoney, a.grantedMoney, a.paidMoney, a.participants];
        const num = [1, 2, 3, 4, 5, 6, 7];
        page.render(
          a.monitoringTitle(year),
          html`${heading(1, a.monitoringTitle(year))}
${paragraph(a.monitoringIntro)}
${paragraph(a.asOf(formatDateTime(served.asOf, locale)), 'bf-muted')}
<p class="utrecht-paragraph"><a class="utrecht-link" href="${staffPaths.monitoring}/initiatieven.csv${query({ jaar: year })}" download>${a.csv}</a> · ${[year - 1, year + 1].map((y, i) => html`${i ? ' · ' : ''}<a class="utrecht-link" href="${staffPaths.monitoring}${query({ jaar: y })}">${String(y)}</a>`)}</p>
${heading(2, a.totals)}
${table({ head, rows: [figureCells(s.totals, locale)], numeric: num.map((n) => n - 1) })}
${paragraph(html`<strong>${a.lights}:</strong> ${a.lightsText(s.totals.trafficLights.green, s.totals.trafficLights.orange, s.totals.trafficLights.red)}`)}
${heading(2, a.perWijk)}
<ul class="bf-legend"><li><span class="bf-legend__swatch bf-legend__swatch--bar"></span>${t.common.wijk}</li><li><span class="bf-legend__swatch bf-legend__swatch--focus"></span>${a.focus}</li></ul>
${barChart({ title: a.perWijkChart, description: a.perWijkChart, bars: s.perWijk.map((w) => ({ label: w.wijk, value: w.grantedCents, className: w.focus ? 'bf-chart__bar--focus' : '' })), valueLabel: (c) => euros(c, locale) })}
${table({ head: [t.common.wijk, a.focus, ...head, a.spread], rows: s.perWijk.map((w) => [w.wijk, w.focus ? t.common.yes : t.common.no, ...figureCells(w, locale), w.spread.ratio === null ? '–' : String(w.spread.ratio)]), numeric: [2, 3, 4, 5, 6, 7, 8, 9, 10] })}
${heading(2, a.perPurpose)}
${table({ head: [a.purpose, ...head], rows: s.perPurpose.map((p) => [t.purposes[p.purpose as keyof typeof t.purposes] ?? p.purpose, ...figureCells(p, locale)]), numeric: num })}
${heading(2, a.perMonth)}
${barChart({ title: a.perMonthChart, description: a.perMonthChart, bars: s.perMonth.map((m) => ({ label: monthNames[locale][Number(m.month.slice(5, 7)) - 1] ?? m.month, value: m.applications })), valueLabel: (n) => String(n) })}
${table({ head: [a.month, ...head], rows: s.perMonth.map((m) => [monthNames[locale][Number(m.month.slice(5, 7)) - 1] ?? m.month, ...figureCells(m, locale)]), numeric: num })}
${heading(2, a.stories, 'verhalen')}
<form class="bf-form bf-filters" method="get" action="${staffPaths.monitoring}#verhalen"><input type="hidden" name="jaar" value="${String(year)}">
${select({ name: 'wijk', label: a.storiesWijk, value: storyWijk ?? '', options: [{ value: '', label: t.staff.any }, ...storyWijken.map((w) => ({ value: w, label: w }))] })}
<div class="bf-actions">${button(t.common.filter, { variant: 'secondary' })}</div></form>
${
  stories.value.stories.length
    ? html`<ul class="bf-cards">${stories.value.stories.map(
        (st) => html`<li class="bf-card"><h3 class="utrecht-heading-3"><a class="utrecht-link" href="${pagePaths.application(st.applicationId)}">${st.title}</a></h3>
<p class="utrecht-paragraph bf-muted">${st.reference} · ${st.wijken.join(', ')}${st.trafficLight ?? st.selfAssessment ? html` · <span class="bf-traffic bf-traffic--${st.trafficLight ?? st.selfAssessment}">${t.trafficLightShort[(st.trafficLight ?? st.selfAssessment)!]}</span>` : ''}</p>
<p class="utrecht-paragraph bf-pre">${st.text}</p>
${st.photos.length ? html`<ul class="utrecht-unordered-list">${st.photos.map((p) => html`<li class="utrecht-unordered-list__item"><a class="utrecht-link" href="${pagePaths.application(st.applicationId)}/documenten/${p.id}">${p.fileName}</a></li>`)}</ul>` : ''}</li>`,
      )}</ul>`
    : paragraph(storyWijk ? a.noStoriesInWijk : a.noStories)
}
${pagination(t, { page: storyPage, pageSize: STORIES_PER_PAGE, total: stories.value.total, href: (p) => `${staffPaths.monitoring}${query({ jaar: year, wijk: storyWijk, pagina: p })}#verhalen` })}`,
          { wide: true },
        );
      },
    },
    {
      method: 'get',
      path: `${staffPaths.monitoring}/initiatieven.csv`,
      access: rule.csv,
      async handler(page) {
        const year = yearOf(page.req.query.jaar);
        // A download of every initiative of the year: the one page that reads a year (see the API route's comment).
        const served = await reportsFor(deps).rows(year);
        page.res.attachment(csvFileName(year, page.locale)).set('Content-Type', 'text/csv; charset=utf-8; header=present');
        await pipeline(initiativesCsv(served.value, { lang: page.locale, separator: ';', amounts: 'euros', focusWijken: deps.config.reports.focusWijken }), page.res);
      },
    },
  ];
}
