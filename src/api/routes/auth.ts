import argon2 from 'argon2';
import { rateLimit } from 'express-rate-limit';
import { AppError } from '../../domain/errors.ts';
import type { ApiDeps } from '../deps.ts';
import { parseWith } from '../errors.ts';
import type { RouteSpec } from '../route-spec.ts';
import { errorSchema, loginResponseSchema, loginSchema } from '../schemas.ts';

/** Verified against when the e-mail is unknown, so both failures cost the same time. */
const dummyHash = argon2.hash('buurtfonds-timing-equaliser');

export function authRoutes(deps: ApiDeps): RouteSpec[] {
  const limiter = rateLimit({
    windowMs: deps.config.auth.loginRateWindowSeconds * 1000,
    limit: deps.config.auth.loginRateLimit,
    skipSuccessfulRequests: true,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (_req, _res, next) => next(new AppError(429, 'rate_limited', [{ code: 'too_many_failed_logins' }])),
  });
  return [
    {
      method: 'post',
      path: '/api/v1/auth/login',
      access: ['anonymous'],
      tag: 'auth',
      summary: 'Staff log in; the token carries the role (panel, welfare, admin).',
      request: { json: loginSchema },
      responses: {
        200: { description: 'Logged in', schema: loginResponseSchema },
        401: { description: 'Wrong e-mail or password (same answer for both)', schema: errorSchema },
        422: { description: 'Invalid body', schema: errorSchema },
        429: { description: 'Too many failed attempts', schema: errorSchema },
      },
      before: [limiter],
      async handler(req, res) {
        const { email, password } = parseWith(loginSchema, req.body ?? {}, req);
        const user = await deps.models.StaffUser.findOne({ email: email.toLowerCase(), active: true }).lean();
        const ok = await argon2.verify(user?.passwordHash ?? (await dummyHash), password);
        if (!user || !ok) throw new AppError(401, 'invalid_credentials');
        const { token, expiresAt } = await deps.signer.signStaff({ id: user._id, role: user.role, name: user.name });
        req.log.info({ userId: user._id, role: user.role }, 'staff login');
        res.json({ token, role: user.role, expiresAt: expiresAt.toISOString() });
      },
    },
  ];
}
