import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError } from '../../domain/errors.ts';
import { personalDataExport } from '../../privacy/export.ts';
import { zipStream } from '../../privacy/zip.ts';
import { actorOf } from '../auth.ts';
import type { ApiDeps } from '../deps.ts';
import { parseWith } from '../errors.ts';
import type { RouteSpec } from '../route-spec.ts';
import { errorSchema, idParams, linkTokenQuery } from '../schemas.ts';

const err = (description: string) => ({ description, schema: errorSchema });

/** The applicant's right of access: everything stored about their application (src/privacy/export.ts). */
export function privacyRoutes(deps: ApiDeps): RouteSpec[] {
  return [
    {
      method: 'get',
      path: '/api/v1/applications/:id/export',
      access: ['applicant_self', 'admin'],
      tag: 'privacy',
      summary:
        'Everything stored about the application, as a zip: LEESMIJ.txt, application.json (the application with timeline, requests, decision, payout, report, the payment instruction and the support notes), emails.json, ledger.json and every document under documents/.',
      request: { params: idParams, query: linkTokenQuery },
      responses: {
        200: { description: 'The zip archive', contentType: 'application/zip' },
        401: err('No token'),
        403: err('Not yours, or not admin'),
        404: err('Unknown id'),
      },
      async handler(req, res) {
        const { id } = parseWith(idParams, req.params, req, ['params']);
        const found = await personalDataExport(deps, id);
        if (!found) throw new AppError(404, 'not_found');
        // Who read a person's data, and when: part of the accountability the GDPR asks.
        await deps.models.Audit.create({
          _id: randomUUID(),
          at: new Date(),
          actor: actorOf(req.principal),
          action: 'privacy.exported',
          target: `application:${id}`,
          requestId: String(req.id),
        });
        res.status(200);
        res.type('application/zip');
        res.attachment(`${found.reference}-gegevens.zip`);
        res.set('Cache-Control', 'private, no-store');
        try {
          await pipeline(Readable.from(zipStream(found.entries)), res);
        } catch (error) {
          // A client that went away mid-download is not a server error.
          if (req.destroyed || (error as { code?: string }).code === 'ERR_STREAM_PREMATURE_CLOSE') {
            req.log.info({ applicationId: id }, 'export download aborted by the client');
            return;
          }
          throw error;
        }
      },
    },
  ];
}
