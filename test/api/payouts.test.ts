/**
 * The money path through the API against the real worker: a grant reserves its amount,
 * creates one payout; finance batches it into a SEPA file and reports it executed; the
 * initiative is paid and the ledger says so.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateXML } from 'xmllint-wasm';
import { createMoney } from '../../src/runtime.ts';
import { stateQuery } from '../../workflows/initiative.ts';
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

  it('pays each grant exactly once and moves the ledger from committed to paid; the pay entries name the finance user who reported the batch executed', async () => {
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
    const financeUser = (await ctx.models.StaffUser.findOne({ email: 'financien@buurtfonds.test' }, { _id: 1 }).lean())!;
    const reporter = `staff:${financeUser._id}`;
    expect(executed.body.executed.by).toBe(reporter);
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
    // Who reported the batch executed is on the payout's audit record and is the actor of each journal's pay entry.
    const actorOf = (action: string) => audit.body.entries.find((e: { action: string }) => e.action === action)?.actor;
    expect(actorOf('payout.paid')).toBe(reporter);
    expect(actorOf('ledger.pay')).toBe(reporter);
    const journal = await ctx.deps.ledger.journal(2027);
    for (const g of [a, b]) expect(journal.find((e) => e.key === `pay:${g.id}`), `pay entry of ${g.reference}`).toMatchObject({ kind: 'pay', actor: reporter });
  }, 90_000);
});

/**
 * Batches under pressure, on a context of their own: racing batch requests (also from a
 * second process's payout register), the SEPA file checked against the schema and
 * never changing, execution once only, the payout list's filters, and the books at the end.
 */
describe('batches: races, the file, execution, filters', () => {
  let ctx: TestContext;
  let finance: string;
  let admin: string;
  const as = (t: string) => ({ Authorization: `Bearer ${t}` });
  const XSD_NAME = 'pain.001.001.09-buurtfonds.xsd';
  const xsd = readFileSync(new URL(`../../schemas/${XSD_NAME}`, import.meta.url), 'utf8');
  const values = (xml: string, tag: string) => [...xml.matchAll(new RegExp(`<${tag}(?: [^>]*)?>([^<]*)</${tag}>`, 'g'))].map((m) => m[1]);
  const euros = (cents: number) => `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
  const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  type Grant = Awaited<ReturnType<typeof grant>>;
  const e2e = (g: Grant) => `BF-${g.reference}`;

  /** The response body as raw bytes, whatever its type. */
  const download = (url: string) =>
    ctx
      .http()
      .get(url)
      .set(as(finance))
      .buffer(true)
      .parse((res, cb) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(Buffer.from(c)));
        res.on('end', () => cb(null, Buffer.concat(chunks)));
      });

  async function schemaErrors(xml: string): Promise<string[]> {
    const result = await validateXML({ xml: [{ fileName: 'batch.xml', contents: xml }], schema: [{ fileName: XSD_NAME, contents: xsd }] });
    return result.valid ? [] : result.errors.map((e) => e.rawMessage);
  }

  const listPayouts = async (query = '') => {
    const res = await ctx.http().get(`/api/v1/payouts${query}`).set(as(finance));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.payouts as { endToEndId: string; applicationId: string; status: string; batchId?: string; budgetYear: number; amountCents: number }[];
  };

  /** Grants made at the same time, with different amounts. */
  const grantMany = (amounts: number[], tag: string) =>
    Promise.all(amounts.map((cents, i) => grant(ctx, { title: `${tag} ${i + 1}`, accountHolder: `Initiatiefnemer ${tag} ${i + 1}` }, cents)));

  let raced: Grant[];
  let winner: { id: string; fileUrl: string; numberOfTransactions: number; controlSumCents: number; endToEndIds: string[]; sha256: string };

  beforeAll(async () => {
    ctx = await createTestContext();
    [finance, admin] = await Promise.all([ctx.login('financien@buurtfonds.test'), ctx.staff.admin()]);
  });
  afterAll(async () => ctx?.close());

  it('five batch requests at once: exactly one 201, the others 409 no_pending_payouts; every payout in exactly one batch', async () => {
    const amounts = [10_001, 20_002, 30_003, 40_004, 12_345];
    raced = await grantMany(amounts, 'Race');
    expect((await listPayouts('?status=pending')).map((p) => p.endToEndId).sort()).toEqual(raced.map(e2e).sort());

    const results = await Promise.all(Array.from({ length: 5 }, () => ctx.http().post('/api/v1/payouts/batches').set(as(finance)).send()));
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409]);
    for (const r of results.filter((r) => r.status === 409)) expect(r.body.error.code).toBe('no_pending_payouts');
    const won = results.find((r) => r.status === 201)!;
    winner = won.body;
    expect(won.headers.location).toBe(`/api/v1/payouts/batches/${winner.id}`);
    expect(winner.id).toMatch(/^PB-\d{4}-0001$/);
    expect(winner).toMatchObject({ numberOfTransactions: 5, controlSumCents: amounts.reduce((a, b) => a + b, 0), executed: null, fileUrl: `/api/v1/payouts/batches/${winner.id}` });
    expect([...winner.endToEndIds].sort()).toEqual(raced.map(e2e).sort());

    // One batch in the register; each payout batched in it, none left pending.
    const batches = (await ctx.http().get('/api/v1/payouts/batches').set(as(finance))).body.batches;
    expect(batches.map((b: { id: string }) => b.id)).toEqual([winner.id]);
    expect(await listPayouts('?status=pending')).toEqual([]);
    const batched = await listPayouts(`?batchId=${winner.id}`);
    expect(batched.map((p) => [p.endToEndId, p.status]).sort()).toEqual(raced.map((g) => [e2e(g), 'batched']).sort());

    // The file says the same: five transfers, the control sum in euros.
    const xml = (await download(winner.fileUrl)).body.toString('utf8');
    expect(values(xml, 'NbOfTxs')).toEqual(['5', '5']);
    expect(values(xml, 'CtrlSum')).toEqual([euros(winner.controlSumCents), euros(winner.controlSumCents)]);
    expect(values(xml, 'EndToEndId').sort()).toEqual(raced.map(e2e).sort());
    expect(values(xml, 'InstdAmt').sort()).toEqual(amounts.map(euros).sort());
  });

  it('two processes racing (this api and a second payout register on the same database): one batch, no payout twice', async () => {
    const more = await grantMany([5_000, 6_000, 7_000], 'Tweede proces');
    const other = createMoney(ctx.config, ctx.models, ctx.client).payouts;
    const outcomes = await Promise.all([
      ctx.http().post('/api/v1/payouts/batches').set(as(finance)).send().then((r) => (r.status === 201 ? r.body.id : r.body.error.code)),
      other.createBatch({ actor: 'staff:ander-proces', requestId: 'race-other-process' }).then(
        (b) => b.id,
        (e: { code?: string }) => e.code,
      ),
      ctx.http().post('/api/v1/payouts/batches').set(as(admin)).send().then((r) => (r.status === 201 ? r.body.id : r.body.error.code)),
    ]);
    const ids = outcomes.filter((o) => o.startsWith('PB-'));
    expect(ids, JSON.stringify(outcomes)).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'no_pending_payouts')).toHaveLength(2);

    const batches = (await ctx.http().get('/api/v1/payouts/batches').set(as(finance))).body.batches as { id: string; endToEndIds: string[]; numberOfTransactions: number; controlSumCents: number }[];
    expect(batches.map((b) => b.id)).toEqual([ids[0], winner.id]); // newest first
    expect(batches[0]).toMatchObject({ numberOfTransactions: 3, controlSumCents: 18_000 });
    expect([...batches[0]!.endToEndIds].sort()).toEqual(more.map(e2e).sort());
    const everyId = batches.flatMap((b) => b.endToEndIds);
    expect(new Set(everyId).size).toBe(everyId.length);
    expect(everyId.sort()).toEqual((await ctx.models.Payout.find({}, { _id: 1 }).lean()).map((p) => p._id).sort());
  });

  it('the SEPA file validates against the schema and never changes: downloaded twice and after execution, the same bytes and ETag', async () => {
    const first = await download(winner.fileUrl);
    expect(first.status).toBe(200);
    expect(first.headers['content-type']).toBe('application/xml; charset=utf-8');
    expect(first.headers['content-disposition']).toMatch(new RegExp(`^attachment; filename="?${winner.id}\\.xml"?$`));
    expect(first.headers.etag).toBe(`"${winner.sha256}"`);
    expect(sha256(first.body)).toBe(winner.sha256);
    expect(await schemaErrors(first.body.toString('utf8'))).toEqual([]);
    expect(values(first.body.toString('utf8'), 'MsgId')).toEqual([winner.id]);

    const second = await download(winner.fileUrl);
    expect(Buffer.compare(second.body, first.body)).toBe(0);
    expect(second.headers.etag).toBe(first.headers.etag);

    const summary = await ctx.http().get(winner.fileUrl).set(as(finance)).set('Accept', 'application/json');
    expect(summary.status).toBe(200);
    expect(summary.body).toMatchObject({ id: winner.id, sha256: winner.sha256, numberOfTransactions: 5, executed: null });

    const executed = await ctx.http().post(`${winner.fileUrl}/executed`).set(as(finance)).send();
    expect(executed.status, JSON.stringify(executed.body)).toBe(200);
    expect(executed.body).toMatchObject({ id: winner.id, sha256: winner.sha256, executed: { at: expect.any(String), by: expect.stringMatching(/^staff:/) } });

    const after = await download(winner.fileUrl);
    expect(Buffer.compare(after.body, first.body)).toBe(0);
    expect(after.headers.etag).toBe(first.headers.etag);
    // A second payout register (another process, empty cache) serves the same stored bytes.
    const elsewhere = await createMoney(ctx.config, ctx.models, ctx.client).payouts.getBatch(winner.id);
    expect(Buffer.from(elsewhere.xml, 'utf8').equals(first.body)).toBe(true);
  });

  it('executes a batch once: a second time 409 batch_already_executed, also when two arrive together; unknown 404, malformed 422', async () => {
    const registerSize = () => ctx.models.PayoutEvent.countDocuments();
    const size = await registerSize();
    const twice = await ctx.http().post(`${winner.fileUrl}/executed`).set(as(admin)).send();
    expect([twice.status, twice.body.error?.code]).toEqual([409, 'batch_already_executed']);
    expect(await registerSize()).toBe(size);

    // The batch the two processes raced for, executed twice at the same moment.
    const [second] = (await ctx.http().get('/api/v1/payouts/batches').set(as(finance))).body.batches;
    const both = await Promise.all([finance, admin].map((t) => ctx.http().post(`/api/v1/payouts/batches/${second.id}/executed`).set(as(t)).send()));
    expect(both.map((r) => r.status).sort()).toEqual([200, 409]);
    expect(both.find((r) => r.status === 409)!.body.error.code).toBe('batch_already_executed');
    expect(await registerSize()).toBe(size + 1);

    for (const id of ['PB-2026-9999', 'PB-2099-0001']) {
      const get = await ctx.http().get(`/api/v1/payouts/batches/${id}`).set(as(finance));
      expect([get.status, get.body.error?.code]).toEqual([404, 'batch_not_found']);
      const exec = await ctx.http().post(`/api/v1/payouts/batches/${id}/executed`).set(as(finance)).send();
      expect([exec.status, exec.body.error?.code]).toEqual([404, 'batch_not_found']);
    }
    for (const id of ['abc', 'PB-2026-1', 'pb-2026-0001', 'PB-26-0001', `${winner.id}x`]) {
      const get = await ctx.http().get(`/api/v1/payouts/batches/${id}`).set(as(finance));
      expect({ id, status: get.status, code: get.body.error?.code }).toEqual({ id, status: 422, code: 'validation_failed' });
      const exec = await ctx.http().post(`/api/v1/payouts/batches/${id}/executed`).set(as(finance)).send();
      expect({ id, status: exec.status, code: exec.body.error?.code }).toEqual({ id, status: 422, code: 'validation_failed' });
    }
    expect(await registerSize()).toBe(size + 1);
  });

  it('after execution each application shows its payout paid and the initiative reaches paid; the ledger moved to paid', async () => {
    for (const g of raced) {
      const view = await waitForStatus(ctx, g, 'paid');
      expect(view.payout).toMatchObject({ endToEndId: e2e(g), status: 'paid', amountCents: g.grantedCents, budgetYear: 2027, batchId: winner.id });
      const workflow = await ctx.client.workflow.getHandle(`initiative-${g.id}`).query(stateQuery);
      expect(workflow.status).toBe('paid');
    }
    const paid = await listPayouts(`?status=paid&batchId=${winner.id}`);
    expect(paid).toHaveLength(5);
    for (const p of paid) expect(p.status).toBe('paid');
    const budget = await eventually(async () => {
      const b = (await ctx.http().get('/api/v1/budget/2027')).body;
      return b.paidCents === 18_000 + winner.controlSumCents ? b : undefined;
    }, 15_000, 'both batches paid in the ledger');
    expect(budget.committedCents).toBe(0);
  });

  it('GET /api/v1/payouts filters by status, year and batch; refuses a bad filter with 422', async () => {
    const batches = (await ctx.http().get('/api/v1/payouts/batches').set(as(finance))).body.batches as { id: string }[];
    const [later, first] = [batches[0]!.id, batches[1]!.id];
    // A grant for a 2028 activity (pending), and one withdrawn after its grant (cancelled).
    const [next, gone] = await Promise.all([
      grant(ctx, { title: 'Voorjaarsmarkt 2028', activity: { startDate: '2028-04-15', endDate: '2028-04-15', location: 'Marktplein' } }, 33_000),
      grant(ctx, { title: 'Gaat niet door' }, 11_000),
    ]);
    const withdrawn = await ctx.http().post(`/api/v1/applications/${gone.id}/withdraw`).set(as(gone.token)).send({ reason: 'Het feest gaat niet door.' });
    expect(withdrawn.status, JSON.stringify(withdrawn.body)).toBe(200);
    await eventually(async () => (await ctx.models.Payout.findById(e2e(gone), { status: 1 }).lean())?.status === 'cancelled', 15_000, 'payout cancelled');

    const all = await listPayouts();
    expect(all).toHaveLength(10);
    const ids = (ps: { endToEndId: string }[]) => ps.map((p) => p.endToEndId).sort();
    expect(ids(await listPayouts('?status=pending'))).toEqual([e2e(next)]);
    expect(ids(await listPayouts('?status=cancelled'))).toEqual([e2e(gone)]);
    expect(ids(await listPayouts('?status=paid'))).toEqual(ids(all.filter((p) => p.batchId)));
    expect(await listPayouts('?status=batched')).toEqual([]);
    expect(ids(await listPayouts('?year=2028'))).toEqual([e2e(next)]);
    expect((await listPayouts('?year=2028'))[0]).toMatchObject({ budgetYear: 2028, amountCents: 33_000, status: 'pending' });
    expect(ids(await listPayouts('?year=2027'))).toEqual(ids(all.filter((p) => p.endToEndId !== e2e(next))));
    expect(await listPayouts('?year=2030')).toEqual([]);
    expect(ids(await listPayouts(`?batchId=${first}`))).toEqual(raced.map(e2e).sort());
    expect(await listPayouts(`?batchId=${later}`)).toHaveLength(3);
    expect(ids(await listPayouts(`?batchId=${first}&status=paid&year=2027`))).toEqual(raced.map(e2e).sort());
    expect(await listPayouts(`?batchId=${first}&status=pending`)).toEqual([]);
    expect(await listPayouts('?batchId=PB-2099-0001')).toEqual([]);
    // Oldest first.
    const created = all.map((p) => (p as unknown as { createdAt: string }).createdAt);
    expect([...created].sort()).toEqual(created);
    // A page at a time, from the payouts' keys: pages in order make the whole list; `total` counts all.
    const pageOf = async (q: string) => (await ctx.http().get(`/api/v1/payouts${q}`).set(as(finance))).body as { payouts: { endToEndId: string }[]; total: number; page: number; pageSize: number };
    const pages = await Promise.all([1, 2, 3, 4].map((n) => pageOf(`?pageSize=3&page=${n}`)));
    expect(pages.map((pg) => pg.payouts.length)).toEqual([3, 3, 3, 1]);
    expect(pages.flatMap((pg) => pg.payouts.map((p) => p.endToEndId))).toEqual(all.map((p) => p.endToEndId));
    expect(pages.map((pg) => pg.total)).toEqual([10, 10, 10, 10]);
    expect(await pageOf('?year=2027&status=paid&pageSize=2&page=2')).toMatchObject({ page: 2, pageSize: 2, total: all.filter((p) => p.batchId).length });

    for (const q of ['?status=open', '?year=abc', '?year=1999', '?year=2101', `?batchId=${'x'.repeat(41)}`, '?page=0', '?pageSize=1001']) {
      const res = await ctx.http().get(`/api/v1/payouts${q}`).set(as(finance));
      expect({ q, status: res.status, code: res.body?.error?.code }).toEqual({ q, status: 422, code: 'validation_failed' });
    }

    // The cancelled payout is never batched: the next batch holds only the 2028 one.
    const batch = await ctx.http().post('/api/v1/payouts/batches').set(as(finance)).send();
    expect(batch.status).toBe(201);
    expect(batch.body.endToEndIds).toEqual([e2e(next)]);
  });

  it('the ledger check proves the books at the end', async () => {
    const check = await ctx.deps.ledger.check();
    expect(check.years.flatMap((y) => y.problems)).toEqual([]);
    expect(check.ok).toBe(true);
    const y2027 = check.years.find((y) => y.year === 2027)!;
    // The withdrawn grant went back: released, not paid.
    expect(y2027.balances).toMatchObject({ committedCents: 0, paidCents: 18_000 + winner.controlSumCents, releasedCents: 11_000 });
  });
});
