/**
 * A panel member acts on an application the moment it is stored (issue #11 §4). Each
 * action goes out right after the 201 of POST /api/v1/applications, without waiting for
 * the workflow's first step (the confirmation e-mail, then screening): it is accepted and
 * takes effect — the initiative workflow holds it until that step has moved the application
 * into screening. Also with 20 submissions in flight, and through the staff page. An
 * application whose workflow has not started yet (intake stopped between storing it and
 * starting it) is "not yet", not "never": 503 with Retry-After and a message that says to
 * try again in a moment, and the same request is accepted once the workflow runs.
 * Real servers throughout (test/helpers/context.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InitiativeStarter } from '../../src/temporal/starter.ts';
import { pagePaths } from '../../src/web/paths.ts';
import { createTestContext, eventually, type TestContext } from '../helpers/context.ts';
import { pdfBytes, validApplication } from '../helpers/fixtures.ts';
import { webClient } from '../helpers/web.ts';

interface Fresh {
  id: string;
  reference: string;
  token: string;
}

const as = (token: string) => ({ Authorization: `Bearer ${token}` });

/** POST /api/v1/applications; returns as soon as the 201 is in (the workflow has only just started). */
async function submitFresh(ctx: TestContext, title = 'Straatfeest Kerkstraat'): Promise<Fresh> {
  const res = await ctx.http().post('/api/v1/applications').send(validApplication({ title }));
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  expect(res.body.status).toBe('submitted');
  return { id: res.body.id, reference: res.body.reference, token: res.body.accessToken };
}

async function viewOf(ctx: TestContext, app: Fresh) {
  const res = await ctx.http().get(`/api/v1/applications/${app.id}`).set(as(app.token));
  expect(res.status).toBe(200);
  return res.body;
}

const types = (v: { timeline: { type: string }[] }) => v.timeline.map((e) => e.type);

describe('panel actions right after intake', () => {
  let ctx: TestContext;
  let panel: string;

  beforeAll(async () => {
    ctx = await createTestContext();
    panel = await ctx.staff.panel();
  });
  afterAll(async () => ctx?.close());

  const askFor = (app: Fresh, missing: string) => ctx.http().post(`/api/v1/applications/${app.id}/information-requests`).set(as(panel)).send({ missing, deadlineDays: 10 });
  const complete = (app: Fresh) => ctx.http().post(`/api/v1/applications/${app.id}/screening/complete`).set(as(panel));

  it('asks for information right after the 201: accepted (201), the application awaits information, after the move into screening', async () => {
    const app = await submitFresh(ctx);
    const res = await askFor(app, 'Een offerte van de partytent');
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ missing: 'Een offerte van de partytent', state: 'open' });

    // The update returns once its step is projected: the read model shows it at once.
    const v = await viewOf(ctx, app);
    expect(v.status).toBe('awaiting_information');
    expect(v.openRequests).toEqual([expect.objectContaining({ id: res.body.id, state: 'open' })]);
    expect(types(v)).toEqual(['submitted', 'status_changed', 'information_requested']);
    expect(v.timeline.map((e: { status?: string }) => e.status)).toEqual(['submitted', 'screening', 'awaiting_information']);
    // The applicant gets the confirmation, then the question.
    await ctx.mail.waitFor((m) => m.subject === `Wij hebben meer informatie nodig over ${app.reference}`);
    expect(ctx.mail.mails.filter((m) => m.subject.includes(app.reference)).map((m) => m.subject)).toEqual([
      `Uw aanvraag ${app.reference} is ontvangen`,
      `Wij hebben meer informatie nodig over ${app.reference}`,
    ]);
  });

  it('marks the application complete right after the 201: ready for the meeting', async () => {
    const app = await submitFresh(ctx);
    const res = await complete(app);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.status).toBe('ready_for_meeting');
    const v = await viewOf(ctx, app);
    expect(v.status).toBe('ready_for_meeting');
    expect(types(v)).toEqual(['submitted', 'status_changed', 'screening_completed']);
  });

  it('adds documents right after the 201 (panel), and the applicant can withdraw right after it', async () => {
    const app = await submitFresh(ctx);
    const docs = await ctx.http().post(`/api/v1/applications/${app.id}/documents`).set(as(panel)).attach('documents', pdfBytes, { filename: 'offerte.pdf' });
    expect(docs.status, JSON.stringify(docs.body)).toBe(201);
    expect((await viewOf(ctx, app)).documents).toEqual([expect.objectContaining({ fileName: 'offerte.pdf', uploadedBy: 'staff' })]);

    const other = await submitFresh(ctx);
    const withdrawn = await ctx.http().post(`/api/v1/applications/${other.id}/withdraw`).set(as(other.token)).send({ reason: 'Toch niet' });
    expect(withdrawn.status, JSON.stringify(withdrawn.body)).toBe(200);
    expect(withdrawn.body.status).toBe('withdrawn');
    expect((await viewOf(ctx, other)).status).toBe('withdrawn');
  });

  it('a second action sent with the first, before screening, is refused once the first has taken the application out of screening', async () => {
    const app = await submitFresh(ctx);
    const [asked, completed] = await Promise.all([askFor(app, 'Een tekening van de opstelling'), complete(app)]);
    // Both are held until screening; whichever the workflow took first wins, the other no longer fits.
    const askedFirst = asked.status === 201;
    expect([asked.status, completed.status], JSON.stringify([asked.body, completed.body])).toEqual(askedFirst ? [201, 409] : [409, 200]);
    const v = await viewOf(ctx, app);
    expect(v.status).toBe(askedFirst ? 'awaiting_information' : 'ready_for_meeting');
    expect((askedFirst ? completed : asked).body.error.code).toBe('invalid_state');
  });

  it('with 20 submissions in flight, the action sent right after each 201 is accepted and takes effect', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const app = await submitFresh(ctx, `Buurtinitiatief ${i + 1}`);
        const started = Date.now();
        const res = i % 2 === 0 ? await askFor(app, `Een offerte voor initiatief ${i + 1}`) : await complete(app);
        return { i, app, status: res.status, body: res.body, ms: Date.now() - started };
      }),
    );
    expect(results.map((r) => [r.i, r.status, r.body.error?.code])).toEqual(results.map((r) => [r.i, r.i % 2 === 0 ? 201 : 200, undefined]));
    for (const r of results) {
      const v = await viewOf(ctx, r.app);
      expect([r.i, v.status]).toEqual([r.i, r.i % 2 === 0 ? 'awaiting_information' : 'ready_for_meeting']);
    }
    ctx.logger.info({ ms: results.map((r) => r.ms) }, 'panel actions right after 20 concurrent submissions');
  });

  it('through the staff page: the screening forms are there right after the 201, and asking for information is accepted', async () => {
    const web = webClient(ctx);
    expect((await web.login('panel1@buurtfonds.test')).status).toBe(303);
    const app = await submitFresh(ctx);
    const page = await web.get(pagePaths.application(app.id));
    expect(page.status).toBe(200);
    expect(page.text).toContain(`action="${pagePaths.application(app.id)}/aanvulling-vragen"`);
    expect(page.text).toContain(`action="${pagePaths.application(app.id)}/compleet"`);

    const posted = await web.post(`${pagePaths.application(app.id)}/aanvulling-vragen`, { missing: 'Een foto van de plek', deadlineDays: '14' });
    expect(posted.status, posted.text).toBe(303);
    expect(posted.headers.location).toBe(pagePaths.application(app.id));
    const after = await web.get(pagePaths.application(app.id));
    expect(after.text).toContain('De vraag om aanvulling is verstuurd.');
    expect(after.text).toContain('Een foto van de plek');
    expect((await viewOf(ctx, app)).status).toBe('awaiting_information');

    const second = await submitFresh(ctx);
    await web.get(pagePaths.application(second.id));
    const completed = await web.post(`${pagePaths.application(second.id)}/compleet`);
    expect(completed.status, completed.text).toBe(303);
    expect((await web.get(pagePaths.application(second.id))).text).toContain('De aanvraag is compleet en gaat naar de vergadering.');
    expect((await viewOf(ctx, second)).status).toBe('ready_for_meeting');
  });
});

describe('an action on an application whose workflow has not started yet', () => {
  let ctx: TestContext;
  let panel: string;
  /** Off: intake stores the application but its workflow start does not happen (as when the process stops right there). */
  let starting = false;

  beforeAll(async () => {
    ctx = await createTestContext({ starter: (real): InitiativeStarter => ({ start: async (input) => (starting ? real.start(input) : undefined) }) });
    panel = await ctx.staff.panel();
  });
  afterAll(async () => ctx?.close());

  it('is refused with 503 and Retry-After, saying (nl/en) to try again in a moment; the same request is accepted once the workflow runs', async () => {
    const app = await submitFresh(ctx);
    const ask = (lang: string) => ctx.http().post(`/api/v1/applications/${app.id}/information-requests`).set(as(panel)).set('Accept-Language', lang).send({ missing: 'Een offerte' });

    const nl = await ask('nl');
    expect(nl.status, JSON.stringify(nl.body)).toBe(503);
    expect(nl.headers['retry-after']).toBe('5');
    expect(nl.body.error.code).toBe('application_not_ready');
    expect(nl.body.error.message).toBe('Deze aanvraag is net binnengekomen en wordt nog verwerkt. Probeer het over een paar seconden opnieuw.');
    const en = await ask('en');
    expect([en.status, en.headers['retry-after']]).toEqual([503, '5']);
    expect(en.body.error.message).toBe('This application has just come in and is still being processed. Please try again in a few seconds.');
    const completeRefused = await ctx.http().post(`/api/v1/applications/${app.id}/screening/complete`).set(as(panel));
    expect([completeRefused.status, completeRefused.body.error.code]).toEqual([503, 'application_not_ready']);
    expect((await viewOf(ctx, app)).status).toBe('submitted');

    // The page says the same, not that the application has changed.
    const web = webClient(ctx);
    await web.login('panel1@buurtfonds.test');
    await web.get(pagePaths.application(app.id));
    const page = await web.post(`${pagePaths.application(app.id)}/compleet`);
    expect(page.status).toBe(503);
    expect(page.headers['retry-after']).toBe('5');
    expect(page.text).toContain('Probeer het over een paar seconden opnieuw.');

    // What restarts an interrupted intake (IntakeService.resumeUnstarted) starts the workflow; the retry is accepted.
    starting = true;
    expect(await ctx.deps.intake.resumeUnstarted(0)).toBe(1);
    const retried = await ask('nl');
    expect(retried.status, JSON.stringify(retried.body)).toBe(201);
    await eventually(async () => (await viewOf(ctx, app)).status === 'awaiting_information', 10_000, 'awaiting_information');
    expect(types(await viewOf(ctx, app))).toEqual(['submitted', 'status_changed', 'information_requested']);
  });
});
