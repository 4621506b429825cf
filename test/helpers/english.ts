/**
 * The English words zod's own messages are made of ("Invalid input: expected number,
 * received string", "Unrecognized key", …), found by letting zod refuse one input of each
 * kind of issue it has; and the ones a text uses. A Dutch text should use none of them.
 */
import { z } from 'zod';

const samples: [z.ZodType, unknown][] = [
  [z.object({ a: z.number().int().min(1).max(5), b: z.string().min(3).max(5), c: z.enum(['x', 'y']) }).strict(), { a: 'x', b: 'ab', c: 'z', extra: 1 }],
  [z.object({ a: z.number().int(), b: z.string().max(2), c: z.array(z.string()).min(1).max(1) }), { a: 1.5, b: 'abc', c: [] }],
  [z.object({ a: z.number().max(5), c: z.array(z.string()).max(1) }), { a: 6, c: ['a', 'b'] }],
  [z.object({ a: z.email(), b: z.uuid(), c: z.iso.datetime(), d: z.string().regex(/^\d+$/), e: z.boolean(), f: z.literal(true) }), { a: 'x', b: 'x', c: 'x', d: 'x', e: 'x', f: false }],
  [z.object({ a: z.union([z.string(), z.number()]), b: z.array(z.number()), c: z.object({}).strict() }), { a: true, b: 'x', c: { k: 1 } }],
  [z.coerce.number().int().min(1), 'abc'],
];

/** Lower case; quoted values and abbreviations (UUID, ISO) left out: they are not words of a language. */
export const zodEnglishWords: ReadonlySet<string> = new Set(
  samples
    .flatMap(([schema, input]) => schema.safeParse(input).error!.issues.map((i) => i.message.replace(/"[^"]*"/g, '')))
    .flatMap((m) => m.match(/\p{L}{3,}/gu) ?? [])
    .filter((w) => w !== w.toUpperCase())
    .map((w) => w.toLowerCase()),
);

/** The words of zod's English messages in `text`; codes (report_received) and the header name Idempotency-Key are names, not words. */
export const zodEnglishIn = (text: string): string[] =>
  (text.replace(/Idempotency-Key|\w+_\w+/g, '').match(/\p{L}+/gu) ?? []).filter((w) => zodEnglishWords.has(w.toLowerCase()));
