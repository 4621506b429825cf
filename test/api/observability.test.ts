/** Structured logs with request, application and workflow ids; the OpenAPI document is the route table. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, eventually, type TestContext } from '../helpers/context.ts';
import { validApplication } from '../helpers/fixtures.ts';

const lines: Record<string, unknown>[] = [];
let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext({ logStream: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) } });
});
afterAll(async () => ctx?.close());

describe('logs', () => {
  it('are pino JSON lines that carry the request id, and the application and workflow ids', async () => {
    const res = await ctx.http().post('/api/v1/applications').set('X-Request-Id', 'test-request-42').send(validApplication());
    expect(res.status).toBe(201);
    expect(res.headers['x-request-id']).toBe('test-request-42');
    const submitted = lines.find((l) => l.msg === 'application submitted');
    expect(submitted).toMatchObject({ level: 30, requestId: 'test-request-42', applicationId: res.body.id, workflowId: `initiative-${res.body.id}` });
    expect(typeof submitted!.time).toBe('string');

    const view = await ctx.http().get(`/api/v1/applications/${res.body.id}`).set('Authorization', `Bearer ${res.body.accessToken}`);
    expect(view.status).toBe(200);
    const completed = lines.filter((l) => l.msg === 'request completed' && (l.req as { url?: string } | undefined)?.url === `/api/v1/applications/${res.body.id}`);
    expect(completed.at(-1)).toMatchObject({ applicationId: res.body.id, workflowId: `initiative-${res.body.id}` });
    expect(typeof completed.at(-1)!.requestId).toBe('string');

    // The worker's activity logs carry the workflow id too.
    await eventually(async () => lines.find((l) => l.msg === 'applicant notified' && l.workflowId === `initiative-${res.body.id}`), 15_000, 'activity log line');
  });

  it('never write the applicant token of a status link', async () => {
    const res = await ctx.http().get('/api/v1/applications/00000000-0000-4000-8000-000000000000?token=geheim-token');
    expect(res.status).toBe(401);
    expect(JSON.stringify(lines)).not.toContain('geheim-token');
  });
});

describe('GET /api/openapi.json', () => {
  it('documents every route of the table, with its method, rule and schemas', async () => {
    const doc = (await ctx.http().get('/api/openapi.json')).body as {
      openapi: string;
      paths: Record<string, Record<string, { description?: string; requestBody?: { content: Record<string, { schema: { required?: string[]; properties?: Record<string, { type?: string }> } }> } }>>;
    };
    expect(doc.openapi).toMatch(/^3\.1/);
    for (const r of ctx.routes) {
      const op = doc.paths[r.path.replace(/:([A-Za-z]+)/g, '{$1}')]?.[r.method];
      expect(op, `${r.method} ${r.path} documented`).toBeDefined();
      expect(op!.description).toBe(`Allowed: ${r.access.join(', ')}.`);
    }
    const body = doc.paths['/api/v1/applications']!.post!.requestBody!.content['application/json']!.schema;
    expect(body.required).toEqual(expect.arrayContaining(['applicant', 'title', 'budgetLines', 'amountRequestedCents', 'iban', 'privacyConsent']));
    expect(body.properties!.amountRequestedCents!.type).toBe('integer');
    expect(Object.keys(doc.paths['/api/v1/applications']!.post!.requestBody!.content)).toEqual(['application/json', 'multipart/form-data']);
  });
});
