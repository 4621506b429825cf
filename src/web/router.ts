/**
 * The web pages beside the API: cookies instead of bearer tokens, a CSRF token in every
 * form that changes something, the visitor's language, and one rule per page saying who
 * may open it. A page that does what an API route does takes that route's rule from the
 * route table (`sameAccessAs`), so the table stays the one place that says who may do what.
 *
 * Who the visitor is comes from two cookies: the staff session (a signed staff token,
 * renewed while in use) and, on an application's own pages, the applicant's access
 * token (moved there from the e-mail's link on the first visit).
 */
import { randomBytes } from 'node:crypto';
import cookieParser from 'cookie-parser';
import { doubleCsrf } from 'csrf-csrf';
import express, { type CookieOptions, type Request, type RequestHandler, type Response, Router } from 'express';
import type { Principal } from '../auth/tokens.ts';
import { principalOf, isAllowed, outsideCases, type Access } from '../api/auth.ts';
import type { ApiDeps } from '../api/deps.ts';
import type { HttpMethod, RouteSpec } from '../api/route-spec.ts';
import { discardUploads, multipartUpload } from '../api/uploads.ts';
import { AppError } from '../domain/errors.ts';
import { isDatabaseUnavailable } from '../api/errors.ts';
import type { Locale } from '../domain/messages.ts';
import { errorMessage } from '../domain/validation-messages.ts';
import { flashCodes, pageTexts, type FlashCode, type PageTexts } from '../domain/page-messages.ts';
import { serveAsset } from './assets.ts';
import { alert, heading, paragraph } from './components.ts';
import { html, type SafeHtml } from './html.ts';
import { layout } from './layout.ts';
import { cachePage, fillPage, PageCache } from './page-cache.ts';
import { pagePaths } from './paths.ts';

declare module 'express-serve-static-core' {
  interface Request {
    /** The staff member of the session cookie, if any. */
    staff?: Principal & { kind: 'staff' };
    /** The applicant of the application cookie on this path, if any. */
    applicant?: Principal & { kind: 'applicant' };
    /** The staff session cookie was there but has expired. */
    sessionExpired?: boolean;
    /** A form's files went over a limit (size, count): the page says so and keeps what was typed. */
    uploadError?: AppError;
  }
}

export const cookies = {
  session: 'bf_sessie',
  applicant: 'bf_aanvraag',
  lang: 'bf_taal',
  flash: 'bf_melding',
  browser: 'bf_browser',
};

/** Everything a page handler needs for one request. */
export class Page {
  readonly req: Request;
  readonly res: Response;
  readonly deps: ApiDeps;
  readonly locale: Locale;
  readonly t: PageTexts;
  readonly principal: Principal | undefined;
  private readonly env: WebEnv;
  private token?: string;

  constructor(req: Request, res: Response, env: WebEnv, principal: Principal | undefined) {
    this.req = req;
    this.res = res;
    this.env = env;
    this.deps = env.deps;
    this.principal = principal;
    this.locale = req.cookies?.[cookies.lang] === 'en' ? 'en' : 'nl';
    this.t = pageTexts[this.locale];
  }

  /** A path parameter (`:id`) as text. */
  param(name: string): string {
    const v = this.req.params[name];
    return typeof v === 'string' ? v : '';
  }

  /** The CSRF token for this visitor's forms (made once per request). */
  get csrf(): string {
    return (this.token ??= this.env.generateCsrfToken(this.req, this.res));
  }

  get staff(): (Principal & { kind: 'staff' }) | undefined {
    return this.principal?.kind === 'staff' ? this.principal : undefined;
  }

  /** `staff:<id>` or `applicant`, as the audit log and the timeline name who acted. */
  get actor(): string {
    return this.principal?.kind === 'staff' ? `staff:${this.principal.userId}` : this.principal ? 'applicant' : 'anonymous';
  }

  /** The message of the last action (set by `redirect`), read once. */
  takeFlash(): FlashCode | undefined {
    const code = this.req.cookies?.[cookies.flash];
    if (typeof code !== 'string') return undefined;
    this.res.clearCookie(cookies.flash, { path: '/' });
    return (flashCodes as string[]).includes(code) ? (code as FlashCode) : undefined;
  }

  /** The page in the layout, as HTML (the message of the last action on top). */
  private compose(title: string, content: SafeHtml, opts: RenderOptions): string {
    const flash = this.takeFlash();
    const notice = flash ? alert(flash === 'state_changed' || flash === 'not_possible' ? 'warning' : 'ok', html`<p class="utrecht-paragraph">${this.t.flash[flash]}</p>`) : undefined;
    return layout({
      title,
      content,
      locale: this.locale,
      t: this.t,
      fundName: this.deps.config.fund.name,
      principal: this.principal,
      path: this.req.path,
      csrf: () => this.csrf,
      ...(notice ? { notice } : {}),
      ...opts,
    }).value;
  }

  render(title: string, content: SafeHtml, opts: RenderOptions = {}): void {
    const page = this.compose(title, content, opts);
    this.res.status(opts.status ?? 200).set('Cache-Control', 'no-store').type('html').send(page);
  }

  /**
   * A page that is the same for every anonymous visitor while `key` stays the same (the
   * key names the version of its data): rendered and compressed once (src/web/page-cache.ts).
   * `values` go where the page put `slot(0)`, `slot(1)`, … (a form's CSRF token). A
   * logged-in visitor, or one with a message waiting, gets it rendered as usual.
   */
  async renderShared(key: string, build: () => Promise<SharedPage> | SharedPage, values: readonly string[] = []): Promise<void> {
    const shared = !this.principal && !this.req.cookies?.[cookies.flash];
    let cached = shared ? this.env.pages.get(`${this.locale}|${key}`) : undefined;
    if (!cached) {
      const b = await build();
      const page = cachePage(this.compose(b.title, b.content, b.opts ?? {}));
      if (!shared) {
        this.res.status(b.opts?.status ?? 200).set('Cache-Control', 'no-store').type('html').send(fillPage(page, values).html());
        return;
      }
      this.env.pages.set(`${this.locale}|${key}`, page);
      cached = page;
    }
    const filled = fillPage(cached, values);
    const gzip = this.req.acceptsEncodings('gzip') === 'gzip';
    const body = gzip ? filled.gzip() : filled.html();
    // Written as is: no ETag to compute (the page is not stored anyway), no compression to run again.
    this.res.status(200).set({ 'Cache-Control': 'no-store', Vary: 'Accept-Encoding', 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': String(body.length), ...(gzip ? { 'Content-Encoding': 'gzip' } : {}) });
    this.res.end(this.req.method === 'HEAD' ? undefined : body);
  }

  /** After a POST: see the result at `to` (303), with a one-time message. */
  redirect(to: string, flash?: FlashCode): void {
    if (flash) this.res.cookie(cookies.flash, flash, { path: '/', httpOnly: true, sameSite: 'lax', secure: this.env.secure, maxAge: 60_000 });
    this.res.redirect(303, to);
  }

  /** A page saying what went wrong (also for errors the handler did not expect). */
  error(status: number, title: string, text: string): void {
    this.render(title, html`${heading(1, title)}${paragraph(text)}<p class="utrecht-paragraph"><a class="utrecht-link" href="/">${this.t.errors.homeLink}</a></p>`, { status });
  }

  /** The API's message for a refusal, in the visitor's language. */
  message(e: AppError): string {
    return errorMessage(e, this.locale);
  }
}

export interface SharedPage {
  title: string;
  content: SafeHtml;
  opts?: RenderOptions;
}

export interface RenderOptions {
  status?: number;
  hasErrors?: boolean;
  script?: boolean;
  wide?: boolean;
}

export interface PageSpec {
  method: Extract<HttpMethod, 'get' | 'post'>;
  path: string;
  access: readonly Access[];
  /** A form with files: parsed (files to the document store's tmp dir) before the CSRF check. */
  upload?: boolean;
  /** Only for requests this says yes to (otherwise the next page of the same path answers). */
  when?: (req: Request) => boolean;
  handler: (page: Page) => Promise<void> | void;
}

interface WebEnv {
  deps: ApiDeps;
  secure: boolean;
  /** Pages the same for every anonymous visitor, rendered and compressed once. */
  pages: PageCache;
  generateCsrfToken: (req: Request, res: Response) => string;
}

/** The access rule of an API route, for a page that does the same (fails at start-up if the route is gone). */
export function sameAccessAs(routes: readonly RouteSpec[], method: HttpMethod, path: string): readonly Access[] {
  const route = routes.find((r) => r.method === method && r.path === path);
  if (!route) throw new Error(`no API route ${method.toUpperCase()} ${path} to take the access rule from`);
  return route.access;
}

/** Only local paths after a login or a language switch (never another site). */
export function localPath(raw: unknown, fallback = '/'): string {
  return typeof raw === 'string' && /^\/(?![/\\])[^\s]*$/.test(raw) ? raw : fallback;
}

export function webRouter(deps: ApiDeps, pages: readonly PageSpec[], secret: string): Router {
  const secure = deps.config.env === 'production';
  const router = Router();
  const { generateCsrfToken, doubleCsrfProtection } = doubleCsrf({
    getSecret: () => secret,
    // Binds the token to this browser (a random id in its own cookie), so a token from another browser is refused.
    getSessionIdentifier: (req) => String(req.cookies?.[cookies.browser] ?? ''),
    cookieName: secure ? '__Host-bf_csrf' : 'bf_csrf',
    cookieOptions: { sameSite: 'lax', secure, httpOnly: true, path: '/' },
    getCsrfTokenFromRequest: (req) => (req.body as Record<string, unknown> | undefined)?._csrf as string | undefined,
  });
  const env: WebEnv = {
    deps,
    secure,
    pages: new PageCache(),
    // The browser keeps its token while it is valid: the cookie is only sent again when it changes.
    generateCsrfToken: (req, res) =>
      generateCsrfToken(req, {
        cookie: (name: string, value: string, options: CookieOptions) => (req.cookies?.[name] === value ? res : res.cookie(name, value, options)),
      } as unknown as Response),
  };
  const cookieOptions = { httpOnly: true, sameSite: 'lax' as const, secure };

  router.get('/static/:name', serveAsset);
  router.use(cookieParser());
  const urlencoded = express.urlencoded({ extended: false, limit: '200kb', parameterLimit: 1000 });

  // A browser id for binding CSRF tokens (made on the first visit).
  router.use((req, res, next) => {
    if (!req.cookies[cookies.browser]) {
      const id = randomBytes(18).toString('base64url');
      req.cookies[cookies.browser] = id;
      res.cookie(cookies.browser, id, { ...cookieOptions, path: '/' });
    }
    next();
  });

  // Who is visiting: the staff session (renewed once half of it has passed) and the application cookie.
  router.use((req, res, next) => {
    const session = req.cookies[cookies.session];
    const applicantToken = req.cookies[cookies.applicant];
    if (!session && !applicantToken) return next();
    void identify(req, res).then(() => next(), next);
  });
  async function identify(req: Request, res: Response): Promise<void> {
    const session = req.cookies[cookies.session];
    if (typeof session === 'string' && session) {
      const inspected = await deps.signer.inspect(session);
      if (inspected === 'expired') {
        req.sessionExpired = true;
        res.clearCookie(cookies.session, { path: '/' });
      } else if (inspected?.principal.kind === 'staff' && (await deps.models.StaffUser.exists({ _id: inspected.principal.userId, active: true }))) {
        req.staff = inspected.principal;
        if (inspected.expiresAt.getTime() - Date.now() < (deps.signer.staffTtlMinutes * 60_000) / 2) {
          const renewed = await deps.signer.signStaff({ id: inspected.principal.userId, role: inspected.principal.role, name: inspected.principal.name });
          res.cookie(cookies.session, renewed.token, { ...cookieOptions, path: '/', expires: renewed.expiresAt });
        }
      } else {
        res.clearCookie(cookies.session, { path: '/' });
      }
    }
    const applicantToken = req.cookies[cookies.applicant];
    if (typeof applicantToken === 'string' && applicantToken) {
      const p = await principalOf(deps, applicantToken);
      if (p && p !== 'inactive' && p.kind === 'applicant') req.applicant = p;
    }
  }

  const upload = multipartUpload(deps.store, deps.config.uploads, { fields: 300 });

  for (const spec of pages) {
    const handlers: RequestHandler[] = [];
    if (spec.when) handlers.push((req, _res, next) => (spec.when!(req) ? next() : next('route')));
    handlers.push(async (req, res, next) => {
      // The visitor as this page's rule sees them: the application's own applicant, else the staff member.
      const candidates = [req.applicant, req.staff].filter((p): p is NonNullable<typeof p> => p !== undefined);
      const principal = candidates.find((p) => isAllowed(spec.access, p, req.params)) ?? req.staff ?? req.applicant;
      res.locals.principal = principal;
      const page = new Page(req, res, env, principal);
      if (isAllowed(spec.access, principal, req.params)) {
        // An application outside a welfare worker's cases is not there for them (as in the API).
        if (await outsideCases(spec.access, principal, req.params, deps.support)) return page.error(404, page.t.errors.notFoundTitle, page.t.errors.notFound);
        return next();
      }
      if (!principal && spec.access.some((a) => a !== 'anonymous' && a !== 'applicant_self')) {
        const back = spec.method === 'get' ? req.originalUrl : req.path;
        res.redirect(303, `${pagePaths.login}?terug=${encodeURIComponent(back)}${req.sessionExpired ? '&verlopen=1' : ''}`);
        return;
      }
      if (!principal) return page.error(401, page.t.status.noAccessTitle, page.t.status.noAccess);
      page.error(403, page.t.errors.forbiddenTitle, page.t.errors.forbidden);
    });
    if (spec.method === 'post') {
      handlers.push(urlencoded);
      if (spec.upload) {
        handlers.push((req, res, next) =>
          upload(req, res, async (err?: unknown) => {
            if (err instanceof AppError) {
              await discardUploads(req);
              req.files = [];
              req.uploadError = err;
              return next();
            }
            next(err as Error | undefined);
          }),
        );
      }
      handlers.push((req, res, next) => {
        doubleCsrfProtection(req, res, async (err?: unknown) => {
          if (!err) return next();
          await discardUploads(req);
          req.log.warn({ path: req.path }, 'form refused: missing or wrong CSRF token');
          const page = new Page(req, res, env, res.locals.principal as Principal | undefined);
          page.error(403, page.t.errors.csrfTitle, page.t.errors.csrf);
        });
      });
    }
    handlers.push(async (req, res) => {
      const page = new Page(req, res, env, res.locals.principal as Principal | undefined);
      try {
        await spec.handler(page);
      } catch (err) {
        await discardUploads(req);
        if (res.headersSent) throw err;
        failed(page, err);
      }
    });
    router[spec.method](spec.path, ...handlers);
  }

  // Any other path outside the API: a page saying it does not exist.
  router.use((req, res, next) => {
    if (req.path.startsWith('/api/')) return next();
    const page = new Page(req, res, env, req.staff);
    page.error(404, page.t.errors.notFoundTitle, page.t.errors.notFound);
  });
  return router;
}

/** What the visitor sees when a handler throws: the refusal in words, or a plain error page. */
function failed(page: Page, err: unknown): void {
  const { t } = page;
  if (err instanceof AppError) {
    if (err.status === 404) return page.error(404, t.errors.notFoundTitle, t.errors.notFound);
    if (err.status === 403) return page.error(403, t.errors.forbiddenTitle, t.errors.forbidden);
    if (err.status === 503) {
      // With when to try again (Retry-After); a refusal of its own (an application only just stored) in its own words.
      page.res.set(err.headers);
      return page.error(503, t.errors.unavailableTitle, err.code === 'service_unavailable' ? t.errors.unavailable : page.message(err));
    }
    if (err.status < 500) return page.error(err.status, t.errors.serverTitle, page.message(err));
  }
  if (isDatabaseUnavailable(err)) {
    page.req.log.warn({ err }, 'page failed: database unavailable');
    return page.error(503, t.errors.unavailableTitle, t.errors.unavailable);
  }
  page.req.log.error({ err }, 'page failed');
  page.error(500, t.errors.serverTitle, t.errors.server);
}
