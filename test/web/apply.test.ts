/**
 * The application form over HTTP: its idempotency key makes a double click, a reload of
 * the POST or a retry after an error one application; the key is bound to what was sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/context.ts';
import { pdfBytes } from '../helpers/fixtures.ts';
import { applicationIdOf, applyFields, webClient } from '../helpers/web.ts';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(async () => ctx?.close());

const countFor = (email: string) => ctx.models.Application.countDocuments({ 'applicant.email': email });

describe('POST /aanvragen', () => {
  it('sent twice at once and once more (a double click, then a reload): one application, the same confirmation', async () => {
    const client = webClient(ctx);
    await client.get('/aanvragen');
    const fields = applyFields({ 'applicant.email': 'dubbel@example.nl' });
    const files = [{ field: 'documents', name: 'offerte.pdf', bytes: pdfBytes }];
    const [a, b] = await Promise.all([client.postMultipart('/aanvragen', fields, files), client.postMultipart('/aanvragen', fields, files)]);
    const c = await client.postMultipart('/aanvragen', fields, files);
    for (const res of [a, b, c]) expect(res.status, res.text.slice(0, 300)).toBe(303);
    const ids = [a, b, c].map((r) => applicationIdOf(r.headers.location));
    expect(new Set(ids).size, 'every send of the form names the same application').toBe(1);
    expect(await countFor('dubbel@example.nl')).toBe(1);
    expect(await ctx.models.Document.countDocuments({ applicationId: ids[0] })).toBe(1);
    const page = await client.get(a.headers.location!);
    expect(page.status).toBe(200);
    expect(page.text).toMatch(/VW-\d{4}-\d{4}/);
  });

  it('the same form sent again with other answers (after the back button) is a new application; a new form is too', async () => {
    const client = webClient(ctx);
    await client.get('/aanvragen');
    const first = applyFields({ 'applicant.email': 'terug@example.nl' });
    const r1 = await client.postMultipart('/aanvragen', first);
    const r2 = await client.postMultipart('/aanvragen', { ...first, title: 'Straatfeest Kerkstraat, tweede dag' });
    await client.get('/aanvragen');
    const r3 = await client.postMultipart('/aanvragen', applyFields({ 'applicant.email': 'terug@example.nl' }));
    const ids = [r1, r2, r3].map((r) => applicationIdOf(r.headers.location));
    expect(new Set(ids).size).toBe(3);
    expect(await countFor('terug@example.nl')).toBe(3);
  });

  it('a form with errors stores nothing and comes back with the same key, so sending the corrected form makes one application', async () => {
    const client = webClient(ctx);
    const form = await client.get('/aanvragen');
    const key = /name="idempotencyKey" value="([^"]+)"/.exec(form.text)![1]!;
    const wrong = await client.postMultipart('/aanvragen', applyFields({ idempotencyKey: key, 'applicant.email': 'fout@example', iban: 'NL00 0000' }));
    expect(wrong.status).toBe(422);
    expect(wrong.text).toContain(`name="idempotencyKey" value="${key}"`);
    expect(wrong.text).toContain('value="fout@example"');
    expect(await countFor('fout@example')).toBe(0);
    const right = await client.postMultipart('/aanvragen', applyFields({ idempotencyKey: key, 'applicant.email': 'goed@example.nl' }));
    expect(right.status).toBe(303);
    expect(await countFor('goed@example.nl')).toBe(1);
  });
});
