import { OpenAPIRegistry, OpenApiGeneratorV31, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { errorCodes } from '../domain/messages.ts';
import type { RouteSpec } from './route-spec.ts';

/** Builds the OpenAPI document from the route table: the same zod schemas the handlers validate with. */
export function buildOpenApi(routes: RouteSpec[], info: { title: string; version: string; serverUrl: string }) {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'Staff: the token from /api/v1/auth/login. Applicant: the accessToken returned at submission.',
  });
  for (const r of routes) {
    const content: Record<string, { schema: never }> = {};
    if (r.request?.json) content['application/json'] = { schema: r.request.json as never };
    if (r.request?.multipart) content['multipart/form-data'] = { schema: r.request.multipart as never };
    const config: RouteConfig = {
      method: r.method,
      path: r.path.replace(/:([A-Za-z]+)/g, '{$1}'),
      summary: r.summary,
      description: `Allowed: ${r.access.join(', ')}.`,
      tags: [r.tag],
      ...(r.access.includes('anonymous') ? {} : { security: [{ bearer: [] }] }),
      request: {
        ...(r.request?.params ? { params: r.request.params } : {}),
        ...(r.request?.query ? { query: r.request.query } : {}),
        ...(r.request?.headers ? { headers: r.request.headers } : {}),
        ...(Object.keys(content).length ? { body: { content, required: true } } : {}),
      },
      responses: Object.fromEntries(
        Object.entries(r.responses).map(([status, spec]) => [
          status,
          {
            description: spec.description,
            ...(spec.schema
              ? { content: { [spec.contentType ?? 'application/json']: { schema: spec.schema } } }
              : spec.contentType
                ? { content: { [spec.contentType]: { schema: { type: 'string', format: 'binary' } } } }
                : {}),
          },
        ]),
      ) as RouteConfig['responses'],
    };
    registry.registerPath(config);
  }
  const generator = new OpenApiGeneratorV31(registry.definitions);
  const doc = generator.generateDocument({
    openapi: '3.1.0',
    info: { title: info.title, version: info.version, description: `Error codes: ${errorCodes.join(', ')}.` },
    servers: [{ url: info.serverUrl }],
  });
  return doc;
}
