/** Staff login and staff tokens, against the real app and database. */
import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenSigner } from '../../src/auth/tokens.ts';
import { createTestContext, DEMO_PASSWORD, type TestContext } from '../helpers/context.ts';

const TTL_MINUTES = 45;
const RATE_LIMIT = 3;

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext({ env: { LOGIN_RATE_LIMIT: String(RATE_LIMIT), TOKEN_TTL_MINUTES: String(TTL_MINUTES) } });
});
afterAll(async () => ctx?.close());

/**
 * The limiter counts per client address; behind the (loopback) proxy that is X-Forwarded-For.
 * Each test logs in from its own address so the tests do not eat into each other's attempts.
 */
let nextAddress = 1;
const newClient = () => `203.0.113.${nextAddress++}`;

function login(client: string, body: Record<string, unknown>) {
  return ctx.http().post('/api/v1/auth/login').set('X-Forwarded-For', client).send(body);
}

const listApplications = (token: string) => ctx.http().get('/api/v1/applications').set('Authorization', `Bearer ${token}`);

describe('POST /api/v1/auth/login', () => {
  it('gives each staff member a working token for their role, valid for TOKEN_TTL_MINUTES', async () => {
    const client = newClient();
    for (const [email, role] of [
      ['admin@buurtfonds.test', 'admin'],
      ['panel3@buurtfonds.test', 'panel'],
      ['welzijn2@buurtfonds.test', 'welfare'],
    ] as const) {
      const before = Date.now();
      const res = await login(client, { email, password: DEMO_PASSWORD });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(Object.keys(res.body).sort()).toEqual(['expiresAt', 'role', 'token']);
      expect(res.body.role).toBe(role);
      expect(res.body.expiresAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      const expiresAt = Date.parse(res.body.expiresAt);
      expect(expiresAt).toBeGreaterThanOrEqual(before + TTL_MINUTES * 60_000 - 1_000);
      expect(expiresAt).toBeLessThanOrEqual(Date.now() + TTL_MINUTES * 60_000 + 1_000);
      // The token itself expires when the response says it does.
      const claims = JSON.parse(Buffer.from(res.body.token.split('.')[1], 'base64url').toString('utf8'));
      expect(claims.exp).toBe(Math.floor(expiresAt / 1000));
      expect((await listApplications(res.body.token)).status).toBe(200);
    }
  });

  it('takes the e-mail address in any case', async () => {
    const res = await login(newClient(), { email: 'Panel2@BuurtFonds.TEST', password: DEMO_PASSWORD });
    expect(res.status).toBe(200);
    expect(res.body.role).toBe('panel');
  });

  it('answers a wrong password and an unknown user identically, without saying which', async () => {
    const client = newClient();
    const wrongPassword = await login(client, { email: 'panel1@buurtfonds.test', password: 'not-the-password' });
    const unknownUser = await login(client, { email: 'niemand@buurtfonds.test', password: DEMO_PASSWORD });
    expect(wrongPassword.status).toBe(401);
    expect(unknownUser.status).toBe(401);
    expect(wrongPassword.body).toEqual({ error: { code: 'invalid_credentials', message: 'Het e-mailadres of wachtwoord is onjuist.', details: [] } });
    expect(unknownUser.body).toEqual(wrongPassword.body);
    expect(unknownUser.headers['content-type']).toBe(wrongPassword.headers['content-type']);
  });

  it('refuses a body that is not an e-mail and password with 422, without logging in', async () => {
    for (const body of [{}, { email: 'panel1@buurtfonds.test' }, { email: 'geen-adres', password: DEMO_PASSWORD }, { email: 'panel1@buurtfonds.test', password: DEMO_PASSWORD, role: 'admin' }]) {
      const res = await login(newClient(), body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.body.token).toBeUndefined();
    }
  });

  it('blocks an address after repeated failures with 429 rate_limited, even for the right password; others can still log in', async () => {
    const attacker = newClient();
    for (let i = 0; i < RATE_LIMIT; i++) {
      const res = await login(attacker, { email: 'admin@buurtfonds.test', password: `gok-${i}` });
      expect(res.status, `attempt ${i + 1}`).toBe(401);
    }
    for (const password of ['nog-een-gok', DEMO_PASSWORD]) {
      const blocked = await login(attacker, { email: 'admin@buurtfonds.test', password });
      expect(blocked.status).toBe(429);
      expect(blocked.body.error.code).toBe('rate_limited');
      expect(blocked.body.error.message).toBe('Te veel pogingen. Probeer het over een tijdje opnieuw.');
      expect(blocked.body.token).toBeUndefined();
      expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    }
    const someoneElse = await login(newClient(), { email: 'admin@buurtfonds.test', password: DEMO_PASSWORD });
    expect(someoneElse.status).toBe(200);
  });

  it('counts only failures: successful logins in between do not use up the allowance', async () => {
    const client = newClient();
    for (let i = 0; i < RATE_LIMIT; i++) expect((await login(client, { email: 'panel4@buurtfonds.test', password: DEMO_PASSWORD })).status).toBe(200);
    for (let i = 0; i < RATE_LIMIT - 1; i++) expect((await login(client, { email: 'panel4@buurtfonds.test', password: 'fout' })).status).toBe(401);
    expect((await login(client, { email: 'panel4@buurtfonds.test', password: DEMO_PASSWORD })).status).toBe(200);
    expect((await login(client, { email: 'panel4@buurtfonds.test', password: 'fout' })).status).toBe(401);
    expect((await login(client, { email: 'panel4@buurtfonds.test', password: DEMO_PASSWORD })).status).toBe(429);
  });

  it('does not let a deactivated user log in, with the same answer as a wrong password', async () => {
    const client = newClient();
    const before = await login(client, { email: 'panel5@buurtfonds.test', password: DEMO_PASSWORD });
    expect(before.status).toBe(200);
    await ctx.models.StaffUser.updateOne({ email: 'panel5@buurtfonds.test' }, { $set: { active: false } });
    try {
      const res = await login(client, { email: 'panel5@buurtfonds.test', password: DEMO_PASSWORD });
      expect(res.status).toBe(401);
      const wrong = await login(newClient(), { email: 'panel1@buurtfonds.test', password: 'fout' });
      expect(res.body).toEqual(wrong.body);
      expect(res.body.error.code).toBe('invalid_credentials');
    } finally {
      await ctx.models.StaffUser.updateOne({ email: 'panel5@buurtfonds.test' }, { $set: { active: true } });
    }
  });
});

describe('staff tokens', () => {
  const key = () => ctx.deps.signer['key'];
  const nowSeconds = () => Math.floor(Date.now() / 1000);
  const adminId = async () => (await ctx.models.StaffUser.findOne({ email: 'admin@buurtfonds.test' }).lean())!._id;
  async function staffJwt(exp: number, signingKey: Uint8Array = key()) {
    return new SignJWT({ role: 'admin', name: 'Beheerder Gemeente' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(await adminId())
      .setIssuer('buurtfonds')
      .setAudience('staff')
      .setIssuedAt(exp - TTL_MINUTES * 60)
      .setExpirationTime(exp)
      .sign(signingKey);
  }

  it('accepts a token signed with this installation’s secret while it is valid', async () => {
    expect((await listApplications(await staffJwt(nowSeconds() + 60))).status).toBe(200);
  });

  it('refuses an expired token with 401', async () => {
    const res = await listApplications(await staffJwt(nowSeconds() - 5));
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('unauthenticated');
  });

  it('refuses a token from a signer with a TTL in the past', async () => {
    const signer = new TokenSigner(new TextDecoder().decode(key()), -1);
    const { token, expiresAt } = await signer.signStaff({ id: await adminId(), role: 'admin', name: 'x' });
    expect(expiresAt.getTime()).toBeLessThan(Date.now());
    const res = await listApplications(token);
    expect([res.status, res.body.error?.code]).toEqual([401, 'unauthenticated']);
  });

  it('refuses a valid token of an account deactivated since it was issued', async () => {
    const user = await ctx.models.StaffUser.findOne({ email: 'welzijn2@buurtfonds.test' }).lean();
    const token = await ctx.login('welzijn2@buurtfonds.test');
    expect((await listApplications(token)).status).toBe(200);
    await ctx.models.StaffUser.updateOne({ _id: user!._id }, { $set: { active: false } });
    try {
      const res = await listApplications(token);
      expect([res.status, res.body.error?.code]).toEqual([401, 'unauthenticated']);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    } finally {
      await ctx.models.StaffUser.updateOne({ _id: user!._id }, { $set: { active: true } });
    }
  });

  it('does not accept a staff token in the query string (only status links travel in URLs)', async () => {
    const token = await ctx.staff.admin();
    const res = await ctx.http().get(`/api/v1/applications?token=${token}`);
    expect([res.status, res.body.error?.code]).toEqual([401, 'unauthenticated']);
  });

  it('refuses a well-formed token signed with another secret', async () => {
    const foreign = new TokenSigner(randomBytes(32).toString('hex'), TTL_MINUTES);
    const { token } = await foreign.signStaff({ id: await adminId(), role: 'admin', name: 'x' });
    const res = await listApplications(token);
    expect([res.status, res.body.error?.code]).toEqual([401, 'unauthenticated']);
    const alsoForeign = await staffJwt(nowSeconds() + 60, randomBytes(32));
    expect((await listApplications(alsoForeign)).status).toBe(401);
  });
});
