/**
 * The whole life of an initiative through the pages only, in a real Chromium:
 * a resident applies on a 360 px phone with a PDF → a panel member asks for information
 * → the resident answers through the e-mail's status link → the panel marks it complete
 * → a meeting: five members vote in five browser profiles, one recuses → the chair
 * closes → the decision on the resident's status page → finance makes the SEPA batch,
 * downloads it and reports it executed → paid.
 *
 * Nothing is done through the API; the only step the test takes itself is what the
 * clock does in production: the meeting's agenda cut-off (the Schedule starts the
 * meeting workflow), here set to now. Every page on the way is checked with axe-core
 * (WCAG 2.1 A/AA) and watched for script errors, CSP violations and dialogs; the main
 * pages are photographed for the README.
 *
 * On the way it also checks: the home page's figures (budget left, next meeting and its
 * cut-off); the answer form's error and an answer with a file; the agenda's fair-spread
 * figures and budget left (an earlier grant to the same resident and wijk); one member
 * voting partially with JavaScript off; the results table; and, at the end, the login
 * page's answer to too many failed attempts (429). The resident's pages fit the 360 px
 * phone (nothing to scroll sideways).
 */
import { describe, expect, it } from 'vitest';
import { formatDateTime } from '../../src/domain/dates.ts';
import { planMeeting, upcomingMeetings } from '../../src/domain/meetings.ts';
import { euros } from '../../src/domain/page-messages.ts';
import { calendarRules, meetingInput } from '../../src/temporal/schedule.ts';
import { meetingStateQuery, type panelMeetingWorkflow } from '../../workflows/meeting.ts';
import { eventually } from '../helpers/context.ts';
import { pdfBytes, validApplication } from '../helpers/fixtures.ts';
import { grant } from '../helpers/grants.ts';
import { statusLinkIn } from '../helpers/web.ts';
import { axeWithoutScript, browserSuite, fitsWidth, DESKTOP, loginAs, PHONE, shoot, visible, type Tab } from '../helpers/browser.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
const amsterdamDay = (at: Date) => at.toLocaleDateString('sv-SE', { timeZone: 'Europe/Amsterdam' });
/** This file's own meeting calendar: its first meeting 3 days from now (no other test file uses that date). */
const meetingDate = amsterdamDay(new Date(Date.now() + 3 * DAY_MS));

let meetingId: string | undefined;
const suite = browserSuite({ env: { MEETING_FIRST_DATE: meetingDate, PUBLIC_BASE_URL: 'http://buurtfonds.test' } }, async ({ ctx }) => {
  if (meetingId) await ctx.client.workflow.getHandle(meetingId).terminate('test over').catch(() => undefined);
});
const { tab, accessible } = suite;

async function statusInDb(id: string, status: string, timeoutMs = 20_000): Promise<void> {
  await eventually(async () => (await suite.ctx.models.Application.findById(id, { status: 1 }).lean())?.status === status, timeoutMs, `application in ${status}`);
}

// A long scenario (five browser profiles, a meeting, a payout): more than the default minute on a loaded machine.
describe('the whole life through the pages', { timeout: 180_000 }, () => {
  it('a resident applies on a phone, the panel screens and decides, finance pays: every step in the browser', async () => {
    const { ctx } = suite;
    // --- The resident applies on a 360 px phone, with a PDF.
    const resident = await tab({ viewport: PHONE });
    const r = resident.page;
    await r.goto('/');
    await accessible(r, 'the home page');
    await fitsWidth(r, 'the home page');
    // The figures: the whole budget of the year still left, the next meeting whose cut-off is ahead.
    const totalCents = ctx.config.fund.annualBudgetCents;
    const next = upcomingMeetings(calendarRules(ctx.config), [], new Date(), 4).find((m) => Date.parse(m.cutoffAt) > Date.now())!;
    const text = async (page: typeof r, selector: string) => (await page.locator(selector).innerText()).replace(/\u00a0/g, ' ');
    expect(await text(r, 'main')).toContain(`Er is nog ${euros(totalCents, 'nl')} over van ${euros(totalCents, 'nl')}.`.replace(/\u00a0/g, ' '));
    expect(await text(r, 'main')).toContain(`De volgende vergadering is op ${formatDateTime(new Date(next.startsAt))}. Aanvragen die op ${formatDateTime(new Date(next.cutoffAt))} compleet zijn, komen op de agenda.`);
    await shoot(r, 'home-phone');
    await r.getByRole('link', { name: 'Vraag geld aan' }).click();
    await expect.poll(() => r.url()).toMatch(/\/aanvragen$/);
    await accessible(r, 'the empty application form');
    await fitsWidth(r, 'the empty application form');
    await r.getByLabel('Uw naam').fill('Fatima El Amrani');
    await r.getByLabel('E-mailadres').fill('fatima@example.nl');
    await r.getByLabel('Telefoonnummer').fill('06 1234 5678');
    await r.getByLabel('Straat en huisnummer').fill('Kastanjelaan 12');
    await r.getByLabel('Postcode').fill('2273 AB');
    await r.getByLabel('Woonplaats').fill('Voorburg');
    await r.getByLabel('Naam van uw plan').fill('Burendag Kastanjelaan');
    await r.getByLabel('Wat gaat u doen?').fill('Een burendag met een partytent en spelletjes voor de kinderen, zodat de buren elkaar leren kennen.');
    await r.getByLabel('Sociale samenhang').check();
    await r.getByLabel('Voorburg-Midden').check();
    await r.getByLabel('Voor wie is het?').fill('Alle bewoners van de Kastanjelaan');
    await r.getByLabel('Hoeveel mensen doen mee?').fill('80');
    await r.getByLabel('Hoeveel vrijwilligers helpen?').fill('6');
    await r.getByLabel('Datum (eerste dag)').fill('2027-06-12');
    await r.getByLabel('Laatste dag').fill('2027-06-12');
    await r.getByLabel('Plaats', { exact: true }).fill('Kastanjelaan');
    await r.getByLabel('Uitgave 1').fill('Huur partytent');
    await r.getByLabel('Bedrag 1 in euro').fill('450');
    await r.getByRole('button', { name: 'Nog een uitgave toevoegen' }).click();
    await r.getByLabel('Uitgave 2').fill('Springkussen');
    await r.getByLabel('Bedrag 2 in euro').fill('150,50');
    await expect.poll(async () => (await r.locator('#total-budget').innerText()).replace(/\u00a0/g, ' ')).toBe('€ 600,50');
    await r.getByLabel('Nee', { exact: true }).check();
    await r.getByLabel('IBAN (rekeningnummer)').fill('NL91 ABNA 0417 1643 00');
    await r.getByLabel('Naam van de rekeninghouder').fill('F. El Amrani');
    await r.getByLabel('Ik geef toestemming om mijn gegevens te gebruiken voor deze aanvraag.').check();
    await r.getByLabel('Voeg documenten toe').setInputFiles({ name: 'offerte-partytent.pdf', mimeType: 'application/pdf', buffer: pdfBytes });
    await accessible(r, 'the filled-in application form');
    await fitsWidth(r, 'the filled-in application form');
    await shoot(r, 'apply-phone');
    await Promise.all([r.waitForURL(/\/aanvraag\/[0-9a-f-]{36}\/verzonden$/), r.getByRole('button', { name: 'Aanvraag versturen' }).click()]);
    await visible(r.getByRole('heading', { name: 'Uw aanvraag is verstuurd' }));
    const reference = (await r.locator('.bf-reference').innerText()).trim();
    expect(reference).toMatch(/^VW-\d{4}-\d{4}$/);
    await accessible(r, 'the confirmation page');
    await fitsWidth(r, 'the confirmation page');
    await shoot(r, 'sent-phone');
    const id = /\/aanvraag\/([0-9a-f-]{36})\/verzonden$/.exec(r.url())![1]!;
    await statusInDb(id, 'screening');

    // --- A panel member asks for information.
    const panel = await tab({ viewport: DESKTOP });
    const p = panel.page;
    await loginAs(panel, 'panel1@buurtfonds.test');
    await visible(p.getByRole('link', { name: reference }));
    await accessible(p, 'the applications list');
    await shoot(p, 'applications-desktop');
    await p.getByRole('link', { name: reference }).click();
    await visible(p.getByRole('heading', { name: `Aanvraag ${reference}` }));
    await accessible(p, 'the staff application page');
    await p.getByLabel('Wat ontbreekt er?').fill('Stuur ons de toestemming van de gemeente om de straat af te sluiten.');
    await p.getByRole('button', { name: 'Vraag om aanvulling' }).click();
    await visible(p.getByText('De vraag om aanvulling is verstuurd.'));
    await statusInDb(id, 'awaiting_information');

    // --- The resident answers through the e-mail's status link.
    const mail = await ctx.mail.waitFor((m) => m.to.includes('fatima@example.nl') && m.subject.includes('informatie'));
    const link = statusLinkIn(mail.text);
    expect(link, `no status link in the e-mail:\n${mail.text}`).toBeDefined();
    await r.goto(link!.replace('http://buurtfonds.test', suite.url));
    expect(r.url(), 'the token must leave the address bar').not.toContain('token');
    await visible(r.getByRole('heading', { name: 'Het panel vraagt om een aanvulling' }));
    await accessible(r, 'the status page with an open request');
    await fitsWidth(r, 'the status page with an open request');
    await shoot(r, 'status-request-phone');
    // Sent empty: the error at the form.
    await r.getByRole('button', { name: 'Aanvulling versturen' }).click();
    await visible(r.getByText('Schrijf een antwoord of voeg een document toe.').first());
    await accessible(r, 'the answer form with errors');
    // The answer with a file (sent by the page's upload script, with its progress bar).
    await r.getByLabel('Uw antwoord').fill('De vergunning is aangevraagd; de gemeente sluit de straat op 12 juni af.');
    await r.getByLabel('Documenten toevoegen').setInputFiles({ name: 'aanvraag-vergunning.pdf', mimeType: 'application/pdf', buffer: pdfBytes });
    await r.getByRole('button', { name: 'Aanvulling versturen' }).click();
    await visible(r.getByText('Uw aanvulling is verstuurd.'));
    await statusInDb(id, 'screening');
    const answered = await ctx.deps.applications.view(id, 'staff');
    expect(answered.documents.map((d) => d.fileName)).toContain('aanvraag-vergunning.pdf');
    expect(answered.informationRequests.map((q) => q.state)).toEqual(['answered']);
    await accessible(r, 'the status page in screening');

    // --- The panel member marks it complete.
    await p.reload();
    await p.getByRole('button', { name: 'Markeer als compleet' }).click();
    await visible(p.getByText('De aanvraag is compleet en gaat naar de vergadering.'));
    await statusInDb(id, 'ready_for_meeting');

    // An earlier grant to the same resident in the same wijk and budget year (through the API, not on this
    // meeting's agenda): what the agenda's fair-spread figures and the budget left must count.
    await grant(ctx, { applicant: { ...validApplication().applicant, email: 'fatima@example.nl' }, wantsSupport: false, supportWish: undefined }, 20_000);

    // --- The agenda cut-off (what the Schedule does in production): the meeting starts, its agenda frozen now.
    const planned = planMeeting(calendarRules(ctx.config), meetingDate);
    meetingId = planned.meetingId;
    const input = { ...meetingInput(ctx.config, planned), cutoffAt: new Date().toISOString(), endsAt: new Date(Date.now() + DAY_MS).toISOString() };
    await ctx.client.workflow.start<typeof panelMeetingWorkflow>('panelMeetingWorkflow', { taskQueue: ctx.config.temporal.taskQueue, workflowId: planned.meetingId, args: [input] });
    await eventually(async () => (await ctx.client.workflow.getHandle(planned.meetingId).query(meetingStateQuery)).status === 'open', 20_000, 'meeting open');
    await eventually(async () => (await ctx.models.Meeting.exists({ _id: planned.meetingId })) !== null, 20_000, 'agenda in the read model');

    // --- Five members, five browser profiles: four vote, one recuses.
    const members: Tab[] = [panel];
    for (const n of [2, 3, 4, 5]) {
      // Panel member 2 votes with JavaScript off: the partial vote's fields are there without the script.
      const t = await tab({ viewport: DESKTOP, javaScript: n !== 2 });
      await loginAs(t, `panel${n}@buurtfonds.test`);
      members.push(t);
    }
    for (const m of members) await m.page.goto(`/beheer/vergaderingen/${planned.meetingId}`);
    await visible(p.getByRole('heading', { name: /Burendag Kastanjelaan/ }));
    await accessible(p, 'the meeting page before the votes');
    await shoot(p, 'meeting-desktop');
    expect(await axeWithoutScript(suite.browser, members[1]!.page), 'axe-core violations on the meeting page without JavaScript').toEqual([]);
    // The figures the panel decides with: the budget left when the agenda was frozen, the fair spread.
    const figure = async (term: string) => (await p.locator(`#item-0 dt:text-is("${term}") + dd`).innerText()).replace(/\u00a0/g, ' ');
    // The activity (12 June 2027) is in the budget of 2027, of which only the earlier € 200,00 is granted.
    expect(await figure('Begrotingsjaar 2027')).toContain(`Over bij het vastzetten van de agenda: ${euros(totalCents - 20_000, 'nl').replace(/\u00a0/g, ' ')}`);
    expect(await figure('Deze aanvrager kreeg dit jaar al')).toBe('€ 200,00');
    expect(await figure('Wijken kregen dit jaar al')).toBe('Voorburg-Midden: € 200,00');

    const partial = async (t: Tab) => {
      await t.page.getByRole('radio', { name: 'Deels toekennen' }).check();
      await t.page.getByLabel('Bedrag bij deels toekennen, in euro').fill('450');
      await t.page.getByLabel(/2\. Springkussen/).check();
      await t.page.getByLabel(/Redenen/).fill('Een springkussen past, maar het panel wil eerst de partytent betalen.');
      await t.page.getByRole('button', { name: 'Stem opslaan' }).click();
      await visible(t.page.getByText('Uw stem is opgeslagen.'));
    };
    // A partial vote without its reasons is refused at the field, with the error summary.
    await members[0]!.page.getByRole('radio', { name: 'Deels toekennen' }).check();
    await members[0]!.page.getByLabel('Bedrag bij deels toekennen, in euro').fill('450');
    await members[0]!.page.getByRole('button', { name: 'Stem opslaan' }).click();
    await visible(members[0]!.page.getByRole('alert').filter({ hasText: 'Er is een probleem' }));
    await accessible(members[0]!.page, 'the meeting page with a vote error');
    await members[0]!.page.goto(`/beheer/vergaderingen/${planned.meetingId}`);

    await partial(members[0]!);
    await partial(members[1]!);
    await members[2]!.page.getByRole('radio', { name: 'Toekennen (volledig)' }).check();
    await members[2]!.page.getByRole('button', { name: 'Stem opslaan' }).click();
    await visible(members[2]!.page.getByText('Uw stem is opgeslagen.'));
    await members[3]!.page.getByRole('radio', { name: 'Afwijzen' }).check();
    await members[3]!.page.getByLabel(/Redenen/).fill('Te weinig eigen bijdrage.');
    await members[3]!.page.getByRole('button', { name: 'Stem opslaan' }).click();
    await visible(members[3]!.page.getByText('Uw stem is opgeslagen.'));
    const recusing = members[4]!.page;
    await recusing.getByText('Niet stemmen: persoonlijk belang').click();
    await recusing.getByLabel('Waarom stemt u niet?').fill('Ik woon zelf aan de Kastanjelaan.');
    await recusing.getByRole('button', { name: 'Ik stem niet over deze aanvraag' }).click();
    await visible(recusing.getByText('U stemt niet over deze aanvraag.').first());

    // Who voted shows, how they voted does not (until the meeting is closed).
    await p.reload();
    await visible(p.getByText('4 van 4 leden hebben gestemd.'));
    await visible(p.getByText('Panellid 2: Gestemd'));
    await visible(p.getByText('Panellid 5: Stemt niet (verschoond)'));
    expect(await p.getByText('Panellid 4: Afwijzen').count(), 'how a member voted shows before the close').toBe(0);

    // The chair closes; the decision: € 450,00 of € 600,50 (the springkussen struck).
    await p.getByRole('button', { name: 'Sluit de vergadering' }).click();
    await visible(p.getByText('De vergadering is gesloten.'));
    await visible(p.getByText('Panellid 4: Afwijzen'));
    await visible(p.getByText('Panellid 2: Deels toekennen (€ 450,00)'));
    const result = p.locator('section[aria-labelledby="results-title"]').getByRole('row', { name: new RegExp(reference) });
    expect((await result.getByRole('cell').allInnerTexts()).map((c) => c.replace(/\u00a0/g, ' '))).toEqual([reference, 'Burendag Kastanjelaan', 'Deels toegekend', '€ 450,00']);
    await accessible(p, 'the closed meeting');
    await shoot(p, 'meeting-closed-desktop');
    await statusInDb(id, 'reserved');

    // --- The decision on the resident's status page.
    await r.reload();
    await visible(r.getByText('Het panel kent € 450,00 toe van de € 600,50 die u vroeg.'));
    await visible(r.locator('.bf-struck', { hasText: 'Springkussen' }));
    await visible(r.getByRole('cell', { name: 'geschrapt' }));
    await accessible(r, 'the status page with the decision');
    await fitsWidth(r, 'the status page with the decision');
    await shoot(r, 'status-decision-phone');

    // --- Finance batches, downloads the SEPA file, reports it executed.
    const finance = await tab({ viewport: DESKTOP });
    const f = finance.page;
    await loginAs(finance, 'financien@buurtfonds.test');
    await visible(f.getByRole('cell', { name: reference }));
    await accessible(f, 'the payouts page with a pending payout');
    await f.getByRole('button', { name: 'Maak een betaalbatch (SEPA)' }).click();
    await visible(f.getByText('De betaalbatch is gemaakt.'));
    const [download] = await Promise.all([f.waitForEvent('download'), f.getByRole('link', { name: 'Download SEPA-bestand' }).click()]);
    const xml = await new Promise<string>((resolve, reject) => {
      void download.createReadStream().then((s) => {
        let text = '';
        s.on('data', (c: Buffer) => (text += c.toString('utf8')));
        s.on('end', () => resolve(text));
        s.on('error', reject);
      });
    });
    expect(xml).toContain('<CstmrCdtTrfInitn>');
    expect(xml).toContain('<InstdAmt Ccy="EUR">450.00</InstdAmt>');
    expect(xml).toContain(`BF-${reference}`);
    await shoot(f, 'payouts-desktop');
    await f.getByRole('button', { name: 'Meld als uitgevoerd door de bank' }).click();
    await visible(f.getByText('De batch is als uitgevoerd gemeld.'));
    await accessible(f, 'the payouts page after the batch');
    await statusInDb(id, 'paid');

    // --- Paid, on the resident's page.
    await r.reload();
    await visible(r.getByText('Uitbetaald').first());
    await visible(r.getByText(/€\s450,00 is overgemaakt op/));
    await accessible(r, 'the status page after the payout');
    await fitsWidth(r, 'the status page after the payout');
    await shoot(r, 'status-paid-phone');

    // --- Too many failed logins from one address: the login page says so (429), accessibly.
    for (let n = 0; n < ctx.config.auth.loginRateLimit + 1; n++) {
      await r.goto('/inloggen');
      await r.getByLabel('E-mailadres').fill(`onbekend-${n}@buurtfonds.test`);
      await r.getByLabel('Wachtwoord').fill('niet-het-wachtwoord');
      const [res] = await Promise.all([r.waitForResponse((x) => x.request().method() === 'POST'), r.getByRole('button', { name: 'Inloggen' }).click()]);
      if (res.status() === 429) break;
    }
    await visible(r.getByText('Te veel mislukte pogingen.', { exact: false }));
    await accessible(r, 'the login page after too many attempts (429)');

  });
});
