/**
 * Screening through the HTTP API against the real worker: information requests and
 * answers, completing screening, withdrawing; and the staff list with its filters.
 */
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.ts';
import { IntakeService } from '../../src/services/intake.ts';
import { temporalInitiativeStarter } from '../../src/temporal/starter.ts';
import { openStatusLink, statusLinkIn } from '../helpers/web.ts';
import { createTestContext, eventually, type TestContext } from '../helpers/context.ts';
import { pdfBytes, pngBytes, validApplication } from '../helpers/fixtures.ts';
import { endOfAmsterdamDay } from '../../src/domain/dates.ts';

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const dutchMonths = ['januari', 'februari', 'maart', 'april', 'mei', 'juni', 'juli', 'augustus', 'september', 'oktober', 'november', 'december'];

interface Submitted {
  id: string;
  reference: string;
  token: string;
}

async function submit(ctx: TestContext, overrides: Record<string, unknown> = {}, app = ctx.app): Promise<Submitted> {
  const res = await request(app).post('/api/v1/applications').send(validApplication(overrides));
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const submitted = { id: res.body.id, reference: res.body.reference, token: res.body.accessToken };
  await waitForStatus(ctx, submitted, 'screening');
  return submitted;
}

async function waitForStatus(ctx: TestContext, app: Submitted, status: string) {
  return eventually(async () => {
    const r = await ctx.http().get(`/api/v1/applications/${app.id}`).set('Authorization', `Bearer ${app.token}`);
    return r.body.status === status ? r.body : undefined;
  }, 15_000, `${app.reference} in ${status}`);
}

/** The Amsterdam calendar date (YYYY-MM-DD) of an instant. */
const amsterdamDay = (iso: string) => new Date(iso).toLocaleDateString('sv-SE', { timeZone: 'Europe/Amsterdam' });

/** "12 mei 2027" in a mail text, as YYYY-MM-DD. */
function dutchDateAfter(text: string, word: string): string | undefined {
  const m = new RegExp(`${word} (\\d{1,2}) (${dutchMonths.join('|')}) (\\d{4})`).exec(text);
  if (!m) return undefined;
  return `${m[3]}-${String(dutchMonths.indexOf(m[2]!) + 1).padStart(2, '0')}-${m[1]!.padStart(2, '0')}`;
}

describe('screening an application', () => {
  let ctx: TestContext;
  let panel: string;
  let app: Submitted;
  const email = 'screening@example.nl';
  const as = (token: string) => ({ Authorization: `Bearer ${token}` });
  const view = async () => (await ctx.http().get(`/api/v1/applications/${app.id}`).set(as(app.token))).body;
  const mailsTo = () => ctx.mail.mails.filter((m) => m.to.includes(email));

  beforeAll(async () => {
    ctx = await createTestContext();
    panel = await ctx.staff.panel();
    app = await submit(ctx, { applicant: { ...validApplication().applicant, email } });
    await ctx.mail.waitFor((m) => m.to.includes(email) && m.subject.includes('ontvangen'));
  });
  afterAll(async () => ctx?.close());

  async function listBlobs(): Promise<string[]> {
    const out: string[] = [];
    for (const d of await readdir(ctx.store.dir)) if (d !== 'tmp') out.push(...(await readdir(`${ctx.store.dir}/${d}`)));
    return out.sort();
  }

  async function unchanged<T>(what: () => Promise<T>) {
    const [{ status, informationRequests: requests }, events, documents, outbox, blobs] = await Promise.all([
      view(),
      ctx.models.Event.countDocuments({ applicationId: app.id }),
      ctx.models.Document.countDocuments({ applicationId: app.id }),
      ctx.models.Outbox.countDocuments({ applicationId: app.id }),
      listBlobs(),
    ]);
    const result = await what();
    const v = await view();
    expect(v.status, 'status changed by a refused request').toBe(status);
    expect(v.informationRequests, 'information requests changed by a refused request').toEqual(requests);
    expect(await ctx.models.Event.countDocuments({ applicationId: app.id }), 'timeline changed').toBe(events);
    expect(await ctx.models.Document.countDocuments({ applicationId: app.id }), 'documents stored').toBe(documents);
    expect(await ctx.models.Outbox.countDocuments({ applicationId: app.id }), 'mail sent').toBe(outbox);
    expect(await listBlobs(), 'files left in the document store').toEqual(blobs);
    expect(await readdir(ctx.store.tmpDir), 'upload temp files left behind').toEqual([]);
    return result;
  }

  it('a panel member asks for information: the application waits, shows the open request, and the applicant gets a Dutch e-mail', async () => {
    const missing = 'Een offerte van de verhuurder van de partytent, met de datum erop.';
    const res = await ctx.http().post(`/api/v1/applications/${app.id}/information-requests`).set(as(panel)).send({ missing, deadlineDays: 10 });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ missing, state: 'open' });
    expect(res.body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.body.requestedAt).toMatch(ISO_UTC);
    expect(res.body.deadline).toMatch(ISO_UTC);
    // The end of the 10th day after the request, in Amsterdam.
    expect(res.body.deadline).toBe(endOfAmsterdamDay(new Date(res.body.requestedAt), 10).toISOString());
    expect(Math.abs(Date.parse(res.body.requestedAt) - Date.now())).toBeLessThan(30_000);

    const v = await view();
    expect(v.status).toBe('awaiting_information');
    expect(v.openRequests).toEqual([expect.objectContaining({ id: res.body.id, missing, deadline: res.body.deadline, state: 'open' })]);
    expect(v.informationRequests).toHaveLength(1);
    expect(v.timeline.at(-1)).toMatchObject({ type: 'information_requested', status: 'awaiting_information', note: missing });
    expect(v.timeline.at(-1).actor).toMatch(/^staff:/);

    const mail = await ctx.mail.waitFor((m) => m.to.includes(email) && m.subject.includes('informatie'));
    expect(mail.subject).toBe(`Wij hebben meer informatie nodig over ${app.reference}`);
    expect(mail.text).toContain('Beste Sanne de Vries');
    expect(mail.text).toContain(missing);
    expect(dutchDateAfter(mail.text, 'uiterlijk'), `no Dutch deadline date in:\n${mail.text}`).toBe(amsterdamDay(res.body.deadline));
    // The mail's link opens the applicant's status page, with the question and a form to answer it.
    const link = statusLinkIn(mail.text);
    expect(link, `no status link in:\n${mail.text}`).toBeDefined();
    const opened = await openStatusLink(ctx, link!);
    expect(opened.page.status).toBe(200);
    expect(opened.page.text).toContain('Wacht op aanvulling');
    expect(opened.page.text).toContain(missing);
    expect(opened.page.text).toContain(`action="/aanvraag/${app.id}/aanvulling"`);
    // The page names the same day as the e-mail: the day whose end the deadline is.
    expect(dutchDateAfter(opened.page.text, 'uiterlijk'), 'no Dutch deadline date on the status page').toBe(amsterdamDay(res.body.deadline));
  });

  it('refuses a second request while one is open (409), and an empty or invalid request (422), changing nothing', async () => {
    const again = await unchanged(() => ctx.http().post(`/api/v1/applications/${app.id}/information-requests`).set(as(panel)).send({ missing: 'Nog iets anders' }));
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('invalid_state');

    for (const body of [{ missing: '' }, { missing: '   ' }, {}, { missing: 'Offerte', deadlineDays: 0 }, { missing: 'Offerte', deadlineDays: 1.5 }, { missing: 'Offerte', extra: true }]) {
      const res = await unchanged(() => ctx.http().post(`/api/v1/applications/${app.id}/information-requests`).set(as(panel)).send(body));
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.body.error.details.length).toBeGreaterThan(0);
    }
    const empty = await ctx.http().post(`/api/v1/applications/${app.id}/information-requests`).set(as(panel)).send({ missing: '' });
    expect(empty.body.error.details).toContainEqual(expect.objectContaining({ path: 'missing' }));

    const noAnswer = await unchanged(() => ctx.http().post(`/api/v1/applications/${app.id}/information`).set(as(app.token)).send({}));
    expect([noAnswer.status, noAnswer.body.error.code]).toEqual([422, 'validation_failed']);
  });

  it('the applicant answers with text: back in screening, the request answered', async () => {
    const answer = 'De offerte van Tentverhuur Voorburg volgt; de tent kost € 450,00 voor één dag.';
    const res = await ctx.http().post(`/api/v1/applications/${app.id}/information`).set(as(app.token)).send({ answer });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.status).toBe('screening');

    const v = await view();
    expect(v.status).toBe('screening');
    expect(v.openRequests).toEqual([]);
    expect(v.informationRequests).toEqual([expect.objectContaining({ state: 'answered', answer, documentIds: [] })]);
    expect(v.informationRequests[0].answeredAt).toMatch(ISO_UTC);
    expect(v.timeline.at(-1)).toMatchObject({ type: 'information_provided', status: 'screening', actor: 'applicant', note: answer });
  });

  it('refuses an answer when no request is open (409), and keeps none of the uploaded files', async () => {
    const stray = Buffer.concat([pdfBytes, Buffer.from('% niet gevraagd\n')]);
    const sha = createHash('sha256').update(stray).digest('hex');
    const multipart = await unchanged(() =>
      ctx
        .http()
        .post(`/api/v1/applications/${app.id}/information`)
        .set(as(app.token))
        .field('answer', 'Hier is nog een document')
        .attach('documents', stray, { filename: 'extra.pdf' }),
    );
    expect(multipart.status).toBe(409);
    expect(multipart.body.error.code).toBe('invalid_state');
    expect(await ctx.models.Document.countDocuments({ sha256: sha })).toBe(0);
    expect(await ctx.store.has(sha)).toBe(false);

    const json = await unchanged(() => ctx.http().post(`/api/v1/applications/${app.id}/information`).set(as(app.token)).send({ answer: 'Nog een antwoord' }));
    expect([json.status, json.body.error.code]).toEqual([409, 'invalid_state']);
  });

  it('a second round is answered with documents, which are listed with context "information" and can be downloaded', async () => {
    const requested = await ctx.http().post(`/api/v1/applications/${app.id}/information-requests`).set(as(panel)).send({ missing: 'Een foto van de plek en de begroting als PDF.' });
    expect(requested.status).toBe(201);
    // Without deadlineDays the fund's default applies (14 days).
    expect(requested.body.deadline).toBe(endOfAmsterdamDay(new Date(requested.body.requestedAt), 14).toISOString());

    const res = await ctx
      .http()
      .post(`/api/v1/applications/${app.id}/information`)
      .set(as(app.token))
      .field('answer', 'Zie de bijlagen.')
      .attach('documents', pdfBytes, { filename: 'begroting.pdf' })
      .attach('documents', pngBytes, { filename: 'plek.png' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.status).toBe('screening');

    const v = await view();
    expect(v.status).toBe('screening');
    expect(v.documents).toEqual([
      expect.objectContaining({ fileName: 'begroting.pdf', contentType: 'application/pdf', size: pdfBytes.length, context: 'information', uploadedBy: 'applicant' }),
      expect.objectContaining({ fileName: 'plek.png', contentType: 'image/png', size: pngBytes.length, context: 'information', uploadedBy: 'applicant' }),
    ]);
    const ids = v.documents.map((d: { id: string }) => d.id);
    expect(v.informationRequests[1]).toMatchObject({ id: requested.body.id, state: 'answered', answer: 'Zie de bijlagen.', documentIds: ids });
    expect(v.timeline.slice(-2).map((e: { type: string }) => e.type)).toEqual(['documents_added', 'information_provided']);

    for (const token of [app.token, panel]) {
      const dl = await ctx.http().get(`/api/v1/applications/${app.id}/documents/${ids[1]}`).set(as(token)).buffer(true);
      expect(dl.status).toBe(200);
      expect(dl.headers['content-type']).toBe('image/png');
      expect(Buffer.compare(dl.body as Buffer, pngBytes)).toBe(0);
    }
  });

  it('the panel completes screening: ready for the meeting, and it cannot be completed or questioned again', async () => {
    const res = await ctx.http().post(`/api/v1/applications/${app.id}/screening/complete`).set(as(panel));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.status).toBe('ready_for_meeting');
    const v = await view();
    expect(v.status).toBe('ready_for_meeting');
    expect(v.timeline.at(-1)).toMatchObject({ type: 'screening_completed', status: 'ready_for_meeting' });

    const twice = await unchanged(() => ctx.http().post(`/api/v1/applications/${app.id}/screening/complete`).set(as(panel)));
    expect([twice.status, twice.body.error.code]).toEqual([409, 'invalid_state']);
    const question = await unchanged(() => ctx.http().post(`/api/v1/applications/${app.id}/information-requests`).set(as(panel)).send({ missing: 'Te laat' }));
    expect([question.status, question.body.error.code]).toEqual([409, 'invalid_state']);
  });

  it('the applicant withdraws before the decision; a second withdrawal is refused with 409', async () => {
    const mailsBefore = mailsTo().length;
    const res = await ctx.http().post(`/api/v1/applications/${app.id}/withdraw`).set(as(app.token)).send({ reason: 'Het straatfeest gaat dit jaar niet door.' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.status).toBe('withdrawn');
    const v = await view();
    expect(v.status).toBe('withdrawn');
    expect(v.openRequests).toEqual([]);
    expect(v.timeline.at(-1)).toMatchObject({ type: 'withdrawn', status: 'withdrawn', note: 'Het straatfeest gaat dit jaar niet door.' });

    const mail = await ctx.mail.waitFor((m) => m.to.includes(email) && m.subject.includes('ingetrokken'));
    expect(mail.subject).toBe(`Uw aanvraag ${app.reference} is ingetrokken`);
    expect(mailsTo().length).toBe(mailsBefore + 1);

    const again = await unchanged(() => ctx.http().post(`/api/v1/applications/${app.id}/withdraw`).set(as(app.token)).send({}));
    expect([again.status, again.body.error.code]).toEqual([409, 'invalid_state']);
    const upload = await unchanged(() =>
      ctx.http().post(`/api/v1/applications/${app.id}/documents`).set(as(app.token)).attach('documents', Buffer.concat([pdfBytes, Buffer.from('% na intrekking\n')]), { filename: 'laat.pdf' }),
    );
    expect([upload.status, upload.body.error.code]).toEqual([409, 'invalid_state']);
    // Once withdrawn the workflow is done: nothing is waiting on it any more.
    await eventually(async () => (await ctx.client.workflow.getHandle(`initiative-${app.id}`).describe()).status.name === 'COMPLETED', 10_000, 'workflow completed');
  });

  it('the timeline tells the whole story in order, with ISO 8601 UTC times', async () => {
    const v = await view();
    expect(v.timeline.map((e: { type: string }) => e.type)).toEqual([
      'submitted',
      'status_changed',
      'information_requested',
      'information_provided',
      'information_requested',
      'documents_added',
      'information_provided',
      'screening_completed',
      'withdrawn',
    ]);
    expect(v.timeline.filter((e: { status?: string }) => e.status).map((e: { status: string }) => e.status)).toEqual([
      'submitted',
      'screening',
      'awaiting_information',
      'screening',
      'awaiting_information',
      'screening',
      'ready_for_meeting',
      'withdrawn',
    ]);
    const times = v.timeline.map((e: { at: string }) => e.at);
    for (const at of times) expect(at).toMatch(ISO_UTC);
    const sorted = [...times].sort((x, y) => Date.parse(x) - Date.parse(y));
    expect(times).toEqual(sorted);
    expect(new Set(v.timeline.map((e: { id: string }) => e.id)).size).toBe(v.timeline.length);
  });
});

describe('GET /api/v1/applications (staff list)', () => {
  let ctx: TestContext;
  let staffToken: string;
  const year = Number(new Date().toLocaleDateString('sv-SE', { timeZone: 'Europe/Amsterdam' }).slice(0, 4));
  /** Applications by name; created in this order, so the list (newest first) is the reverse. */
  const apps: Record<string, Submitted & { wijken: string[]; year: number; status: string }> = {};

  /** The same API with its clock pinned: an application submitted at that moment. */
  function apiAt(at: Date) {
    const now = () => at;
    const starter = temporalInitiativeStarter(ctx.client, ctx.config.temporal.taskQueue);
    const intake = new IntakeService({ models: ctx.models, store: ctx.store, starter, config: ctx.config, logger: ctx.logger, ledger: ctx.deps.ledger, tally: ctx.deps.tally, now });
    return createApp({ ...ctx.deps, intake, now }).app;
  }

  beforeAll(async () => {
    ctx = await createTestContext();
    staffToken = await ctx.staff.admin();
    const add = async (name: string, wijken: string[], at?: Date) => {
      const s = await submit(ctx, { title: `Initiatief ${name}`, wijken }, at ? apiAt(at) : ctx.app);
      apps[name] = { ...s, wijken, year: at ? Number(s.reference.slice(3, 7)) : year, status: 'screening' };
    };
    // 23:30 on New Year's Eve in Amsterdam still counts for that year; 00:30 is the new one.
    await add('oudjaar', ['Bovenveen'], new Date(`${year - 1}-12-31T22:30:00Z`));
    await add('nieuwjaar', ['Damsigt'], new Date(`${year - 1}-12-31T23:30:00Z`));
    await add('eerste', ['Bovenveen']);
    await add('tweede', ['Bovenveen', 'Stompwijk']);
    await add('derde', ['Damsigt']);
    await add('vierde', ['Heuvel/Amstelwijk']);

    const panel = await ctx.staff.panel();
    const asked = await ctx.http().post(`/api/v1/applications/${apps.tweede!.id}/information-requests`).set('Authorization', `Bearer ${panel}`).send({ missing: 'Een offerte' });
    expect(asked.status).toBe(201);
    apps.tweede!.status = 'awaiting_information';
    const withdrawn = await ctx.http().post(`/api/v1/applications/${apps.vierde!.id}/withdraw`).set('Authorization', `Bearer ${apps.vierde!.token}`).send({});
    expect(withdrawn.status).toBe(200);
    apps.vierde!.status = 'withdrawn';
  });
  afterAll(async () => ctx?.close());

  const newestFirst = ['vierde', 'derde', 'tweede', 'eerste', 'nieuwjaar', 'oudjaar'];
  const expected = (pred: (a: (typeof apps)[string]) => boolean) => newestFirst.filter((n) => pred(apps[n]!));

  async function list(query: Record<string, string | number>) {
    const res = await ctx.http().get('/api/v1/applications').query(query).set('Authorization', `Bearer ${staffToken}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const byId = new Map(Object.entries(apps).map(([name, a]) => [a.id, name]));
    return { ...res.body, names: res.body.items.map((i: { id: string }) => byId.get(i.id) ?? i.id) };
  }

  it('dates applications in the Amsterdam year they were submitted in', () => {
    expect(apps.oudjaar!.reference).toBe(`VW-${year - 1}-0001`);
    expect(apps.nieuwjaar!.reference).toMatch(new RegExp(`^VW-${year}-\\d{4}$`));
  });

  it('lists all applications newest first, with summary fields only', async () => {
    const all = await list({});
    expect(all.names).toEqual(newestFirst);
    expect({ page: all.page, pageSize: all.pageSize, total: all.total }).toEqual({ page: 1, pageSize: 20, total: 6 });
    const item = all.items.find((i: { id: string }) => i.id === apps.tweede!.id);
    expect(item).toEqual({
      id: apps.tweede!.id,
      reference: apps.tweede!.reference,
      status: 'awaiting_information',
      title: 'Initiatief tweede',
      wijken: ['Bovenveen', 'Stompwijk'],
      amountRequestedCents: 60_050,
      createdAt: expect.stringMatching(ISO_UTC),
    });
    expect(all.items.find((i: { id: string }) => i.id === apps.oudjaar!.id).createdAt).toBe(`${year - 1}-12-31T22:30:00.000Z`);
  });

  it('pages through the list without gaps or overlaps', async () => {
    const pages = [await list({ pageSize: 4, page: 1 }), await list({ pageSize: 4, page: 2 }), await list({ pageSize: 4, page: 3 })];
    expect(pages.map((p) => p.names)).toEqual([newestFirst.slice(0, 4), newestFirst.slice(4), []]);
    for (const [i, p] of pages.entries()) expect({ page: p.page, pageSize: p.pageSize, total: p.total }).toEqual({ page: i + 1, pageSize: 4, total: 6 });
  });

  it('filters by status, wijk and year, alone and combined', async () => {
    const cases: [Record<string, string | number>, string[]][] = [
      [{ status: 'screening' }, expected((a) => a.status === 'screening')],
      [{ status: 'awaiting_information' }, ['tweede']],
      [{ status: 'withdrawn' }, ['vierde']],
      [{ status: 'approved' }, []],
      [{ wijk: 'Bovenveen' }, ['tweede', 'eerste', 'oudjaar']],
      [{ wijk: 'Stompwijk' }, ['tweede']],
      [{ wijk: 'Heuvel/Amstelwijk' }, ['vierde']],
      [{ wijk: 'Prinsenhof' }, []],
      [{ year }, expected((a) => a.year === year)],
      [{ year: year - 1 }, ['oudjaar']],
      [{ wijk: 'Bovenveen', year }, ['tweede', 'eerste']],
      [{ wijk: 'Bovenveen', status: 'screening' }, ['eerste', 'oudjaar']],
      [{ wijk: 'Damsigt', year: year - 1 }, []],
      [{ status: 'screening', year, pageSize: 2, page: 2 }, expected((a) => a.status === 'screening' && a.year === year).slice(2, 4)],
    ];
    expect(cases[0]![1]).toEqual(['derde', 'eerste', 'nieuwjaar', 'oudjaar']);
    expect(cases[8]![1]).toEqual(['vierde', 'derde', 'tweede', 'eerste', 'nieuwjaar']);
    for (const [query, names] of cases) {
      const res = await list(query);
      const total = expected((a) => (!query.status || a.status === query.status) && (!query.wijk || a.wijken.includes(String(query.wijk))) && (!query.year || a.year === query.year)).length;
      expect({ query, names: res.names, total: res.total }).toEqual({ query, names, total });
    }
  });

  it('refuses unknown filters and out-of-range values with 422', async () => {
    for (const query of [{ status: 'goedgekeurd' }, { year: 'dit-jaar' }, { year: 1999 }, { page: 0 }, { pageSize: 101 }, { pageSize: 'alle' }, { sort: 'title' }]) {
      const res = await ctx.http().get('/api/v1/applications').query(query).set('Authorization', `Bearer ${staffToken}`);
      expect({ query, status: res.status, code: res.body.error?.code }).toEqual({ query, status: 422, code: 'validation_failed' });
    }
  });
});
