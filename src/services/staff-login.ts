/**
 * Staff log in with e-mail and password, through the API (a bearer token) or the login
 * page (a session cookie). Both check the same way and count failed attempts in the
 * same two limiters, so an attacker gains nothing by switching between them:
 *
 * - per client address (`loginLimiter`, express-rate-limit in the process's memory):
 *   one address guessing many passwords;
 * - per account (`StaffLogin`, in the database, so every api process counts the same
 *   failures): many addresses guessing one account's password slowly. After
 *   `auth.accountLimit` failures on one e-mail address within `auth.accountWindowSeconds`
 *   the address is locked for `auth.accountLockSeconds`: every attempt is refused, the
 *   right password too, without checking it. An address no account has is counted and
 *   locked the same way (the answers do not tell whether an account exists); only a real
 *   account's holder is e-mailed, once per lock (accountLockedWorkflow).
 *
 * FerretDB v1 updates are not isolated, so nothing here is a counter: each failure is an
 * inserted document (counted), and a lock is claimed by inserting `<account>:<n>`, the
 * account's next lock number, into a unique _id: processes that reach the limit together
 * agree on one lock, and only the one whose insert won sends the e-mail.
 *
 * Every read is by `_id` (on our FerretDB any other filter reads the whole collection):
 * a failure's `_id` is `<account>:<time, 13 digits>:<random>`, so an account's failures
 * since a moment are a count of an `_id` range, whatever other accounts have failed; a
 * key `login-failure-at:<time>:<failure>` (src/db/keys.ts) lets each failure remove a few
 * expired failures of any account, oldest first. An account's locks are the `_id` range
 * `<account>:`; a new lock removes a few locks of any account kept long enough, by their
 * keys `login-lock-until:<end>:<lock>`. Failures stored before these ids (random `_id`s)
 * are not counted: they would have left the window within `accountWindowSeconds` anyway;
 * start-up removes them once (`migrateLoginRecords`). The account itself is still looked
 * up by its e-mail address (`staff_users` holds the staff, a few dozen documents).
 */
import { createHash, randomUUID } from 'node:crypto';
import argon2 from 'argon2';
import { rateLimit, type RateLimitRequestHandler } from 'express-rate-limit';
import type { Logger } from 'pino';
import { AppError } from '../domain/errors.ts';
import { insertOnce, type LoginLockDoc, type Models, type StaffUserDoc } from '../db/models.ts';
import { idRange } from '../db/chain.ts';
import { addKeys, backfillKeysOnce, keyId, removeKeys } from '../db/keys.ts';
import type { Config } from '../config.ts';
import type { AccountLockedInput } from '../domain/workflow-types.ts';

/** Verified against when the e-mail is unknown, so both failures cost the same time. */
const dummyHash = argon2.hash('buurtfonds-timing-equaliser');

/** Expired locks are kept this long (then the account's lock numbers may start again; lock ids stay unique by their time). */
const LOCK_KEPT_MS = 24 * 60 * 60 * 1000;

/** Expired failures (locks) a failure (lock) removes at most: each adds one, so the expired ones never pile up. */
const EXPIRED_PER_WRITE = 100;

/** Milliseconds since 1970 in 13 digits: ids in time order up to the year 2286. */
const time13 = (t: number) => String(t).padStart(13, '0');

/** The `_id` of a failed login: the account's failures are a range, in time order. */
export function loginFailureId(account: string, at: Date, random: string = randomUUID()): string {
  return `${account}:${time13(at.getTime())}:${random}`;
}

/** The key by which expired failures of any account are found (oldest first). */
export function loginFailureAtKey(failureId: string, at: Date): { _id: string; ref: string } {
  return { _id: keyId('login-failure-at', [time13(at.getTime())], failureId), ref: failureId };
}

/** The key by which locks kept long enough are found (oldest end first). */
export function loginLockUntilKey(lock: Pick<LoginLockDoc, '_id' | 'until'>): { _id: string; ref: string } {
  return { _id: keyId('login-lock-until', [time13(lock.until.getTime())], lock._id), ref: lock._id };
}

/** Tells the holder of a locked account (the API's side of accountLockedWorkflow). */
export type AccountLockNotifier = (notice: AccountLockedInput) => Promise<void>;

export interface StaffLoginDeps {
  models: Models;
  auth: Pick<Config['auth'], 'accountLimit' | 'accountWindowSeconds' | 'accountLockSeconds'>;
  notify?: AccountLockNotifier;
  logger?: Logger;
}

/** The refusal while an account is locked: the per-address limiter's code, with the lock's end. */
export function accountLocked(until: Date): AppError {
  return new AppError(429, 'rate_limited', [{ code: 'account_locked', lockedUntil: until.toISOString() }], {
    'Retry-After': String(Math.max(1, Math.ceil((until.getTime() - Date.now()) / 1000))),
  });
}

/** The lock's end when `err` is the per-account refusal. */
export function lockedUntilOf(err: unknown): Date | undefined {
  const detail = err instanceof AppError && err.code === 'rate_limited' ? err.details.find((d) => d.code === 'account_locked') : undefined;
  return typeof detail?.lockedUntil === 'string' ? new Date(detail.lockedUntil) : undefined;
}

/** What failures and locks are keyed by: the normalised e-mail address, hashed (typed addresses of no account are not kept readable). */
export function accountKey(email: string): string {
  return createHash('sha256').update(email.trim().toLowerCase()).digest('hex');
}

export class StaffLogin {
  private readonly deps: StaffLoginDeps;
  constructor(deps: StaffLoginDeps) {
    this.deps = deps;
  }

  /**
   * The active account with this e-mail and password. Refused with 401 invalid_credentials
   * (the same answer for a wrong password and an unknown address), or 429 rate_limited
   * `account_locked` while the address is locked (the same answer whatever the password).
   */
  async check(email: string, password: string): Promise<StaffUserDoc> {
    const { models } = this.deps;
    const account = accountKey(email);
    const now = new Date();
    const last = await this.lastLock(account);
    if (last && last.until > now) throw accountLocked(last.until);

    const user = await models.StaffUser.findOne({ email: email.toLowerCase(), active: true }).lean();
    const ok = await argon2.verify(user?.passwordHash ?? (await dummyHash), password);
    if (user && ok) {
      // Only failures in a row count. Their expiry keys stay until the failures would have expired (then removed, finding nothing).
      await models.LoginFailure.deleteMany(idRange(account));
      return user;
    }
    const lock = await this.recordFailure(account, now, last);
    if (lock) {
      if (lock.created && user) this.tell(lock.doc, user);
      throw accountLocked(lock.doc.until);
    }
    throw new AppError(401, 'invalid_credentials');
  }

  /** The account's newest lock: the highest number among its locks (the `_id` range `<account>:`; a few at most, see LOCK_KEPT_MS). */
  private async lastLock(account: string): Promise<LoginLockDoc | null> {
    const locks = await this.deps.models.LoginLock.find(idRange(account)).lean<LoginLockDoc[]>();
    return locks.reduce<LoginLockDoc | null>((last, l) => (l.account === account && (!last || l.n > last.n) ? l : last), null);
  }

  /** Stores the failure; at the limit, the lock (claimed now, or by a request that got there first). */
  private async recordFailure(account: string, now: Date, last: LoginLockDoc | null): Promise<{ doc: LoginLockDoc; created: boolean } | undefined> {
    const { models, auth } = this.deps;
    const id = loginFailureId(account, now);
    await addKeys(models, [loginFailureAtKey(id, now)]);
    await models.LoginFailure.collection.insertOne({ _id: id as never, account, at: now });
    const windowStart = new Date(now.getTime() - auth.accountWindowSeconds * 1000);
    // Failures before the last lock began were paid for by that lock.
    const since = last && last.lockedAt > windowStart ? last.lockedAt : windowStart;
    const [failures] = await Promise.all([
      // Later than `since`: from its next millisecond to the end of the account's range (the `count` command: an index count).
      models.LoginFailure.collection.count({ _id: { $gte: `${account}:${time13(since.getTime() + 1)}:`, $lt: idRange(account)._id.$lt } } as never),
      // Out of every window: nobody counts them any more.
      this.removeExpired('login-failure-at', windowStart, models.LoginFailure),
    ]);
    if (failures < auth.accountLimit) return undefined;
    return this.claimLock(account, now, last);
  }

  /**
   * A few of the oldest failures or locks (`model`) of any account whose time under `index`
   * is before `before`, by their keys: the documents, then their keys.
   */
  private async removeExpired(index: 'login-failure-at' | 'login-lock-until', before: Date, model: Models['LoginFailure'] | Models['LoginLock']): Promise<void> {
    const { models } = this.deps;
    const range = idRange(index)._id;
    const expired = await models.Key.find({ _id: { $gte: range.$gte, $lt: `${range.$gte}${time13(before.getTime())}` } })
      .sort({ _id: 1 })
      .limit(EXPIRED_PER_WRITE)
      .lean();
    if (!expired.length) return;
    await (model as Models['LoginFailure']).deleteMany({ _id: { $in: expired.map((k) => k.ref) } });
    await removeKeys(models, expired.map((k) => k._id));
  }

  /** The account's next lock, by unique insert; when another request's insert won, that lock. */
  private async claimLock(account: string, now: Date, last: LoginLockDoc | null): Promise<{ doc: LoginLockDoc; created: boolean }> {
    const { models, auth } = this.deps;
    let latest = last;
    for (;;) {
      if (latest && latest.until > now) return { doc: latest, created: false };
      const n = (latest?.n ?? 0) + 1;
      const doc: LoginLockDoc = { _id: `${account}:${n}`, account, n, lockedAt: now, until: new Date(now.getTime() + auth.accountLockSeconds * 1000) };
      await addKeys(models, [loginLockUntilKey(doc)]);
      if (await insertOnce(models.LoginLock, doc)) {
        await this.removeExpired('login-lock-until', new Date(now.getTime() - LOCK_KEPT_MS), models.LoginLock);
        this.deps.logger?.warn({ account, until: doc.until.toISOString() }, 'account locked after failed logins');
        return { doc, created: true };
      }
      latest = await this.lastLock(account);
    }
  }

  /** Not awaited: the answer takes as long whether or not an account (and an e-mail) is behind the address. */
  private tell(lock: LoginLockDoc, user: StaffUserDoc): void {
    const notice: AccountLockedInput = {
      lockId: `${lock._id}@${lock.lockedAt.getTime()}`,
      userId: user._id,
      failures: this.deps.auth.accountLimit,
      lockedUntil: lock.until.toISOString(),
    };
    void this.deps.notify?.(notice).catch((err: unknown) => this.deps.logger?.error({ err, userId: user._id }, 'could not start the locked-account e-mail'));
  }
}

/**
 * Once per database, at start-up: removes the failures stored before their `_id`s named the
 * account and time (random `_id`s, no `:`; not counted any more: they would have left the
 * window within `accountWindowSeconds`), and writes the expiry keys of the locks stored
 * before those keys. One read of `login_failures` and `login_locks`.
 */
export async function migrateLoginRecords(models: Models): Promise<{ failuresRemoved: number; locksKeyed: number }> {
  let failuresRemoved = 0;
  const locksKeyed = await backfillKeysOnce(models, 'migration:login-records:v1', async (add) => {
    failuresRemoved = (await models.LoginFailure.deleteMany({ _id: { $not: /:/ } } as never)).deletedCount;
    for await (const lock of models.LoginLock.find({}, { _id: 1, until: 1 }).lean<Pick<LoginLockDoc, '_id' | 'until'>[]>().cursor()) await add(loginLockUntilKey(lock));
  });
  return { failuresRemoved, locksKeyed };
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
