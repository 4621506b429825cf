/**
 * The applicant's right of access: GET /api/v1/applications/:id/export gives a zip with
 * everything stored about the application, and only to the applicant and admin.
 */
import { createHash, randomBytes } from 'node:crypto';
import { unzipSync, strFromU8 } from 'fflate';
import type { Response } from 'superagent';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, eventually, type TestContext } from '../helpers/context.ts';
import { pdfBytes, pngBytes } from '../helpers/fixtures.ts';
import { grant, type Granted } from '../helpers/grants.ts';

const as = (token: string) => ({ Authorization: `Bearer ${token}` });
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** supertest reads a binary body into a Buffer with this parser. */
function binary(res: Response, done: (err: Error | null, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => done(null, Buffer.concat(chunks)));
}

describe('GET /api/v1/applications/:id/export', () => {
  let ctx: TestContext;
  let a: Granted & { grantedCents: number };
  let other: Granted;

  beforeAll(async () => {
    ctx = await createTestContext();
    a = await grant(ctx, { title: 'Buurtmoestuin Damsigt', wijken: ['Damsigt'] });
    other = await grant(ctx, { title: 'Schoonmaakdag', applicant: { name: 'Piet Bakker', email: 'piet@example.nl', phone: '0612345678', address: { street: 'Laan 2', postalCode: '2272 CD', city: 'Voorburg' } } });
    const added = await ctx.http().post(`/api/v1/applications/${a.id}/documents`).set(as(a.token)).attach('documents', pdfBytes, { filename: 'offerte tent.pdf' }).attach('documents', pngBytes, { filename: 'plattegrond.png' });
    expect(added.status, JSON.stringify(added.body)).toBe(201);
    // The confirmation and the decision have been sent (the outbox row says so) before the export is read.
    await eventually(async () => {
      const rows = await ctx.models.Outbox.find({ applicationId: a.id }, { status: 1 }).lean();
      return rows.length >= 2 && rows.every((r) => r.status === 'sent');
    }, 20_000, 'the confirmation and decision e-mails sent');
  });
  afterAll(async () => ctx?.close());

  async function download(token?: string, query = '') {
    const req = ctx.http().get(`/api/v1/applications/${a.id}/export${query}`).buffer(true).parse(binary);
    return token ? req.set(as(token)) : req;
  }

  it('gives the applicant a zip with the application, the e-mails, the ledger movements and every document byte for byte', async () => {
    const res = await download(a.token);
    expect(res.status, res.body?.toString()).toBe(200);
    expect(res.headers['content-type']).toBe('application/zip');
    expect(res.headers['content-disposition']).toContain(`${a.reference}-gegevens.zip`);
    expect(res.headers['cache-control']).toBe('private, no-store');

    const files = unzipSync(new Uint8Array(res.body as Buffer));
    expect(Object.keys(files).sort()).toEqual(['LEESMIJ.txt', 'application.json', 'documents/01-offerte tent.pdf', 'documents/02-plattegrond.png', 'emails.json', 'ledger.json']);

    const data = JSON.parse(strFromU8(files['application.json']!));
    expect(data.application).toMatchObject({
      id: a.id,
      reference: a.reference,
      status: 'reserved',
      title: 'Buurtmoestuin Damsigt',
      applicant: { name: 'Sanne de Vries', email: 'sanne@example.nl', phone: '070 123 4567', address: { street: 'Kerkstraat 1', postalCode: '2271 AB', city: 'Voorburg' } },
      iban: 'NL91ABNA0417164300',
      accountHolder: 'S. de Vries',
      decision: { outcome: 'approved', grantedCents: a.grantedCents },
      payout: { amountCents: a.grantedCents, status: 'pending' },
    });
    expect(data.application.timeline.map((e: { type: string }) => e.type)).toEqual(expect.arrayContaining(['submitted', 'decided', 'budget_reserved', 'documents_added']));
    expect(data.paymentInstruction).toMatchObject({ endToEndId: `BF-${a.reference}`, amountCents: a.grantedCents, iban: 'NL91ABNA0417164300', accountHolder: 'S. de Vries', status: 'pending' });
    expect(data.export).toMatchObject({ reference: a.reference });

    // The documents are the uploaded bytes, and the listing says where each one is.
    expect(Buffer.from(files['documents/01-offerte tent.pdf']!).equals(pdfBytes)).toBe(true);
    expect(Buffer.from(files['documents/02-plattegrond.png']!).equals(pngBytes)).toBe(true);
    expect(data.files).toEqual([
      expect.objectContaining({ fileName: 'offerte tent.pdf', sha256: sha256(pdfBytes), path: 'documents/01-offerte tent.pdf' }),
      expect.objectContaining({ fileName: 'plattegrond.png', sha256: sha256(pngBytes), path: 'documents/02-plattegrond.png' }),
    ]);

    // The e-mails as sent: subject, the text (the delivered one, but for the status link's token), when.
    const emails = JSON.parse(strFromU8(files['emails.json']!)) as { to: string; subject: string; text: string; sentAt: string; template: string }[];
    expect(emails.map((m) => m.template)).toEqual(expect.arrayContaining(['confirmation', 'approved']));
    for (const m of emails) {
      expect(m.to).toBe('sanne@example.nl');
      expect(Date.parse(m.sentAt)).toBeGreaterThan(0);
      const delivered = ctx.mail.mails.find((d) => d.subject === m.subject && d.to.includes('sanne@example.nl'));
      expect(delivered, `the delivered mail "${m.subject}"`).toBeDefined();
      const withoutToken = (t: string) => t.replace(/\?token=\S+/g, '').replace(/\r\n/g, '\n').trim();
      expect(withoutToken(m.text)).toBe(withoutToken(delivered!.text));
    }
    expect(JSON.stringify(emails)).not.toContain('piet@example.nl');

    const ledger = JSON.parse(strFromU8(files['ledger.json']!));
    expect(ledger).toEqual([expect.objectContaining({ kind: 'reserve', amountCents: a.grantedCents, budgetYear: 2027 })]);
    expect(strFromU8(files['LEESMIJ.txt']!)).toContain(a.reference);

    // Nothing of the other applicant.
    const all = Object.values(files).map((f) => Buffer.from(f).toString('latin1')).join('\n');
    expect(all).not.toContain('Piet Bakker');
    expect(all).not.toContain(other.id);
  });

  it('streams a large document whole (the archive is written in chunks, not in memory)', async () => {
    const big = Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(6 * 1024 * 1024), Buffer.from('\n%%EOF\n')]);
    const added = await ctx.http().post(`/api/v1/applications/${other.id}/documents`).set(as(other.token)).attach('documents', big, { filename: 'groot.pdf' });
    expect(added.status, JSON.stringify(added.body)).toBe(201);
    const res = await ctx.http().get(`/api/v1/applications/${other.id}/export`).set(as(other.token)).buffer(true).parse(binary);
    expect(res.status).toBe(200);
    const files = unzipSync(new Uint8Array(res.body as Buffer));
    expect(sha256(files['documents/01-groot.pdf']!)).toBe(sha256(big));
  });

  it('works with the status link from the e-mails (a read)', async () => {
    const link = await ctx.deps.signer.signApplicantLink(a.id);
    const res = await download(undefined, `?token=${link}`);
    expect(res.status).toBe(200);
  });

  it('is refused to another applicant, to anyone without a token, and to the panel; admin may', async () => {
    const foreign = await download(other.token);
    expect(foreign.status).toBe(403);
    const anonymous = await download();
    expect(anonymous.status).toBe(401);
    expect(JSON.parse((anonymous.body as Buffer).toString()).error.code).toBe('unauthenticated');
    for (const staff of [await ctx.staff.panel(), await ctx.staff.welfare(), await ctx.login('financien@buurtfonds.test')]) {
      const res = await download(staff);
      expect(res.status).toBe(403);
      expect(res.headers['content-type']).toMatch(/application\/json/);
    }
    const admin = await download(await ctx.staff.admin());
    expect(admin.status).toBe(200);
    expect(Object.keys(unzipSync(new Uint8Array(admin.body as Buffer)))).toContain('application.json');
  });

  it('answers 404 for an unknown application (admin) and 422 for a malformed id', async () => {
    const admin = await ctx.staff.admin();
    expect((await ctx.http().get('/api/v1/applications/7d3c6c52-8f0e-4a53-9d5d-0a7f7f1d1c11/export').set(as(admin))).status).toBe(404);
    expect((await ctx.http().get('/api/v1/applications/nope/export').set(as(admin))).status).toBe(422);
  });

  it('records who exported in the audit log', async () => {
    const entries = await ctx.models.Audit.find({ action: 'privacy.exported', target: `application:${a.id}` }).lean();
    expect(entries.map((e) => e.actor)).toEqual(expect.arrayContaining(['applicant', expect.stringMatching(/^staff:/)]));
    // The log names the fact, not the data.
    expect(JSON.stringify(entries)).not.toContain('sanne@example.nl');
  });
});
