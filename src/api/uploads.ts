import { randomUUID } from 'node:crypto';
import { unlink } from 'node:fs/promises';
import type { Request, RequestHandler } from 'express';
import multer from 'multer';
import { AppError } from '../domain/errors.ts';
import { DocumentStore } from '../documents/store.ts';
import { sniffContentType } from '../documents/sniff.ts';
import type { Models, StoredDocument } from '../db/models.ts';
import { documentsWithContent } from '../db/keys.ts';

export interface IngestedFile {
  tempPath: string;
  fileName: string;
  contentType: string;
  size: number;
  sha256: string;
}

/**
 * Multipart parser: files stream to the store's tmp dir (never whole in memory),
 * limited in size and count. Multer removes partial files itself on a limit error.
 */
export function multipartUpload(store: DocumentStore, limits: { maxBytes: number; maxFiles: number }, opts: { fields?: number } = {}): RequestHandler {
  const fields = opts.fields ?? 10;
  const upload = multer({
    storage: multer.diskStorage({
      destination: store.tmpDir,
      filename: (_req, _file, cb) => cb(null, randomUUID()),
    }),
    // Keep the name as sent so a path in it can be refused rather than silently cut.
    preservePath: true,
    limits: {
      fileSize: limits.maxBytes,
      files: limits.maxFiles,
      fields,
      fieldSize: 1024 * 1024,
      parts: limits.maxFiles + fields,
      headerPairs: 100,
    },
  }).array('documents', limits.maxFiles + 1);
  return (req, res, next) => {
    if (!req.is('multipart/form-data')) return next();
    upload(req, res, (err: unknown) => next(err ? mapMulterError(err) : undefined));
  };
}

function mapMulterError(err: unknown): unknown {
  if (err instanceof multer.MulterError) {
    switch (err.code) {
      case 'LIMIT_FILE_SIZE':
        return new AppError(413, 'file_too_large', [{ path: err.field ?? 'documents', code: 'file_too_large' }]);
      case 'LIMIT_FILE_COUNT':
        return new AppError(413, 'too_many_files', [{ path: 'documents', code: 'too_many_files' }]);
      case 'LIMIT_UNEXPECTED_FILE':
        return new AppError(400, 'unexpected_field', [{ path: err.field ?? '', code: 'unexpected_field' }]);
      default:
        return new AppError(400, 'malformed_multipart', [{ code: err.code.toLowerCase() }]);
    }
  }
  if (err instanceof Error && !(err instanceof AppError)) {
    // busboy: "Unexpected end of form", "Malformed part header", missing boundary …
    return new AppError(400, 'malformed_multipart', [{ code: 'malformed_multipart', reason: err.message }]);
  }
  return err;
}

export { mapMulterError };

export function uploadedFiles(req: Request): Express.Multer.File[] {
  return Array.isArray(req.files) ? req.files : [];
}

export async function discardUploads(req: Request): Promise<void> {
  await Promise.all(uploadedFiles(req).map((f) => unlink(f.path).catch(() => undefined)));
}

const badName = /[/\\\0-\x1f\x7f]|^\.\.?$|^\s*$/;

/** Checks one uploaded file by name shape and by content: the file to store, or the refusal. */
export async function inspectFile(f: Express.Multer.File, index: number): Promise<IngestedFile | AppError> {
  const fileName = f.originalname.normalize('NFC');
  if (badName.test(fileName) || fileName.length > 255) {
    return new AppError(400, 'invalid_file_name', [{ path: `documents.${index}`, code: 'invalid_file_name', fileName }]);
  }
  const contentType = await sniffContentType(f.path);
  if (!contentType) return new AppError(415, 'unsupported_file_type', [{ path: `documents.${index}`, code: 'unsupported_file_type', fileName }]);
  const { sha256, size } = await DocumentStore.hashFile(f.path);
  return { tempPath: f.path, fileName, contentType, size, sha256 };
}

/** Checks every uploaded file by name shape and by content; on any refusal all temp files are removed. */
export async function inspectUploads(req: Request): Promise<IngestedFile[]> {
  const files = uploadedFiles(req);
  try {
    const out: IngestedFile[] = [];
    for (const [i, f] of files.entries()) {
      const result = await inspectFile(f, i);
      if (result instanceof AppError) throw result;
      out.push(result);
    }
    return out;
  } catch (err) {
    await discardUploads(req);
    throw err;
  }
}

/** Removes checked files that will not be stored after all (a form that came back with errors). */
export async function discardIngested(files: readonly IngestedFile[]): Promise<void> {
  await Promise.all(files.map((f) => unlink(f.tempPath).catch(() => undefined)));
}

export async function commitFiles(store: DocumentStore, files: IngestedFile[]): Promise<void> {
  for (const f of files) await store.commit(f.tempPath, f.sha256);
}

export function toStoredDocuments(
  applicationId: string,
  files: IngestedFile[],
  by: StoredDocument['uploadedBy'],
  context: StoredDocument['context'],
  at = new Date(),
): StoredDocument[] {
  return files.map((f) => ({
    id: randomUUID(),
    applicationId,
    fileName: f.fileName,
    contentType: f.contentType,
    size: f.size,
    sha256: f.sha256,
    uploadedAt: at,
    uploadedBy: by,
    context,
  }));
}

/** Removes stored blobs that no application refers to (after a failed write). */
export async function removeOrphans(store: DocumentStore, models: Models, sha256s: string[]): Promise<void> {
  for (const sha of new Set(sha256s)) {
    if (!(await documentsWithContent(models, sha)).length) await store.remove(sha);
  }
}
