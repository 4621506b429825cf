/**
 * Staff log in with e-mail and password, through the API (a bearer token) or the login
 * page (a session cookie). Both check the same way and count failed attempts in the
 * same limiter: an attacker gains nothing by switching between them.
 */
import argon2 from 'argon2';
import { rateLimit, type RateLimitRequestHandler } from 'express-rate-limit';
import { AppError } from '../domain/errors.ts';
import type { Models, StaffUserDoc } from '../db/models.ts';
import type { Config } from '../config.ts';

/** Verified against when the e-mail is unknown, so both failures cost the same time. */
const dummyHash = argon2.hash('buurtfonds-timing-equaliser');

/** The active account with this e-mail and password; 401 invalid_credentials otherwise (the same answer for both). */
export async function checkLogin(models: Models, email: string, password: string): Promise<StaffUserDoc> {
  const user = await models.StaffUser.findOne({ email: email.toLowerCase(), active: true }).lean();
  const ok = await argon2.verify(user?.passwordHash ?? (await dummyHash), password);
  if (!user || !ok) throw new AppError(401, 'invalid_credentials');
  return user;
}

const limiters = new WeakMap<object, RateLimitRequestHandler>();

/** Failed logins per client address and window; one limiter per app (keyed by its deps), shared by the API and the page. */
export function loginLimiter(deps: { config: Config }): RateLimitRequestHandler {
  let limiter = limiters.get(deps);
  if (!limiter) {
    limiter = rateLimit({
      windowMs: deps.config.auth.loginRateWindowSeconds * 1000,
      limit: deps.config.auth.loginRateLimit,
      skipSuccessfulRequests: true,
      standardHeaders: 'draft-8',
      legacyHeaders: false,
      handler: (_req, _res, next) => next(new AppError(429, 'rate_limited', [{ code: 'too_many_failed_logins' }])),
    });
    limiters.set(deps, limiter);
  }
  return limiter;
}
