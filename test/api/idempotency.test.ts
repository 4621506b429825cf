import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, eventually, type TestContext } from '../helpers/context.ts';
import { pdfBytes, pngBytes, validApplication } from '../helpers/fixtures.ts';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(async () => ctx?.close());

const workflowsOfQueue = async () => (await ctx.client.workflow.count(`TaskQueue = '${ctx.config.temporal.taskQueue}'`)).count;

describe('Idempotency-Key on POST /api/v1/applications', () => {
  it('a retry with the same key and body returns the same application and creates nothing new', async () => {
    const body = validApplication({ title: 'Buurtmoestuin Prinsenhof' });
    const first = await ctx.http().post('/api/v1/applications').set('Idempotency-Key', 'retry-1').send(body);
    expect(first.status).toBe(201);
    const retry = await ctx.http().post('/api/v1/applications').set('Idempotency-Key', 'retry-1').send(body);
    expect(retry.status).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body.id).toBe(first.body.id);
    expect(retry.body.reference).toBe(first.body.reference);
    expect(await ctx.models.Application.countDocuments({ title: 'Buurtmoestuin Prinsenhof' })).toBe(1);
    // both tokens the applicant received work
    for (const token of [first.body.accessToken, retry.body.accessToken]) {
      const r = await ctx.http().get(`/api/v1/applications/${first.body.id}`).set('Authorization', `Bearer ${token}`);
      expect(r.status).toBe(200);
    }
    await eventually(async () => (await ctx.models.Application.findById(first.body.id).lean())?.status === 'screening');
    const mails = ctx.mail.mails.filter((m) => m.subject.includes(first.body.reference));
    expect(mails).toHaveLength(1);
  });

  it('the same key with another body is refused and stores nothing', async () => {
    const first = await ctx.http().post('/api/v1/applications').set('Idempotency-Key', 'retry-2').send(validApplication({ title: 'Eerste' }));
    expect(first.status).toBe(201);
    const before = await ctx.models.Application.countDocuments();
    const wfBefore = await workflowsOfQueue();
    const other = await ctx.http().post('/api/v1/applications').set('Idempotency-Key', 'retry-2').send(validApplication({ title: 'Tweede' }));
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe('idempotency_key_reused');
    expect(other.body.error.message).toBe('Deze Idempotency-Key is al gebruikt voor een andere aanvraag.');
    expect(await ctx.models.Application.countDocuments()).toBe(before);
    expect(await workflowsOfQueue()).toBe(wfBefore);
  });

  it('concurrent retries with one key create exactly one application', async () => {
    const body = validApplication({ title: 'Gelijktijdig verstuurd' });
    const results = await Promise.all(Array.from({ length: 6 }, () => ctx.http().post('/api/v1/applications').set('Idempotency-Key', 'burst-1').send(body)));
    expect(results.map((r) => r.status)).toEqual(Array(6).fill(201));
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
    expect(await ctx.models.Application.countDocuments({ title: 'Gelijktijdig verstuurd' })).toBe(1);
    const wf = await ctx.client.workflow.count(`WorkflowId = 'initiative-${results[0]!.body.id}'`);
    expect(wf.count).toBe(1);
  });

  it('multipart retries compare the files too', async () => {
    const send = (file: Buffer, name: string) =>
      ctx.http().post('/api/v1/applications').set('Idempotency-Key', 'multi-1').field('application', JSON.stringify(validApplication({ title: 'Met bijlage' }))).attach('documents', file, { filename: name });
    const first = await send(pdfBytes, 'offerte.pdf');
    expect(first.status).toBe(201);
    const same = await send(pdfBytes, 'offerte.pdf');
    expect(same.status).toBe(201);
    expect(same.body.id).toBe(first.body.id);
    expect(await ctx.models.Document.countDocuments({ applicationId: first.body.id })).toBe(1);
    const otherFile = await send(pngBytes, 'foto.png');
    expect(otherFile.status).toBe(422);
    expect(otherFile.body.error.code).toBe('idempotency_key_reused');
    expect(await ctx.models.Document.countDocuments({ sha256: { $exists: true }, fileName: 'foto.png' })).toBe(0);
  });

  it('refuses a malformed key', async () => {
    const res = await ctx.http().post('/api/v1/applications').set('Idempotency-Key', 'met spaties en ëmoji').send(validApplication());
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_idempotency_key');
  });
});
