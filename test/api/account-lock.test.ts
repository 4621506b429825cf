/**
 * The per-account failed-login limit: many client addresses guessing one account's
 * password lock that e-mail address (on the API and the login page, in every api
 * process), the holder gets one Dutch e-mail per lock, and an unknown address is
 * answered the same way. Real app, database, worker and SMTP catcher.
 */
import { randomBytes } from 'node:crypto';
import argon2 from 'argon2';
import type { Express } from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createApp } from '../../src/api/app.ts';
import { formatDateTime } from '../../src/domain/dates.ts';
import { pageTexts } from '../../src/domain/page-messages.ts';
import { buildApiDeps } from '../../src/runtime.ts';
import { accountKey, loginFailureAtKey, loginFailureId, loginLockUntilKey, migrateLoginRecords, StaffLogin } from '../../src/services/staff-login.ts';
import { addKeys } from '../../src/db/keys.ts';
import { monitoredDatabase, notById } from '../helpers/id-queries.ts';
import { createTestContext, DEMO_PASSWORD, eventually, type TestContext } from '../helpers/context.ts';
import { webClient } from '../helpers/web.ts';

const LIMIT = 4;
/** Long enough for the checks made during a lock on a loaded machine; the test that outlasts one waits for it. */
const LOCK_SECONDS = 12;

let ctx: TestContext;
/** A second api process on the same database: its own app, deps and per-address limiter. */
let otherProcess: Express;
beforeAll(async () => {
  ctx = await createTestContext({ env: { LOGIN_ACCOUNT_LIMIT: String(LIMIT), LOGIN_ACCOUNT_WINDOW_SECONDS: '600', LOGIN_ACCOUNT_LOCK_SECONDS: String(LOCK_SECONDS) } });
  const deps = buildApiDeps({ config: ctx.config, logger: ctx.logger, models: ctx.models, client: ctx.client, store: ctx.store, secret: randomBytes(32).toString('hex') });
  otherProcess = createApp(deps).app;
});
afterAll(async () => ctx?.close());

/** Every attempt from an address of its own: the per-address limit never applies. */
let nextAddress = 1;
const newAddress = () => `198.51.100.${nextAddress++}`;

function loginAt(app: Express, email: string, password: string) {
  return request(app).post('/api/v1/auth/login').set('X-Forwarded-For', newAddress()).send({ email, password });
}
const login = (email: string, password: string) => loginAt(ctx.app, email, password);

/** A staff account of its own per test (the demo password), so the tests do not lock each other's. */
async function staffAccount(label: string): Promise<{ id: string; email: string }> {
  const id = crypto.randomUUID();
  const email = `${label}-${randomBytes(3).toString('hex')}@buurtfonds.test`;
  await ctx.models.StaffUser.create({ _id: id, email, name: `Panellid ${label}`, role: 'panel', chair: false, active: true, passwordHash: await argon2.hash(DEMO_PASSWORD), createdAt: new Date() });
  return { id, email };
}

const lockMails = (email: string) => ctx.mail.mails.filter((m) => m.to.includes(email) && m.subject.includes('geblokkeerd'));

function expectLocked(res: { status: number; body: any; headers: Record<string, string> }, what: string): Date {
  expect(res.status, `${what}: ${JSON.stringify(res.body)}`).toBe(429);
  expect(res.body.error.code).toBe('rate_limited');
  expect(res.body.error.details).toEqual([{ code: 'account_locked', lockedUntil: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/) }]);
  expect(res.body.token, `${what}: a token while locked`).toBeUndefined();
  expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  return new Date(res.body.error.details[0].lockedUntil);
}

describe('the per-account failed-login limit', () => {
  it('locks an account that many addresses guess at; the right password is refused too, with the same answer; another account is not affected', async () => {
    const { email } = await staffAccount('doelwit');
    const other = await staffAccount('buurman');
    for (let i = 0; i < LIMIT - 1; i++) {
      const res = await login(email, `gok-${i}`);
      expect(res.status, `wrong password ${i + 1} of ${LIMIT}`).toBe(401);
      expect(res.body.error.code).toBe('invalid_credentials');
    }
    const until = expectLocked(await login(email, 'gok-laatste'), `wrong password ${LIMIT}: the limit is reached`);
    expect(until.getTime()).toBeGreaterThan(Date.now());
    expect(until.getTime()).toBeLessThanOrEqual(Date.now() + LOCK_SECONDS * 1000);

    const wrong = await login(email, 'nog-een-gok');
    const right = await login(email, DEMO_PASSWORD);
    expectLocked(right, 'the right password during the lock');
    expect(right.body, 'the right password gets exactly the answer a wrong one gets').toEqual(wrong.body);
    // In the other api process too, and in any case of the address.
    expectLocked(await loginAt(otherProcess, email.toUpperCase(), DEMO_PASSWORD), 'the right password in the other process');

    const neighbour = await login(other.email, DEMO_PASSWORD);
    expect(neighbour.status, 'another account logs in during the lock').toBe(200);
  });

  it('counts the failures of every api process together', async () => {
    const { email } = await staffAccount('twee-processen');
    for (let i = 0; i < LIMIT - 1; i++) {
      const res = await loginAt(i % 2 === 0 ? ctx.app : otherProcess, email, `gok-${i}`);
      expect(res.status).toBe(401);
    }
    expectLocked(await loginAt(otherProcess, email, 'gok-laatste'), 'the last failure, in the second process');
    expectLocked(await loginAt(ctx.app, email, DEMO_PASSWORD), 'the right password, in the first process');
  });

  it('e-mails the holder once per lock, in Dutch, with the end of the lock in Amsterdam time, even when the limit is crossed by many at once', async () => {
    const { email } = await staffAccount('gelijktijdig');
    const answers = await Promise.all(Array.from({ length: LIMIT * 2 }, (_, i) => loginAt(i % 2 === 0 ? ctx.app : otherProcess, email, `gok-${i}`)));
    expect(answers.map((a) => a.status).sort(), 'every attempt refused: 401, or 429 once locked').toEqual(expect.arrayContaining([429]));
    expect(answers.every((a) => a.status === 401 || a.status === 429)).toBe(true);
    const locks = await ctx.models.LoginLock.find({ account: accountKey(email) }).lean();
    expect(locks, 'one lock, however many requests reached the limit at once').toHaveLength(1);
    const until = locks[0]!.until;
    expect(answers.filter((a) => a.status === 429).map((a) => a.body.error.details[0].lockedUntil)).toEqual(answers.filter((a) => a.status === 429).map(() => until.toISOString()));

    // More attempts during the lock: no new lock, no new e-mail.
    for (const password of ['nog-een-gok', DEMO_PASSWORD]) expectLocked(await login(email, password), 'during the lock');
    const mail = await ctx.mail.waitFor((m) => m.to.includes(email) && m.subject.includes('geblokkeerd'));
    expect(mail.subject).toBe(`Inloggen bij ${ctx.config.fund.name} is tijdelijk geblokkeerd`);
    expect(mail.text).toContain('Beste Panellid gelijktijdig,');
    expect(mail.text).toContain(`Er is ${LIMIT} keer kort na elkaar geprobeerd in te loggen met uw e-mailadres (${email})`);
    expect(mail.text).toContain(`kan tot ${formatDateTime(until)} niemand met dit e-mailadres inloggen, ook niet met het juiste wachtwoord`);
    expect(mail.text).toContain('Was u dit niet?');
    expect(mail.text).toContain('http://buurtfonds.test/inloggen');
    // The one e-mail is out; anything else the lock set going would have gone by now too.
    await eventually(async () => (await ctx.models.Outbox.countDocuments({ template: 'account_locked', to: email, status: 'sent' })) === 1, 15_000, 'the outbox row sent');
    expect(await ctx.models.Outbox.countDocuments({ template: 'account_locked', to: email })).toBe(1);
    expect(lockMails(email), 'e-mails about this lock').toHaveLength(1);
  });

  it('treats an address no account has the same way (locked after as many failures) and e-mails nobody', async () => {
    const unknown = `niemand-${randomBytes(3).toString('hex')}@buurtfonds.test`;
    const { email: known } = await staffAccount('vergelijk');
    const answers: Record<string, { status: number; body: any }[]> = { unknown: [], known: [] };
    for (let i = 0; i < LIMIT + 1; i++) {
      answers.unknown!.push(await login(unknown, `gok-${i}`));
      answers.known!.push(await login(known, `gok-${i}`));
    }
    const shape = (r: { status: number; body: any }) => ({ status: r.status, code: r.body.error.code, details: r.body.error.details.map((d: Record<string, unknown>) => d.code) });
    expect(answers.unknown!.map(shape), 'an unknown address is answered as a known one').toEqual(answers.known!.map(shape));
    expect(answers.unknown!.map((r) => r.status)).toEqual([...Array(LIMIT - 1).fill(401), 429, 429]);
    await ctx.mail.waitFor((m) => m.to.includes(known) && m.subject.includes('geblokkeerd'));
    expect(ctx.mail.mails.filter((m) => m.to.includes(unknown)), 'mail to an address without an account').toEqual([]);
    expect(await ctx.models.Outbox.countDocuments({ template: 'account_locked', to: unknown })).toBe(0);
    expect(await ctx.models.LoginLock.countDocuments({ account: accountKey(unknown) })).toBe(1);
  });

  it('lets the holder in again once the lock is over, with a fresh allowance', async () => {
    const { email } = await staffAccount('na-afloop');
    for (let i = 0; i < LIMIT - 1; i++) expect((await login(email, `gok-${i}`)).status).toBe(401);
    const until = expectLocked(await login(email, 'gok-laatste'), 'locked');
    await new Promise((r) => setTimeout(r, until.getTime() - Date.now() + 200));
    const after = await login(email, DEMO_PASSWORD);
    expect(after.status, `after the lock: ${JSON.stringify(after.body)}`).toBe(200);
    // The failures before the lock are not held against the account again.
    for (let i = 0; i < LIMIT - 1; i++) expect((await login(email, `weer-mis-${i}`)).status, `failure ${i + 1} after the lock`).toBe(401);
    expect((await login(email, DEMO_PASSWORD)).status).toBe(200);
  }, 60_000);

  it('a successful login clears the account’s failures (only failures in a row count)', async () => {
    const { email } = await staffAccount('vergeetachtig');
    for (const round of [1, 2]) {
      for (let i = 0; i < LIMIT - 1; i++) expect((await login(email, `gok-${round}-${i}`)).status, `round ${round}, failure ${i + 1}`).toBe(401);
      expect((await login(email, DEMO_PASSWORD)).status, `round ${round}: the right password`).toBe(200);
    }
  });

  it('forgets failures older than the window', async () => {
    const { email } = await staffAccount('traag');
    const staffLogin = new StaffLogin({ models: ctx.models, auth: { accountLimit: 2, accountWindowSeconds: 60, accountLockSeconds: 60 } });
    // A failure just over a window ago (as a slow attacker leaves them).
    const at = new Date(Date.now() - 61_000);
    await ctx.models.LoginFailure.create({ _id: loginFailureId(accountKey(email), at), account: accountKey(email), at });
    await expect(staffLogin.check(email, 'gok-1'), 'the older failure is out of the window').rejects.toMatchObject({ status: 401, code: 'invalid_credentials' });
    await expect(staffLogin.check(email, 'gok-2'), 'two failures within the window').rejects.toMatchObject({ status: 429, code: 'rate_limited' });
  });

  it('reads failures and locks by `_id` only, counts only the account’s own failures, and removes expired failures of any account by their keys', async () => {
    const { email } = await staffAccount('op-sleutel');
    const db = await monitoredDatabase(inject('mongoUri'), ctx.models.connection.name);
    try {
      const staffLogin = new StaffLogin({ models: db.models, auth: { accountLimit: 3, accountWindowSeconds: 60, accountLockSeconds: 60 } });
      // Many recent failures of other accounts, and expired ones of another account (with their keys, as a failed login writes them).
      const now = Date.now();
      const others = Array.from({ length: 50 }, (_, i) => ({ account: accountKey(`ander-${i}-${email}`), at: new Date(now - 1_000) }));
      const expired = Array.from({ length: 5 }, (_, i) => ({ account: accountKey(`oud-${email}`), at: new Date(now - 120_000 - i) }));
      const stored = [...others, ...expired].map((f) => ({ _id: loginFailureId(f.account, f.at), ...f }));
      await addKeys(db.models, stored.map((f) => loginFailureAtKey(f._id, f.at)));
      await db.models.LoginFailure.collection.insertMany(stored as never[]);

      const from = db.commands.length;
      await expect(staffLogin.check(email, 'gok-1')).rejects.toMatchObject({ status: 401 });
      await expect(staffLogin.check(email, 'gok-2')).rejects.toMatchObject({ status: 401 });
      await expect(staffLogin.check(email, 'gok-3'), 'the third failure of this account locks it, whatever other accounts did').rejects.toMatchObject({ status: 429 });
      await expect(staffLogin.check(email, DEMO_PASSWORD)).rejects.toMatchObject({ status: 429 });
      const byOther = notById(db, from);
      expect(byOther.filter((q) => q.collection !== 'staff_users'), 'failures, locks and keys: queries not by _id').toEqual([]);
      // Only the account's own lookup by e-mail address (a small collection of staff) is not by _id.
      expect(byOther.map((q) => q.collection)).toEqual(['staff_users', 'staff_users', 'staff_users']);

      const left = await db.models.LoginFailure.find({ _id: { $in: stored.map((f) => f._id) } }, { _id: 1 }).lean();
      expect(left.length, 'the expired failures are gone, the recent ones of other accounts stay').toBe(others.length);
      expect(await db.models.Key.countDocuments({ _id: { $in: expired.map((f, i) => loginFailureAtKey(stored[others.length + i]!._id, f.at)._id) } }), 'their keys too').toBe(0);
    } finally {
      await db.models.connection.close();
    }
  });

  it('removes the failures stored before their ids named the account and keys the locks stored before, once, at start-up', async () => {
    const account = accountKey(`vroeger-${randomBytes(3).toString('hex')}@buurtfonds.test`);
    const oldId = crypto.randomUUID();
    await ctx.models.LoginFailure.collection.insertOne({ _id: oldId, account, at: new Date() } as never);
    const newId = loginFailureId(account, new Date());
    await ctx.models.LoginFailure.collection.insertOne({ _id: newId, account, at: new Date() } as never);
    const lock = { _id: `${account}:1`, account, n: 1, lockedAt: new Date(), until: new Date() };
    await ctx.models.LoginLock.collection.insertOne(lock as never);
    const first = await migrateLoginRecords(ctx.models);
    expect(first.failuresRemoved).toBeGreaterThanOrEqual(1);
    expect(first.locksKeyed).toBeGreaterThanOrEqual(1);
    expect(await ctx.models.LoginFailure.exists({ _id: oldId })).toBeNull();
    expect(await ctx.models.LoginFailure.exists({ _id: newId })).not.toBeNull();
    expect(await ctx.models.Key.exists({ _id: loginLockUntilKey(lock)._id }), 'the old lock can expire by its key').not.toBeNull();
    expect(await migrateLoginRecords(ctx.models), 'the second start').toEqual({ failuresRemoved: 0, locksKeyed: 0 });
  });

  it('a new lock removes the locks of any account kept long enough, by their keys', async () => {
    const staffLogin = new StaffLogin({ models: ctx.models, auth: { accountLimit: 1, accountWindowSeconds: 60, accountLockSeconds: 60 } });
    const account = accountKey(`lang-geleden-${randomBytes(3).toString('hex')}@buurtfonds.test`);
    const old = { _id: `${account}:1`, account, n: 1, lockedAt: new Date(Date.now() - 3 * 86_400_000), until: new Date(Date.now() - 3 * 86_400_000 + 60_000) };
    const recent = { _id: `${account}:2`, account, n: 2, lockedAt: new Date(Date.now() - 3_600_000), until: new Date(Date.now() - 3_540_000) };
    for (const l of [old, recent]) {
      await addKeys(ctx.models, [loginLockUntilKey(l)]);
      await ctx.models.LoginLock.collection.insertOne(l as never);
    }
    await expect(staffLogin.check(`lang-geleden-ander-${randomBytes(3).toString('hex')}@buurtfonds.test`, 'gok'), 'another address locked').rejects.toMatchObject({ status: 429 });
    expect(await ctx.models.LoginLock.exists({ _id: old._id }), 'kept longer than a day: removed').toBeNull();
    expect(await ctx.models.Key.exists({ _id: loginLockUntilKey(old)._id })).toBeNull();
    expect(await ctx.models.LoginLock.exists({ _id: recent._id }), 'ended an hour ago: kept').not.toBeNull();
  });

  it('the login page says in Dutch until when the address is locked, and sets no session', async () => {
    const { email } = await staffAccount('pagina');
    for (let i = 0; i < LIMIT - 1; i++) expect((await login(email, `gok-${i}`)).status).toBe(401);
    const browser = webClient(ctx);
    await browser.get('/inloggen');
    const last = await browser.post('/inloggen', { email, password: 'gok-laatste' });
    expect(last.status, 'the last failure on the page').toBe(429);
    const lock = (await ctx.models.LoginLock.findOne({ account: accountKey(email) }).lean())!;
    const message = pageTexts.nl.login.locked(formatDateTime(lock.until));
    expect(last.text).toContain(message);
    const right = await browser.post('/inloggen', { email, password: DEMO_PASSWORD });
    expect(right.status, 'the right password on the page during the lock').toBe(429);
    expect(right.text).toContain(message);
    expect(String(right.headers['set-cookie'] ?? ''), 'a session cookie during the lock').not.toContain('bf_sessie=ey');
  });
});
