/**
 * After the payout, through the pages in a real Chromium: the resident reports on the
 * status page (cost lines and a receipt), a panel member reviews the report on the
 * application page (an error first, then accepted), the status page asks for the unspent
 * money back, and finance books the refund on the payouts page in two parts (after a
 * refused amount and one that is not a number), which closes the initiative. Each step
 * is checked in the database, each page state with axe-core. Between review and
 * acceptance the panel asks for a clarification (the status page shows it) and the
 * resident sends the report again with JavaScript off; at the end
 * the home page's budget left counts the payout and the refund, and the welfare queue
 * (no support asked) is empty.
 *
 * The app's clock is pinned to early 2026 so an activity in February 2026 could be
 * applied for; by the real clock it is over, so after the payout the initiative asks
 * for its report at once.
 */
import { describe, expect, it } from 'vitest';
import { euros } from '../../src/domain/page-messages.ts';
import { pdfBytes } from '../helpers/fixtures.ts';
import { grantPaid, statusOf, waitForStatus } from '../helpers/grants.ts';
import { asApplicant, axeWithoutScript, browserSuite, fitsWidth, shoot, errorSummaryLinksResolve, loginAs, PHONE, visible } from '../helpers/browser.ts';

const suite = browserSuite({ now: () => new Date('2026-01-05T10:00:00Z') });
const { tab, accessible } = suite;
const activity = { startDate: '2026-02-14', endDate: '2026-02-14', location: 'Kerkstraat' };
const nbsp = (s: string) => s.replace(/\u00a0/g, ' ');

describe('report, review and refund through the pages', { timeout: 150_000 }, () => {
  it('the resident reports with a receipt, the panel asks a clarification then accepts, finance books the refund in two parts and the initiative closes; the home page counts it', async () => {
    const { ctx } = suite;
    const a = await grantPaid(ctx, { activity, title: 'Straatfeest Kerkstraat', wantsSupport: false, supportWish: undefined });
    expect(a.grantedCents).toBe(60_050);

    // --- The resident's report: € 500,00 of € 600,50 spent, a receipt attached.
    const resident = await tab({ viewport: PHONE });
    const r = resident.page;
    await asApplicant(resident, ctx, a.id);
    const sendReport = async (page: typeof resident.page, receipt?: string) => {
      await page.getByLabel('Wat is er gebeurd?').fill('Het straatfeest was een succes: buren die elkaar niet kenden, hebben samen gegeten.');
      await page.getByLabel('Hoeveel mensen deden mee?').fill('140');
      await page.getByLabel('Hoeveel vrijwilligers hielpen?').fill('11');
      await page.getByLabel('Groen: uitgevoerd zoals gepland').check();
      await page.getByLabel('Uitgave 1').fill('Huur partytent');
      await page.getByLabel('Bedrag 1 in euro').fill('500,00');
      if (receipt) await page.getByLabel('Foto’s en bonnetjes').setInputFiles({ name: receipt, mimeType: 'application/pdf', buffer: pdfBytes });
      if (receipt) await accessible(page, 'the filled-in report form');
      await page.getByRole('button', { name: 'Verantwoording versturen' }).click();
      await visible(page.getByText('Uw verantwoording is verstuurd. Dank u wel!'));
    };
    await sendReport(r, 'bon-partytent.pdf');
    const received = await waitForStatus(ctx, a, 'report_received');
    expect(received.report).toMatchObject({ actualCostsCents: 50_000, unspentCents: 10_050, participants: 140, volunteers: 11, selfAssessment: 'green' });
    expect(received.documents.filter((d: { context: string }) => d.context === 'report').map((d: { fileName: string }) => d.fileName)).toEqual(['bon-partytent.pdf']);
    await accessible(r, 'the status page with the report received');
    await fitsWidth(r, 'the status page with the report received');

    // --- A panel member reviews it: asking for clarification needs a note (error); asked; the report again; accepted.
    const panel = await tab();
    const p = panel.page;
    await loginAs(panel, 'panel1@buurtfonds.test');
    await p.goto(`/beheer/aanvragen/${a.id}`);
    await visible(p.getByRole('heading', { name: 'Verantwoording beoordelen' }));
    await accessible(p, 'the staff application page with the review form');
    await p.getByRole('radio', { name: 'Toelichting vragen' }).check();
    await p.getByRole('button', { name: 'Beoordeling opslaan' }).click();
    await errorSummaryLinksResolve(p);
    await accessible(p, 'the staff application page with review errors');
    expect((await statusOf(ctx, a)).status, 'a refused review changed the status').toBe('report_received');
    await p.getByLabel('Toelichting (verplicht bij toelichting vragen en afkeuren)').fill('Stuur ook de bon van het springkussen.');
    await p.getByRole('button', { name: 'Beoordeling opslaan' }).click();
    await visible(p.getByText('Uw beoordeling is opgeslagen.'));
    await waitForStatus(ctx, a, 'clarification_requested');
    await r.reload();
    await visible(r.getByText('Stuur ook de bon van het springkussen.'));
    await accessible(r, 'the status page with a clarification asked');
    await fitsWidth(r, 'the status page with a clarification asked');
    // The report again, from a phone with JavaScript off (the form does not need its script).
    const noScript = await tab({ viewport: PHONE, javaScript: false });
    await asApplicant(noScript, ctx, a.id);
    expect(await axeWithoutScript(suite.browser, noScript.page), 'axe-core violations on the report form without JavaScript').toEqual([]);
    await sendReport(noScript.page);
    await waitForStatus(ctx, a, 'report_received');
    await p.reload();
    await p.getByRole('radio', { name: 'Goedkeuren' }).check();
    await p.getByRole('radio', { name: 'Groen: uitgevoerd zoals gepland' }).check();
    await p.getByRole('button', { name: 'Beoordeling opslaan' }).click();
    await visible(p.getByText('Uw beoordeling is opgeslagen.'));
    const settled = await waitForStatus(ctx, a, 'settled');
    expect(settled.review).toMatchObject({ outcome: 'accept', trafficLight: 'green' });
    expect(settled.settlement).toMatchObject({ refundDueCents: 10_050 });

    // --- The resident is asked to pay back € 100,50.
    await r.reload();
    await visible(r.getByText(/U heeft €\s100,50 niet uitgegeven/));
    await accessible(r, 'the status page, settled with a refund open');
    await fitsWidth(r, 'the status page, settled with a refund open');

    // --- Finance books the refund on the payouts page.
    const finance = await tab();
    const f = finance.page;
    await loginAs(finance, 'financien@buurtfonds.test');
    await f.goto('/beheer/uitbetalingen');
    const row = f.getByRole('row', { name: new RegExp(a.reference) });
    await visible(row.getByRole('cell', { name: /^€\s100,50$/ }));
    await accessible(f, 'the payouts page with an open refund');
    const field = f.getByLabel(`Ontvangen bedrag in euro (${a.reference})`);
    const book = () => row.getByRole('button', { name: 'Terugbetaling boeken' }).click();

    // More than is open: refused at the field, nothing booked.
    await field.fill('100,51');
    await book();
    await errorSummaryLinksResolve(f);
    await visible(f.getByText('Dit is meer dan er nog terug te betalen is: hoogstens € 100,50.').first());
    expect(await field.getAttribute('aria-invalid')).toBe('true');
    expect(await field.inputValue()).toBe('100,51');
    await accessible(f, 'the payouts page with a refund error');
    await shoot(f, 'payouts-refund-error-desktop');
    // Not an amount: refused, what was typed kept.
    await field.fill('tien euro');
    await book();
    await errorSummaryLinksResolve(f);
    await visible(f.getByText('Vul een bedrag in euro in', { exact: false }).first());
    expect(await field.inputValue()).toBe('tien euro');
    expect((await statusOf(ctx, a)).settlement.refundReceivedCents ?? 0, 'a refused refund was booked').toBe(0);

    // The first part: € 40,00; € 60,50 still open.
    await field.fill('40,00');
    await book();
    await visible(f.getByText('De terugbetaling is geboekt.'));
    expect(nbsp(await f.getByRole('row', { name: new RegExp(a.reference) }).getByRole('cell').nth(2).innerText())).toBe('€ 60,50');
    const part = await statusOf(ctx, a);
    expect(part.status).toBe('settled');
    expect(part.settlement).toMatchObject({ refundDueCents: 10_050, refundReceivedCents: 4_000 });

    // The rest closes it: the row leaves the page, the initiative is closed, the ledger has both refunds.
    await f.getByLabel(`Ontvangen bedrag in euro (${a.reference})`).fill('60,50');
    await f.getByRole('row', { name: new RegExp(a.reference) }).getByRole('button', { name: 'Terugbetaling boeken' }).click();
    await visible(f.getByText('De terugbetaling is geboekt.'));
    await visible(f.getByText('Er staan geen terugbetalingen open.'));
    const closed = await waitForStatus(ctx, a, 'closed');
    expect(closed.settlement).toMatchObject({ refundDueCents: 10_050, refundReceivedCents: 10_050 });
    // The form sent once more after that (a second click, an old tab): refused, said plainly, nothing booked.
    const again = await f.request.post(`/beheer/uitbetalingen/terugbetalingen/${a.id}`, { form: { _csrf: (await f.locator('input[name="_csrf"]').first().getAttribute('value'))!, amount: '1,00' }, maxRedirects: 0 });
    expect([again.status(), again.headers().location]).toEqual([303, '/beheer/uitbetalingen']);
    const journal = (await ctx.deps.ledger.journal(2026)).filter((e) => e.applicationId === a.id).map((e) => [e.kind, e.amountCents]);
    expect(journal).toEqual([
      ['reserve', 60_050],
      ['pay', 60_050],
      ['refund', 4_000],
      ['refund', 6_050],
    ]);
    // The home page's budget left counts what was paid and what came back.
    await r.goto('/');
    const total = ctx.config.fund.annualBudgetCents;
    expect(nbsp(await r.locator('main').innerText())).toContain(nbsp(`Er is nog ${euros(total - 60_050 + 10_050, 'nl')} over van ${euros(total, 'nl')}.`));

    // No support was asked: the welfare queue is empty.
    const welfare = await tab();
    await loginAs(welfare, 'welzijn1@buurtfonds.test');
    await welfare.page.goto('/beheer/ondersteuning?organisatie=');
    await visible(welfare.page.getByText('De wachtrij is leeg.'));
    await accessible(welfare.page, 'the empty support queue');
  });
});
