import type { FieldIssue } from './field-issues.ts';
import type { ErrorCode } from './messages.ts';
import type { ValidationSubject } from './validation-messages.ts';

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

/**
 * Input that is refused (422 `validation_failed`): `subject` is what was sent (the
 * application, the vote, the query, …), each issue a field and what is wrong with it.
 * The words come at the end, in the caller's language (src/domain/validation-messages.ts).
 */
export class ValidationError extends AppError {
  readonly subject: ValidationSubject;
  readonly issues: FieldIssue[];

  constructor(subject: ValidationSubject, issues: FieldIssue[]) {
    super(422, 'validation_failed', issues.map(({ path, code }) => ({ path, code })));
    this.name = 'ValidationError';
    this.subject = subject;
    this.issues = issues;
  }
}
