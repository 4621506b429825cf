/**
 * The budget through the HTTP API against the real worker: the public figures of a year
 * (no login, right straight after a grant made by the worker, ETag/304), the admin
 * setting the total (refused below what is committed and paid, every refusal writing
 * nothing, a change landing in the journal and the audit log once), and the journal for
 * finance and the admin (paginated, and as CSV with amounts in cents).
 *
 * Budget years: 2027 is the fixture's activity year (the grants land there); 2026 is
 * the year the seed opens; 2029–2031 are left alone until a test touches them.
 */
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/context.ts';
import { grant, waitForStatus, type Granted } from '../helpers/grants.ts';

const DEFAULT_TOTAL = 9_000_000; // ANNUAL_BUDGET_CENTS default
const BAD_YEARS = ['abcd', '1999', '2101', '20270'];

let ctx: TestContext;
let admin: string;
let finance: string;
let panel: string;
let adminId: string;
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

beforeAll(async () => {
  ctx = await createTestContext();
  [admin, finance, panel] = await Promise.all([ctx.staff.admin(), ctx.login('financien@buurtfonds.test'), ctx.staff.panel()]);
  adminId = (await ctx.models.StaffUser.findOne({ email: 'admin@buurtfonds.test' }, { _id: 1 }).lean())!._id;
});
afterAll(async () => ctx?.close());

const getBudget = (year: number | string) => ctx.http().get(`/api/v1/budget/${year}`);
const putTotal = (year: number | string, body: unknown) => ctx.http().put(`/api/v1/budget/${year}`).set(bearer(admin)).send(body as object);
const journal = (year: number | string, query = '', token = admin) => ctx.http().get(`/api/v1/budget/${year}/journal${query}`).set(bearer(token));

/** What a refused request could have written: the journals and the audit log. */
async function written() {
  const [entries, audit] = await Promise.all([ctx.models.LedgerEntry.countDocuments(), ctx.models.Audit.countDocuments()]);
  return { entries, audit };
}

const amsterdamToday = () => new Date().toLocaleDateString('sv-SE', { timeZone: 'Europe/Amsterdam' });

/** Share of `year` gone today, whole Amsterdam days, today included (computed here, not with the service's function). */
function yearGone(year: number): number {
  const today = amsterdamToday();
  const thisYear = Number(today.slice(0, 4));
  if (thisYear < year) return 0;
  if (thisYear > year) return 1;
  const day = (Date.parse(`${today}T00:00:00Z`) - Date.parse(`${year}-01-01T00:00:00Z`)) / 86_400_000 + 1;
  const days = (Date.parse(`${year + 1}-01-01T00:00:00Z`) - Date.parse(`${year}-01-01T00:00:00Z`)) / 86_400_000;
  return Math.round((day / days) * 10_000) / 10_000;
}

describe('bad years', () => {
  it('answers 400 invalid_year on GET, PUT and the journal, and writes nothing', async () => {
    const before = await written();
    for (const year of BAD_YEARS) {
      for (const [what, res] of [
        ['GET', await getBudget(year)],
        ['PUT', await putTotal(year, { totalCents: 1_000_000 })],
        ['journal', await journal(year)],
        ['journal csv', await journal(year, '?format=csv')],
      ] as const) {
        expect({ year, what, status: res.status, code: res.body?.error?.code }).toEqual({ year, what, status: 400, code: 'invalid_year' });
        expect(res.body.error.details).toEqual([{ path: 'year', code: 'invalid_year' }]);
        expect(typeof res.body.error.message).toBe('string');
      }
    }
    expect(await written()).toEqual(before);
  });
});

describe('GET /api/v1/budget/:year (public)', () => {
  let a: Granted & { grantedCents: number };

  it('needs no login: a year nobody has written to shows the default total and no grants', async () => {
    const res = await getBudget(2027);
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('public, no-cache');
    expect(res.body).toEqual({
      year: 2027,
      totalCents: DEFAULT_TOTAL,
      committedCents: 0,
      paidCents: 0,
      releasedCents: 0,
      reclaimedCents: 0,
      refundedCents: 0,
      remainingCents: DEFAULT_TOTAL,
      grants: 0,
      pace: { shareUsed: 0, shareOfYearGone: yearGone(2027), ratio: yearGone(2027) > 0 ? 0 : null, asOf: amsterdamToday() },
      perWijk: [],
      entries: 0,
    });
  });

  it('shows the pace of the current year (opened by the seed) and of a past year', async () => {
    const thisYear = Number(amsterdamToday().slice(0, 4));
    const now = (await getBudget(thisYear)).body;
    expect(now).toMatchObject({ year: thisYear, totalCents: DEFAULT_TOTAL, remainingCents: DEFAULT_TOTAL, entries: 1 });
    expect(now.pace).toEqual({ shareUsed: 0, shareOfYearGone: yearGone(thisYear), ratio: 0, asOf: amsterdamToday() });
    expect(now.pace.shareOfYearGone).toBeGreaterThan(0);
    const past = (await getBudget(thisYear - 1)).body;
    expect(past.pace).toMatchObject({ shareUsed: 0, shareOfYearGone: 1, ratio: 0 });
  });

  it('is right straight after a grant made by the worker: committed grew by the grant, split over its wijken; ETag revalidates', async () => {
    const before = await getBudget(2027);
    const etag = before.headers.etag as string;
    expect(etag).toMatch(/^".+"$/);
    const notModified = await getBudget(2027).set('If-None-Match', etag);
    expect(notModified.status).toBe(304);
    expect(notModified.text ?? '').toBe('');

    // An odd amount over two wijken: the first gets the extra cent.
    a = await grant(ctx, { title: 'Buurtfeest twee wijken', wijken: ['Voorburg-Midden', 'Damsigt'] }, 50_001);

    const after = await getBudget(2027); // at once, no polling
    expect(after.status).toBe(200);
    expect(after.body.committedCents - before.body.committedCents).toBe(50_001);
    expect(after.body).toMatchObject({
      totalCents: DEFAULT_TOTAL,
      committedCents: 50_001,
      paidCents: 0,
      remainingCents: DEFAULT_TOTAL - 50_001,
      grants: 1,
      perWijk: [
        { wijk: 'Damsigt', grants: 1, grantedCents: 25_000 },
        { wijk: 'Voorburg-Midden', grants: 1, grantedCents: 25_001 },
      ],
    });
    expect(after.body.pace.shareUsed).toBe(Math.round((50_001 / DEFAULT_TOTAL) * 10_000) / 10_000);
    expect(after.body.entries).toBeGreaterThan(before.body.entries);

    // A new version: the old ETag no longer matches, the new one does.
    const newEtag = after.headers.etag as string;
    expect(newEtag).not.toBe(etag);
    const stale = await getBudget(2027).set('If-None-Match', etag);
    expect(stale.status).toBe(200);
    expect(stale.body.committedCents).toBe(50_001);
    expect((await getBudget(2027).set('If-None-Match', newEtag)).status).toBe(304);
    // A list of ETags and the weak form revalidate too (RFC 9110 If-None-Match).
    expect((await getBudget(2027).set('If-None-Match', `"something-else", ${newEtag}`)).status).toBe(304);
    expect((await getBudget(2027).set('If-None-Match', `W/${newEtag}`)).status).toBe(304);
    expect((await getBudget(2027).set('If-None-Match', `${etag}, "something-else"`)).status).toBe(200);
  });

  it('paid and committed both count; perWijk adds up to committed + paid', async () => {
    // Pay the first grant: finance batches and executes it, the worker records the payment.
    const batch = await ctx.http().post('/api/v1/payouts/batches').set(bearer(finance));
    expect(batch.status, JSON.stringify(batch.body)).toBe(201);
    expect((await ctx.http().post(`/api/v1/payouts/batches/${batch.body.id}/executed`).set(bearer(finance))).status).toBe(200);
    await waitForStatus(ctx, a, 'paid');
    await grant(ctx, { title: 'Buurttuin', wijken: ['Damsigt'] }, 40_000);

    const s = (await getBudget(2027)).body;
    expect(s).toMatchObject({ totalCents: DEFAULT_TOTAL, committedCents: 40_000, paidCents: 50_001, remainingCents: DEFAULT_TOTAL - 90_001, grants: 2 });
    expect(s.perWijk).toEqual([
      { wijk: 'Damsigt', grants: 2, grantedCents: 65_000 },
      { wijk: 'Voorburg-Midden', grants: 1, grantedCents: 25_001 },
    ]);
    expect(s.perWijk.reduce((sum: number, w: { grantedCents: number }) => sum + w.grantedCents, 0)).toBe(s.committedCents + s.paidCents);
  });
});

describe('PUT /api/v1/budget/:year (admin)', () => {
  it('refuses an invalid body with 422 validation_failed and writes nothing', async () => {
    const before = await written();
    const total = (await getBudget(2027)).body.totalCents;
    const bodies: [string, unknown][] = [
      ['negative', { totalCents: -1 }],
      ['fraction', { totalCents: 1_000_000.5 }],
      ['string', { totalCents: '1000000' }],
      ['extra field', { totalCents: 1_000_000, year: 2027 }],
      ['missing', {}],
      ['null', { totalCents: null }],
      ['above the maximum', { totalCents: 100_000_000_01 }],
      ['an array', [1_000_000]],
    ];
    for (const [what, body] of bodies) {
      const res = await putTotal(2027, body);
      expect({ what, status: res.status, code: res.body?.error?.code }).toEqual({ what, status: 422, code: 'validation_failed' });
      expect(res.body.error.details.length, what).toBeGreaterThan(0);
    }
    // Also on a year nobody has opened: not even the opening entry is written.
    expect((await putTotal(2031, { totalCents: -5 })).status).toBe(422);
    expect(await written()).toEqual(before);
    expect((await getBudget(2027)).body.totalCents).toBe(total);
    expect((await getBudget(2031)).body.entries).toBe(0);
  });

  it('refuses a total below committed + paid with 409 budget_below_committed, and leaves the total alone', async () => {
    const s = (await getBudget(2027)).body;
    expect(s).toMatchObject({ committedCents: 40_000, paidCents: 50_001 });
    const before = await written();
    for (const totalCents of [0, 40_000, 50_001, 90_000]) {
      const res = await putTotal(2027, { totalCents });
      expect({ totalCents, status: res.status, code: res.body?.error?.code }).toEqual({ totalCents, status: 409, code: 'budget_below_committed' });
      expect(res.body.error.details).toEqual([{ path: 'totalCents', code: 'budget_below_committed', committedCents: 40_000, paidCents: 50_001 }]);
    }
    expect(await written()).toEqual(before);
    expect((await getBudget(2027)).body).toMatchObject({ totalCents: DEFAULT_TOTAL, remainingCents: DEFAULT_TOTAL - 90_001 });
  });

  it('lowers to exactly committed + paid and raises again; each change is in the journal and the audit log with before and after', async () => {
    const changes = [90_001, 12_000_000, 8_000_000];
    let previous = DEFAULT_TOTAL;
    for (const totalCents of changes) {
      const res = await putTotal(2027, { totalCents });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body).toMatchObject({ year: 2027, totalCents, committedCents: 40_000, paidCents: 50_001, remainingCents: totalCents - 90_001 });
      expect((await getBudget(2027)).body.totalCents).toBe(totalCents);

      const last = (await journal(2027, '?limit=1000')).body.entries.at(-1);
      expect(last).toMatchObject({ kind: 'set_total', amountCents: totalCents, actor: `staff:${adminId}`, balances: { totalCents, committedCents: 40_000, paidCents: 50_001 } });
      expect(last.requestId).toEqual(expect.any(String));

      const audit = await ctx.http().get('/api/v1/audit?action=budget.set_total&target=budget:2027&limit=1').set(bearer(admin));
      expect(audit.status).toBe(200);
      expect(audit.body.entries[0]).toMatchObject({
        action: 'budget.set_total',
        target: 'budget:2027',
        actor: `staff:${adminId}`,
        before: { totalCents: previous },
        after: { entryId: last.id, amountCents: totalCents, balances: { totalCents } },
        requestId: last.requestId,
      });
      previous = totalCents;
    }
    const all = await ctx.http().get('/api/v1/audit?action=budget.set_total&target=budget:2027').set(bearer(admin));
    expect(all.body.total).toBe(changes.length);
    expect(all.body.entries.map((e: { after: { amountCents: number } }) => e.after.amountCents)).toEqual([...changes].reverse());
  });

  it('the same total twice writes one entry only', async () => {
    const count = async () => (await journal(2027, '?limit=1000')).body.entries.filter((e: { kind: string }) => e.kind === 'set_total').length;
    const audits = async () => (await ctx.http().get('/api/v1/audit?action=budget.set_total&target=budget:2027').set(bearer(admin))).body.total;
    const [entries, audited] = [await count(), await audits()];
    for (let i = 0; i < 2; i++) {
      const res = await putTotal(2027, { totalCents: 7_500_000 });
      expect(res.status).toBe(200);
      expect(res.body.totalCents).toBe(7_500_000);
    }
    expect(await count()).toBe(entries + 1);
    expect(await audits()).toBe(audited + 1);
    // And the total it already has: nothing written.
    expect((await putTotal(2027, { totalCents: 7_500_000 })).status).toBe(200);
    expect(await count()).toBe(entries + 1);
  });

  // The "same total: nothing written" rule is decided on the journal's end, inside the
  // append, so two saves of one new total at the same moment write one entry.
  it('the same new total set twice at the same moment writes one entry only', async () => {
    await ctx.deps.ledger.open(2029);
    const setTotal = (key: string) => ctx.deps.ledger.setTotal({ year: 2029, totalCents: 7_600_000, key, actor: `staff:${adminId}` });
    const results = await Promise.all([setTotal('a'), setTotal('b')]);
    expect(results.map((r) => r.balances.totalCents)).toEqual([7_600_000, 7_600_000]);
    const kinds = (await journal(2029)).body.entries.map((e: { kind: string }) => e.kind);
    expect(kinds).toEqual(['open', 'set_total']);
  });

  it('on a year nobody has opened: the journal opens with the default total, then the new total', async () => {
    const res = await putTotal(2030, { totalCents: 2_500_000 });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ year: 2030, totalCents: 2_500_000, remainingCents: 2_500_000, entries: 2 });
    const j = (await journal(2030)).body;
    expect(j.entries.map((e: { seq: number; kind: string; amountCents: number }) => [e.seq, e.kind, e.amountCents])).toEqual([
      [1, 'open', DEFAULT_TOTAL],
      [2, 'set_total', 2_500_000],
    ]);
  });
});

describe('GET /api/v1/budget/:year/journal (finance, admin)', () => {
  it('is for finance and the admin only', async () => {
    expect((await journal(2027, '', finance)).status).toBe(200);
    expect((await journal(2027, '', admin)).status).toBe(200);
    for (const [who, token, status, code] of [
      ['panel', panel, 403, 'forbidden'],
      ['welfare', await ctx.staff.welfare(), 403, 'forbidden'],
    ] as const) {
      for (const query of ['', '?format=csv']) {
        const res = await journal(2027, query, token);
        expect({ who, query, status: res.status, code: res.body?.error?.code }).toEqual({ who, query, status, code });
      }
    }
    const anonymous = await ctx.http().get('/api/v1/budget/2027/journal');
    expect([anonymous.status, anonymous.body.error.code]).toEqual([401, 'unauthenticated']);
  });

  it('lists every movement oldest first, with contiguous positions and the balances after each', async () => {
    const j = (await journal(2027, '?limit=1000', finance)).body;
    expect(j).toMatchObject({ year: 2027, offset: 0, limit: 1000 });
    expect(j.total).toBe(j.entries.length);
    const kinds = j.entries.map((e: { kind: string }) => e.kind);
    // open, reserve (grant A), pay (A), reserve (B), then the totals set above.
    expect(kinds).toEqual(['open', 'reserve', 'pay', 'reserve', 'set_total', 'set_total', 'set_total', 'set_total']);
    j.entries.forEach((e: { seq: number }, i: number) => expect(e.seq).toBe(i + 1));
    expect(j.entries[1]).toMatchObject({ amountCents: 50_001, applicationId: expect.any(String), balances: { totalCents: DEFAULT_TOTAL, committedCents: 50_001, paidCents: 0 } });
    expect(j.entries[2]).toMatchObject({ kind: 'pay', amountCents: 50_001, balances: { committedCents: 0, paidCents: 50_001 } });
    expect(j.entries[3]).toMatchObject({ amountCents: 40_000, balances: { committedCents: 40_000, paidCents: 50_001 } });
    expect(j.entries.at(-1).balances).toEqual({ totalCents: 7_500_000, committedCents: 40_000, paidCents: 50_001, releasedCents: 0, reclaimedCents: 0, refundedCents: 0 });
    // Timestamps never go backwards.
    const times = j.entries.map((e: { at: string }) => Date.parse(e.at));
    expect([...times].sort((x, y) => x - y)).toEqual(times);
  });

  it('paginates with offset and limit; refuses a bad page with 422', async () => {
    const all = (await journal(2027, '?limit=1000')).body.entries;
    const pages = [];
    for (let offset = 0; offset < all.length; offset += 3) {
      const page = (await journal(2027, `?offset=${offset}&limit=3`)).body;
      expect(page).toMatchObject({ total: all.length, offset, limit: 3 });
      expect(page.entries.length).toBe(Math.min(3, all.length - offset));
      pages.push(...page.entries);
    }
    expect(pages).toEqual(all);
    const beyond = (await journal(2027, `?offset=${all.length}&limit=3`)).body;
    expect(beyond).toMatchObject({ total: all.length, entries: [] });
    // The default page is the first 100.
    expect((await journal(2027)).body).toMatchObject({ offset: 0, limit: 100, total: all.length });
    for (const q of ['?limit=0', '?limit=1001', '?offset=-1', '?limit=abc', '?offset=1.5', '?format=xml']) {
      const res = await journal(2027, q);
      expect({ q, status: res.status, code: res.body?.error?.code }).toEqual({ q, status: 422, code: 'validation_failed' });
    }
    // A year without a journal: empty, not an error.
    expect((await journal(2031)).body).toMatchObject({ year: 2031, total: 0, entries: [] });
  });

  it('as CSV: a header row, then one row per entry (all of them) with amounts in whole cents', async () => {
    const entries = (await journal(2027, '?limit=1000')).body.entries;
    const res = await journal(2027, '?format=csv&limit=2', finance).buffer(true).parse((r, cb) => {
      let text = '';
      r.setEncoding('utf8');
      r.on('data', (c: string) => (text += c));
      r.on('end', () => cb(null, text));
    });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv; charset=utf-8/);
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="?budget-2027-journal\.csv"?$/);
    const rows: string[][] = parse(res.body as string);
    expect(rows[0]).toEqual(['seq', 'at', 'kind', 'amountCents', 'applicationId', 'actor', 'note', 'totalCents', 'committedCents', 'paidCents', 'releasedCents', 'reclaimedCents', 'refundedCents']);
    expect(rows.length).toBe(entries.length + 1);
    rows.slice(1).forEach((row, i) => {
      const e = entries[i];
      for (const cell of [row[3], ...row.slice(7)]) expect(cell).toMatch(/^\d+$/); // cents, no decimals, no euro formatting
      expect(row).toEqual([
        String(e.seq),
        e.at,
        e.kind,
        String(e.amountCents),
        e.applicationId ?? '',
        e.actor,
        e.note ?? '',
        ...['totalCents', 'committedCents', 'paidCents', 'releasedCents', 'reclaimedCents', 'refundedCents'].map((k) => String(e.balances[k])),
      ]);
    });
    expect(rows[2]![3]).toBe('50001');
  });
});

describe('the books', () => {
  it('the ledger check proves every journal from the database', async () => {
    const check = await ctx.deps.ledger.check();
    expect(check.years.flatMap((y) => y.problems)).toEqual([]);
    expect(check.ok).toBe(true);
    expect(check.years.map((y) => y.year)).toEqual(expect.arrayContaining([2027, 2030]));
  });
});
