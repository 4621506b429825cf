import type { ErrorRequestHandler, Request } from 'express';
import mongoose from 'mongoose';
import type { z } from 'zod';
import { AppError, ValidationError } from '../domain/errors.ts';
import { fieldIssues } from '../domain/field-issues.ts';
import { pickLocale, type Locale } from '../domain/messages.ts';
import { errorDetails, errorMessage, type ValidationSubject } from '../domain/validation-messages.ts';
import { discardUploads } from './uploads.ts';

export function localeOf(req: Request): Locale {
  return pickLocale(req.get('accept-language'));
}

/** `value` checked against `schema`; refused as `subject` (what was sent), each problem at its path after `prefix`. */
export function parseInput<T extends z.ZodType>(schema: T, value: unknown, subject: ValidationSubject, prefix: string[] = []): z.output<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw new ValidationError(subject, fieldIssues(result.error, value, prefix));
  return result.data;
}

/** The query string checked against `schema`; problems at `query.<name>`. */
export const parseQuery = <T extends z.ZodType>(schema: T, req: Request): z.output<T> => parseInput(schema, req.query, 'query', ['query']);

/** The path's parameters checked against `schema`; problems at `params.<name>`. */
export const parseParams = <T extends z.ZodType>(schema: T, req: Request): z.output<T> => parseInput(schema, req.params, 'path', ['params']);

/** Every failure leaves as `{error:{code,message,details}}`; never a 500 for bad input. */
export const errorHandler: ErrorRequestHandler = async (err, req, res, _next) => {
  await discardUploads(req);
  let appError: AppError;
  if (err instanceof AppError) appError = err;
  else if (isBodyParserError(err)) {
    appError =
      err.type === 'entity.parse.failed'
        ? new AppError(400, 'invalid_json', [{ code: 'invalid_json' }])
        : err.type === 'entity.too.large'
          ? new AppError(413, 'file_too_large', [{ code: 'body_too_large' }])
          : new AppError(400, 'malformed_multipart', [{ code: String(err.type) }]);
  } else if (isDatabaseUnavailable(err)) {
    req.log?.warn({ err }, 'database unavailable');
    appError = new AppError(503, 'service_unavailable', [{ code: 'database_unavailable' }], { 'Retry-After': '5' });
  } else {
    req.log?.error({ err }, 'unhandled error');
    appError = new AppError(500, 'internal_error');
  }
  if (res.headersSent) return;
  const locale = localeOf(req);
  res.status(appError.status).set(appError.headers);
  res.json({ error: { code: appError.code, message: errorMessage(appError, locale), details: errorDetails(appError, locale) } });
};

/** The database did not answer in time (down, or a machine too busy): the request may be sent again. */
export function isDatabaseUnavailable(err: unknown): boolean {
  const { MongoServerSelectionError, MongoNetworkError } = mongoose.mongo;
  return err instanceof MongoServerSelectionError || err instanceof MongoNetworkError;
}

function isBodyParserError(err: unknown): err is { type: string; status: number } {
  return typeof err === 'object' && err !== null && typeof (err as { type?: unknown }).type === 'string' && 'status' in err;
}
