/**
 * The money path through the API against the real worker: a grant reserves its amount,
 * creates one payout; finance batches it into a SEPA file and reports it executed; the
 * initiative is paid and the ledger says so.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, eventually, type TestContext } from '../helpers/context.ts';
import { grant, waitForStatus } from '../helpers/grants.ts';

describe('grant → reserve → payout → batch → executed', () => {
  let ctx: TestContext;
  let finance: string;
  const as = (t: string) => ({ Authorization: `Bearer ${t}` });

  beforeAll(async () => {
    ctx = await createTestContext();
    finance = await ctx.login('financien@buurtfonds.test');
  });
  afterAll(async () => ctx?.close());

  it('pays each grant exactly once and moves the ledger from committed to paid', async () => {
    const before = (await ctx.http().get('/api/v1/budget/2027')).body;
    const a = await grant(ctx, { accountHolder: 'Zoë Çelik', applicant: { name: 'Zoë Çelik', email: 'zoe@example.nl', phone: '0612345678', address: { street: 'Laan 1', postalCode: '2271 AB', city: 'Voorburg' } } });
    const b = await grant(ctx, { title: 'Buurttuin', wijken: ['Bovenveen', 'Damsigt'] }, 50_000);

    const budget = (await ctx.http().get('/api/v1/budget/2027')).body;
    expect(budget.committedCents - before.committedCents).toBe(a.grantedCents + 50_000);
    expect(budget.remainingCents).toBe(budget.totalCents - budget.committedCents - budget.paidCents);

    const pending = await ctx.http().get('/api/v1/payouts?status=pending').set(as(finance));
    expect(pending.status).toBe(200);
    expect(pending.body.payouts.map((p: { reference: string }) => p.reference).sort()).toEqual([a.reference, b.reference].sort());

    const created = await ctx.http().post('/api/v1/payouts/batches').set(as(finance)).send();
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ numberOfTransactions: 2, controlSumCents: a.grantedCents + 50_000, executed: null });
    const again = await ctx.http().post('/api/v1/payouts/batches').set(as(finance)).send();
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('no_pending_payouts');

    const file = await ctx.http().get(created.body.fileUrl).set(as(finance));
    expect(file.status).toBe(200);
    expect(file.headers['content-type']).toMatch(/application\/xml/);
    expect(file.text).toContain('<NbOfTxs>2</NbOfTxs>');
    expect(file.text).toContain('Zoe Celik');
    const fileAgain = await ctx.http().get(created.body.fileUrl).set(as(finance));
    expect(fileAgain.text).toBe(file.text);

    const executed = await ctx.http().post(`${created.body.fileUrl}/executed`).set(as(finance)).send();
    expect(executed.status, JSON.stringify(executed.body)).toBe(200);
    const twice = await ctx.http().post(`${created.body.fileUrl}/executed`).set(as(finance)).send();
    expect(twice.status).toBe(409);
    expect(twice.body.error.code).toBe('batch_already_executed');

    const paidA = await waitForStatus(ctx, a, 'paid');
    expect(paidA.payout).toMatchObject({ status: 'paid', amountCents: a.grantedCents, batchId: created.body.id });
    await waitForStatus(ctx, b, 'paid');
    const after = await eventually(async () => {
      const r = (await ctx.http().get('/api/v1/budget/2027')).body;
      return r.paidCents - before.paidCents === a.grantedCents + 50_000 ? r : undefined;
    }, 10_000, 'ledger paid');
    expect(after.committedCents).toBe(before.committedCents);
    expect((await ctx.deps.ledger.check()).ok).toBe(true);
    await eventually(async () => ctx.mail.mails.some((m) => m.to.includes('zoe@example.nl') && /overgemaakt/.test(m.subject)), 10_000, 'the Dutch payment e-mail');

    const audit = await ctx.http().get(`/api/v1/audit?target=application:${a.id}`).set(as(await ctx.staff.admin()));
    expect(audit.status).toBe(200);
    const actions = audit.body.entries.map((e: { action: string }) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['ledger.reserve', 'ledger.pay', 'payout.created', 'payout.batched', 'payout.paid']));
  }, 90_000);
});
