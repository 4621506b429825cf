/**
 * Brings an application to a decision the way production does, without a whole
 * meeting: submitted through the API, screened by the panel through the API, then the
 * two signals the meeting workflow sends (scheduled for meeting X, decided at X).
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type { DecisionNotice } from '../../src/domain/decisions.ts';
import { decisionSignal, scheduledSignal } from '../../workflows/initiative-signals.ts';
import { eventually, type TestContext } from './context.ts';
import { pdfBytes, validApplication } from './fixtures.ts';

export interface Granted {
  id: string;
  reference: string;
  token: string;
}

export async function statusOf(ctx: TestContext, a: Granted): Promise<Record<string, any>> {
  const r = await ctx.http().get(`/api/v1/applications/${a.id}`).set('Authorization', `Bearer ${a.token}`);
  return r.body;
}

export async function waitForStatus(ctx: TestContext, a: Granted, status: string, timeoutMs = 20_000): Promise<Record<string, any>> {
  let last = '';
  return eventually(
    async () => {
      const body = await statusOf(ctx, a);
      last = body.status;
      return body.status === status ? body : undefined;
    },
    timeoutMs,
    `${a.reference} in ${status} (last seen: ${last})`,
  );
}

/** Submits and screens an application; returns once it is ready for a meeting. */
export async function submitReady(ctx: TestContext, overrides: Record<string, unknown> = {}): Promise<Granted> {
  const res = await ctx.http().post('/api/v1/applications').send(validApplication(overrides));
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const a = { id: res.body.id as string, reference: res.body.reference as string, token: res.body.accessToken as string };
  await waitForStatus(ctx, a, 'screening');
  const panel = await ctx.staff.panel();
  const done = await ctx.http().post(`/api/v1/applications/${a.id}/screening/complete`).set('Authorization', `Bearer ${panel}`).send({});
  expect(done.status, JSON.stringify(done.body)).toBe(200);
  await waitForStatus(ctx, a, 'ready_for_meeting');
  return a;
}

/** Sends the meeting's decision: a full grant unless `grantedCents` is less than requested. */
export async function decide(ctx: TestContext, a: Granted, d: { grantedCents: number; requestedCents: number; outcome?: DecisionNotice['outcome'] }): Promise<void> {
  const handle = ctx.client.workflow.getHandle(`initiative-${a.id}`);
  const meetingId = `meeting-test-${randomUUID()}`;
  const startsAt = new Date(Date.now() + 86_400_000).toISOString();
  await handle.signal(scheduledSignal, { meetingId, date: startsAt.slice(0, 10), startsAt });
  await waitForStatus(ctx, a, 'scheduled');
  const outcome = d.outcome ?? (d.grantedCents === 0 ? 'rejected' : d.grantedCents < d.requestedCents ? 'partially_approved' : 'approved');
  await handle.signal(decisionSignal, {
    meetingId,
    outcome,
    grantedCents: d.grantedCents,
    requestedCents: d.requestedCents,
    reasons: outcome === 'approved' ? [] : ['Niet alle posten passen binnen de regeling.'],
    struckLines: [],
    decidedAt: new Date().toISOString(),
  });
}

/** Submitted, screened, granted and reserved; `beforeDecision` runs while it is ready for the meeting. */
export async function grant(ctx: TestContext, overrides: Record<string, unknown> = {}, grantedCents?: number, beforeDecision?: (a: Granted) => Promise<void>): Promise<Granted & { grantedCents: number }> {
  const form = validApplication(overrides);
  const a = await submitReady(ctx, overrides);
  await beforeDecision?.(a);
  const cents = grantedCents ?? form.amountRequestedCents;
  await decide(ctx, a, { grantedCents: cents, requestedCents: form.amountRequestedCents });
  await waitForStatus(ctx, a, 'reserved');
  return { ...a, grantedCents: cents };
}

/** Granted like `grant`, with a document its applicant added before the decision. */
export async function grantWithDocument(ctx: TestContext, overrides: Record<string, unknown> = {}): Promise<Granted & { grantedCents: number; documentId: string }> {
  let documentId = '';
  const g = await grant(ctx, overrides, undefined, async (a) => {
    const res = await ctx.http().post(`/api/v1/applications/${a.id}/documents`).set('Authorization', `Bearer ${a.token}`).attach('documents', pdfBytes, { filename: 'plan.pdf' });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    documentId = res.body.documents[0].id;
  });
  return { ...g, documentId };
}

/**
 * Granted like `grant`, then paid: finance's batch (every pending payout of the context)
 * made and reported executed through the API. With an activity that is over, the
 * initiative then asks for its report (`report_due`, which this waits for).
 */
export async function grantPaid(ctx: TestContext, overrides: Record<string, unknown> = {}): Promise<Granted & { grantedCents: number }> {
  const a = await grant(ctx, overrides);
  const finance = { Authorization: `Bearer ${await ctx.login('financien@buurtfonds.test')}` };
  const batch = await ctx.http().post('/api/v1/payouts/batches').set(finance).send();
  expect(batch.status, JSON.stringify(batch.body)).toBe(201);
  expect((await ctx.http().post(`${batch.body.fileUrl}/executed`).set(finance).send()).status).toBe(200);
  await waitForStatus(ctx, a, 'report_due');
  return a;
}
