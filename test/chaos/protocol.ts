/**
 * What the crash test and its child processes share: the kill plan, the kill log and
 * the crossing log (files in one temp dir), and how an activity call is named.
 *
 * A boundary is one activity invocation of one application, before it runs or after
 * it returned (but before the worker reported the result to Temporal), e.g.
 * `reserveBudget/after` or `recordProgress:reserved/before`, or an e-mail accepted by
 * the SMTP server (`mailAcceptedPoint`). The plan names boundaries
 * per application; the worker kills itself (SIGKILL) the first time it crosses one that
 * is not in the kill log yet, after appending it there (a synchronous write, so the
 * record survives the kill).
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export type Phase = 'before' | 'after';

export interface PlannedKill {
  /** `<activity label>/<phase>`, e.g. `notifyApplicant:approved/before`. */
  point: string;
  applicationId: string;
}

export interface KillRecord extends PlannedKill {
  pid: number;
  at: string;
}

export interface Crossing {
  activity: string;
  label: string;
  phase: Phase;
  applicationId: string;
  pid: number;
  at: string;
}

/**
 * An e-mail the SMTP server accepted (it answered 250), before the outbox row is marked
 * sent: the worker's mailer (worker-child.ts) dies there when the plan names the point
 * (with the application it belongs to).
 */
export const mailAcceptedPoint = (messageId: string) => `mail:${messageId}/accepted`;

/** The kill of the API process in the middle of a batch request (batch-child.ts). */
export const batchKillPoint = 'api:createBatch/after-register-insert';

export const files = (dir: string) => ({
  plan: join(dir, 'plan.json'),
  kills: join(dir, 'kills.jsonl'),
  crossings: join(dir, 'crossings.jsonl'),
});

export function readJsonLines<T>(path: string): T[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}

export function appendJsonLine(path: string, value: unknown): void {
  appendFileSync(path, `${JSON.stringify(value)}\n`);
}

/**
 * The label of an activity call on the grant → paid path: the activity name, and for
 * the ones the workflow calls several times, which call (the status projected, the
 * e-mail template). Undefined for calls without an application (meeting activities).
 */
export function activityLabel(activity: string, input: unknown): { label: string; applicationId: string } | undefined {
  const i = (input ?? {}) as { applicationId?: unknown; status?: unknown; template?: unknown };
  if (typeof i.applicationId !== 'string') return undefined;
  if (activity === 'recordProgress') return { label: `recordProgress:${String(i.status)}`, applicationId: i.applicationId };
  if (activity === 'notifyApplicant') return { label: `notifyApplicant:${String(i.template)}`, applicationId: i.applicationId };
  return { label: activity, applicationId: i.applicationId };
}
