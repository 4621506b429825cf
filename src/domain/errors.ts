import type { ErrorCode } from './messages.ts';

export interface ErrorDetail {
  path?: string;
  code: string;
  message?: string;
  [key: string]: unknown;
}

/** A refusal with a stable code; the API turns it into `{error:{code,message,details}}`. */
export class AppError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  readonly details: ErrorDetail[];
  readonly headers: Record<string, string>;

  constructor(status: number, code: ErrorCode, details: ErrorDetail[] = [], headers: Record<string, string> = {}) {
    super(code);
    this.name = 'AppError';
    this.status = status;
    this.code = code;
    this.details = details;
    this.headers = headers;
  }
}
