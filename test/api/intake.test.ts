import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStatusLink, statusLinkIn } from '../helpers/web.ts';
import { createTestContext, eventually, type TestContext } from '../helpers/context.ts';
import { csvBytes, elfBytes, exeBytes, jpegBytes, odtBytes, pdfBytes, pngBytes, validApplication } from '../helpers/fixtures.ts';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext({ env: { MAX_UPLOAD_BYTES: String(64 * 1024), MAX_UPLOAD_FILES: '3' } });
});
afterAll(async () => ctx?.close());

async function counts() {
  const [applications, workflows] = await Promise.all([
    ctx.models.Application.countDocuments(),
    ctx.client.workflow.count(`TaskQueue = '${ctx.config.temporal.taskQueue}'`).then((c) => c.count),
  ]);
  return { applications, workflows };
}

describe('POST /api/v1/applications', () => {
  it('stores a JSON application, starts its workflow, and moves it into screening', async () => {
    const res = await ctx.http().post('/api/v1/applications').send(validApplication());
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'submitted' });
    expect(res.body.reference).toMatch(/^VW-\d{4}-\d{4}$/);
    expect(res.body.accessToken.length).toBeGreaterThanOrEqual(60);

    const secretPart = res.body.accessToken.split('.')[1];
    const stored = await ctx.models.Application.findById(res.body.id).lean();
    expect(stored?.accessTokenHash).toMatch(/^[0-9a-f]{64}$/);
    for (const name of await ctx.models.connection.db!.listCollections().toArray()) {
      const all = await ctx.models.connection.db!.collection(name.name).find().toArray();
      expect(JSON.stringify(all), `token stored in ${name.name}`).not.toContain(secretPart);
    }

    const view = await eventually(async () => {
      const r = await ctx.http().get(`/api/v1/applications/${res.body.id}`).set('Authorization', `Bearer ${res.body.accessToken}`);
      return r.body.status === 'screening' ? r.body : undefined;
    });
    expect(view.timeline.map((e: { type: string }) => e.type)).toEqual(['submitted', 'status_changed']);
    for (const e of view.timeline) expect(e.at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(view.amountRequestedCents).toBe(60_050);
    expect(view.decision).toBeNull();

    const desc = await ctx.client.workflow.getHandle(`initiative-${res.body.id}`).describe();
    expect(desc.status.name).toBe('RUNNING');
  });

  it('sends the applicant a Dutch confirmation with the reference and a working status link', async () => {
    const res = await ctx.http().post('/api/v1/applications').send(validApplication({ applicant: { ...validApplication().applicant, email: 'bevestiging@example.nl' } }));
    expect(res.status).toBe(201);
    const mail = await ctx.mail.waitFor((m) => m.to.includes('bevestiging@example.nl'));
    expect(mail.subject).toBe(`Uw aanvraag ${res.body.reference} is ontvangen`);
    expect(mail.text).toContain('Beste Sanne de Vries');
    expect(mail.text).toContain(`kenmerk ${res.body.reference}`);
    // The link opens the applicant's status page (the token moves into a cookie on the way).
    const link = statusLinkIn(mail.text);
    expect(link, `no status link in:\n${mail.text}`).toBeDefined();
    const opened = await openStatusLink(ctx, link!);
    expect(opened.applicationId).toBe(res.body.id);
    expect(opened.page.status).toBe(200);
    expect(opened.page.text).toContain(res.body.reference);
  });

  it('takes multipart with documents of every accepted kind, typed by content', async () => {
    const res = await ctx
      .http()
      .post('/api/v1/applications')
      .field('application', JSON.stringify(validApplication()))
      .attach('documents', pdfBytes, { filename: 'offerte.pdf', contentType: 'application/octet-stream' })
      .attach('documents', pngBytes, { filename: 'foto.png' })
      .attach('documents', csvBytes, { filename: 'begroting.csv' });
    expect(res.status).toBe(201);
    const view = (await ctx.http().get(`/api/v1/applications/${res.body.id}`).set('Authorization', `Bearer ${res.body.accessToken}`)).body;
    expect(view.documents.map((d: { contentType: string }) => d.contentType)).toEqual(['application/pdf', 'image/png', 'text/csv']);

    const doc = view.documents[0];
    expect(doc.sha256).toMatch(/^[0-9a-f]{64}$/);
    const dl = await ctx.http().get(`/api/v1/applications/${res.body.id}/documents/${doc.id}`).set('Authorization', `Bearer ${res.body.accessToken}`).buffer(true);
    expect(dl.status).toBe(200);
    expect(dl.headers['content-type']).toBe('application/pdf');
    expect(dl.headers['content-disposition']).toMatch(/^attachment; filename="?offerte\.pdf"?$/);
    expect(Buffer.compare(dl.body as Buffer, pdfBytes)).toBe(0);

    const more = await ctx
      .http()
      .post(`/api/v1/applications/${res.body.id}/documents`)
      .set('Authorization', `Bearer ${res.body.accessToken}`)
      .attach('documents', jpegBytes, { filename: 'situatie.jpg' })
      .attach('documents', odtBytes(), { filename: 'plan.odt' });
    expect(more.status).toBe(201);
    expect(more.body.documents.map((d: { contentType: string }) => d.contentType)).toEqual(['image/jpeg', 'application/vnd.oasis.opendocument.text']);
  });

  it('gives sequential, unique references under concurrent submissions', async () => {
    const results = await Promise.all(Array.from({ length: 12 }, () => ctx.http().post('/api/v1/applications').send(validApplication())));
    expect(results.map((r) => r.status)).toEqual(Array(12).fill(201));
    const refs = results.map((r) => r.body.reference as string);
    expect(new Set(refs).size).toBe(12);
    const seqs = refs.map((r) => Number(r.slice(-4))).sort((a, b) => a - b);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]! - seqs[i - 1]!).toBe(1);
  });

  it('takes a re-application only after the same applicant\'s rejected application', async () => {
    const first = await ctx.http().post('/api/v1/applications').send(validApplication());
    expect(first.status).toBe(201);
    const again = (previousApplicationId: string, email = 'sanne@example.nl') =>
      ctx
        .http()
        .post('/api/v1/applications')
        .send(validApplication({ applicant: { ...validApplication().applicant, email }, previousApplicationId, whatChanged: 'Nu zonder eten en drinken.' }));
    const before = await ctx.models.Application.countDocuments();
    const unknown = await again(crypto.randomUUID());
    expect([unknown.status, unknown.body.error.code]).toEqual([422, 'previous_application_not_found']);
    const someoneElses = await again(first.body.id, 'iemand.anders@example.nl');
    expect([someoneElses.status, someoneElses.body.error.code]).toEqual([422, 'previous_application_not_found']);
    const notRejected = await again(first.body.id);
    expect([notRejected.status, notRejected.body.error.code]).toEqual([422, 'previous_application_not_rejected']);
    expect(notRejected.body.error.message).toBe('U kunt alleen opnieuw aanvragen na een afgewezen aanvraag.');
    const noWhatChanged = await ctx.http().post('/api/v1/applications').send(validApplication({ previousApplicationId: first.body.id }));
    expect(noWhatChanged.body.error.details).toContainEqual(expect.objectContaining({ path: 'whatChanged', code: 'what_changed_required' }));
    expect(await ctx.models.Application.countDocuments()).toBe(before);
  });

  it('answers Dutch by default and English on request', async () => {
    const nl = await ctx.http().post('/api/v1/applications').send({ ...validApplication(), iban: 'NL00ABNA0417164300' });
    expect(nl.status).toBe(422);
    expect(nl.body.error.code).toBe('validation_failed');
    expect(nl.body.error.message).toBe('De aanvraag is niet volledig of niet juist ingevuld.');
    expect(nl.body.error.details).toContainEqual(expect.objectContaining({ path: 'iban', code: 'invalid_iban', message: "Veld 'iban': dit IBAN klopt niet (controlegetal of land)." }));
    const en = await ctx.http().post('/api/v1/applications').set('Accept-Language', 'en-GB,en;q=0.9').send({ ...validApplication(), iban: 'NL00ABNA0417164300' });
    expect(en.body.error.message).toBe('The application is incomplete or contains invalid values.');
  });
});

describe('bad input is refused and leaves nothing behind', () => {
  const cases: { name: string; send: () => Promise<{ status: number; body: { error: { code: string } } }>; status: number; code: string }[] = [
    { name: 'JSON that does not parse', send: () => ctx.http().post('/api/v1/applications').set('Content-Type', 'application/json').send('{"title": '), status: 400, code: 'invalid_json' },
    { name: 'wrong types', send: () => ctx.http().post('/api/v1/applications').send(validApplication({ expectedParticipants: 'veel', amountRequestedCents: 12.5 })), status: 422, code: 'validation_failed' },
    { name: 'missing fields', send: () => ctx.http().post('/api/v1/applications').send({ title: 'Alleen een titel' }), status: 422, code: 'validation_failed' },
    { name: 'bad IBAN', send: () => ctx.http().post('/api/v1/applications').send(validApplication({ iban: 'NL91ABNA0417164301' })), status: 422, code: 'validation_failed' },
    { name: 'budget lines not adding up', send: () => ctx.http().post('/api/v1/applications').send(validApplication({ amountRequestedCents: 60_000 })), status: 422, code: 'validation_failed' },
    { name: 'no consent', send: () => ctx.http().post('/api/v1/applications').send(validApplication({ privacyConsent: false })), status: 422, code: 'validation_failed' },
    { name: 'unknown wijk', send: () => ctx.http().post('/api/v1/applications').send(validApplication({ wijken: ['Atlantis'] })), status: 422, code: 'validation_failed' },
    { name: 'other content type', send: () => ctx.http().post('/api/v1/applications').set('Content-Type', 'text/plain').send('hallo'), status: 415, code: 'unsupported_media_type' },
    {
      name: 'a .pdf that is really an executable',
      send: () => ctx.http().post('/api/v1/applications').field('application', JSON.stringify(validApplication())).attach('documents', exeBytes, { filename: 'offerte.pdf', contentType: 'application/pdf' }),
      status: 415,
      code: 'unsupported_file_type',
    },
    {
      name: 'an ELF binary named .png',
      send: () => ctx.http().post('/api/v1/applications').field('application', JSON.stringify(validApplication())).attach('documents', pdfBytes, { filename: 'ok.pdf' }).attach('documents', elfBytes, { filename: 'foto.png' }),
      status: 415,
      code: 'unsupported_file_type',
    },
    {
      name: 'a path in a file name',
      send: () => {
        // Built by hand: HTTP clients strip the directory part of a file name themselves.
        const b = 'buurtfondsgrens';
        const body = Buffer.concat([
          Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="application"\r\n\r\n${JSON.stringify(validApplication())}\r\n`),
          Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="documents"; filename="../../etc/offerte.pdf"\r\nContent-Type: application/pdf\r\n\r\n`),
          pdfBytes,
          Buffer.from(`\r\n--${b}--\r\n`),
        ]);
        return ctx.http().post('/api/v1/applications').set('Content-Type', `multipart/form-data; boundary=${b}`).send(body);
      },
      status: 400,
      code: 'invalid_file_name',
    },
    {
      name: 'a file that is too large',
      send: () => ctx.http().post('/api/v1/applications').field('application', JSON.stringify(validApplication())).attach('documents', Buffer.concat([pdfBytes, Buffer.alloc(70 * 1024, 0x20)]), { filename: 'groot.pdf' }),
      status: 413,
      code: 'file_too_large',
    },
    {
      name: 'too many files',
      send: () => {
        const r = ctx.http().post('/api/v1/applications').field('application', JSON.stringify(validApplication()));
        for (let i = 0; i < 4; i++) r.attach('documents', pdfBytes, { filename: `d${i}.pdf` });
        return r;
      },
      status: 413,
      code: 'too_many_files',
    },
    {
      name: 'malformed multipart',
      send: () =>
        ctx
          .http()
          .post('/api/v1/applications')
          .set('Content-Type', 'multipart/form-data; boundary=XYZ')
          .send('--XYZ\r\nContent-Disposition: form-data; name="application"\r\n\r\n{"a":1}\r\n--XYZ\r\nContent-Disposition: form-data; name="documents"; filename="a.pdf"\r\n\r\n%PDF-1.4 no end'),
      status: 400,
      code: 'malformed_multipart',
    },
    {
      name: 'multipart application field that is not JSON',
      send: () => ctx.http().post('/api/v1/applications').field('application', '{nope').attach('documents', pdfBytes, { filename: 'a.pdf' }),
      status: 400,
      code: 'invalid_json',
    },
    {
      name: 'files under an unknown field',
      send: () => ctx.http().post('/api/v1/applications').field('application', JSON.stringify(validApplication())).attach('bijlage', pdfBytes, { filename: 'a.pdf' }),
      status: 400,
      code: 'unexpected_field',
    },
  ];

  for (const c of cases) {
    it(`${c.name} → ${c.status} ${c.code}`, async () => {
      const before = await counts();
      const blobsBefore = await listBlobs();
      const res = await c.send();
      expect(res.status).toBe(c.status);
      expect(res.body.error.code).toBe(c.code);
      expect(await counts()).toEqual(before);
      expect(await listBlobs()).toEqual(blobsBefore);
      expect(await listTmp()).toEqual([]);
    });
  }
});

async function listBlobs(): Promise<string[]> {
  const { readdir } = await import('node:fs/promises');
  const out: string[] = [];
  for (const d of await readdir(ctx.store.dir)) {
    if (d === 'tmp') continue;
    out.push(...(await readdir(`${ctx.store.dir}/${d}`)));
  }
  return out.sort();
}

async function listTmp(): Promise<string[]> {
  const { readdir } = await import('node:fs/promises');
  // multer may still be unlinking a partial file when the response is sent
  return eventually(async () => {
    const files = await readdir(ctx.store.tmpDir);
    return files.length === 0 ? files : undefined;
  }, 3_000, 'tmp dir empty').catch(async () => readdir(ctx.store.tmpDir));
}
