/** Pages for anyone: the fund (rules, next meeting, budget left), the public budget of a year, the language switch. */
import { amsterdamDate, amsterdamYear, formatDate, formatDateTime } from '../../domain/dates.ts';
import { euros } from '../../domain/page-messages.ts';
import type { ApiDeps } from '../../api/deps.ts';
import type { RouteSpec } from '../../api/route-spec.ts';
import { parseYear } from '../../api/routes/budget.ts';
import { AppError } from '../../domain/errors.ts';
import { barChart, lineChart } from '../charts.ts';
import { dataList, heading, paragraph, table } from '../components.ts';
import { html } from '../html.ts';
import { pagePaths } from '../paths.ts';
import { cookies, localPath, sameAccessAs, type Page, type PageSpec, type SharedPage } from '../router.ts';
import type { BudgetSummary, DayUse } from '../../budget/ledger.ts';

const monthsShort = {
  nl: ['jan', 'feb', 'mrt', 'apr', 'mei', 'jun', 'jul', 'aug', 'sep', 'okt', 'nov', 'dec'],
  en: ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'],
};

// Made once: an Intl formatter costs far more to make than to use (bench/pages).
const percentFormat = {
  nl: new Intl.NumberFormat('nl-NL', { style: 'percent', maximumFractionDigits: 0 }),
  en: new Intl.NumberFormat('en-GB', { style: 'percent', maximumFractionDigits: 0 }),
};
const wholeEuroFormat = {
  nl: new Intl.NumberFormat('nl-NL', { style: 'currency', currency: 'EUR', maximumFractionDigits: 0 }),
  en: new Intl.NumberFormat('en-IE', { style: 'currency', currency: 'EUR', maximumFractionDigits: 0 }),
};
const percent = (share: number, locale: 'nl' | 'en') => percentFormat[locale].format(share);

export function publicPages(deps: ApiDeps, routes: readonly RouteSpec[]): PageSpec[] {
  const now = () => deps.now?.() ?? new Date();
  const budgetAccess = sameAccessAs(routes, 'get', '/api/v1/budget/:year');

  return [
    {
      method: 'get',
      path: '/',
      access: ['anonymous'],
      async handler(page) {
        const { t, locale } = page;
        const at = now();
        const year = amsterdamYear(at);
        const [summary, meetings] = await Promise.all([deps.ledger.summary(year, at), deps.calendar.list(3)]);
        // The first meeting whose agenda is still open for new applications.
        const next = meetings.upcoming.find((m) => Date.parse(m.cutoffAt) > at.getTime());
        await page.renderShared(`home|${year}|${summary.entries}|${summary.totalCents}|${next?.id}|${next?.startsAt}|${next?.cutoffAt}`, () => ({
          title: t.home.title,
          content: html`${heading(1, t.home.title)}
${paragraph(t.home.lead(deps.config.fund.name), 'utrecht-paragraph--lead')}
<p class="utrecht-paragraph"><a class="utrecht-button-link utrecht-button-link--html-a utrecht-button-link--primary-action utrecht-button utrecht-button--primary-action" href="${pagePaths.apply}">${t.home.applyButton}</a></p>
<section class="bf-panel" aria-labelledby="budget-title">
${heading(2, t.home.budgetTitle(year), 'budget-title')}
${paragraph(t.home.budgetLeft(euros(summary.remainingCents, locale), euros(summary.totalCents, locale)))}
<p class="utrecht-paragraph"><a class="utrecht-link" href="${pagePaths.budget(year)}">${t.home.budgetLink}</a></p>
</section>
<section aria-labelledby="meeting-title">
${heading(2, t.home.nextMeetingTitle, 'meeting-title')}
${paragraph(next ? t.home.nextMeeting(formatDateTime(new Date(next.startsAt), locale), formatDateTime(new Date(next.cutoffAt), locale)) : t.home.noMeeting)}
</section>
<section aria-labelledby="who-title">${heading(2, t.home.whoTitle, 'who-title')}${paragraph(t.home.who)}</section>
<section aria-labelledby="what-title">${heading(2, t.home.whatTitle, 'what-title')}${paragraph(t.home.what)}</section>
<section aria-labelledby="rules-title">${heading(2, t.home.rulesTitle, 'rules-title')}
<ul class="utrecht-unordered-list">${t.home.rules(euros(deps.config.fund.maxAmountCents, locale)).map((r) => html`<li class="utrecht-unordered-list__item">${r}</li>`)}</ul></section>
<section aria-labelledby="how-title">${heading(2, t.home.howTitle, 'how-title')}
<ol class="utrecht-ordered-list">${t.home.how.map((r) => html`<li class="utrecht-ordered-list__item">${r}</li>`)}</ol></section>`,
        }));
      },
    },
    {
      method: 'get',
      path: '/budget',
      access: budgetAccess,
      handler(page) {
        page.res.redirect(302, pagePaths.budget(amsterdamYear(now())));
      },
    },
    {
      method: 'get',
      path: '/budget/:year',
      access: budgetAccess,
      async handler(page) {
        let year: number;
        try {
          year = parseYear(page.param('year'));
        } catch {
          throw new AppError(404, 'not_found');
        }
        await budgetPage(page, deps, year, now());
      },
    },
    {
      method: 'get',
      path: '/taal/:lang',
      access: ['anonymous'],
      handler(page) {
        const lang = page.param('lang') === 'en' ? 'en' : 'nl';
        page.res.cookie(cookies.lang, lang, { path: '/', sameSite: 'lax', httpOnly: true, secure: deps.config.env === 'production', maxAge: 365 * 24 * 60 * 60 * 1000 });
        page.res.redirect(303, localPath(page.req.query.terug));
      },
    },
  ];
}

/** The budget of a year: the figures, the pace as a chart and a table, the spread over the wijken. */
async function budgetPage(page: Page, deps: ApiDeps, year: number, at: Date): Promise<void> {
  const { t, locale } = page;
  const s = await deps.ledger.summary(year, at);
  // The page changes with the journal (its length), the day (the pace) and the year we are in.
  await page.renderShared(`budget|${year}|${s.entries}|${s.pace.asOf}`, async () => budgetContent(page, deps, s, await deps.ledger.usedPerDay(year), at));
}

/** `days`: committed + paid at the end of each day with entries, in journal order (the ledger's fold; never the journal). */
function budgetContent(page: Page, deps: ApiDeps, s: BudgetSummary, days: readonly DayUse[], at: Date): SharedPage {
  const { t, locale } = page;
  const year = s.year;
  const today = amsterdamDate(at);
  const thisYear = amsterdamYear(at);
  // Granted and paid at the end of each month (Amsterdam), up to this month; an even pace beside it.
  const daysInYear = (Date.UTC(year + 1, 0, 1) - Date.UTC(year, 0, 1)) / 86_400_000;
  const months = Array.from({ length: 12 }, (_, m) => {
    const end = new Date(Date.UTC(year, m + 1, 0)).toISOString().slice(0, 10);
    // A year still to come shows what is already committed to it at its first month.
    const reached = year < thisYear || (year === thisYear && end.slice(0, 7) <= today.slice(0, 7)) || (year > thisYear && m === 0);
    const asOf = year === thisYear && end > today ? today : end;
    const last = days.findLast((d) => d.day <= asOf);
    const used = last ? last.usedCents : 0;
    const dayOfYear = (Date.parse(`${end}T00:00:00Z`) - Date.UTC(year, 0, 1)) / 86_400_000 + 1;
    return { label: monthsShort[locale][m]!, used: reached ? used : null, even: Math.round((s.totalCents * dayOfYear) / daysInYear) };
  });
  const money = (c: number) => euros(c, locale);
  const yLabel = (c: number) => wholeEuroFormat[locale].format(c / 100);
  const wijken = s.perWijk.length ? s.perWijk : [];
  return {
    title: t.budgetPage.title(year),
    content: html`${heading(1, t.budgetPage.title(year))}
${paragraph(t.budgetPage.intro(deps.config.fund.name))}
<div class="bf-figures">
${[
  [t.budgetPage.total, money(s.totalCents)],
  [t.budgetPage.committed, money(s.committedCents)],
  [t.budgetPage.paid, money(s.paidCents)],
  [t.budgetPage.remaining, money(s.remainingCents)],
  [t.budgetPage.grants, String(s.grants)],
].map(([k, v]) => html`<div class="bf-figure"><span>${k}</span><span class="bf-figure__value">${v}</span></div>`)}
</div>
<section aria-labelledby="pace-title">
${heading(2, t.budgetPage.paceTitle, 'pace-title')}
${paragraph(t.budgetPage.paceText(percent(s.pace.shareUsed, locale), percent(s.pace.shareOfYearGone, locale)))}
<ul class="bf-legend"><li><span class="bf-legend__swatch bf-legend__swatch--line"></span>${t.budgetPage.used}</li><li><span class="bf-legend__swatch bf-legend__swatch--even"></span>${t.budgetPage.straightLine}</li></ul>
${lineChart({
  title: t.budgetPage.paceChart(year),
  description: t.budgetPage.paceText(percent(s.pace.shareUsed, locale), percent(s.pace.shareOfYearGone, locale)),
  xLabels: months.map((m) => m.label),
  series: [
    { values: months.map((m) => m.even), className: 'bf-chart__line--even' },
    { values: months.map((m) => m.used), className: '', dots: true },
  ],
  yMax: Math.max(s.totalCents, ...months.map((m) => m.used ?? 0)),
  yLabel,
})}
${table({
  caption: t.budgetPage.paceChart(year),
  head: [t.budgetPage.month, t.budgetPage.usedAtEnd, t.budgetPage.evenPace],
  rows: months.map((m) => [m.label, m.used === null ? '–' : money(m.used), money(m.even)]),
  numeric: [1, 2],
})}
</section>
<section aria-labelledby="wijken-title">
${heading(2, t.budgetPage.wijkenTitle, 'wijken-title')}
${paragraph(t.budgetPage.wijkenNote)}
${wijken.length ? barChart({ title: t.budgetPage.wijkenChart, description: t.budgetPage.wijkenNote, bars: wijken.map((w) => ({ label: w.wijk, value: w.grantedCents })), valueLabel: money }) : ''}
${table({
  caption: t.budgetPage.wijkenChart,
  head: [t.common.wijk, t.budgetPage.grantsColumn, t.budgetPage.amountColumn],
  rows: wijken.map((w) => [w.wijk, String(w.grants), money(w.grantedCents)]),
  numeric: [1, 2],
})}
</section>
<nav aria-labelledby="years-title">${heading(2, t.budgetPage.otherYears, 'years-title')}
<p class="utrecht-paragraph">${[thisYear - 1, thisYear, thisYear + 1]
      .filter((y) => y !== year)
      .map((y, i) => html`${i ? ' · ' : ''}<a class="utrecht-link" href="${pagePaths.budget(y)}">${String(y)}</a>`)}</p></nav>
${dataList([[t.common.date, formatDate(at, locale)]])}`,
  };
}
