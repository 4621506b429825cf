/** Sends an application's export (everything stored about it) as a zip, and records who read it. API and pages share it. */
import { randomUUID } from 'node:crypto';
import { recordAudit } from '../services/audit.ts';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Request, Response } from 'express';
import { AppError } from '../domain/errors.ts';
import type { ApiDeps } from '../api/deps.ts';
import { personalDataExport } from './export.ts';
import { zipStream } from './zip.ts';

export async function sendExport(deps: ApiDeps, applicationId: string, actor: string, req: Request, res: Response): Promise<void> {
  const found = await personalDataExport(deps, applicationId);
  if (!found) throw new AppError(404, 'not_found');
  // Who read a person's data, and when: part of the accountability the GDPR asks.
  await recordAudit(deps.models, { _id: randomUUID(), at: new Date(), actor, action: 'privacy.exported', target: `application:${applicationId}`, requestId: String(req.id) });
  res.status(200);
  res.type('application/zip');
  res.attachment(`${found.reference}-gegevens.zip`);
  res.set('Cache-Control', 'private, no-store');
  try {
    await pipeline(Readable.from(zipStream(found.entries)), res);
  } catch (error) {
    // A client that went away mid-download is not a server error.
    if (req.destroyed || (error as { code?: string }).code === 'ERR_STREAM_PREMATURE_CLOSE') {
      req.log.info({ applicationId }, 'export download aborted by the client');
      return;
    }
    throw error;
  }
}
