/** The page shell: head, skip link, the fund's header with the language switch, the staff menu, the footer. */
import type { Principal } from '../auth/tokens.ts';
import type { StaffRole } from '../db/models.ts';
import type { Locale } from '../domain/messages.ts';
import type { PageTexts } from '../domain/page-messages.ts';
import { assetUrl } from './assets.ts';
import { html, type SafeHtml } from './html.ts';
import { staffPaths } from './paths.ts';

export interface LayoutInput {
  title: string;
  content: SafeHtml;
  locale: Locale;
  t: PageTexts;
  fundName: string;
  principal?: Principal;
  /** The path of this page (for the language switch and the menu's current item). */
  path: string;
  /** The CSRF token (made only when the page has a form that needs it: the staff's logout). */
  csrf: () => string;
  /** The title gets "Fout: " in front when the page shows form errors (screen readers hear it first). */
  hasErrors?: boolean;
  /** Loads the small progressive-enhancement script. */
  script?: boolean;
  /** Wider content (staff tables). */
  wide?: boolean;
  notice?: SafeHtml;
}

const menu: Record<StaffRole, readonly (keyof typeof staffPaths)[]> = {
  panel: ['applications', 'meetings', 'monitoring'],
  welfare: ['support'],
  finance: ['payouts', 'budget'],
  admin: ['applications', 'meetings', 'panel', 'budget', 'payouts', 'support', 'audit', 'monitoring'],
};

function staffNav(role: StaffRole, t: PageTexts, current: string): SafeHtml {
  return html`<nav class="bf-nav" aria-label="${t.nav.staffNav}"><div class="bf-container"><ul>${menu[role].map((item) => {
    const href = staffPaths[item];
    const here = current === href || current.startsWith(`${href}/`);
    return html`<li><a class="utrecht-link" href="${href}"${here ? html` aria-current="page"` : ''}>${t.nav[item]}</a></li>`;
  })}</ul></div></nav>`;
}

export function layout(p: LayoutInput): SafeHtml {
  const { t } = p;
  const staff = p.principal?.kind === 'staff' ? p.principal : undefined;
  const other = t.common.switchToLang;
  return html`<!doctype html>
<html lang="${p.locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${p.hasErrors ? t.common.errorTitlePrefix : ''}${p.title} – ${p.fundName}</title>
<link rel="stylesheet" href="${assetUrl('utrecht.css')}">
<link rel="stylesheet" href="${assetUrl('tokens.css')}">
<link rel="stylesheet" href="${assetUrl('buurtfonds.css')}">
${p.script ? html`<script src="${assetUrl('buurtfonds.js')}" defer></script>` : ''}
</head>
<body class="utrecht-document voorbeeld-theme buurtfonds-theme${p.wide ? ' bf-wide' : ''}">
<a class="utrecht-skip-link" href="#inhoud">${t.common.skipLink}</a>
<header class="bf-header">
<div class="bf-container bf-header__bar">
<a class="bf-brand" href="${staff ? '/beheer' : '/'}">${p.fundName}<span class="bf-brand__sub">${t.home.title}</span></a>
<div class="bf-header__tools">
<a href="/taal/${other}?terug=${encodeURIComponent(p.path)}" lang="${other}" hreflang="${other}">${t.common.switchTo}</a>
${
  staff
    ? html`<span>${t.common.loggedInAs(staff.name)}</span><form method="post" action="/uitloggen"><input type="hidden" name="_csrf" value="${p.csrf()}"><button class="bf-linkbutton" type="submit">${t.common.logout}</button></form>`
    : html`<a href="/budget">${t.common.budget}</a>`
}
</div>
</div>
</header>
${staff ? staffNav(staff.role, t, p.path) : ''}
<main id="inhoud" class="bf-container" tabindex="-1">
${p.notice ?? ''}
${p.content}
</main>
<footer class="bf-footer">
<div class="bf-container">
<p>${t.common.footer(p.fundName)}</p>
<p>${staff ? '' : html`<a class="utrecht-link" href="/inloggen">${t.common.staffLogin}</a>`}</p>
</div>
</footer>
</body>
</html>`;
}
