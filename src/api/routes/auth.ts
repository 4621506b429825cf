import { loginLimiter } from '../../services/staff-login.ts';
import type { ApiDeps } from '../deps.ts';
import { parseInput } from '../errors.ts';
import { staffRoles } from '../../db/models.ts';
import type { RouteSpec } from '../route-spec.ts';
import { errorSchema, loginResponseSchema, loginSchema } from '../schemas.ts';

export function authRoutes(deps: ApiDeps): RouteSpec[] {
  return [
    {
      method: 'post',
      path: '/api/v1/auth/login',
      access: ['anonymous'],
      tag: 'auth',
      summary: `Staff log in; the token carries the role (${staffRoles.join(', ')}).`,
      request: { json: loginSchema },
      responses: {
        200: { description: 'Logged in', schema: loginResponseSchema },
        401: { description: 'Wrong e-mail or password (same answer for both)', schema: errorSchema },
        422: { description: 'Invalid body', schema: errorSchema },
        429: {
          description:
            'Too many failed attempts: from this client address (details code `too_many_failed_logins`), or on this e-mail address from any address (`account_locked`, with `lockedUntil`; the right password is refused too until then). Retry-After says when to try again.',
          schema: errorSchema,
        },
      },
      before: [loginLimiter(deps)],
      async handler(req, res) {
        const { email, password } = parseInput(loginSchema, req.body ?? {}, 'login');
        const user = await deps.staffLogin.check(email, password);
        const { token, expiresAt } = await deps.signer.signStaff({ id: user._id, role: user.role, name: user.name });
        req.log.info({ userId: user._id, role: user.role }, 'staff login');
        res.json({ token, role: user.role, expiresAt: expiresAt.toISOString() });
      },
    },
  ];
}
