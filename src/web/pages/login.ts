/**
 * Staff log in on a page: the same check and the same failed-login limits as the API
 * (src/services/staff-login.ts). The session is a signed staff token in an HttpOnly,
 * SameSite=Lax cookie (Secure in production), renewed while in use; after it expires
 * the next page sends the person here with a message, and back where they were after.
 */
import type { ApiDeps } from '../../api/deps.ts';
import type { RouteSpec } from '../../api/route-spec.ts';
import { loginSchema } from '../../api/schemas.ts';
import type { StaffRole } from '../../db/models.ts';
import { AppError } from '../../domain/errors.ts';
import { formatDateTime } from '../../domain/dates.ts';
import { loginLimiter, lockedUntilOf } from '../../services/staff-login.ts';
import { alert, button, csrfField, errorSummary, FormErrors, heading, paragraph, textField } from '../components.ts';
import { str, validate, type FormBody } from '../forms.ts';
import { html } from '../html.ts';
import { pagePaths, staffPaths } from '../paths.ts';
import { cookies, localPath, sameAccessAs, type Page, type PageSpec } from '../router.ts';

/** Where each role starts. */
export const homeOf: Record<StaffRole, string> = {
  panel: staffPaths.applications,
  welfare: staffPaths.support,
  finance: staffPaths.payouts,
  admin: staffPaths.monitoring,
};

export function loginPages(deps: ApiDeps, routes: readonly RouteSpec[]): PageSpec[] {
  const access = sameAccessAs(routes, 'post', '/api/v1/auth/login');
  const limiter = loginLimiter(deps);
  const secure = deps.config.env === 'production';

  function show(page: Page, opts: { body?: FormBody; errors?: FormErrors; notice?: 'expired' | 'required' | 'wrong' | 'rate' | Date; status?: number } = {}) {
    const { t } = page;
    const errors = opts.errors ?? new FormErrors();
    const back = localPath(opts.body ? str(opts.body, 'terug') : page.req.query.terug, '');
    const notice =
      opts.notice instanceof Date
        ? alert('error', paragraph(t.login.locked(formatDateTime(opts.notice, page.locale))))
        : opts.notice === 'expired'
        ? alert('warning', paragraph(t.login.expired))
        : opts.notice === 'required'
          ? alert('info', paragraph(t.login.required))
          : opts.notice === 'rate'
            ? alert('error', paragraph(t.login.rateLimited))
            : opts.notice === 'wrong'
              ? alert('error', paragraph(t.login.wrong))
              : '';
    page.render(
      t.login.title,
      html`${heading(1, t.login.title)}
${notice}
${errorSummary(t, errors)}
${paragraph(t.login.intro)}
<form class="bf-form" method="post" action="${pagePaths.login}" novalidate>
${csrfField(page.csrf)}
${back ? html`<input type="hidden" name="terug" value="${back}">` : ''}
${textField({ name: 'email', label: t.login.email, type: 'email', autocomplete: 'username', spellcheck: false, value: opts.body ? str(opts.body, 'email') : '', error: errors.of('email') })}
${textField({ name: 'password', label: t.login.password, type: 'password', autocomplete: 'current-password', error: errors.of('password') })}
<div class="bf-actions">${button(t.login.submit)}</div>
</form>`,
      { status: opts.status ?? 200, hasErrors: errors.any || opts.notice === 'wrong' || opts.notice instanceof Date },
    );
  }

  return [
    {
      method: 'get',
      path: pagePaths.login,
      access,
      handler(page) {
        if (page.req.staff) return page.res.redirect(303, localPath(page.req.query.terug, homeOf[page.req.staff.role]));
        show(page, { ...(page.req.query.verlopen === '1' ? { notice: 'expired' } : page.req.query.terug ? { notice: 'required' } : {}) });
      },
    },
    {
      method: 'post',
      path: pagePaths.login,
      access,
      async handler(page) {
        const body = (page.req.body ?? {}) as FormBody;
        // The API's limiter counts this attempt too; over the limit it refuses (429) before any password check.
        const limited = await new Promise<AppError | undefined>((resolve) => void limiter(page.req, page.res, (err?: unknown) => resolve(err instanceof AppError ? err : undefined)));
        if (limited) return show(page, { body, notice: 'rate', status: 429 });
        const errors = new FormErrors();
        const input = validate(loginSchema, { email: str(body, 'email'), password: typeof body.password === 'string' ? body.password : '' }, errors, { t: page.t, locale: page.locale });
        if (!input) return show(page, { body, errors, status: 422 });
        let user;
        try {
          user = await deps.staffLogin.check(input.email, input.password);
        } catch (err) {
          if (err instanceof AppError && err.code === 'invalid_credentials') return show(page, { body, notice: 'wrong', status: 401 });
          const lockedUntil = lockedUntilOf(err);
          if (lockedUntil) return show(page, { body, notice: lockedUntil, status: 429 });
          throw err;
        }
        const { token, expiresAt } = await deps.signer.signStaff({ id: user._id, role: user.role, name: user.name });
        page.res.cookie(cookies.session, token, { path: '/', httpOnly: true, sameSite: 'lax', secure, expires: expiresAt });
        page.req.log.info({ userId: user._id, role: user.role }, 'staff login (page)');
        page.res.redirect(303, localPath(str(body, 'terug'), homeOf[user.role]));
      },
    },
    {
      method: 'post',
      path: '/uitloggen',
      access: ['anonymous'],
      handler(page) {
        page.res.clearCookie(cookies.session, { path: '/' });
        page.redirect(pagePaths.home, 'logged_out');
      },
    },
    {
      method: 'get',
      path: '/beheer',
      access: ['panel', 'welfare', 'finance', 'admin'],
      handler(page) {
        page.res.redirect(303, homeOf[page.staff!.role]);
      },
    },
  ];
}
