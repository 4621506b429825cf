/**
 * A browser-like HTTP client for the web pages: a cookie jar (supertest's agent), the
 * CSRF token read from the last form it saw, form posts as a browser sends them, and
 * the staff login page. Real app, real servers (the test context); no browser.
 */
import request from 'supertest';
import type { Response } from 'supertest';
import { DEMO_PASSWORD, type TestContext } from './context.ts';
import { validApplication } from './fixtures.ts';

export type FormFields = Record<string, string | string[]>;

export interface WebClient {
  agent: ReturnType<typeof request.agent>;
  /** The CSRF token of the last page with a form. */
  csrf(): string;
  get(path: string): Promise<Response>;
  /** A urlencoded form post with the CSRF token (unless `csrf: null`, or another token). */
  post(path: string, fields?: FormFields, opts?: { csrf?: string | null }): Promise<Response>;
  /** A multipart form post (with files), as the apply, answer and report forms send. */
  postMultipart(path: string, fields: FormFields, files?: { field: string; name: string; bytes: Buffer }[], opts?: { csrf?: string | null }): Promise<Response>;
  login(email: string, password?: string): Promise<Response>;
}

export function webClient(ctx: Pick<TestContext, 'app'>): WebClient {
  const agent = request.agent(ctx.app);
  let token = '';
  const remember = (r: Response) => {
    const m = /name="_csrf" value="([^"]+)"/.exec(r.text ?? '');
    if (m) token = m[1]!;
    return r;
  };
  const withCsrf = (fields: FormFields, csrf: string | null | undefined): FormFields => (csrf === null ? fields : { _csrf: csrf ?? token, ...fields });
  const client: WebClient = {
    agent,
    csrf: () => token,
    get: async (path) => remember(await agent.get(path)),
    post: async (path, fields = {}, opts = {}) => remember(await agent.post(path).type('form').send(withCsrf(fields, opts.csrf))),
    async postMultipart(path, fields, files = [], opts = {}) {
      let req = agent.post(path);
      for (const [k, v] of Object.entries(withCsrf(fields, opts.csrf))) for (const one of Array.isArray(v) ? v : [v]) req = req.field(k, one);
      for (const f of files) req = req.attach(f.field, f.bytes, { filename: f.name });
      return remember(await req);
    },
    async login(email, password = DEMO_PASSWORD) {
      await client.get('/inloggen');
      return client.post('/inloggen', { email, password });
    },
  };
  return client;
}

/** The application form's fields as the page names them, for validApplication() with overrides of those fields. */
export function applyFields(overrides: FormFields = {}): FormFields {
  const a = validApplication();
  const euros = (cents: number) => (cents / 100).toFixed(2).replace('.', ',');
  return {
    idempotencyKey: crypto.randomUUID(),
    'applicant.name': a.applicant.name,
    'applicant.email': a.applicant.email,
    'applicant.phone': a.applicant.phone,
    'applicant.address.street': a.applicant.address.street,
    'applicant.address.postalCode': a.applicant.address.postalCode,
    'applicant.address.city': a.applicant.address.city,
    title: a.title,
    description: a.description,
    purposes: a.purposes,
    wijken: a.wijken,
    targetGroup: a.targetGroup,
    expectedParticipants: String(a.expectedParticipants),
    volunteers: String(a.volunteers),
    'activity.startDate': a.activity.startDate,
    'activity.endDate': a.activity.endDate,
    'activity.location': a.activity.location,
    ...Object.fromEntries(a.budgetLines.flatMap((l, i) => [[`budgetLines.${i}.description`, l.description], [`budgetLines.${i}.amount`, euros(l.amountCents)]])),
    ...Object.fromEntries(a.coFunding.flatMap((c, i) => [[`coFunding.${i}.source`, c.source], [`coFunding.${i}.amount`, euros(c.amountCents)]])),
    wantsSupport: a.wantsSupport ? 'ja' : 'nee',
    supportWish: a.supportWish,
    iban: a.iban,
    accountHolder: a.accountHolder,
    privacyConsent: 'ja',
    action: 'send',
    ...overrides,
  };
}

/** The id in a /aanvraag/<id>/verzonden redirect. */
export function applicationIdOf(location: string | undefined): string {
  const m = /^\/aanvraag\/([0-9a-f-]{36})\/verzonden$/.exec(location ?? '');
  if (!m) throw new Error(`not a confirmation redirect: ${location}`);
  return m[1]!;
}

/** Inline <script> or <style> blocks, style="" or on*="" attributes: what the Content-Security-Policy forbids. */
export function inlineCode(html: string): string[] {
  return [
    ...html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>/gi),
    ...html.matchAll(/<style[\s>]/gi),
    ...html.matchAll(/\sstyle\s*=/gi),
    ...html.matchAll(/\son[a-z]+\s*=/gi),
  ].map((m) => m[0]);
}

/**
 * Opens an e-mail's status link as a browser does: the token becomes a cookie for the
 * application's pages and the browser is sent on without it; returns the page it lands on.
 */
export async function openStatusLink(ctx: Pick<TestContext, 'app'>, url: string): Promise<{ client: WebClient; applicationId: string; page: Response }> {
  const m = /^https?:\/\/[^/]+(\/aanvraag\/([0-9a-f-]{36})\?token=\S+)$/.exec(url);
  if (!m) throw new Error(`not a status link: ${url}`);
  const client = webClient(ctx);
  const first = await client.get(m[1]!);
  if (first.status !== 303 || first.headers.location !== `/aanvraag/${m[2]}`) throw new Error(`the link did not move its token into a cookie: ${first.status} ${first.headers.location}`);
  const page = await client.get(first.headers.location);
  return { client, applicationId: m[2]!, page };
}

/** The status link in an e-mail's text. */
export function statusLinkIn(text: string): string | undefined {
  return /(http:\/\/buurtfonds\.test\/aanvraag\/[0-9a-f-]{36}\?token=\S+)/.exec(text)?.[1];
}
