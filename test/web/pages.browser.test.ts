/**
 * The pages the whole-life test does not pass, in a real Chromium, each checked with
 * axe-core (WCAG 2.1 A/AA) empty, filled and with errors, and photographed: the budget
 * page with its chart, the English home page, login (wrong password, expired session),
 * a page that does not exist, another role's page (403), a broken status link (401),
 * staff pages in English, an expired form (CSRF), withdrawing with its confirm
 * step, the report form after the activity (with errors), the welfare queue and case
 * (one click to claim, notes, release), and the admin's budget, panel, audit log,
 * meetings and monitoring pages; the staff list filtered, empty and paged, a meeting not
 * yet frozen, and a granted application with the flag-for-support form.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { insertEvent } from '../../src/db/keys.ts';
import { recordAudit } from '../../src/services/audit.ts';
import { submittedApplication } from '../../src/db/models.ts';
import { amsterdamYear } from '../../src/domain/dates.ts';
import { eventually, type TestContext } from '../helpers/context.ts';
import { validApplication } from '../helpers/fixtures.ts';
import { grant, submitReady } from '../helpers/grants.ts';
import { upcomingMeetings } from '../../src/domain/meetings.ts';
import { calendarRules } from '../../src/temporal/schedule.ts';
import { asApplicant as openAsApplicant, browserSuite, DESKTOP, loginAs, PHONE, shoot, visible, type Tab } from '../helpers/browser.ts';

const year = amsterdamYear(new Date());
const suite = browserSuite({ env: { PUBLIC_BASE_URL: 'http://buurtfonds.test' } });
const { tab, accessible } = suite;
let ctx: TestContext;
beforeAll(() => {
  ctx = suite.ctx;
});

/** Opens the application's pages as its applicant would from the e-mail. */
const asApplicant = (t: Tab, applicationId: string) => openAsApplicant(t, ctx, applicationId);

describe('public pages', () => {
  it('the budget page: figures, the pace as a chart with a table beside it, the spread over the wijken (phone and desktop)', async () => {
    await grant(ctx, { wijken: ['Bovenveen', 'Damsigt'], activity: { startDate: `${year + 1}-03-01`, endDate: `${year + 1}-03-01`, location: 'Plein' } });
    for (const [name, viewport] of [['phone', PHONE], ['desktop', DESKTOP]] as const) {
      const t = await tab({ viewport });
      await t.page.goto(`/budget/${year + 1}`);
      await visible(t.page.getByRole('heading', { name: `Het budget van ${year + 1}` }));
      await visible(t.page.getByRole('img', { name: new RegExp(`Uitgegeven en toegekend geld in ${year + 1}`) }));
      await visible(t.page.getByRole('cell', { name: 'Bovenveen' }));
      await accessible(t.page, `the budget page (${name})`);
      await shoot(t.page, `budget-${name}`);
    }
  });

  it('switches to English and back, on every page through the header', async () => {
    const t = await tab({ viewport: PHONE });
    await t.page.goto('/aanvragen');
    await t.page.getByRole('link', { name: 'English' }).click();
    await visible(t.page.getByRole('heading', { name: 'Apply for money for your initiative' }));
    expect(new URL(t.page.url()).pathname).toBe('/aanvragen');
    expect(await t.page.getAttribute('html', 'lang')).toBe('en');
    await accessible(t.page, 'the English application form');
    await t.page.getByRole('button', { name: 'Send application' }).click();
    await visible(t.page.getByText('Enter your name.').first());
    await accessible(t.page, 'the English form with errors');
    await t.page.getByRole('link', { name: 'Nederlands' }).click();
    await visible(t.page.getByRole('heading', { name: 'Geld aanvragen voor uw initiatief' }));
  });

  it('login: empty, wrong password, expired session; a page that does not exist, one of another role (403), a broken status link (401); staff pages in English; an expired form', async () => {
    const t = await tab();
    const p = t.page;
    await p.goto('/inloggen');
    await accessible(p, 'the login page');
    await shoot(p, 'login-desktop');
    await p.getByLabel('E-mailadres').fill('panel1@buurtfonds.test');
    await p.getByLabel('Wachtwoord').fill('niet-het-wachtwoord');
    await p.getByRole('button', { name: 'Inloggen' }).click();
    await visible(p.getByText('Het e-mailadres of wachtwoord is onjuist.'));
    await accessible(p, 'the login page after a wrong password');
    await p.goto('/inloggen?terug=%2Fbeheer%2Faanvragen&verlopen=1');
    await visible(p.getByText('Uw sessie is verlopen.', { exact: false }));
    await accessible(p, 'the login page after an expired session');
    // Logging in from there goes back to where the person was.
    await p.getByLabel('E-mailadres').fill('panel1@buurtfonds.test');
    await p.getByLabel('Wachtwoord').fill('test-password-123');
    await p.getByRole('button', { name: 'Inloggen' }).click();
    await p.waitForURL(/\/beheer\/aanvragen$/);

    const r = await p.goto('/deze-pagina-bestaat-niet');
    expect(r?.status()).toBe(404);
    await visible(p.getByRole('heading', { name: 'Pagina niet gevonden' }));
    await accessible(p, 'the not-found page');
    // A page of another role (finance's payouts, for a panel member): 403, said plainly.
    expect((await p.goto('/beheer/uitbetalingen'))?.status()).toBe(403);
    await visible(p.getByRole('heading', { name: 'Geen toegang' }));
    await accessible(p, 'the forbidden page (403)');
    // A status link that does not work: 401 "Deze link werkt niet".
    expect((await p.goto(`/aanvraag/${crypto.randomUUID()}?token=kapot`))?.status()).toBe(401);
    await visible(p.getByRole('heading', { name: 'Deze link werkt niet' }));
    await accessible(p, 'the broken-link page (401)');
    // Staff pages in English.
    await p.goto('/beheer/aanvragen');
    await p.getByRole('link', { name: 'English' }).click();
    await visible(p.getByRole('heading', { name: 'Applications', exact: true }));
    await accessible(p, 'the English staff list');
    await p.goto('/beheer/vergaderingen');
    await accessible(p, 'the English meetings list (panel)');
    await p.getByRole('link', { name: 'Nederlands' }).click();
    await visible(p.getByRole('heading', { name: 'Aanvragen', exact: true }).or(p.getByRole('heading', { name: 'Vergaderingen' })));

    // A form sent after its CSRF cookie is gone (another tab logged out, cookies cleared): refused, said plainly.
    await p.goto('/aanvragen');
    await t.context.clearCookies();
    await p.getByRole('button', { name: 'Aanvraag versturen' }).click();
    await visible(p.getByRole('heading', { name: 'Het formulier is verlopen' }));
    await accessible(p, 'the expired-form page');
  });
});

describe('the applicant after the decision', () => {
  it('withdraws with a confirm step; the status page after it', async () => {
    const a = await submitReady(ctx);
    const t = await tab({ viewport: PHONE });
    await asApplicant(t, a.id);
    await t.page.getByRole('link', { name: 'Aanvraag intrekken' }).click();
    await visible(t.page.getByRole('heading', { name: 'Weet u zeker dat u de aanvraag wilt intrekken?' }));
    await accessible(t.page, 'the withdraw confirm page');
    await shoot(t.page, 'withdraw-phone');
    await t.page.getByLabel('Waarom trekt u de aanvraag in?').fill('Het feest gaat niet door.');
    await t.page.getByRole('button', { name: 'Ja, trek mijn aanvraag in' }).click();
    await visible(t.page.getByText('Uw aanvraag is ingetrokken.'));
    await visible(t.page.getByText('Ingetrokken').first());
    await accessible(t.page, 'the status page after withdrawal');
  });

  it('the report form after the activity: traffic light with words, cost lines, photos; errors at the fields', async () => {
    // The read model of an initiative whose activity is over (the workflow's follow-up stage is tested on the
    // time-skipping server; this page only renders it and checks the input before anything is sent).
    const id = crypto.randomUUID();
    const form = validApplication({ wantsSupport: false, supportWish: undefined });
    const doc = submittedApplication({ id, form: { ...form, coFunding: form.coFunding } as never, reference: 'VW-2026-9901', year, submittedAt: new Date() });
    await ctx.models.Application.collection.insertOne({
      ...doc,
      status: 'report_due',
      statusSeq: 20,
      decision: { meetingId: 'meeting-2026-01-08', outcome: 'approved', grantedCents: 60_050, requestedCents: 60_050, reasons: [], struckLines: [], decidedAt: new Date().toISOString() },
    } as never);
    await insertEvent(ctx.models, { _id: `${doc.workflowId}:19`, applicationId: id, at: new Date().toISOString(), type: 'report_due', status: 'report_due', note: new Date(Date.now() + 56 * 86_400_000).toISOString() });
    const t = await tab({ viewport: PHONE });
    await asApplicant(t, id);
    await visible(t.page.getByRole('heading', { name: 'Vertel hoe het ging' }));
    await visible(t.page.getByText('Groen: uitgevoerd zoals gepland'));
    await accessible(t.page, 'the report form');
    await shoot(t.page, 'report-phone');
    await t.page.getByLabel('Wat is er gebeurd?').fill('Kort');
    await t.page.getByLabel('Uitgave 1').fill('Partytent');
    await t.page.getByLabel('Bedrag 1 in euro').fill('veel');
    await t.page.getByRole('button', { name: 'Verantwoording versturen' }).click();
    await visible(t.page.getByRole('alert').filter({ hasText: 'Er is een probleem' }));
    await visible(t.page.getByText('Dit is te kort. Gebruik minstens 20 tekens.').first());
    await visible(t.page.getByText('Kies hoe het ging.').first());
    expect(await t.page.getByLabel('Bedrag 1 in euro').inputValue()).toBe('veel');
    await accessible(t.page, 'the report form with errors');
  });
});

describe('welfare workers', () => {
  it('see the queue of their organisation, claim with one click, keep notes, release', async () => {
    const g = await grant(ctx, { wijken: ['Bovenveen'], title: 'Huiswerkclub Bovenveen' });
    await eventually(async () => (await ctx.deps.support.get(g.id)) !== undefined, 20_000, 'support case queued');
    const t = await tab();
    const p = t.page;
    await loginAs(t, 'welzijn1@buurtfonds.test');
    await visible(p.getByRole('heading', { name: 'Wachtrij ondersteuning' }));
    await visible(p.getByRole('cell', { name: /Huiswerkclub Bovenveen/ }));
    await accessible(p, 'the support queue');
    await shoot(p, 'support-queue-desktop');
    // One click from the queue.
    await p.getByRole('row', { name: /Huiswerkclub Bovenveen/ }).getByRole('button', { name: 'Oppakken' }).click();
    await visible(p.getByText('U helpt dit initiatief nu.'));
    await visible(p.getByText('Opgepakt door Opbouwwerker Woej'));
    await p.getByRole('button', { name: 'Notitie opslaan' }).click();
    await visible(p.getByRole('alert').filter({ hasText: 'Schrijf de notitie.' }));
    await accessible(p, 'the support case with a note error');
    await p.getByLabel('Notitie', { exact: true }).fill('Gebeld met de initiatiefnemer: zoekt nog twee vrijwilligers.');
    await p.getByRole('button', { name: 'Notitie opslaan' }).click();
    await visible(p.getByText('De notitie is opgeslagen.'));
    await visible(p.getByText('Gebeld met de initiatiefnemer: zoekt nog twee vrijwilligers.'));
    await accessible(p, 'the support case with a note');
    await shoot(p, 'support-case-desktop');
    // Another worker sees who has it, and cannot take it.
    const other = await tab();
    await loginAs(other, 'welzijn2@buurtfonds.test');
    await other.page.goto('/beheer/ondersteuning?organisatie=');
    await visible(other.page.getByRole('row', { name: /Huiswerkclub Bovenveen/ }).getByText('Opgepakt door Opbouwwerker Woej'));
    expect(await other.page.getByRole('row', { name: /Huiswerkclub Bovenveen/ }).getByRole('button', { name: 'Oppakken' }).count()).toBe(0);
    await p.getByRole('button', { name: 'Teruggeven aan de wachtrij' }).click();
    await visible(p.getByText('Het initiatief staat weer in de wachtrij.'));
  });
});

describe('the municipality', () => {
  it('admin: budget (with a refusal), panel (add, errors), audit log (filtered, page 2), meetings, monitoring (also in English)', async () => {
    const t = await tab();
    const p = t.page;
    await loginAs(t, 'admin@buurtfonds.test');
    await p.goto('/beheer/budget');
    await accessible(p, 'the budget admin page');
    await p.getByLabel('Jaar', { exact: true }).fill(String(year + 1));
    await p.getByLabel('Budget in euro').fill('1');
    await p.getByRole('button', { name: 'Budget opslaan' }).click();
    await visible(p.getByText('Dit kan niet: er is al', { exact: false }).first());
    await accessible(p, 'the budget admin page with a refusal');
    await p.getByLabel('Budget in euro').fill('95.000');
    await p.getByRole('button', { name: 'Budget opslaan' }).click();
    await visible(p.getByText('Het budget is opgeslagen.'));
    await shoot(p, 'admin-budget-desktop');

    await p.goto('/beheer/panel');
    await p.getByRole('button', { name: 'Lid toevoegen' }).click();
    await visible(p.getByRole('alert').filter({ hasText: 'Er is een probleem' }));
    await accessible(p, 'the panel page with errors');
    await p.getByLabel('Naam', { exact: true }).fill('Nieuw Panellid');
    await p.getByRole('textbox', { name: 'E-mailadres' }).fill('panel6@buurtfonds.test');
    await p.getByLabel('Eerste wachtwoord').fill('een-lang-wachtwoord');
    await p.getByRole('button', { name: 'Lid toevoegen' }).click();
    await visible(p.getByText('Het panellid is toegevoegd.'));
    await visible(p.getByRole('cell', { name: 'Nieuw Panellid' }));

    await p.goto('/beheer/logboek');
    await visible(p.getByRole('cell', { name: 'panel.member_added' }));
    await accessible(p, 'the audit log');
    const actions = () => p.locator('tbody tr td:nth-child(3)').allInnerTexts();
    expect(new Set(await actions()).size, 'the audit log shows more than one kind of action').toBeGreaterThan(1);
    await p.getByLabel(/^Actie/).fill('panel.member_added');
    await p.getByRole('button', { name: 'Filteren' }).click();
    await p.waitForURL(/actie=panel\.member_added/);
    expect(new Set(await actions()), 'the audit log filtered by action').toEqual(new Set(['panel.member_added']));
    await accessible(p, 'the audit log, filtered');
    // More than a page (50) of entries: the second page.
    for (let n = 0; n < 50; n++) await recordAudit(ctx.models, { _id: crypto.randomUUID(), at: new Date(), actor: 'system', action: 'test.filler', target: `filler:${n}` });
    await p.goto('/beheer/logboek');
    await p.getByRole('link', { name: 'Volgende' }).click();
    await visible(p.getByText(/Pagina 2 van \d+/).first());
    expect(await p.locator('tbody tr').count()).toBeGreaterThan(0);
    await accessible(p, 'the audit log, page 2');
    await p.goto('/beheer/vergaderingen');
    await accessible(p, 'the meetings list (admin)');
    // The extra meeting's form, sent without its times: the errors at the fields.
    await p.getByRole('button', { name: 'Voeg de extra vergadering toe' }).click();
    await visible(p.getByRole('alert').filter({ hasText: 'Er is een probleem' }));
    await visible(p.getByText('Vul de begintijd in.').first());
    await accessible(p, 'the meetings list with errors in the extra meeting');
    await p.goto('/beheer/monitoring');
    await visible(p.getByRole('heading', { name: `Monitoring ${year}` }));
    await visible(p.getByRole('img', { name: /Toegekend geld per wijk/ }));
    await accessible(p, 'the monitoring page');
    await shoot(p, 'monitoring-desktop');
    await p.getByRole('link', { name: 'English' }).click();
    await visible(p.getByRole('heading', { name: `Monitoring ${year}` }));
    expect(await p.getAttribute('html', 'lang')).toBe('en');
    await accessible(p, 'the English monitoring page');
    await p.goto('/beheer/panel');
    await accessible(p, 'the English panel page');
    await p.getByRole('link', { name: 'Nederlands' }).click();
    await p.goto('/beheer/monitoring');
    const [download] = await Promise.all([p.waitForEvent('download'), p.getByRole('link', { name: 'Download de initiatieven (CSV voor Excel)' }).click()]);
    expect(download.suggestedFilename()).toBe(`initiatieven-${year}.csv`);
  });

  it('panel: the application page with an error in the information request; the list filtered, empty and paged; the meetings and one not yet frozen; the flag form after a decision (also in English)', async () => {
    const a = await submitReady(ctx);
    await ctx.http().post(`/api/v1/applications/${a.id}/information-requests`).set('Authorization', `Bearer ${await ctx.staff.panel()}`).send({ missing: 'x' });
    const fresh = await ctx.http().post('/api/v1/applications').send(validApplication());
    await eventually(async () => (await ctx.models.Application.findById(fresh.body.id, { status: 1 }).lean())?.status === 'screening', 15_000, 'in screening');
    const t = await tab();
    await loginAs(t, 'panel2@buurtfonds.test');
    await t.page.goto(`/beheer/aanvragen/${fresh.body.id}`);
    await t.page.getByRole('button', { name: 'Vraag om aanvulling' }).click();
    await visible(t.page.getByText('Schrijf wat er ontbreekt.').first());
    await accessible(t.page, 'the staff application page with an error');
    await shoot(t.page, 'staff-application-desktop');

    // The list filtered, empty, and on its second page.
    const p = t.page;
    await p.goto('/beheer/aanvragen');
    await p.getByLabel('Status', { exact: true }).selectOption('screening');
    await p.getByRole('button', { name: 'Filteren' }).click();
    await visible(p.getByRole('link', { name: fresh.body.reference }));
    await accessible(p, 'the staff list, filtered');
    await p.goto('/beheer/aanvragen?year=2000');
    await visible(p.getByText('Geen aanvragen gevonden.'));
    await accessible(p, 'the staff list, empty');
    await p.goto('/beheer/aanvragen?pageSize=1&page=2');
    await visible(p.getByText(/Pagina 2 van \d+/).first());
    await accessible(p, 'the staff list, page 2');

    // The meetings as a panel member, and a meeting whose agenda is not fixed yet.
    await p.goto('/beheer/vergaderingen');
    await accessible(p, 'the meetings list (panel member)');
    const planned = upcomingMeetings(calendarRules(ctx.config), [], new Date(), 3)[2]!;
    await p.goto(`/beheer/vergaderingen/${planned.meetingId}`);
    await visible(p.getByText('De agenda staat nog niet vast.', { exact: false }));
    await accessible(p, 'a meeting not yet frozen');

    // A granted application without support: the flag form; in English too.
    const g = await grant(ctx, { title: 'Buurtbankje Damsigt', wantsSupport: false, supportWish: undefined });
    await p.goto(`/beheer/aanvragen/${g.id}`);
    await visible(p.getByRole('button', { name: 'Zet in de wachtrij voor ondersteuning' }));
    await accessible(p, 'the staff application page after the decision (flag form)');
    await p.getByRole('link', { name: 'English' }).click();
    await visible(p.getByRole('button', { name: 'Put in the support queue' }));
    await accessible(p, 'the English staff application page');
    await p.getByRole('link', { name: 'Nederlands' }).click();
  });
});
