import type { RequestHandler } from 'express';
import { AppError } from '../domain/errors.ts';
import { hashToken, parseAccessToken, sameHash, type Principal, type TokenSigner } from '../auth/tokens.ts';
import type { Models, StaffRole } from '../db/models.ts';

/**
 * Who may call a route. `applicant_self`: the applicant of the application named by `:id`.
 * `welfare_case`: a welfare worker, for the applications that are support cases of their
 * organisation or that they (or a colleague of their organisation) hold: any other `:id`
 * answers 404, as if it did not exist, and a list (no `:id`) is narrowed to those by its
 * handler (`caseScoped`). Plain `welfare` reads everything the route serves.
 */
export type Access = 'anonymous' | 'applicant_self' | 'welfare_case' | StaffRole;

/** Which applications a welfare worker may read under `welfare_case` (the support service knows the cases). */
export interface WelfareCases {
  mayRead(userId: string, applicationId: string): Promise<boolean>;
}

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

const unauthenticated = (code: string) => new AppError(401, 'unauthenticated', [{ code }], { 'WWW-Authenticate': 'Bearer realm="buurtfonds"' });

/**
 * What a token stands for: an applicant access token (checked against the stored
 * hashes), or a signed staff token or applicant status link. `undefined` when it is not
 * valid; `inactive` for the token of a deactivated account (it loses access at once,
 * not when its token expires). Lookups by _id only: FerretDB v1 scans the collection
 * for any other filter.
 */
export async function principalOf(deps: { signer: TokenSigner; models: Models }, token: string): Promise<Principal | 'inactive' | undefined> {
  const applicant = parseAccessToken(token);
  if (applicant) {
    const hash = hashToken(token);
    const app = await deps.models.Application.findById(applicant.applicationId, { accessTokenHash: 1 }).lean();
    const found =
      (app?.accessTokenHash !== undefined && sameHash(app.accessTokenHash, hash)) ||
      (app !== null && (await deps.models.AccessToken.findById(hash, { applicationId: 1 }).lean())?.applicationId === applicant.applicationId);
    return found ? { kind: 'applicant', applicationId: applicant.applicationId, access: 'token' } : undefined;
  }
  const principal = await deps.signer.verify(token);
  if (principal?.kind === 'staff' && !(await deps.models.StaffUser.exists({ _id: principal.userId, active: true }))) return 'inactive';
  return principal;
}

/** Reads `Authorization: Bearer …`: a staff JWT, an applicant access token, or an applicant status-link token. */
export function authenticate(deps: { signer: TokenSigner; models: Models }): RequestHandler {
  return async (req, _res, next) => {
    const header = req.get('authorization');
    // The status link in e-mails carries its token in the query string (GET only).
    const linkToken = req.method === 'GET' && typeof req.query.token === 'string' ? req.query.token : undefined;
    if (!header && !linkToken) return next();
    const m = header ? /^Bearer\s+(\S+)$/i.exec(header) : undefined;
    if (header && !m) return next(unauthenticated('malformed_authorization_header'));
    const token = m ? m[1]! : linkToken!;
    const principal = await principalOf(deps, token);
    if (!principal) return next(unauthenticated('invalid_token'));
    if (principal === 'inactive') return next(unauthenticated('account_inactive'));
    // Only status links travel in URLs; a staff token there would end up in logs and browser history.
    if (principal.kind === 'staff' && !m) return next(unauthenticated('token_in_query'));
    // A status link travels in e-mails and URLs: it lets the applicant read, never act (also not as a Bearer token).
    if (principal.kind === 'applicant' && principal.access === 'link' && req.method !== 'GET' && req.method !== 'HEAD') {
      return next(new AppError(403, 'forbidden', [{ code: 'status_link_read_only' }]));
    }
    req.principal = principal;
    next();
  };
}

export function isAllowed(access: readonly Access[], principal: Principal | undefined, params: Record<string, unknown>): boolean {
  if (access.includes('anonymous')) return true;
  if (!principal) return false;
  if (principal.kind === 'staff') return access.includes(principal.role) || (principal.role === 'welfare' && access.includes('welfare_case'));
  return access.includes('applicant_self') && typeof params.id === 'string' && params.id === principal.applicationId;
}

/** The welfare worker a `welfare_case` rule narrows this caller to; undefined when the rule does not narrow them. */
export function caseScoped(access: readonly Access[], principal: Principal | undefined): string | undefined {
  if (principal?.kind !== 'staff' || principal.role !== 'welfare') return undefined;
  return access.includes('welfare_case') && !access.includes('welfare') ? principal.userId : undefined;
}

/** After isAllowed: true when a `welfare_case` rule keeps this caller away from the application of `:id`. */
export async function outsideCases(access: readonly Access[], principal: Principal | undefined, params: Record<string, unknown>, cases: WelfareCases): Promise<boolean> {
  const worker = caseScoped(access, principal);
  return worker !== undefined && typeof params.id === 'string' && !(await cases.mayRead(worker, params.id));
}

/** The route's declared rule, enforced: 401 without credentials, 403 with the wrong ones, 404 for an application outside a welfare worker's cases. */
export function authorize(access: readonly Access[], cases: WelfareCases): RequestHandler {
  return async (req, _res, next) => {
    if (!isAllowed(access, req.principal, req.params)) return next(req.principal ? new AppError(403, 'forbidden') : unauthenticated('credentials_required'));
    next((await outsideCases(access, req.principal, req.params, cases)) ? new AppError(404, 'not_found') : undefined);
  };
}

export function actorOf(principal: Principal | undefined): string {
  if (!principal) return 'anonymous';
  return principal.kind === 'staff' ? `staff:${principal.userId}` : 'applicant';
}
