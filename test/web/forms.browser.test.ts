/**
 * The application form as people who do not use a mouse or JavaScript use it, in a real
 * Chromium: with JavaScript off on a phone (errors come back from the server with a
 * summary, everything typed and the chosen file kept, a budget line added by a round
 * trip), and with the keyboard only (every field reached by Tab in reading order, the
 * file chosen through the keyboard, sent with Enter). axe-core checks each state.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { eventually, type TestContext } from '../helpers/context.ts';
import { pdfBytes } from '../helpers/fixtures.ts';
import { axeWithoutScript, browserSuite, DESKTOP, PHONE, shoot, visible } from '../helpers/browser.ts';

const suite = browserSuite();
let ctx: TestContext;
let browser: Browser;
beforeAll(() => {
  ({ ctx, browser } = suite);
});

async function applicationsOf(email: string) {
  return ctx.models.Application.find({ 'applicant.email': email }, { reference: 1, documentIds: 1, budgetLines: 1, amountRequestedCents: 1 }).lean();
}

describe('the application form without JavaScript, on a phone', () => {
  it('shows the errors at the top and at the fields, keeps what was typed and the file, adds a line by a round trip, and sends', async () => {
    const t = await suite.tab({ viewport: PHONE, javaScript: false });
    const p = t.page;
    await p.goto('/aanvragen');
    await p.getByLabel('Uw naam').fill('Jan <b>Jansen</b>');
    await p.getByLabel('E-mailadres').fill('jan@example');
    await p.getByLabel('Naam van uw plan').fill('Opruimdag Damsigt');
    await p.getByLabel('Uitgave 1').fill('Vuilniszakken en grijpers');
    await p.getByLabel('Bedrag 1 in euro').fill('twaalf');
    await p.getByLabel('Voeg documenten toe').setInputFiles({ name: 'begroting.pdf', mimeType: 'application/pdf', buffer: pdfBytes });
    await p.getByRole('button', { name: 'Aanvraag versturen' }).click();
    await p.waitForLoadState('load');

    // The summary: first on the page, focused, each error a link to its field.
    const summary = p.getByRole('alert').filter({ hasText: 'Er is een probleem' });
    await visible(summary);
    expect(await p.title()).toMatch(/^Fout: /);
    expect(await p.evaluate(() => (globalThis as unknown as { document: { activeElement: { className: string } } }).document.activeElement.className)).toContain('bf-error-summary');
    const links = await summary.getByRole('link').allInnerTexts();
    expect(links).toContain('Vul een e-mailadres in zoals naam@voorbeeld.nl.');
    expect(links).toContain('Vul een bedrag in euro in, bijvoorbeeld 450 of 1.234,50.');
    expect(links).toContain('Vul uw telefoonnummer in.');
    await summary.getByRole('link', { name: 'Vul uw telefoonnummer in.' }).click();
    expect(p.url()).toMatch(/#f-applicant-phone$/);
    // The message at the field, and everything typed still there (as text: the name's markup is not markup).
    await visible(p.locator('#f-applicant-email-error'));
    expect(await p.getByLabel('Uw naam').inputValue()).toBe('Jan <b>Jansen</b>');
    expect(await p.getByLabel('E-mailadres').inputValue()).toBe('jan@example');
    expect(await p.getByLabel('Bedrag 1 in euro').inputValue()).toBe('twaalf');
    expect(await p.getByLabel('begroting.pdf meesturen', { exact: false }).isChecked()).toBe(true);
    expect(await axeWithoutScript(browser, p), 'axe-core violations on the form with errors (no JavaScript)').toEqual([]);
    await shoot(p, 'apply-errors-phone');

    // Fix it; add a second line without JavaScript (the server sends the form back with one more line).
    await p.getByLabel('E-mailadres').fill('jan@example.nl');
    await p.getByLabel('Telefoonnummer').fill('070 765 4321');
    await p.getByLabel('Straat en huisnummer').fill('Damsigt 3');
    await p.getByLabel('Postcode').fill('2261 AA');
    await p.getByLabel('Woonplaats').fill('Leidschendam');
    await p.getByLabel('Wat gaat u doen?').fill('Met de buren de straat en het plantsoen schoonmaken, met koffie na afloop.');
    await p.getByLabel('Leefbaarheid').check();
    await p.getByLabel('Damsigt').check();
    await p.getByLabel('Voor wie is het?').fill('Bewoners van Damsigt');
    await p.getByLabel('Hoeveel mensen doen mee?').fill('25');
    await p.getByLabel('Hoeveel vrijwilligers helpen?').fill('4');
    await p.getByLabel('Datum (eerste dag)').fill('2027-04-10');
    await p.getByLabel('Laatste dag').fill('2027-04-10');
    await p.getByLabel('Plaats', { exact: true }).fill('Plantsoen Damsigt');
    await p.getByLabel('Bedrag 1 in euro').fill('120,00');
    await p.getByRole('button', { name: 'Nog een uitgave toevoegen' }).click();
    await p.waitForLoadState('load');
    await p.getByLabel('Uitgave 2').fill('Huur aanhanger');
    await p.getByLabel('Bedrag 2 in euro').fill('45');
    expect(await p.getByLabel('begroting.pdf meesturen', { exact: false }).isChecked(), 'the file is still kept after the round trip').toBe(true);
    await p.getByLabel('Nee', { exact: true }).check();
    await p.getByLabel('IBAN (rekeningnummer)').fill('NL91ABNA0417164300');
    await p.getByLabel('Naam van de rekeninghouder').fill('J. Jansen');
    await p.getByLabel('Ik geef toestemming om mijn gegevens te gebruiken voor deze aanvraag.').check();
    await p.getByRole('button', { name: 'Aanvraag versturen' }).click();
    await p.waitForURL(/\/verzonden$/);
    await visible(p.getByRole('heading', { name: 'Uw aanvraag is verstuurd' }));

    const [app] = await eventually(async () => {
      const found = await applicationsOf('jan@example.nl');
      return found.length ? found : undefined;
    }, 10_000, 'the application stored');
    expect(app!.amountRequestedCents).toBe(16_500);
    expect(app!.budgetLines.map((l) => l.description)).toEqual(['Vuilniszakken en grijpers', 'Huur aanhanger']);
    const docs = await ctx.models.Document.find({ applicationId: app!._id }, { fileName: 1 }).lean();
    expect(docs.map((d) => d.fileName), 'the kept file went in with the application').toEqual(['begroting.pdf']);

    expect(t.problems).toEqual([]);
  });
});

describe('the application form with the keyboard only', () => {
  it('reaches every field with Tab in order, chooses the file and sends with the keyboard', async () => {
    const t = await suite.tab({ viewport: DESKTOP });
    const p = t.page;
    const kb = p.keyboard;
    await p.goto('/aanvragen');
    /** The focused element: its id, or else its text. */
    const active = () =>
      p.evaluate(() => {
        const el = (globalThis as unknown as { document: { activeElement: { id?: string; textContent?: string | null } | null } }).document.activeElement;
        return el ? el.id || (el.textContent ?? '').trim() : '';
      });
    // The first Tab reaches the skip link; Enter jumps to the content.
    await kb.press('Tab');
    expect(await active()).toBe('Naar de inhoud');
    await kb.press('Enter');
    expect(p.url()).toMatch(/#inhoud$/);

    let presses = 0;
    /** Tabs forward to the element with this id (never back: the order of the fields is the reading order). */
    const tabTo = async (id: string) => {
      for (let i = 0; i < 60; i++) {
        if ((await active()) === id) return;
        await kb.press('Tab');
        presses++;
      }
      throw new Error(`#${id} not reached with Tab (focus is on ${await active()})`);
    };
    const typeIn = async (id: string, text: string) => {
      await tabTo(id);
      await kb.type(text);
    };
    await typeIn('f-applicant-name', 'Kees Toetsenbord');
    await typeIn('f-applicant-email', 'kees@example.nl');
    await typeIn('f-applicant-phone', '0701112233');
    await typeIn('f-applicant-address-street', 'Prinses Mariannelaan 5');
    await typeIn('f-applicant-address-postalCode', '2275 BB');
    await typeIn('f-applicant-address-city', 'Voorburg');
    await typeIn('f-title', 'Buurtbarbecue zonder eten');
    await typeIn('f-description', 'Een middag met spelletjes en muziek op het plein; de buren nemen zelf eten mee.');
    await tabTo('f-purposes');
    await kb.press('Space');
    await tabTo('f-wijken-6');
    await kb.press('Space');
    await typeIn('f-targetGroup', 'Buren rond het plein');
    await typeIn('f-expectedParticipants', '40');
    await typeIn('f-volunteers', '3');
    await typeIn('f-activity-startDate', '01052027');
    await typeIn('f-activity-endDate', '01052027');
    await typeIn('f-activity-location', 'Plein');
    await typeIn('f-budgetLines-0-description', 'Huur geluidsinstallatie');
    await typeIn('f-budgetLines-0-amount', '200');
    await tabTo('f-wantsSupport');
    // Radios: the arrow keys move the choice within the group.
    await kb.press('ArrowDown');
    await typeIn('f-iban', 'NL91ABNA0417164300');
    await typeIn('f-accountHolder', 'K. Toetsenbord');
    await tabTo('f-privacyConsent');
    await kb.press('Space');
    await tabTo('f-documents');
    const [chooser] = await Promise.all([p.waitForEvent('filechooser'), kb.press('Space')]);
    await chooser.setFiles({ name: 'plan.pdf', mimeType: 'application/pdf', buffer: pdfBytes });
    // On to the send button, past "add a line" and co-funding, and send with Enter.
    for (let i = 0; i < 10 && !(await active()).includes('Aanvraag versturen'); i++) await kb.press('Tab');
    expect(await active()).toContain('Aanvraag versturen');
    await Promise.all([p.waitForURL(/\/verzonden$/, { timeout: 15_000 }), kb.press('Enter')]);
    await visible(p.getByRole('heading', { name: 'Uw aanvraag is verstuurd' }));
    const [app] = await eventually(async () => {
      const found = await applicationsOf('kees@example.nl');
      return found.length ? found : undefined;
    }, 10_000, 'the application stored');
    expect(app!.amountRequestedCents).toBe(20_000);
    expect(presses, 'Tab presses from the top of the form to the file field').toBeLessThan(120);
    expect(t.problems).toEqual([]);
  });
});
