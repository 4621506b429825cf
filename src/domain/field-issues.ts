/**
 * What is wrong with one field of an input, whoever found it: a zod issue, one of the
 * rules zod cannot express (`params.rule`), or a service. One classification for the
 * API and the pages: the API words a problem with the field's path
 * (src/domain/validation-messages.ts), the pages with their own per-field words where
 * they have them (src/web/forms.ts).
 */
import type { z } from 'zod';
import type { RuleCode } from './messages.ts';

export type FieldProblem =
  | { kind: 'required' }
  | { kind: 'rule'; rule: RuleCode }
  | { kind: 'not_whole_number' }
  | { kind: 'wrong_type'; expected: 'text' | 'yes_no' | 'list' | 'object' }
  | { kind: 'too_short'; min: number }
  | { kind: 'too_long'; max: number }
  | { kind: 'too_small'; min: number; inclusive: boolean }
  | { kind: 'too_big'; max: number; inclusive: boolean }
  | { kind: 'too_few'; min: number }
  | { kind: 'too_many'; max: number }
  | { kind: 'not_allowed'; values: string[] }
  | { kind: 'format'; format: 'email' | 'uuid' | 'datetime' | 'pattern' }
  | { kind: 'unknown_field' }
  | { kind: 'invalid' };

/** One problem at one path (`applicant.email`, `query.page`); `code` is the stable detail code of the API. */
export interface FieldIssue {
  path: string;
  code: string;
  problem: FieldProblem;
}

export const ruleIssue = (path: string, rule: RuleCode): FieldIssue => ({ path, code: rule, problem: { kind: 'rule', rule } });
export const requiredIssue = (path: string): FieldIssue => ({ path, code: 'required', problem: { kind: 'required' } });

type Issue = z.core.$ZodIssue;

const wrongTypes: Record<string, 'text' | 'yes_no' | 'list' | 'object'> = { string: 'text', boolean: 'yes_no', array: 'list', object: 'object' };
const formats: Record<string, 'email' | 'uuid' | 'datetime' | 'pattern'> = { email: 'email', uuid: 'uuid', guid: 'uuid', datetime: 'datetime', regex: 'pattern' };
const isNumberOrigin = (origin: string) => origin === 'number' || origin === 'int' || origin === 'bigint';

/** The value at a path of the input (zod 4 does not report it with the issue). */
function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v = input;
  for (const key of path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[key] : undefined;
  return v;
}

/** One zod issue as a problem; `value` is what the input held at its path (to tell "empty" from "wrong"). */
function problemOf(issue: Issue, value: unknown): FieldProblem {
  if (issue.code === 'custom') {
    const rule = (issue.params as { rule?: RuleCode } | undefined)?.rule;
    if (rule) return { kind: 'rule', rule };
  }
  if (issue.code === 'unrecognized_keys') return { kind: 'unknown_field' };
  if (value === undefined || value === null || value === '') return { kind: 'required' };
  switch (issue.code) {
    case 'invalid_type': {
      if (isNumberOrigin(issue.expected)) return { kind: 'not_whole_number' };
      const expected = wrongTypes[issue.expected];
      return expected ? { kind: 'wrong_type', expected } : { kind: 'invalid' };
    }
    case 'too_small': {
      const min = Number(issue.minimum);
      if (issue.origin === 'string') return min <= 1 ? { kind: 'required' } : { kind: 'too_short', min };
      if (issue.origin === 'array' || issue.origin === 'set') return { kind: 'too_few', min };
      return isNumberOrigin(issue.origin) ? { kind: 'too_small', min, inclusive: issue.inclusive !== false } : { kind: 'invalid' };
    }
    case 'too_big': {
      const max = Number(issue.maximum);
      if (issue.origin === 'string') return { kind: 'too_long', max };
      if (issue.origin === 'array' || issue.origin === 'set') return { kind: 'too_many', max };
      return isNumberOrigin(issue.origin) ? { kind: 'too_big', max, inclusive: issue.inclusive !== false } : { kind: 'invalid' };
    }
    case 'invalid_value':
      return { kind: 'not_allowed', values: issue.values.map(String) };
    case 'invalid_format': {
      const format = formats[issue.format];
      return format ? { kind: 'format', format } : { kind: 'invalid' };
    }
    default:
      return { kind: 'invalid' };
  }
}

/**
 * Every problem zod found in `input`, at its path (after `prefix`: `query`, `params`,
 * the multipart field). An unknown field is reported at its own path, one per field.
 */
export function fieldIssues(error: z.ZodError, input: unknown, prefix: readonly string[] = []): FieldIssue[] {
  return error.issues.flatMap((issue): FieldIssue[] => {
    const at = [...prefix, ...issue.path.map(String)];
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: [...at, key].join('.'), code: issue.code, problem: { kind: 'unknown_field' } }));
    }
    const problem = problemOf(issue, valueAt(input, issue.path));
    return [{ path: at.join('.'), code: problem.kind === 'rule' ? problem.rule : issue.code, problem }];
  });
}
