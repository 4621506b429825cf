/**
 * Op is op, at intake: when the budget year of the activity cannot cover the request,
 * the application is still accepted (201) and the applicant is warned, in the response
 * (Dutch by default, English with Accept-Language: en) and in the Dutch confirmation
 * e-mail. Another year with money left gets no warning.
 *
 * Each scenario uses budget years of its own (this file's context has its own database):
 * 2027 (the fixture's activity year), 2028 (untouched), 2029 (the boundary), 2030 (a grant
 * made by the worker uses the money up).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/context.ts';
import { validApplication } from '../helpers/fixtures.ts';
import { grant, waitForStatus } from '../helpers/grants.ts';

const REQUESTED = validApplication().amountRequestedCents; // 600,50

let ctx: TestContext;
let admin: string;
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

beforeAll(async () => {
  ctx = await createTestContext();
  admin = await ctx.staff.admin();
});
afterAll(async () => ctx?.close());

async function setTotal(year: number, totalCents: number) {
  const res = await ctx.http().put(`/api/v1/budget/${year}`).set(bearer(admin)).send({ totalCents });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as { remainingCents: number };
}

const activityIn = (year: number) => ({ startDate: `${year}-05-01`, endDate: `${year}-05-01`, location: 'Kerkstraat' });
function form(year: number, email: string, overrides: Record<string, unknown> = {}) {
  return validApplication({ activity: activityIn(year), applicant: { ...validApplication().applicant, email }, ...overrides });
}

const confirmationTo = (email: string) => ctx.mail.waitFor((m) => m.to.includes(email) && /is ontvangen/.test(m.subject));

describe('op is op at intake', () => {
  it('accepts an application whose year cannot cover it, with a Dutch warning in the response and in the confirmation e-mail', async () => {
    expect((await setTotal(2027, 50_000)).remainingCents).toBe(50_000);

    const res = await ctx.http().post('/api/v1/applications').send(form(2027, 'krap@example.nl'));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ id: expect.any(String), reference: expect.any(String), accessToken: expect.any(String) });
    expect(res.body.warnings).toEqual([{ code: 'budget_exhausted', year: 2027, remainingCents: 50_000, message: expect.any(String) }]);
    const message: string = res.body.warnings[0].message;
    expect(message).toMatch(/budget voor 2027 is bijna op/);
    expect(message).toMatch(/nog €\s?500,00 over/);
    expect(message).toMatch(/op is op/i);

    // Accepted means accepted: the workflow runs as for any application.
    await waitForStatus(ctx, { id: res.body.id, reference: res.body.reference, token: res.body.accessToken }, 'screening');
    const mail = await confirmationTo('krap@example.nl');
    expect(mail.text).toContain('budget voor 2027 is bijna op');
    expect(mail.text).toMatch(/nog €\s?500,00 over/);
    expect(mail.text).toContain(res.body.reference);
  });

  it('answers in English with Accept-Language: en (the e-mail stays Dutch)', async () => {
    const res = await ctx.http().post('/api/v1/applications').set('Accept-Language', 'en-GB,en;q=0.9,nl;q=0.8').send(form(2027, 'english@example.nl'));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.warnings).toHaveLength(1);
    expect(res.body.warnings[0]).toMatchObject({ code: 'budget_exhausted', year: 2027, remainingCents: 50_000 });
    expect(res.body.warnings[0].message).toMatch(/the 2027 budget is nearly used up/);
    expect(res.body.warnings[0].message).toMatch(/€\s?500\.00 left/);
    expect(res.body.warnings[0].message).not.toMatch(/bijna op/);
    // Any other language: Dutch.
    const german = await ctx.http().post('/api/v1/applications').set('Accept-Language', 'de-DE').send(form(2027, 'duits@example.nl'));
    expect(german.body.warnings[0].message).toMatch(/budget voor 2027 is bijna op/);

    const mail = await confirmationTo('english@example.nl');
    expect(mail.text).toContain('budget voor 2027 is bijna op');
  });

  it('warns the same way on a replay with the same Idempotency-Key, and for a multipart submission', async () => {
    const body = form(2027, 'nogmaals@example.nl');
    const first = await ctx.http().post('/api/v1/applications').set('Idempotency-Key', 'op-is-op-replay-0001').send(body);
    expect(first.status).toBe(201);
    const replay = await ctx.http().post('/api/v1/applications').set('Idempotency-Key', 'op-is-op-replay-0001').send(body);
    expect(replay.status).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body.id).toBe(first.body.id);
    expect(replay.body.warnings).toEqual(first.body.warnings);
    expect(first.body.warnings[0]).toMatchObject({ code: 'budget_exhausted', year: 2027, remainingCents: 50_000 });

    const multipart = await ctx.http().post('/api/v1/applications').field('application', JSON.stringify(form(2027, 'multipart@example.nl')));
    expect(multipart.status, JSON.stringify(multipart.body)).toBe(201);
    expect(multipart.body.warnings?.[0]).toMatchObject({ code: 'budget_exhausted', year: 2027, remainingCents: 50_000 });
  });

  it('gives no warning for an activity in a year with money left (2028), in the response or the e-mail', async () => {
    const res = await ctx.http().post('/api/v1/applications').send(form(2028, 'volgendjaar@example.nl'));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).not.toHaveProperty('warnings');
    const mail = await confirmationTo('volgendjaar@example.nl');
    expect(mail.text).not.toMatch(/bijna op/);
    // 2027 is still short: its warning did not spill over, nor did the 2028 application change 2027.
    expect((await ctx.http().get('/api/v1/budget/2027')).body.remainingCents).toBe(50_000);
  });

  it('warns only when less is left than requested: exactly enough gets no warning, a cent short does', async () => {
    await setTotal(2029, REQUESTED);
    const enough = await ctx.http().post('/api/v1/applications').send(form(2029, 'precies@example.nl'));
    expect(enough.status).toBe(201);
    expect(enough.body).not.toHaveProperty('warnings');

    await setTotal(2029, REQUESTED - 1);
    const short = await ctx.http().post('/api/v1/applications').send(form(2029, 'centtekort@example.nl'));
    expect(short.status).toBe(201);
    expect(short.body.warnings).toEqual([{ code: 'budget_exhausted', year: 2029, remainingCents: REQUESTED - 1, message: expect.stringMatching(/budget voor 2029 is bijna op/) }]);
  });

  it('counts what the worker has just reserved: a grant that uses the year up makes the next application warned', async () => {
    await setTotal(2030, 100_000);
    const before = await ctx.http().post('/api/v1/applications').send(form(2030, 'eerst@example.nl'));
    expect(before.body).not.toHaveProperty('warnings');

    await grant(ctx, { activity: activityIn(2030), title: 'Grote toekenning 2030' }, 60_000);
    const after = await ctx.http().post('/api/v1/applications').send(form(2030, 'daarna@example.nl'));
    expect(after.status).toBe(201);
    expect(after.body.warnings).toEqual([{ code: 'budget_exhausted', year: 2030, remainingCents: 40_000, message: expect.stringMatching(/nog €\s?400,00 over/) }]);
    const mail = await confirmationTo('daarna@example.nl');
    expect(mail.text).toContain('budget voor 2030 is bijna op');
  });
});
