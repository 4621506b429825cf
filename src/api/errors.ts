import type { ErrorRequestHandler, Request } from 'express';
import mongoose from 'mongoose';
import { z } from 'zod';
import { AppError, type ErrorDetail } from '../domain/errors.ts';
import { errorMessages, pickLocale, ruleMessages, type Locale, type RuleCode } from '../domain/messages.ts';
import { discardUploads } from './uploads.ts';

export function localeOf(req: Request): Locale {
  return pickLocale(req.get('accept-language'));
}

/** zod issues as error details, with a message in the request's language. */
export function validationError(error: z.ZodError, locale: Locale, prefix: string[] = []): AppError {
  const localeError = (locale === 'nl' ? z.locales.nl() : z.locales.en()).localeError;
  const details: ErrorDetail[] = error.issues.map((issue) => {
    const rule = (issue as { params?: { rule?: RuleCode } }).params?.rule;
    const path = [...prefix, ...issue.path.map(String)].join('.');
    if (rule) return { path, code: rule, message: ruleMessages[locale][rule] };
    const localized = localeError?.(issue as never);
    const message = typeof localized === 'string' ? localized : (localized?.message ?? issue.message);
    return { path, code: issue.code, message };
  });
  return new AppError(422, 'validation_failed', details);
}

export function parseWith<T extends z.ZodType>(schema: T, value: unknown, req: Request, prefix: string[] = []): z.output<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw validationError(result.error, localeOf(req), prefix);
  return result.data;
}

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
  res.json({ error: { code: appError.code, message: errorMessages[locale][appError.code], details: appError.details } });
};

/** The database did not answer in time (down, or a machine too busy): the request may be sent again. */
export function isDatabaseUnavailable(err: unknown): boolean {
  const { MongoServerSelectionError, MongoNetworkError } = mongoose.mongo;
  return err instanceof MongoServerSelectionError || err instanceof MongoNetworkError;
}

function isBodyParserError(err: unknown): err is { type: string; status: number } {
  return typeof err === 'object' && err !== null && typeof (err as { type?: unknown }).type === 'string' && 'status' in err;
}
