/**
 * The web pages' security rules over HTTP (supertest, no browser), against the real app
 * and servers (test/helpers/context.ts):
 *
 * - every page sends a strict Content-Security-Policy and the other headers, and its HTML
 *   has no inline script or style for that policy to forbid;
 * - a form without the right CSRF token (none, forged, another browser's) gets 403 and
 *   changes nothing;
 * - the applicant's cookie opens that one application only; the e-mail's status link is
 *   exchanged for it and leaves the URL, the pages and the log;
 * - staff pages send a visitor without a (valid) session to the login page and back;
 * - the page login shares the API's failed-login limit;
 * - text a person typed is shown as text on every page that shows it (XSS).
 *
 * The API's clock is pinned to early 2026 (like test/api/report.test.ts), so the XSS
 * initiative can have its activity in February 2026: after the payout it is over by the
 * real clock, and the report can be sent at once.
 */
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { SignJWT } from 'jose';
import type { Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenSigner } from '../../src/auth/tokens.ts';
import { amsterdamYear } from '../../src/domain/dates.ts';
import { pageTexts } from '../../src/domain/page-messages.ts';
import { planMeeting, upcomingMeetings } from '../../src/domain/meetings.ts';
import { calendarRules, meetingInput } from '../../src/temporal/schedule.ts';
import { stateQuery } from '../../workflows/initiative.ts';
import { meetingStateQuery, type panelMeetingWorkflow } from '../../workflows/meeting.ts';
import { createTestContext, DEMO_PASSWORD, eventually, type TestContext } from '../helpers/context.ts';
import { pdfBytes, pngBytes, validApplication } from '../helpers/fixtures.ts';
import { decide, submitReady, waitForStatus, type Granted } from '../helpers/grants.ts';
import { applicationIdOf, applyFields, inlineCode, statusLinkIn, webClient, type WebClient } from '../helpers/web.ts';

const NOW = new Date('2026-01-05T10:00:00Z');
const YEAR = amsterdamYear(NOW);
const nl = pageTexts.nl;

let ctx: TestContext;
/** Every log line the app and the worker wrote (JSON). */
const logLines: string[] = [];

beforeAll(async () => {
  ctx = await createTestContext({
    now: () => NOW,
    env: { REPORTS_MAX_AGE_SECONDS: '0' },
    logStream: { write: (line: string) => void logLines.push(line) },
  });
});
afterAll(async () => {
  for (const id of startedMeetings) await ctx?.client.workflow.getHandle(id).terminate('test over').catch(() => undefined);
  await ctx?.close();
});
const startedMeetings: string[] = [];

// ---------------------------------------------------------------- helpers

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

function setCookies(res: Response): string[] {
  const raw = res.headers['set-cookie'] as string[] | string | undefined;
  return raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
}

/** The Set-Cookie line for `name`, if the response sets it. */
function cookieLine(res: Response, name: string): string | undefined {
  return setCookies(res).find((c) => c.startsWith(`${name}=`));
}

function cookieValue(line: string): string {
  return decodeURIComponent(line.slice(line.indexOf('=') + 1).split(';')[0]!);
}

/** The attributes of a Set-Cookie line, lower-cased names. */
function cookieAttributes(line: string): Map<string, string> {
  return new Map(
    line
      .split(';')
      .slice(1)
      .map((p) => p.trim())
      .filter(Boolean)
      .map((p) => {
        const i = p.indexOf('=');
        return i < 0 ? [p.toLowerCase(), ''] : [p.slice(0, i).toLowerCase(), p.slice(i + 1)];
      }),
  );
}

/** Puts a cookie into a client's jar as a browser would hold it (or as an attacker sends it). */
function plantCookie(client: WebClient, cookie: string): void {
  (client.agent as unknown as { jar: { setCookie(c: string, domain: string, path: string): unknown } }).jar.setCookie(cookie, '127.0.0.1', '/');
}

async function staffClient(email: string): Promise<WebClient> {
  const client = webClient(ctx);
  const res = await client.login(email);
  expect(res.status, `page login of ${email}: ${res.status} ${res.text?.slice(0, 200)}`).toBe(303);
  return client;
}

/** Applies through the form (with one PDF); the client then holds the application's cookie. */
async function applyByForm(overrides: Parameters<typeof applyFields>[0] = {}, files = [{ field: 'documents', name: 'offerte.pdf', bytes: pdfBytes }]) {
  const client = webClient(ctx);
  await client.get('/aanvragen');
  const res = await client.postMultipart('/aanvragen', applyFields(overrides), files);
  expect(res.status, `apply form: ${res.status} ${res.text?.slice(0, 500)}`).toBe(303);
  const id = applicationIdOf(res.headers.location);
  const line = cookieLine(res, 'bf_aanvraag');
  expect(line, 'the apply form sets the applicant cookie').toBeDefined();
  return { client, id, res, cookie: line!, token: cookieValue(line!) };
}

async function statusOfId(id: string): Promise<string | undefined> {
  return (await ctx.models.Application.findById(id, { status: 1 }).lean())?.status;
}

async function waitForId(id: string, status: string, timeoutMs = 20_000): Promise<void> {
  let last: string | undefined;
  await eventually(async () => (last = await statusOfId(id)) === status, timeoutMs, `${id} in ${status} (last: ${last})`);
}

/** What a refused form must leave alone: the application, its workflow, its events and documents, the mails and audit log. */
async function untouched(id: string) {
  const [doc, workflow, events, documents, mails, audit, tmp] = await Promise.all([
    ctx.models.Application.findById(id, { status: 1, statusSeq: 1, updatedAt: 1, informationRequests: 1 }).lean(),
    ctx.client.workflow.getHandle(`initiative-${id}`).query(stateQuery),
    ctx.models.Event.countDocuments({ applicationId: id }),
    ctx.models.Document.countDocuments({ applicationId: id }),
    ctx.models.Outbox.countDocuments({ applicationId: id }),
    ctx.models.Audit.countDocuments(),
    readdir(ctx.store.tmpDir),
  ]);
  return { doc, workflowStatus: workflow.status, events, documents, mails, audit, tmp };
}

/** CSP directives by name. */
function cspOf(res: Response): Map<string, string[]> {
  const header = String(res.headers['content-security-policy'] ?? '');
  return new Map(
    header
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((d) => d[0])
      .map((d) => [d[0]!.toLowerCase(), d.slice(1)]),
  );
}

function expectStrictHeaders(res: Response, what: string): void {
  const header = res.headers['content-security-policy'];
  expect(header, `${what}: no Content-Security-Policy header`).toBeTruthy();
  const csp = cspOf(res);
  for (const directive of ['script-src', 'style-src']) {
    const sources = csp.get(directive) ?? csp.get('default-src');
    expect(sources, `${what}: CSP has neither ${directive} nor default-src (${header})`).toBeDefined();
    const loose = sources!.filter((s) => ["'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", '*', 'data:', 'http:', 'https:'].includes(s.toLowerCase()));
    expect(loose, `${what}: CSP ${directive} allows ${loose.join(' ')} (${header})`).toEqual([]);
  }
  expect(csp.get('frame-ancestors'), `${what}: CSP frame-ancestors is not 'none' (${header})`).toEqual(["'none'"]);
  expect(csp.get('object-src'), `${what}: CSP object-src is not 'none' (${header})`).toEqual(["'none'"]);
  expect(res.headers['referrer-policy'], `${what}: Referrer-Policy`).toBe('no-referrer');
  expect(String(res.headers['x-frame-options']).toUpperCase(), `${what}: X-Frame-Options`).toBe('DENY');
  expect(res.headers['x-content-type-options'], `${what}: X-Content-Type-Options`).toBe('nosniff');
}

function expectNoInlineCode(res: Response, what: string): void {
  expect(res.type, `${what}: not an HTML page`).toBe('text/html');
  expect(inlineCode(res.text), `${what}: inline script/style/on*= in the HTML, which the CSP would block`).toEqual([]);
}

const isLoginRedirect = (res: Response) => res.status === 303 && String(res.headers.location ?? '').startsWith('/inloggen');

// ---------------------------------------------------------------- headers and inline code

describe('headers and inline code', () => {
  for (const path of ['/', '/aanvragen', `/budget/${YEAR}`, '/inloggen']) {
    it(`public page ${path}: strict CSP, no-referrer, DENY framing, and no inline code`, async () => {
      const res = await webClient(ctx).get(path);
      expect(res.status, `${path}: ${res.status}`).toBe(200);
      expectStrictHeaders(res, path);
      expectNoInlineCode(res, path);
    });
  }

  it('staff pages and the applicant status page: the same headers, and no inline code', async () => {
    const { client, id } = await applyByForm();
    const pages: [string, WebClient, string][] = [
      ['the confirmation page', client, `/aanvraag/${id}/verzonden`],
      ['the status page', client, `/aanvraag/${id}`],
    ];
    const panel = await staffClient('panel1@buurtfonds.test');
    const admin = await staffClient('admin@buurtfonds.test');
    pages.push(
      ['the staff application list', panel, '/beheer/aanvragen'],
      ['the staff application page', panel, `/beheer/aanvragen/${id}`],
      ['the meetings list', admin, '/beheer/vergaderingen'],
      ['the monitoring page', admin, `/beheer/monitoring?jaar=${YEAR}`],
      ['the panel page', admin, '/beheer/panel'],
    );
    for (const [what, c, path] of pages) {
      const res = await c.get(path);
      expect(res.status, `${what} ${path}: ${res.status}`).toBe(200);
      expectStrictHeaders(res, what);
      expectNoInlineCode(res, what);
      // Personal data: not kept by the browser or a shared cache.
      expect(String(res.headers['cache-control']), `${what}: Cache-Control`).toContain('no-store');
    }
    // Also an error page (404) and a refusal (403).
    const missing = await webClient(ctx).get('/bestaat-niet');
    expect(missing.status).toBe(404);
    expectStrictHeaders(missing, 'the 404 page');
    expectNoInlineCode(missing, 'the 404 page');
    const refused = await panel.get('/beheer/panel');
    expect(refused.status).toBe(403);
    expectStrictHeaders(refused, 'the 403 page');
    expectNoInlineCode(refused, 'the 403 page');
  });
});

// ---------------------------------------------------------------- CSRF

describe('CSRF', () => {
  const FORGED = 'forged-token-0123456789abcdef';

  /** The tokens a forged form could carry: none, a made-up one, a real one of another browser. */
  function wrongTokens(othersToken: string, othersLabel = "another browser's token"): [string, string | null][] {
    return [
      ['no token', null],
      ['a forged token', FORGED],
      [othersLabel, othersToken],
    ];
  }

  it('the apply form without a token, with a forged one or with another browser’s answers 403 and stores nothing', async () => {
    const client = webClient(ctx);
    await client.get('/aanvragen');
    const other = webClient(ctx);
    await other.get('/aanvragen');
    expect(other.csrf(), 'the other browser got its own token').not.toBe(client.csrf());
    const before = await ctx.models.Application.countDocuments();
    const file = [{ field: 'documents', name: 'offerte.pdf', bytes: pdfBytes }];
    for (const [what, csrf] of [
      ['no token', null],
      ['a forged token', FORGED],
      ['an empty token', ''],
      ["another browser's token", other.csrf()],
    ] as const) {
      const res = await client.postMultipart('/aanvragen', applyFields(), file, { csrf });
      expect(res.status, `apply form with ${what}: expected 403, got ${res.status} ${res.headers.location ?? ''}`).toBe(403);
      expect(res.text, `apply form with ${what}: the 403 page says the form expired`).toContain(nl.errors.csrfTitle);
      expect(cookieLine(res, 'bf_aanvraag'), `apply form with ${what}: set an applicant cookie`).toBeUndefined();
    }
    expect(await ctx.models.Application.countDocuments(), 'a refused apply form stored an application').toBe(before);
    expect(await readdir(ctx.store.tmpDir), 'a refused apply form left its upload behind').toEqual([]);
    // The same form with this browser's own token goes through (so the token was the only reason).
    const ok = await client.postMultipart('/aanvragen', applyFields(), file);
    expect(ok.status, `apply form with the right token: ${ok.status}`).toBe(303);
    expect(await ctx.models.Application.countDocuments()).toBe(before + 1);
  });

  it('the withdraw form of an applicant without the right token answers 403 and withdraws nothing', async () => {
    const { client, id } = await applyByForm();
    await waitForId(id, 'screening');
    const form = await client.get(`/aanvraag/${id}/intrekken`);
    expect(form.status).toBe(200);
    const other = webClient(ctx);
    await other.get('/aanvragen');
    const before = await untouched(id);
    for (const [what, csrf] of wrongTokens(other.csrf())) {
      const res = await client.post(`/aanvraag/${id}/intrekken`, { reason: 'Gaat niet door' }, { csrf });
      expect(res.status, `withdraw with ${what}: expected 403, got ${res.status} ${res.headers.location ?? ''}`).toBe(403);
    }
    expect(await untouched(id), 'a refused withdraw form changed the application').toEqual(before);
    expect(await statusOfId(id)).toBe('screening');
  });

  it('staff actions (screening complete, ask for information) without the right token answer 403 and change nothing', async () => {
    const { id } = await applyByForm();
    await waitForId(id, 'screening');
    const panel = await staffClient('panel1@buurtfonds.test');
    expect((await panel.get(`/beheer/aanvragen/${id}`)).status).toBe(200);
    const otherPanel = await staffClient('panel2@buurtfonds.test');
    const before = await untouched(id);
    for (const [what, csrf] of wrongTokens(otherPanel.csrf(), "another browser's token (another panel member's)")) {
      const complete = await panel.post(`/beheer/aanvragen/${id}/compleet`, {}, { csrf });
      expect(complete.status, `screening complete with ${what}: expected 403, got ${complete.status} ${complete.headers.location ?? ''}`).toBe(403);
      const ask = await panel.post(`/beheer/aanvragen/${id}/aanvulling-vragen`, { missing: 'Een offerte.', deadlineDays: '14' }, { csrf });
      expect(ask.status, `ask for information with ${what}: expected 403, got ${ask.status} ${ask.headers.location ?? ''}`).toBe(403);
    }
    expect(await untouched(id), 'a refused staff form changed the application').toEqual(before);
    expect(await statusOfId(id)).toBe('screening');
  });

  it('the login form without the right token answers 403 and logs no one in', async () => {
    const browser = webClient(ctx);
    await browser.get('/inloggen');
    const other = webClient(ctx);
    await other.get('/inloggen');
    for (const [what, csrf] of wrongTokens(other.csrf())) {
      const res = await browser.post('/inloggen', { email: 'panel1@buurtfonds.test', password: DEMO_PASSWORD }, { csrf });
      expect(res.status, `login with ${what}: expected 403, got ${res.status} ${res.headers.location ?? ''}`).toBe(403);
      expect(cookieLine(res, 'bf_sessie'), `login with ${what} set a session`).toBeUndefined();
    }
    expect(isLoginRedirect(await browser.get('/beheer/aanvragen')), 'logged in by a refused login form').toBe(true);
  });

  it('logout without the right token answers 403 and keeps the session', async () => {
    const panel = await staffClient('panel3@buurtfonds.test');
    await panel.get('/beheer/aanvragen');
    const other = webClient(ctx);
    await other.get('/inloggen');
    for (const [what, csrf] of wrongTokens(other.csrf())) {
      const res = await panel.post('/uitloggen', {}, { csrf });
      expect(res.status, `logout with ${what}: expected 403, got ${res.status}`).toBe(403);
      expect(cookieLine(res, 'bf_sessie'), `logout with ${what} touched the session cookie`).toBeUndefined();
      const still = await panel.get('/beheer/aanvragen');
      expect(still.status, `after a refused logout (${what}) the session is gone`).toBe(200);
    }
    // With the right token: logged out.
    const out = await panel.post('/uitloggen', {});
    expect([out.status, out.headers.location]).toEqual([303, '/']);
    expect(isLoginRedirect(await panel.get('/beheer/aanvragen')), 'still logged in after logout').toBe(true);
  });
});

// ---------------------------------------------------------------- the applicant's cookie and the status link

describe("the applicant's cookie and the e-mail's status link", () => {
  let a: Awaited<ReturnType<typeof applyByForm>>;
  let b: Granted & { documentId: string; title: string };
  const aEmail = `link-${randomBytes(3).toString('hex')}@example.nl`;

  beforeAll(async () => {
    a = await applyByForm({ 'applicant.email': aEmail, title: 'Aanvraag A van de cookie-test' });
    const title = 'Aanvraag B die niemand anders mag zien';
    const res = await ctx
      .http()
      .post('/api/v1/applications')
      .field('application', JSON.stringify(validApplication({ title, applicant: { ...validApplication().applicant, email: 'b@example.nl' } })))
      .attach('documents', pdfBytes, { filename: 'b-offerte.pdf' });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    b = { id: res.body.id, reference: res.body.reference, token: res.body.accessToken, title, documentId: '' };
    const view = await waitForStatus(ctx, b, 'screening');
    b.documentId = view.documents[0].id;
    await waitForId(a.id, 'screening');
  });

  it('applying through the form sets an HttpOnly, SameSite=Lax cookie bf_aanvraag for /aanvraag/<id> only', () => {
    const attrs = cookieAttributes(a.cookie);
    expect(attrs.get('path'), `cookie path: ${a.cookie}`).toBe(`/aanvraag/${a.id}`);
    expect(attrs.has('httponly'), `not HttpOnly: ${a.cookie}`).toBe(true);
    expect(attrs.get('samesite')?.toLowerCase(), `not SameSite=Lax: ${a.cookie}`).toBe('lax');
    expect(attrs.has('domain'), `a Domain widens the cookie: ${a.cookie}`).toBe(false);
    expect(attrs.has('secure'), 'Secure outside production would break http://localhost').toBe(false);
  });

  it("opens the application's own pages, and another application's pages answer 401/403 without its data", async () => {
    const view = (await ctx.http().get(`/api/v1/applications/${a.id}`).set(bearer(a.token))).body;
    const aDoc = view.documents[0].id as string;
    for (const path of [`/aanvraag/${a.id}`, `/aanvraag/${a.id}/verzonden`, `/aanvraag/${a.id}/intrekken`, `/aanvraag/${a.id}/documenten/${aDoc}`, `/aanvraag/${a.id}/gegevens`]) {
      const res = await a.client.get(path);
      expect(res.status, `own page ${path}: ${res.status}`).toBe(200);
    }
    const others = [`/aanvraag/${b.id}`, `/aanvraag/${b.id}/verzonden`, `/aanvraag/${b.id}/intrekken`, `/aanvraag/${b.id}/documenten/${b.documentId}`, `/aanvraag/${b.id}/documenten/${aDoc}`, `/aanvraag/${b.id}/gegevens`];
    const leaks = (res: Response) => [b.reference, b.title, 'b@example.nl', 'b-offerte.pdf'].filter((s) => (res.text ?? res.body?.toString?.('latin1') ?? '').includes(s));
    // As a browser sends it: the cookie belongs to /aanvraag/<a> only, so B's pages see no one (401).
    for (const path of others) {
      const res = await a.client.get(path);
      expect(res.status, `${path} with the cookie of another application (browser): expected 401, got ${res.status}`).toBe(401);
      expect(leaks(res), `${path} (browser) shows B's data`).toEqual([]);
    }
    // Sent on purpose to B's paths: A's applicant is known, and refused (403).
    const forced = webClient(ctx);
    plantCookie(forced, `bf_aanvraag=${a.token}; Path=/`);
    for (const path of others) {
      const res = await forced.get(path);
      expect(res.status, `${path} with A's cookie sent on purpose: expected 403, got ${res.status}`).toBe(403);
      expect(leaks(res), `${path} (A's cookie) shows B's data`).toEqual([]);
    }
    // …and cannot act on B either.
    await forced.get('/aanvragen');
    const withdraw = await forced.post(`/aanvraag/${b.id}/intrekken`, { reason: 'Niet van mij' });
    expect(withdraw.status, `withdrawing B with A's cookie: ${withdraw.status}`).toBe(403);
    expect(await statusOfId(b.id)).toBe('screening');
  });

  it("the e-mail's link (?token=) becomes a cookie: 303 to the page without the token, which no later page, Location or log line carries", async () => {
    const mail = await ctx.mail.waitFor((m) => m.to.includes(aEmail) && !!statusLinkIn(m.text) && statusLinkIn(m.text)!.includes(a.id));
    const url = statusLinkIn(mail.text)!;
    const path = url.replace(/^https?:\/\/[^/]+/, '');
    const token = decodeURIComponent(new URL(url).searchParams.get('token')!);
    expect(token.length).toBeGreaterThan(20);

    const browser = webClient(ctx);
    const first = await browser.get(path);
    expect(first.status, `opening the link: ${first.status}`).toBe(303);
    expect(first.headers.location, 'the link leads on to the same page without the token').toBe(`/aanvraag/${a.id}`);
    expect(first.headers['referrer-policy']).toBe('no-referrer');
    expect(first.text ?? '', 'the redirect body carries the token').not.toContain(token);
    const line = cookieLine(first, 'bf_aanvraag');
    expect(line, 'opening the link sets the applicant cookie').toBeDefined();
    const attrs = cookieAttributes(line!);
    expect([attrs.get('path'), attrs.has('httponly'), attrs.get('samesite')?.toLowerCase()], line).toEqual([`/aanvraag/${a.id}`, true, 'lax']);
    expect(cookieValue(line!), 'the cookie is the link token itself (it should be exchanged)').not.toBe(token);

    const seen: [string, Response][] = [[path, first]];
    // (Not the confirmation page: it shows the applicant a status link to keep, signed afresh, by design.)
    for (const p of [`/aanvraag/${a.id}`, `/aanvraag/${a.id}/intrekken`, '/', '/aanvragen']) {
      const res = await browser.get(p);
      expect(res.status, `${p} after the link: ${res.status}`).toBe(200);
      seen.push([p, res]);
    }
    for (const [p, res] of seen) {
      expect(res.text ?? '', `${p}: the page carries the link's token`).not.toContain(token);
      expect(String(res.headers.location ?? ''), `${p}: the Location carries the token`).not.toContain(token);
    }
    // The request was logged, but without its token.
    await eventually(async () => logLines.some((l) => l.includes(`/aanvraag/${a.id}?token=`)), 5_000, 'the request log line of the link');
    const withToken = logLines.filter((l) => l.includes(token) || l.includes(encodeURIComponent(token)));
    expect(withToken, 'log lines with the status link token').toEqual([]);
  });

  it('a forged, expired, foreign or other application’s link answers 401 "Deze link werkt niet" and sets no cookie', async () => {
    const key = ctx.deps.signer['key'];
    const nowSeconds = Math.floor(Date.now() / 1000);
    const good = await ctx.deps.signer.signApplicantLink(a.id);
    const [h, p, s] = good.split('.');
    const jwt = (sub: string, exp: number) => new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setIssuer('buurtfonds').setAudience('applicant').setIssuedAt().setExpirationTime(exp).sign(key);
    const links: Record<string, string> = {
      'a forged signature': `${h}.${p}.${s!.slice(0, -2)}${s!.endsWith('AA') ? 'BB' : 'AA'}`,
      'a link signed by another installation': await new TokenSigner(randomBytes(32).toString('hex'), 30).signApplicantLink(a.id),
      'an expired link': await jwt(a.id, nowSeconds - 60),
      "another application's link": await ctx.deps.signer.signApplicantLink(b.id),
      "another application's access token": b.token,
      'a staff token': await ctx.staff.admin(),
      garbage: 'not-a-token',
    };
    for (const [what, token] of Object.entries(links)) {
      const res = await webClient(ctx).get(`/aanvraag/${a.id}?token=${encodeURIComponent(token)}`);
      expect(res.status, `${what}: expected 401, got ${res.status} ${res.headers.location ?? ''}`).toBe(401);
      expect(res.text, `${what}: not the "link does not work" page`).toContain(nl.status.noAccessTitle);
      expect(cookieLine(res, 'bf_aanvraag'), `${what}: set an applicant cookie`).toBeUndefined();
      expect(res.text, `${what}: the page shows the application`).not.toContain('Aanvraag A van de cookie-test');
    }
    // The valid link still works (so the refusals were about the flaws).
    const ok = await webClient(ctx).get(`/aanvraag/${a.id}?token=${encodeURIComponent(good)}`);
    expect(ok.status).toBe(303);
  });
});

// ---------------------------------------------------------------- the staff session

describe('the staff session', () => {
  it('a staff page without a session redirects (303) to /inloggen?terug=<path>; logging in there leads back', async () => {
    const browser = webClient(ctx);
    const wanted = '/beheer/aanvragen?status=screening';
    const first = await browser.get(wanted);
    expect(first.status, `anonymous ${wanted}: ${first.status}`).toBe(303);
    expect(first.headers.location).toBe(`/inloggen?terug=${encodeURIComponent(wanted)}`);
    const login = await browser.get(first.headers.location!);
    expect(login.status).toBe(200);
    expect(login.text, 'the login page says a login is needed').toContain(nl.login.required);
    const res = await browser.post('/inloggen', { email: 'panel1@buurtfonds.test', password: DEMO_PASSWORD, terug: wanted });
    expect(res.status, `login: ${res.status}`).toBe(303);
    expect(res.headers.location, 'after the login, back to the page asked for').toBe(wanted);
    const session = cookieLine(res, 'bf_sessie');
    expect(session, 'the login sets the session cookie').toBeDefined();
    const attrs = cookieAttributes(session!);
    expect(attrs.has('httponly'), `session cookie not HttpOnly: ${session}`).toBe(true);
    expect(attrs.get('samesite')?.toLowerCase(), `session cookie not SameSite=Lax: ${session}`).toBe('lax');
    expect(attrs.get('path'), session).toBe('/');
    expect(attrs.has('secure'), 'session cookie Secure outside production').toBe(false);
    expect((await browser.get(wanted)).status).toBe(200);
  });

  it('after the login, and after the language switch, only a local path is followed (no open redirect)', async () => {
    for (const terug of ['https://evil.example/', '//evil.example/', '/\\evil.example/', 'javascript:alert(1)']) {
      const browser = webClient(ctx);
      await browser.get(`/inloggen?terug=${encodeURIComponent(terug)}`);
      const res = await browser.post('/inloggen', { email: 'panel1@buurtfonds.test', password: DEMO_PASSWORD, terug });
      expect(res.status).toBe(303);
      expect(res.headers.location, `terug=${terug}`).toMatch(/^\/(?![/\\])/);
      expect(res.headers.location).not.toContain('evil.example');
      const lang = await webClient(ctx).get(`/taal/nl?terug=${encodeURIComponent(terug)}`);
      expect(lang.status).toBe(303);
      expect(lang.headers.location, `/taal?terug=${terug}`).toBe('/');
    }
  });

  it('an expired session redirects with verlopen=1, the login page says so, and the cookie is cleared', async () => {
    const panel1 = await ctx.models.StaffUser.findOne({ email: 'panel1@buurtfonds.test' }, { _id: 1, name: 1 }).lean();
    const expired = await new SignJWT({ role: 'panel', name: panel1!.name })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(panel1!._id)
      .setIssuer('buurtfonds')
      .setAudience('staff')
      .setIssuedAt(Math.floor(Date.now() / 1000) - 3600)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(ctx.deps.signer['key']);
    const browser = webClient(ctx);
    plantCookie(browser, `bf_sessie=${expired}; Path=/`);
    const res = await browser.get('/beheer/aanvragen');
    expect(res.status, `expired session: ${res.status}`).toBe(303);
    expect(res.headers.location).toBe(`/inloggen?terug=${encodeURIComponent('/beheer/aanvragen')}&verlopen=1`);
    const cleared = cookieLine(res, 'bf_sessie');
    expect(cleared, 'the expired session cookie is cleared').toBeDefined();
    expect(cookieValue(cleared!), 'the expired session cookie is cleared').toBe('');
    const page = await browser.get(res.headers.location!);
    expect(page.status).toBe(200);
    expect(page.text, 'the login page says the session expired').toContain(nl.login.expired);

    // A form sent with an expired session: to the login page too, and nothing done.
    const { id } = await applyByForm();
    await waitForId(id, 'screening');
    const again = webClient(ctx);
    await again.get('/inloggen');
    plantCookie(again, `bf_sessie=${expired}; Path=/`);
    const post = await again.post(`/beheer/aanvragen/${id}/compleet`, {});
    expect(post.status, `form with an expired session: ${post.status}`).toBe(303);
    expect(post.headers.location).toBe(`/inloggen?terug=${encodeURIComponent(`/beheer/aanvragen/${id}/compleet`)}&verlopen=1`);
    expect(await statusOfId(id)).toBe('screening');
  });
});

// ---------------------------------------------------------------- XSS

/** A payload per free-text field; each must come back as text, never as markup. */
const P = (k: string) => `<script>alert("xss-${k}")</script>`;
/** File names may not contain "/" (nor `"` in a multipart header): an opening tag is enough. */
const F = (k: string) => `<script>alert('xss-${k}')<script>.pdf`;
const RAW = /<script>alert\(/i;
const escapedOf = (k: string) => new RegExp(`&lt;script&gt;alert\\((?:&quot;|&#34;|&#x22;|&#39;|&#x27;)xss-${k}\\b`, 'i');

describe('XSS: typed text is shown as text on every page that shows it', () => {
  /** The HTML of every page visit of the scenario, labelled. */
  const pages: { label: string; page: string; html: string }[] = [];
  let app: { id: string; token: string; reference: string };

  async function visit(page: string, label: string, client: WebClient, path: string): Promise<void> {
    const res = await client.get(path);
    expect(res.status, `${label} ${path}: ${res.status} ${res.text?.slice(0, 300)}`).toBe(200);
    pages.push({ label, page, html: res.text });
  }

  function expectShown(page: string, keys: string[]): void {
    const visits = pages.filter((p) => p.page === page);
    expect(visits.length, `${page} was never visited`).toBeGreaterThan(0);
    const all = visits.map((v) => v.html).join('\n');
    const missing = keys.filter((k) => !escapedOf(k).test(all));
    expect(missing.map((k) => `xss-${k}`), `${page}: these payloads were not shown as escaped text (visits: ${visits.map((v) => v.label).join(', ')})`).toEqual([]);
    for (const v of visits) {
      const raw = RAW.exec(v.html);
      expect(raw ? v.html.slice(Math.max(0, raw.index - 80), raw.index + 80) : null, `${v.label}: a payload is in the HTML unescaped`).toBeNull();
      expect(inlineCode(v.html), `${v.label}: inline code in the HTML`).toEqual([]);
    }
  }

  beforeAll(async () => {
    const activity = { 'activity.startDate': '2026-02-14', 'activity.endDate': '2026-02-14' };
    const admin = await ctx.staff.admin();
    const panelToken = await ctx.staff.panel();
    const finance = await ctx.login('financien@buurtfonds.test');
    const welfareToken = await ctx.staff.welfare();
    const panelWeb = await staffClient('panel1@buurtfonds.test');
    const adminWeb = await staffClient('admin@buurtfonds.test');
    const welfareWeb = await staffClient('welzijn1@buurtfonds.test');
    const financeWeb = await staffClient('financien@buurtfonds.test');

    // A rejected earlier application, so the new one can say what changed.
    const previous = await submitReady(ctx, { title: 'Eerdere aanvraag', activity: { startDate: '2026-02-14', endDate: '2026-02-14', location: 'Kerkstraat' } });
    await decide(ctx, previous, { grantedCents: 0, requestedCents: validApplication().amountRequestedCents });
    await waitForStatus(ctx, previous, 'rejected');

    // A new panel member (before the meeting, so the meeting lists the name too).
    const member = await ctx.http().post('/api/v1/panel/members').set(bearer(admin)).send({ email: 'xss-lid@buurtfonds.test', name: P('member'), password: 'een-lang-wachtwoord' });
    expect(member.status, JSON.stringify(member.body)).toBe(201);

    // The application through the form, every free-text field a payload. First the form
    // itself echoes them back after an error (nothing typed is lost: and nothing runs).
    const fields = applyFields({
      ...activity,
      'applicant.name': P('name'),
      'applicant.organisation': P('organisation'),
      'applicant.address.street': P('street'),
      'applicant.address.city': P('city'),
      'activity.location': P('location'),
      title: P('title'),
      description: P('description'),
      targetGroup: P('targetgroup'),
      'budgetLines.0.description': P('budgetline'),
      'budgetLines.1.description': P('budgetline2'),
      'coFunding.0.source': P('cofunding'),
      supportWish: P('supportwish'),
      accountHolder: P('accountholder'),
      previousReference: previous.reference,
      whatChanged: P('whatchanged'),
    });
    const resident = webClient(ctx);
    await resident.get('/aanvragen');
    const echoed = await resident.postMultipart('/aanvragen', { ...fields, privacyConsent: [] }, []);
    expect(echoed.status, `apply form without consent: ${echoed.status}`).toBe(422);
    pages.push({ label: 'apply form after an error', page: 'apply', html: echoed.text });
    const sent = await resident.postMultipart('/aanvragen', fields, [{ field: 'documents', name: F('file'), bytes: pdfBytes }]);
    expect(sent.status, `apply form: ${sent.status} ${sent.text?.slice(0, 1000)}`).toBe(303);
    const id = applicationIdOf(sent.headers.location);
    const token = cookieValue(cookieLine(sent, 'bf_aanvraag')!);
    const reference = (await ctx.models.Application.findById(id, { reference: 1 }).lean())!.reference;
    app = { id, token, reference };
    const me = { id, token, reference };
    await visit('confirmation', 'confirmation page', resident, `/aanvraag/${id}/verzonden`);
    await waitForStatus(ctx, me, 'screening');
    await visit('staff list', 'staff application list', panelWeb, '/beheer/aanvragen');

    // Screening: a question with a payload, an answer with one.
    const ask = await ctx.http().post(`/api/v1/applications/${id}/information-requests`).set(bearer(panelToken)).send({ missing: P('inforequest') });
    expect(ask.status, JSON.stringify(ask.body)).toBe(201);
    await waitForStatus(ctx, me, 'awaiting_information');
    await visit('status', 'status page, awaiting information', resident, `/aanvraag/${id}`);
    const answer = await ctx.http().post(`/api/v1/applications/${id}/information`).set(bearer(token)).send({ answer: P('answer') });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    await waitForStatus(ctx, me, 'screening');
    await visit('staff application', 'staff application page, screening', panelWeb, `/beheer/aanvragen/${id}`);
    const done = await ctx.http().post(`/api/v1/applications/${id}/screening/complete`).set(bearer(panelToken)).send({});
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    await waitForStatus(ctx, me, 'ready_for_meeting');

    // The meeting: a regular date months ahead (no other test file uses it), its agenda frozen at once.
    const planned = upcomingMeetings(calendarRules(ctx.config), [], new Date(), 16)[15]!;
    const meeting = planMeeting(calendarRules(ctx.config), planned.regularDate);
    await ctx.client.workflow.start<typeof panelMeetingWorkflow>('panelMeetingWorkflow', {
      taskQueue: ctx.config.temporal.taskQueue,
      workflowId: meeting.meetingId,
      args: [{ ...meetingInput(ctx.config, meeting), cutoffAt: new Date().toISOString(), endsAt: new Date(Date.now() + 86_400_000).toISOString() }],
    });
    startedMeetings.push(meeting.meetingId);
    const state = await eventually(async () => {
      const s = await ctx.client.workflow.getHandle(meeting.meetingId).query(meetingStateQuery);
      return s.status === 'open' ? s : undefined;
    }, 20_000, 'meeting agenda frozen');
    expect(state.agenda.map((i) => i.applicationId)).toContain(id);
    await waitForStatus(ctx, me, 'scheduled');
    const m = (who: string) => ctx.login(`${who}@buurtfonds.test`);
    const vote = async (who: string, body: Record<string, unknown>, path = 'votes') => {
      const res = await ctx.http().post(`/api/v1/meetings/${meeting.meetingId}/${path}`).set(bearer(await m(who))).send({ applicationId: id, ...body });
      expect(res.status, `${who} ${path}: ${JSON.stringify(res.body)}`).toBe(200);
    };
    await vote('panel1', { vote: 'approve', reasons: P('vote') });
    await vote('panel2', { vote: 'approve', reasons: P('vote') });
    await vote('panel3', { vote: 'approve', reasons: P('vote') });
    await vote('panel4', { reason: P('recusal') }, 'recusals');
    await visit('meeting', 'meeting page, open', panelWeb, `/beheer/vergaderingen/${meeting.meetingId}`);
    const closed = await ctx.http().post(`/api/v1/meetings/${meeting.meetingId}/close`).set(bearer(await m('panel1')));
    expect(closed.status, JSON.stringify(closed.body)).toBe(200);
    await eventually(async () => (await ctx.models.Meeting.findById(meeting.meetingId, { status: 1 }).lean())?.status === 'closed', 15_000, 'meeting closed');
    await waitForStatus(ctx, me, 'reserved');
    await visit('meeting', 'meeting page, closed', panelWeb, `/beheer/vergaderingen/${meeting.meetingId}`);
    await visit('status', 'status page, granted', resident, `/aanvraag/${id}`);

    // Welfare support: the case (the applicant asked for help), claimed, a note.
    await eventually(async () => (await ctx.deps.support.get(id))?.state === 'unclaimed', 20_000, 'the support case queued');
    await visit('support queue', 'support queue (admin)', adminWeb, '/beheer/ondersteuning');
    await visit('support queue', 'support queue (welfare, all organisations)', welfareWeb, '/beheer/ondersteuning?organisatie=');
    expect((await ctx.http().post(`/api/v1/support/${id}/claim`).set(bearer(welfareToken)).send()).status).toBe(200);
    const note = await ctx.http().post(`/api/v1/support/${id}/notes`).set(bearer(welfareToken)).send({ kind: 'contact', text: P('welfarenote') });
    expect(note.status, JSON.stringify(note.body)).toBe(201);
    await visit('support case', 'support case (welfare)', welfareWeb, `/beheer/ondersteuning/${id}`);

    // The payout: pending on finance's page, then paid.
    await visit('payouts', 'payouts page, pending', financeWeb, '/beheer/uitbetalingen');
    const batch = await ctx.http().post('/api/v1/payouts/batches').set(bearer(finance)).send();
    expect(batch.status, JSON.stringify(batch.body)).toBe(201);
    expect((await ctx.http().post(`${batch.body.fileUrl}/executed`).set(bearer(finance)).send()).status).toBe(200);
    await waitForStatus(ctx, me, 'report_due');

    // The report (text, a cost line, a photo), a clarification asked with a payload, the report again, accepted.
    const report = { text: P('report'), participants: 80, volunteers: 6, selfAssessment: 'green', costLines: [{ description: P('costline'), amountCents: 50_000 }] };
    const r1 = await ctx.http().post(`/api/v1/applications/${id}/report`).set(bearer(token)).field('report', JSON.stringify(report)).attach('documents', pngBytes, F('photo').replace(/\.pdf$/, '.png'));
    expect(r1.status, JSON.stringify(r1.body)).toBe(200);
    await waitForStatus(ctx, me, 'report_received');
    await visit('staff application', 'staff application page, report received', panelWeb, `/beheer/aanvragen/${id}`);
    const clarify = await ctx.http().post(`/api/v1/applications/${id}/report/review`).set(bearer(panelToken)).send({ outcome: 'clarify', note: P('reviewnote'), deadlineDays: 10 });
    expect(clarify.status, JSON.stringify(clarify.body)).toBe(200);
    await waitForStatus(ctx, me, 'clarification_requested');
    await visit('status', 'status page, clarification asked', resident, `/aanvraag/${id}`);
    const r2 = await ctx.http().post(`/api/v1/applications/${id}/report`).set(bearer(token)).field('report', JSON.stringify(report)).attach('documents', pngBytes, F('photo').replace(/\.pdf$/, '.png'));
    expect(r2.status, JSON.stringify(r2.body)).toBe(200);
    await waitForStatus(ctx, me, 'report_received');
    const accept = await ctx.http().post(`/api/v1/applications/${id}/report/review`).set(bearer(panelToken)).send({ outcome: 'accept', trafficLight: 'green' });
    expect(accept.status, JSON.stringify(accept.body)).toBe(200);
    await waitForStatus(ctx, me, 'settled');
    await visit('status', 'status page, settled', resident, `/aanvraag/${id}`);
    await visit('staff application', 'staff application page, settled (admin)', adminWeb, `/beheer/aanvragen/${id}`);
    await visit('payouts', 'payouts page, refund open', financeWeb, '/beheer/uitbetalingen');
    // The refund form echoes what was typed after an error.
    const refund = await financeWeb.post(`/beheer/uitbetalingen/terugbetalingen/${id}`, { amount: P('refundamount') });
    expect(refund.status, `refund form with a payload as the amount: ${refund.status}`).toBe(422);
    pages.push({ label: 'payouts page, refund form after an error', page: 'payouts', html: refund.text });
    await visit('monitoring', 'monitoring page (stories)', adminWeb, `/beheer/monitoring?jaar=${YEAR}`);
    await visit('panel', 'panel page', adminWeb, '/beheer/panel');
    await visit('support case', 'support case (admin)', adminWeb, `/beheer/ondersteuning/${id}`);
    await visit('audit', 'audit log', adminWeb, '/beheer/logboek');
  }, 120_000);

  it("the login page's return path (?terug=) is put in its form as text", async () => {
    const res = await webClient(ctx).get(`/inloggen?terug=${encodeURIComponent(`/beheer/"><script>alert("xss-terug")</script>`)}`);
    expect(res.status).toBe(200);
    expect(RAW.test(res.text), 'the return path is in the login page unescaped').toBe(false);
    expect(inlineCode(res.text), 'inline code in the login page').toEqual([]);
  });

  it('the apply form echoes what was typed after an error as text', () => {
    expectShown('apply', ['name', 'organisation', 'street', 'city', 'title', 'description', 'targetgroup', 'location', 'budgetline', 'budgetline2', 'cofunding', 'supportwish', 'accountholder', 'whatchanged']);
  });

  it('the status page (and the confirmation) show the application, question, decision, report and clarification as text', () => {
    expectShown('confirmation', []);
    expectShown('status', ['title', 'description', 'targetgroup', 'location', 'budgetline', 'cofunding', 'supportwish', 'whatchanged', 'inforequest', 'vote', 'report', 'costline', 'reviewnote', 'file', 'photo']);
    // What only staff see never reaches the applicant's page, escaped or not.
    const status = pages.filter((p) => p.page === 'status').map((p) => p.html).join('\n');
    for (const k of ['welfarenote', 'recusal']) expect(status.includes(`xss-${k}`), `the status page shows the staff-only xss-${k}`).toBe(false);
  });

  it('the staff application list and page show every field, the question, the answer, the report and the file names as text', () => {
    expectShown('staff list', ['title']);
    expectShown('staff application', ['name', 'organisation', 'title', 'description', 'targetgroup', 'location', 'budgetline', 'cofunding', 'supportwish', 'accountholder', 'whatchanged', 'inforequest', 'answer', 'vote', 'report', 'costline', 'file', 'photo']);
  });

  it('the meeting page shows the item, the member names and the vote reasons as text', () => {
    expectShown('meeting', ['title', 'name', 'description', 'location', 'budgetline', 'cofunding', 'whatchanged', 'file', 'member', 'vote']);
  });

  it('the support queue and case show the initiative, the wish, the contact and the welfare note as text', () => {
    expectShown('support queue', ['title']);
    expectShown('support case', ['title', 'supportwish', 'name', 'organisation', 'location', 'welfarenote']);
  });

  it("the payouts page shows the account holder, the refund's title and a refused refund amount as text", () => {
    expectShown('payouts', ['accountholder', 'title', 'refundamount']);
  });

  it('the monitoring page shows the stories (title, report text, photo name) as text', () => {
    expectShown('monitoring', ['title', 'report', 'photo']);
  });

  it("the panel page shows a new member's name as text", () => {
    expectShown('panel', ['member']);
  });

  it('no page of the scenario (the audit log included) carries any payload unescaped', () => {
    expectShown('audit', []);
    const unescaped = pages.filter((p) => RAW.test(p.html)).map((p) => p.label);
    expect(unescaped, 'pages with a payload as markup').toEqual([]);
    // Every page visit of the scenario happened (the reference is on the status page).
    expect(pages.filter((p) => p.page === 'status').every((p) => p.html.includes(app.reference)), 'a status page without the reference').toBe(true);
  });
});

// ---------------------------------------------------------------- logs

describe('logs', () => {
  it('no log line carries a credential the pages hand out: the applicant cookie, the exchanged link, the staff session', async () => {
    const applied = await applyByForm();
    const link = await ctx.deps.signer.signApplicantLink(applied.id);
    const browser = webClient(ctx);
    const opened = await browser.get(`/aanvraag/${applied.id}?token=${encodeURIComponent(link)}`);
    expect(opened.status).toBe(303);
    const staff = webClient(ctx);
    const login = await staff.login('admin@buurtfonds.test');
    expect(login.status).toBe(303);
    const secrets: Record<string, string> = {
      'the applicant cookie set by the apply form (the access token)': applied.token,
      'the applicant cookie set for a status link': cookieValue(cookieLine(opened, 'bf_aanvraag')!),
      'the status link token': link,
      'the staff session cookie (a staff JWT)': cookieValue(cookieLine(login, 'bf_sessie')!),
    };
    await eventually(async () => logLines.some((l) => l.includes('"url":"/inloggen"') && l.includes('request completed')), 5_000, 'the login request logged');
    const leaked = Object.entries(secrets)
      .filter(([, secret]) => logLines.some((l) => l.includes(secret)))
      .map(([what]) => `${what}: ${logLines.find((l) => l.includes(secrets[what]!))!.slice(0, 300)}…`);
    expect(leaked, 'credentials written to the log').toEqual([]);
  });
});

// ---------------------------------------------------------------- the failed-login limit (own app: its limiter counts every failure of this file)

describe('the page login shares the API’s failed-login limit', () => {
  let limited: TestContext;
  beforeAll(async () => {
    limited = await createTestContext({ noWorker: true, env: { LOGIN_RATE_LIMIT: '3' } });
  });
  afterAll(async () => limited?.close());

  it('failures on the page and on the API together reach the limit: then both answer 429, the page with its message', async () => {
    const browser = webClient(limited);
    await browser.get('/inloggen');
    const wrong = { email: 'panel1@buurtfonds.test', password: 'fout-wachtwoord-123' };
    const p1 = await browser.post('/inloggen', wrong);
    expect(p1.status, 'first wrong password on the page').toBe(401);
    expect(p1.text).toContain(nl.login.wrong);
    const a1 = await limited.http().post('/api/v1/auth/login').send(wrong);
    expect(a1.status, 'second wrong password, on the API').toBe(401);
    const p2 = await browser.post('/inloggen', wrong);
    expect(p2.status, 'third wrong password, on the page').toBe(401);
    // The limit (3) is reached: even the right password is refused, on the page and on the API.
    const p3 = await browser.post('/inloggen', { email: 'panel1@buurtfonds.test', password: DEMO_PASSWORD });
    expect(p3.status, `page login over the limit: ${p3.status}`).toBe(429);
    expect(p3.text, 'the page says there were too many attempts').toContain(nl.login.rateLimited);
    expect(cookieLine(p3, 'bf_sessie'), 'a session was set over the limit').toBeUndefined();
    const a2 = await limited.http().post('/api/v1/auth/login').send({ email: 'panel1@buurtfonds.test', password: DEMO_PASSWORD });
    expect(a2.status, `API login over the limit: ${a2.status}`).toBe(429);
  });
});

// ---------------------------------------------------------------- cookies in production (own app: NODE_ENV=production)

describe('cookies in production', () => {
  let prod: TestContext;
  beforeAll(async () => {
    prod = await createTestContext({
      noWorker: true,
      env: { NODE_ENV: 'production', AUTH_SECRET: randomBytes(32).toString('hex'), PAYOUT_DEBTOR_IBAN: 'NL91ABNA0417164300', DEMO_SEED: 'true' },
    });
  });
  afterAll(async () => prod?.close());

  it('with NODE_ENV=production every cookie the pages set is Secure, HttpOnly and SameSite=Lax: CSRF, staff session, flash, applicant', async () => {
    expect(prod.config.env).toBe('production');
    const lines: string[] = [];
    const form = await prod.http().get('/inloggen');
    lines.push(...setCookies(form));
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form.text)![1]!;
    const csrfCookie = setCookies(form).find((c) => /^(__Host-)?bf_csrf=/.test(c));
    expect(csrfCookie, `the CSRF cookie: ${setCookies(form).join(' | ')}`).toBeDefined();
    // A browser sends Secure cookies over https only: here they are sent by hand (the app sits behind TLS in production).
    const jar = setCookies(form).map((c) => c.split(';')[0]!);
    const login = await prod
      .http()
      .post('/inloggen')
      .set('Cookie', jar.join('; '))
      .type('form')
      .send({ _csrf: csrf, email: 'panel1@buurtfonds.test', password: DEMO_PASSWORD });
    expect(login.status, login.text?.slice(0, 300)).toBe(303);
    expect(cookieLine(login, 'bf_sessie'), 'a session cookie').toBeDefined();
    lines.push(...setCookies(login));

    const applied = await prod.http().post('/api/v1/applications').send(validApplication());
    expect(applied.status, JSON.stringify(applied.body)).toBe(201);
    const link = await prod.deps.signer.signApplicantLink(applied.body.id);
    const opened = await prod.http().get(`/aanvraag/${applied.body.id}?token=${link}`);
    expect(opened.status).toBe(303);
    expect(cookieLine(opened, 'bf_aanvraag'), 'an applicant cookie').toBeDefined();
    lines.push(...setCookies(opened));
    // A flash (the one-time confirmation after an action) is a cookie too: logging out sets one.
    const session = cookieLine(login, 'bf_sessie')!.split(';')[0]!;
    const out = await prod.http().post('/uitloggen').set('Cookie', [...jar, session].join('; ')).type('form').send({ _csrf: csrf });
    expect(out.status, out.text?.slice(0, 300)).toBe(303);
    lines.push(...setCookies(out).filter((c) => !/expires=Thu, 01 Jan 1970/i.test(c)));
    const names = lines.map((l) => l.split('=')[0]);
    expect(names).toEqual(expect.arrayContaining([expect.stringMatching(/bf_csrf$/), 'bf_sessie', 'bf_aanvraag', 'bf_melding']));
    for (const line of lines) {
      const a = cookieAttributes(line);
      expect(a.has('secure'), `not Secure: ${line}`).toBe(true);
      expect(a.has('httponly'), `not HttpOnly: ${line}`).toBe(true);
      expect(a.get('samesite')?.toLowerCase(), `not SameSite=Lax: ${line}`).toBe('lax');
    }
  });
});
