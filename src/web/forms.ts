/**
 * From a posted form to the API's input, and from the API's validation back to words
 * at each field. Pages validate with the very schemas the API routes use; only the
 * messages differ: a page says what to do ("Vul uw naam in"), per field.
 */
import type { z } from 'zod';
import { AppError } from '../domain/errors.ts';
import { fieldIssues, type FieldProblem } from '../domain/field-issues.ts';
import type { Locale } from '../domain/messages.ts';
import { fieldProblemTexts, problemText } from '../domain/validation-messages.ts';
import type { PageTexts } from '../domain/page-messages.ts';
import { parseEuros } from '../domain/money.ts';
import { FormErrors } from './components.ts';

export type FormBody = Record<string, unknown>;

/** A text field, trimmed; '' when absent. */
export function str(body: FormBody, name: string): string {
  const v = body[name];
  const s = Array.isArray(v) ? v[0] : v;
  return typeof s === 'string' ? s.trim() : '';
}

/** A text field for an optional input: undefined when empty. */
export function opt(body: FormBody, name: string): string | undefined {
  return str(body, name) || undefined;
}

/** Every value of a repeated field (checkboxes). */
export function list(body: FormBody, name: string): string[] {
  const v = body[name];
  const all = Array.isArray(v) ? v : v === undefined ? [] : [v];
  return all.filter((x): x is string => typeof x === 'string' && x !== '');
}

/** A whole number as typed: the number, undefined when empty, or the text itself (zod then says it is not a number). */
export function int(body: FormBody, name: string): number | string | undefined {
  const s = str(body, name).replace(/\s/g, '');
  if (s === '') return undefined;
  return /^\d{1,9}$/.test(s) ? Number(s) : s;
}

/**
 * An amount in euros as cents. A text that is not an amount gets its message here
 * (and the field stays empty for the schema, which then says nothing more about it).
 */
export function amount(body: FormBody, name: string, errors: FormErrors, t: PageTexts): number | undefined {
  const s = str(body, name);
  if (s === '') return undefined;
  const cents = parseEuros(s);
  if (cents === undefined) errors.add(name, t.fields.notAnAmount);
  return cents;
}

/** Rows of a repeated group (`budgetLines.0.description`, …): the indexes present in the form, in order. */
export function rowIndexes(body: FormBody, prefix: string): number[] {
  const seen = new Set<number>();
  for (const key of Object.keys(body)) {
    const m = new RegExp(`^${prefix.replace('.', '\\.')}\\.(\\d{1,3})\\.`).exec(key);
    if (m) seen.add(Number(m[1]));
  }
  return [...seen].sort((a, b) => a - b);
}

/** The message a page shows when a field is empty. */
function requiredMessage(t: PageTexts, field: string, locale: Locale): string {
  const exact = t.fields.required[field];
  if (exact) return exact;
  const last = field.split('.').pop() ?? field;
  const fallback = fieldProblemTexts[locale].required;
  if (/\.\d+\.(description|amount)$/.test(field)) return t.fields.required[`${last}_line`] ?? fallback;
  return t.fields.required[last] ?? fallback;
}

/** A field's problem in the words of the page: its own words for an empty or malformed field, else the API's. */
function pageProblemText(problem: FieldProblem, field: string, t: PageTexts, locale: Locale): string {
  switch (problem.kind) {
    case 'required':
    case 'too_few':
      return requiredMessage(t, field, locale);
    case 'format':
      return t.fields.invalid[field] ?? t.fields.invalid[field.split('.').pop() ?? ''] ?? problemText(problem, locale, field);
    default:
      return problemText(problem, locale, field);
  }
}

/**
 * The schema's verdict on the input built from a form: the value, or the errors by form
 * field. `fieldOf` maps an input path (`budgetLines.0.amountCents`) to the form field
 * that holds it (`budgetLines.0.amount`).
 */
export function validate<T extends z.ZodType>(
  schema: T,
  input: unknown,
  errors: FormErrors,
  ctx: { t: PageTexts; locale: Locale; fieldOf?: (path: string) => string },
): z.output<T> | undefined {
  const result = schema.safeParse(input);
  if (result.success) return errors.any ? undefined : result.data;
  for (const { path, problem } of fieldIssues(result.error, input)) {
    const field = ctx.fieldOf ? ctx.fieldOf(path) : path;
    errors.add(field, pageProblemText(problem, field, ctx.t, ctx.locale));
  }
  return undefined;
}

/** A refusal with field details (422 from a service), onto the form's fields. */
export function refusalErrors(e: AppError, errors: FormErrors, messageOf: (code: string) => string, fieldOf: (path: string) => string = (p) => p): void {
  for (const d of e.details) {
    if (d.path) errors.add(fieldOf(d.path), messageOf(d.code));
  }
  if (!errors.any) errors.add(fieldOf(''), messageOf(e.code));
}
