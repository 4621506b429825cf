import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import type { StaffRole } from '../db/models.ts';

export type Principal =
  | { kind: 'staff'; userId: string; role: StaffRole; name: string }
  /** `token`: the access token from submission (or a page session made from it); `link`: the signed status link of the e-mails (reads only in the API). */
  | { kind: 'applicant'; applicationId: string; access: 'token' | 'link' };

const ISSUER = 'buurtfonds';

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * The applicant's access token: "<applicationId>.<256 random bits>". Only its
 * SHA-256 is stored; the id prefix says which application to check it against.
 */
export function createAccessToken(applicationId: string): string {
  return `${applicationId}.${randomBytes(32).toString('base64url')}`;
}

export function parseAccessToken(token: string): { applicationId: string } | undefined {
  const m = /^([0-9a-f-]{36})\.([A-Za-z0-9_-]{43})$/.exec(token);
  return m ? { applicationId: m[1]! } : undefined;
}

export class TokenSigner {
  private readonly key: Uint8Array;
  readonly staffTtlMinutes: number;
  constructor(secret: string, staffTtlMinutes: number) {
    this.key = new TextEncoder().encode(secret);
    this.staffTtlMinutes = staffTtlMinutes;
  }

  async signStaff(user: { id: string; role: StaffRole; name: string }): Promise<{ token: string; expiresAt: Date }> {
    const expiresAt = new Date(Date.now() + this.staffTtlMinutes * 60_000);
    const token = await new SignJWT({ role: user.role, name: user.name })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(user.id)
      .setIssuer(ISSUER)
      .setAudience('staff')
      .setIssuedAt()
      .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
      .sign(this.key);
    return { token, expiresAt };
  }

  /** The status link in e-mails: a signed, application-scoped token that is never stored. */
  async signApplicantLink(applicationId: string, ttlDays = 365): Promise<string> {
    return new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(applicationId)
      .setIssuer(ISSUER)
      .setAudience('applicant')
      .setIssuedAt()
      .setExpirationTime(`${ttlDays}d`)
      .sign(this.key);
  }

  /** Verifies a signed token; undefined when it is not valid (expired, forged, wrong audience). */
  async verify(token: string): Promise<Principal | undefined> {
    const result = await this.inspect(token);
    return result === 'expired' ? undefined : result?.principal;
  }

  /** Like verify, with when the token expires, and telling an expired token from an invalid one (the login page says "your session expired"). */
  async inspect(token: string): Promise<{ principal: Principal; expiresAt: Date } | 'expired' | undefined> {
    try {
      const { payload } = await jwtVerify(token, this.key, { issuer: ISSUER, audience: ['staff', 'applicant'], algorithms: ['HS256'] });
      const expiresAt = new Date((payload.exp ?? 0) * 1000);
      const aud = Array.isArray(payload.aud) ? payload.aud[0] : payload.aud;
      if (aud === 'applicant' && typeof payload.sub === 'string') return { principal: { kind: 'applicant', applicationId: payload.sub, access: 'link' }, expiresAt };
      const role = payload.role;
      if (aud === 'staff' && typeof payload.sub === 'string' && (role === 'panel' || role === 'welfare' || role === 'admin' || role === 'finance')) {
        return { principal: { kind: 'staff', userId: payload.sub, role, name: String(payload.name ?? '') }, expiresAt };
      }
      return undefined;
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) return 'expired';
      if (err instanceof joseErrors.JOSEError) return undefined;
      throw err;
    }
  }
}
