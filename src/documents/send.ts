import type { Readable } from 'node:stream';
import { create as contentDisposition } from 'content-disposition';
import type { Response } from 'express';
import type { DocumentDoc } from '../db/models.ts';

/** Types a browser shows itself (checked by content at upload, never HTML or SVG): opened in the browser from the pages. */
const SHOWN_IN_BROWSER = new Set(['application/pdf', 'image/jpeg', 'image/png']);

/**
 * Streams a stored document with its type and file name. `inline`: a PDF or photo opens
 * in the browser (for the panel reading the agenda); anything else is always a download.
 */
export async function sendDocument(res: Response, doc: Pick<DocumentDoc, 'contentType' | 'fileName' | 'size'>, open: () => Readable, opts: { inline?: boolean } = {}): Promise<void> {
  const inline = opts.inline === true && SHOWN_IN_BROWSER.has(doc.contentType);
  res.status(200);
  res.type(doc.contentType);
  res.set('Content-Disposition', contentDisposition(doc.fileName, { type: inline ? 'inline' : 'attachment' }));
  res.set('Content-Length', String(doc.size));
  res.set('Cache-Control', 'private, no-store');
  // Nothing from a stored file may run: no scripts, no plugins (a PDF viewer still works).
  if (inline) res.set('Content-Security-Policy', "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'");
  const stream = open();
  await new Promise<void>((resolve, reject) => {
    stream.on('error', reject);
    res.on('finish', resolve);
    res.on('close', resolve);
    stream.pipe(res);
  });
}
