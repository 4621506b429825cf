import { readdir } from 'node:fs/promises';
import { addApplicationKeys } from '../../src/db/keys.ts';
import { insertEvent } from '../../src/db/keys.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, eventually, type TestContext } from '../helpers/context.ts';
import { pdfBytes, validApplication } from '../helpers/fixtures.ts';

/** The workflow start fails (Temporal unreachable) for as long as `temporalDown` is true. */
let temporalDown = true;
let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext({
    starter: (real) => ({
      async start(input) {
        if (temporalDown) throw new Error('14 UNAVAILABLE: connection refused');
        return real.start(input);
      },
    }),
  });
});
afterAll(async () => ctx?.close());

async function everything() {
  const m = ctx.models;
  const [applications, documents, tokens, events, keys, workflows] = await Promise.all([
    m.Application.countDocuments(),
    m.Document.countDocuments(),
    m.AccessToken.countDocuments(),
    m.Event.countDocuments(),
    m.Idempotency.countDocuments(),
    ctx.client.workflow.count(`TaskQueue = '${ctx.config.temporal.taskQueue}'`).then((c) => c.count),
  ]);
  // Stored files (empty shard directories are not files).
  const blobs = (await readdir(ctx.store.dir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile() && !e.parentPath.endsWith('/tmp'))
    .map((e) => e.name);
  return { applications, documents, tokens, events, keys, workflows, blobs, tmp: await readdir(ctx.store.tmpDir) };
}

describe('no application without workflow, no workflow without application', () => {
  it('when the workflow cannot start, the intake is undone completely and the applicant may retry', async () => {
    temporalDown = true;
    const before = await everything();
    const send = () =>
      ctx
        .http()
        .post('/api/v1/applications')
        .set('Idempotency-Key', 'start-fails-1')
        .field('application', JSON.stringify(validApplication()))
        .attach('documents', pdfBytes, { filename: 'offerte.pdf' });
    const res = await send();
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('service_unavailable');
    expect(res.headers['retry-after']).toBe('5');
    expect(await everything()).toEqual(before);

    temporalDown = false;
    const retry = await send();
    expect(retry.status).toBe(201);
    const after = await everything();
    expect(after.applications).toBe(before.applications + 1);
    expect(after.workflows).toBe(before.workflows + 1);
    expect(after.documents).toBe(before.documents + 1);
  });

  it('an application stored by an intake that crashed before the start gets its workflow from the reconciler', async () => {
    temporalDown = false;
    // What a crash right after storing leaves behind: the application in `submitted`, no workflow.
    const id = crypto.randomUUID();
    const createdAt = new Date(Date.now() - 60_000);
    const stored = {
      ...validApplication(),
      _id: id,
      reference: 'VW-2026-9999',
      year: 2026,
      status: 'submitted' as const,
      statusSeq: 1,
      informationRequests: [],
      workflowId: `initiative-${id}`,
      createdAt,
    };
    // Intake writes the application's keys first, then the application (src/db/keys.ts).
    await addApplicationKeys(ctx.models, stored as never);
    await ctx.models.Application.create(stored);
    await insertEvent(ctx.models, { _id: `initiative-${id}:1`, applicationId: id, at: createdAt.toISOString(), type: 'submitted', status: 'submitted' });
    expect(await ctx.deps.intake.resumeUnstarted()).toBeGreaterThanOrEqual(1);
    await eventually(async () => (await ctx.models.Application.findById(id).lean())?.status === 'screening', 15_000, 'screening');
    // A second pass finds nothing left to do for it.
    await ctx.deps.intake.resumeUnstarted();
    expect((await ctx.client.workflow.count(`WorkflowId = 'initiative-${id}'`)).count).toBe(1);
  });
});
