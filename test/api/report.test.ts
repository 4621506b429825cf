/**
 * The initiator's report, the panel's review and the refund through the HTTP API with
 * the real worker. The API's clock is pinned to early 2026 so an activity in February
 * 2026 could be applied for; by the real clock it is long over, so after the payout the
 * initiative goes straight to report_due (and, its deadline long past, escalated).
 */
import { applicationsWithOpenRefund } from '../../src/db/keys.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, eventually, type TestContext } from '../helpers/context.ts';
import { grant, grantPaid, statusOf, waitForStatus, type Granted } from '../helpers/grants.ts';
import { pdfBytes, pngBytes } from '../helpers/fixtures.ts';
import { openStatusLink } from '../helpers/web.ts';

const activity = { startDate: '2026-02-14', endDate: '2026-02-14', location: 'Kerkstraat' };
const report = (costs: number[]) => ({
  text: 'Het straatfeest was een groot succes: buren die elkaar nog niet kenden, hebben samen gegeten.',
  participants: 140,
  volunteers: 11,
  selfAssessment: 'orange',
  costLines: costs.map((amountCents, i) => ({ description: `Post ${i + 1}`, amountCents })),
});

describe('report, review and refund', () => {
  let ctx: TestContext;
  let panel: string;
  let finance: string;
  let welfare: string;
  const as = (t: string) => ({ Authorization: `Bearer ${t}` });

  const paid = (overrides: Record<string, unknown> = {}) => grantPaid(ctx, { activity, ...overrides });

  beforeAll(async () => {
    ctx = await createTestContext({ now: () => new Date('2026-01-05T10:00:00Z') });
    panel = await ctx.staff.panel();
    finance = await ctx.login('financien@buurtfonds.test');
    welfare = await ctx.staff.welfare();
  });
  afterAll(async () => ctx?.close());

  it('takes a report with photos and receipts, asks for clarification, accepts it, and closes once the unspent money is back', async () => {
    const a = await paid();
    const body = await statusOf(ctx, a);
    expect(body.timeline.map((e: { type: string }) => e.type)).toEqual(expect.arrayContaining(['paid', 'activity_held', 'report_due']));
    // Due at the end of 11 April 2026 in Amsterdam: 56 days after the activity's day, across the change to
    // summer time on 29 March (56 × 24 h from the midnight it ended would be 01:00 on the 12th). The page names that day.
    expect(body.timeline.find((e: { type: string }) => e.type === 'report_due')?.note).toBe('2026-04-11T21:59:59.999Z');
    const { page } = await openStatusLink(ctx, `http://buurtfonds.test/aanvraag/${a.id}?token=${a.token}`);
    expect(page.text).toContain('Stuur uw verantwoording uiterlijk 11 april 2026.');

    // Refused: not the applicant, bad report, wrong file type.
    expect((await ctx.http().post(`/api/v1/applications/${a.id}/report`).set(as(panel)).send(report([50_000]))).status).toBe(403);
    expect((await ctx.http().post(`/api/v1/applications/${a.id}/report`).send(report([50_000]))).status).toBe(401);
    const bad = await ctx.http().post(`/api/v1/applications/${a.id}/report`).set(as(a.token)).send({ ...report([50_000]), selfAssessment: 'purple', participants: -1 });
    expect(bad.status).toBe(422);
    expect(bad.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(['participants', 'selfAssessment']);
    const exe = await ctx.http()
      .post(`/api/v1/applications/${a.id}/report`)
      .set(as(a.token))
      .field('report', JSON.stringify(report([50_000])))
      .attach('documents', Buffer.from('MZ\x90\x00not really a program'), 'bon.pdf');
    expect(exe.status).toBe(415);
    expect((await statusOf(ctx, a)).status).toBe('report_due');

    // The report: multipart with a photo and a receipt; 500,00 of 600,50 spent.
    const sent = await ctx.http()
      .post(`/api/v1/applications/${a.id}/report`)
      .set(as(a.token))
      .field('report', JSON.stringify(report([30_000, 20_000])))
      .attach('documents', pngBytes, 'foto.png')
      .attach('documents', pdfBytes, 'bon.pdf');
    expect(sent.status, JSON.stringify(sent.body)).toBe(200);
    expect(sent.body.report).toMatchObject({ actualCostsCents: 50_000, unspentCents: a.grantedCents - 50_000, participants: 140, selfAssessment: 'orange' });
    expect(sent.body.report.documentIds).toHaveLength(2);
    const received = await waitForStatus(ctx, a, 'report_received');
    expect(received.report).toMatchObject({ unspentCents: a.grantedCents - 50_000 });
    expect(received.documents.filter((d: { context: string }) => d.context === 'report').map((d: { fileName: string }) => d.fileName).sort()).toEqual(['bon.pdf', 'foto.png']);
    // A second report while one waits for review is refused.
    expect((await ctx.http().post(`/api/v1/applications/${a.id}/report`).set(as(a.token)).send(report([1]))).status).toBe(409);

    // Review: only the panel; a note is needed to ask for clarification.
    expect((await ctx.http().post(`/api/v1/applications/${a.id}/report/review`).set(as(welfare)).send({ outcome: 'accept' })).status).toBe(403);
    expect((await ctx.http().post(`/api/v1/applications/${a.id}/report/review`).set(as(a.token)).send({ outcome: 'accept' })).status).toBe(403);
    const noNote = await ctx.http().post(`/api/v1/applications/${a.id}/report/review`).set(as(panel)).send({ outcome: 'clarify' });
    expect(noNote.status).toBe(422);
    const clarify = await ctx.http().post(`/api/v1/applications/${a.id}/report/review`).set(as(panel)).send({ outcome: 'clarify', note: 'Stuur ook de bon van de tent.', deadlineDays: 10 });
    expect(clarify.status, JSON.stringify(clarify.body)).toBe(200);
    await waitForStatus(ctx, a, 'clarification_requested');
    await eventually(async () => ctx.mail.mails.some((m) => /Vraag over uw verslag/.test(m.subject) && m.text.includes('bon van de tent')), 10_000, 'the clarification e-mail');

    const again = await ctx.http().post(`/api/v1/applications/${a.id}/report`).set(as(a.token)).send(report([35_000, 20_000]));
    expect(again.status).toBe(200);
    await waitForStatus(ctx, a, 'report_received');
    const unspent = a.grantedCents - 55_000;

    // Accept with the panel's own traffic light; the applicant is asked to pay back the rest.
    const accept = await ctx.http().post(`/api/v1/applications/${a.id}/report/review`).set(as(panel)).send({ outcome: 'accept', trafficLight: 'green' });
    expect(accept.status).toBe(200);
    const settled = await waitForStatus(ctx, a, 'settled');
    expect(settled.review).toMatchObject({ outcome: 'accept', trafficLight: 'green' });
    expect(settled.settlement).toMatchObject({ refundDueCents: unspent });
    // Finance finds the open refund by its key (src/db/keys.ts), not by reading every application.
    expect(await applicationsWithOpenRefund(ctx.deps.models)).toContain(a.id);
    const mail = await eventually(async () => ctx.mail.mails.find((m) => /is goedgekeurd/.test(m.subject)), 10_000, 'the acceptance e-mail');
    expect(mail.text).toContain(ctx.config.payouts.debtor.iban);

    // The refund: finance only, at most what is due; in two parts.
    expect((await ctx.http().post(`/api/v1/applications/${a.id}/refunds`).set(as(panel)).send({ amountCents: 100 })).status).toBe(403);
    expect((await ctx.http().post(`/api/v1/applications/${a.id}/refunds`).set(as(finance)).send({ amountCents: 0 })).status).toBe(422);
    expect((await ctx.http().post(`/api/v1/applications/${a.id}/refunds`).set(as(finance)).send({ amountCents: unspent + 1 })).status).toBe(409);
    expect((await ctx.http().post(`/api/v1/applications/${a.id}/refunds`).set(as(finance)).send({ amountCents: 1_000 })).status).toBe(200);
    expect((await statusOf(ctx, a)).status).toBe('settled');
    expect((await ctx.http().post(`/api/v1/applications/${a.id}/refunds`).set(as(finance)).send({ amountCents: unspent - 1_000 })).status).toBe(200);
    const closed = await waitForStatus(ctx, a, 'closed');
    expect(closed.settlement).toMatchObject({ refundDueCents: unspent, refundReceivedCents: unspent });
    expect(await applicationsWithOpenRefund(ctx.deps.models)).not.toContain(a.id);

    const journal = (await ctx.deps.ledger.journal(2026)).filter((e) => e.applicationId === a.id).map((e) => [e.kind, e.amountCents]);
    expect(journal).toEqual([
      ['reserve', a.grantedCents],
      ['pay', a.grantedCents],
      ['refund', 1_000],
      ['refund', unspent - 1_000],
    ]);
    expect((await ctx.deps.ledger.check()).ok).toBe(true);
  }, 120_000);

  it('lets the panel reclaim the grant when the report stays out after the last reminder', async () => {
    const a = await paid({ title: 'Buurtbarbecue' });
    // The deadline is long past by the real clock: the reminders went out and the case is escalated.
    await eventually(async () => (await statusOf(ctx, a)).timeline.some((e: { type: string }) => e.type === 'report_escalated'), 15_000, 'escalation');
    await eventually(async () => ctx.mail.mails.some((m) => m.subject === `Verslag ${a.reference} ontbreekt: besluit nodig`), 10_000, 'the staff e-mail');
    const accept = await ctx.http().post(`/api/v1/applications/${a.id}/report/review`).set(as(panel)).send({ outcome: 'accept' });
    expect(accept.status).toBe(409);
    const reclaim = await ctx.http().post(`/api/v1/applications/${a.id}/report/review`).set(as(panel)).send({ outcome: 'reject', reclaim: true, note: 'Geen verslag ontvangen.' });
    expect(reclaim.status, JSON.stringify(reclaim.body)).toBe(200);
    const done = await waitForStatus(ctx, a, 'reclaimed');
    expect(done.settlement).toMatchObject({ reclaimedCents: a.grantedCents });
    const journal = (await ctx.deps.ledger.journal(2026)).filter((e) => e.applicationId === a.id).map((e) => e.kind);
    expect(journal).toEqual(['reserve', 'pay', 'reclaim']);
    expect((await ctx.http().post(`/api/v1/applications/${a.id}/report`).set(as(a.token)).send(report([1]))).status).toBe(409);
  }, 120_000);
});
