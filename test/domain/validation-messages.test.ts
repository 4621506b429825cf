/**
 * Refused input in the caller's language: every Dutch text of the catalogues is free
 * of the English words zod's own messages are made of ("Invalid input: expected
 * number", "Unrecognized key", …), and each kind of problem zod reports has its words.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { zodEnglishIn, zodEnglishWords } from '../helpers/english.ts';
import { fieldIssues, type FieldProblem } from '../../src/domain/field-issues.ts';
import { errorMessages, ruleMessages } from '../../src/domain/messages.ts';
import { pageTexts } from '../../src/domain/page-messages.ts';
import { fieldProblemTexts, issueMessage, problemText, validationSubjects } from '../../src/domain/validation-messages.ts';

/** Every string in a catalogue, with where it is; functions are called with a sample argument. */
function textsOf(value: unknown, at: string): [string, string][] {
  if (typeof value === 'string') return [[at, value]];
  if (typeof value === 'function') return [[at, String((value as (...a: string[]) => unknown)('7', '7'))]];
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => textsOf(v, `${at}.${k}`));
  return [];
}

const problems: FieldProblem[] = [
  { kind: 'required' },
  { kind: 'rule', rule: 'invalid_iban' },
  { kind: 'not_whole_number' },
  ...(['text', 'yes_no', 'list', 'object'] as const).map((expected) => ({ kind: 'wrong_type' as const, expected })),
  { kind: 'too_short', min: 20 },
  { kind: 'too_long', max: 10_000 },
  { kind: 'too_small', min: 1, inclusive: true },
  { kind: 'too_small', min: 0, inclusive: false },
  { kind: 'too_big', max: 100, inclusive: true },
  { kind: 'too_big', max: 100, inclusive: false },
  { kind: 'too_few', min: 1 },
  { kind: 'too_many', max: 3 },
  { kind: 'not_allowed', values: ['approve', 'reject'] },
  ...(['email', 'uuid', 'datetime', 'pattern'] as const).map((format) => ({ kind: 'format' as const, format })),
  { kind: 'unknown_field' },
  { kind: 'invalid' },
];

describe('Dutch texts have no English in them', () => {
  it('knows the words of zod’s English messages (the check below has something to find)', () => {
    for (const word of ['invalid', 'expected', 'received', 'unrecognized', 'key', 'option', 'characters', 'must', 'pattern']) expect(zodEnglishWords).toContain(word);
    expect(zodEnglishIn('Onbekende key: "zz"')).toEqual(['key']);
  });

  it('no Dutch catalogue entry uses a word of zod’s English messages', () => {
    const dutch = [
      ...textsOf(errorMessages.nl, 'errorMessages.nl'),
      ...textsOf(ruleMessages.nl, 'ruleMessages.nl'),
      ...textsOf(validationSubjects.nl, 'validationSubjects.nl'),
      ...textsOf(fieldProblemTexts.nl, 'fieldProblemTexts.nl'),
      ...textsOf(pageTexts.nl, 'pageTexts.nl'),
      ...problems.map((p) => [`problem ${p.kind}`, problemText(p, 'nl', 'applicant.address.postalCode')] as [string, string]),
    ];
    expect(dutch.length).toBeGreaterThan(500);
    expect(dutch.map(([at, text]) => ({ at, words: zodEnglishIn(text) })).filter((t) => t.words.length > 0)).toEqual([]);
  });

  it('every Dutch text has its English one, and they differ', () => {
    for (const [nl, en] of [
      [validationSubjects.nl, validationSubjects.en],
      [fieldProblemTexts.nl, fieldProblemTexts.en],
    ] as const) {
      const keys = (o: object) => textsOf(o, '').map(([at]) => at);
      expect(keys(en)).toEqual(keys(nl));
    }
    for (const p of problems) expect(problemText(p, 'en'), p.kind).not.toBe(problemText(p, 'nl'));
  });
});

describe('each problem zod reports is worded with the field it is about', () => {
  const schema = z
    .object({
      count: z.number().int().min(1).max(100),
      title: z.string().trim().min(3).max(5),
      vote: z.enum(['approve', 'reject']),
      email: z.email(),
      time: z.string().regex(/^\d\d:\d\d$/),
      tags: z.array(z.string()).min(1).max(2),
      nested: z.object({ name: z.string() }).strict(),
    })
    .strict();
  const words = (input: unknown, locale: 'nl' | 'en') => fieldIssues(schema.safeParse(input).error!, input).map((i) => issueMessage(i, locale));

  it('in Dutch', () => {
    expect(words({ count: 1.5, title: 'abcdefg', vote: 'misschien', email: 'geen', time: '7 uur', tags: [], nested: { name: 'x', nmae: 'y' }, extra: true }, 'nl')).toEqual([
      "Veld 'count': dit is geen heel getal. Gebruik alleen cijfers, zonder punten of letters.",
      "Veld 'title': dit is te lang. Gebruik hoogstens 5 tekens.",
      "Veld 'vote': deze waarde is niet toegestaan. Kies uit: approve, reject.",
      "Veld 'email': dit is geen geldig e-mailadres. Gebruik een adres zoals naam@voorbeeld.nl.",
      "Veld 'time': dit heeft niet de juiste vorm. Gebruik een tijd als UU:MM, bijvoorbeeld 19:30.",
      "Veld 'tags': dit zijn er te weinig: minstens 1.",
      "Veld 'nested.nmae': dit veld bestaat hier niet. Laat het weg of controleer de spelling.",
      "Veld 'extra': dit veld bestaat hier niet. Laat het weg of controleer de spelling.",
    ]);
    expect(words({ count: 1000000, title: '  ab ', vote: 'approve', email: 'a@b.nl', time: '19:30', tags: ['a', 'b', 'c'], nested: { name: 'x' } }, 'nl')).toEqual([
      "Veld 'count': dit getal is te groot: het mag hoogstens 100 zijn.",
      "Veld 'title': dit is te kort. Gebruik minstens 3 tekens.",
      "Veld 'tags': dit zijn er te veel: hoogstens 2.",
    ]);
    expect(words({ count: 0, title: 'abc', vote: 'approve', email: 'a@b.nl', time: '19:30', tags: ['a'] }, 'nl')).toEqual([
      "Veld 'count': dit getal is te klein: het moet minstens 1 zijn.",
      "Veld 'nested': dit ontbreekt of is leeg.",
    ]);
  });

  it('in English', () => {
    expect(words({ count: 'veel', title: 'abc', vote: 'maybe', email: 'a@b.nl', time: '19:30', tags: ['a'], nested: { name: 'x' }, extra: 1 }, 'en')).toEqual([
      "Field 'count': this is not a whole number. Use digits only, without dots or letters.",
      "Field 'vote': this value is not allowed. Choose from: approve, reject.",
      "Field 'extra': this field does not exist here. Leave it out or check the spelling.",
    ]);
  });

  it('writes numbers the way the language does', () => {
    expect(problemText({ kind: 'too_long', max: 10_000 }, 'nl')).toBe('Dit is te lang. Gebruik hoogstens 10.000 tekens.');
    expect(problemText({ kind: 'too_long', max: 10_000 }, 'en')).toBe('This is too long. Use at most 10,000 characters.');
    expect(problemText({ kind: 'too_small', min: 0.01, inclusive: true }, 'nl')).toBe('Dit getal is te klein: het moet minstens 0,01 zijn.');
  });

  it('keeps an abbreviation at the start of a rule’s text as it is', () => {
    expect(issueMessage({ path: 'iban', code: 'invalid_iban', problem: { kind: 'rule', rule: 'invalid_iban' } }, 'nl')).toBe("Veld 'iban': dit IBAN klopt niet (controlegetal of land).");
    expect(issueMessage({ path: '', code: 'invalid_type', problem: { kind: 'wrong_type', expected: 'object' } }, 'nl')).toBe('Dit moet een groep velden zijn (een object).');
  });
});
