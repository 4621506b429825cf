/** The application form's rules (src/domain/application.ts), without any server. */
import { randomUUID } from 'node:crypto';
import { isSEPACountry } from 'ibantools';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { applicationInputSchema, WHOLE_MUNICIPALITY } from '../../src/domain/application.ts';
import { defaultWijken } from '../../src/config.ts';
import { validApplication } from '../helpers/fixtures.ts';

const NOON_NEW_YEAR_2027 = new Date('2027-01-01T12:00:00Z');

function schema(now: Date = NOON_NEW_YEAR_2027) {
  return applicationInputSchema({ wijken: defaultWijken, maxAmountCents: 3_000_000, now: () => now });
}

interface Found {
  path: string;
  code: string;
  rule?: string;
}

/** What is wrong with an application, as `{path, code, rule}` (rule = params.rule of our own checks). */
function issues(input: unknown, now?: Date): Found[] {
  const result = schema(now).safeParse(input);
  if (result.success) return [];
  return result.error.issues.map((i: z.core.$ZodIssue) => {
    const rule = i.code === 'custom' ? (i.params as { rule?: string } | undefined)?.rule : undefined;
    return { path: i.path.join('.'), code: i.code, ...(rule ? { rule } : {}) };
  });
}

function parsed(input: unknown, now?: Date) {
  const result = schema(now).safeParse(input);
  if (!result.success) throw new Error(`refused: ${JSON.stringify(result.error.issues)}`);
  return result.data;
}

/** An application asking for `cents` in one budget line. */
function asking(cents: number) {
  return validApplication({ budgetLines: [{ description: 'Huur partytent', amountCents: cents }], amountRequestedCents: cents });
}

describe('a valid application', () => {
  it('passes, with co-funding kept and the IBAN as given', () => {
    const a = parsed(validApplication());
    expect(a.title).toBe('Straatfeest Kerkstraat');
    expect(a.amountRequestedCents).toBe(60_050);
    expect(a.iban).toBe('NL91ABNA0417164300');
    expect(a.coFunding).toEqual([{ source: 'Eigen bijdrage bewoners', amountCents: 10_000 }]);
  });

  it('gets an empty co-funding list when none is given', () => {
    const { coFunding: _omitted, ...withoutCoFunding } = validApplication();
    expect(parsed(withoutCoFunding).coFunding).toEqual([]);
  });

  it('trims surrounding spaces from text fields', () => {
    expect(parsed(validApplication({ title: '  Straatfeest  ' })).title).toBe('Straatfeest');
  });
});

describe('money is whole cents', () => {
  it('refuses a fraction of a cent in the amount requested or a budget line', () => {
    expect(issues(validApplication({ amountRequestedCents: 60_050.5 }))).toEqual([
      { path: 'amountRequestedCents', code: 'invalid_type' },
    ]);
    expect(issues(validApplication({ budgetLines: [{ description: 'Huur partytent', amountCents: 12.5 }], amountRequestedCents: 12.5 }))).toEqual(
      expect.arrayContaining([{ path: 'budgetLines.0.amountCents', code: 'invalid_type' }]),
    );
  });

  it('refuses amounts sent as strings, and budget lines of zero or less', () => {
    expect(issues(validApplication({ amountRequestedCents: '60050' }))).toEqual([{ path: 'amountRequestedCents', code: 'invalid_type' }]);
    expect(issues(asking(0)).map((i) => i.path)).toEqual(expect.arrayContaining(['budgetLines.0.amountCents', 'amountRequestedCents']));
    expect(issues(asking(-100)).map((i) => i.path)).toContain('budgetLines.0.amountCents');
  });

  it('needs the budget lines to add up to exactly the amount requested', () => {
    expect(issues(validApplication({ amountRequestedCents: 60_049 }))).toEqual([
      { path: 'budgetLines', code: 'custom', rule: 'budget_lines_sum_mismatch' },
    ]);
    expect(issues(validApplication({ amountRequestedCents: 60_051 }))).toEqual([
      { path: 'budgetLines', code: 'custom', rule: 'budget_lines_sum_mismatch' },
    ]);
  });

  it('allows at most EUR 30,000 per application', () => {
    expect(issues(asking(3_000_000))).toEqual([]);
    expect(issues(asking(3_000_001))).toEqual([{ path: 'amountRequestedCents', code: 'custom', rule: 'amount_above_maximum' }]);
  });
});

describe('activity dates', () => {
  const on = (startDate: string, endDate = startDate) =>
    validApplication({ activity: { startDate, endDate, location: 'Kerkstraat' } });

  it('accepts an activity today or later, refuses one in the past', () => {
    expect(issues(on('2027-01-01'))).toEqual([]);
    expect(issues(on('2026-12-31'))).toEqual([{ path: 'activity.startDate', code: 'custom', rule: 'activity_in_past' }]);
  });

  it('takes "today" from the Amsterdam calendar, not from UTC', () => {
    // 00:30 on 1 April 2027 in Amsterdam (summer time, UTC+2) is still 31 March in UTC.
    const justAfterMidnight = new Date('2027-03-31T22:30:00Z');
    expect(issues(on('2027-03-31'), justAfterMidnight)).toEqual([{ path: 'activity.startDate', code: 'custom', rule: 'activity_in_past' }]);
    expect(issues(on('2027-04-01'), justAfterMidnight)).toEqual([]);
    // And in winter (UTC+1): 00:15 on 15 January in Amsterdam.
    const winterNight = new Date('2027-01-14T23:15:00Z');
    expect(issues(on('2027-01-14'), winterNight)).toEqual([{ path: 'activity.startDate', code: 'custom', rule: 'activity_in_past' }]);
    expect(issues(on('2027-01-15'), winterNight)).toEqual([]);
  });

  it('refuses an end before the start, allows a period', () => {
    expect(issues(on('2027-05-02', '2027-05-01'))).toEqual([{ path: 'activity.endDate', code: 'custom', rule: 'end_before_start' }]);
    expect(issues(on('2027-05-01', '2027-05-03'))).toEqual([]);
  });

  it('refuses dates that are not real calendar dates', () => {
    expect(issues(on('2027-02-29'))).toEqual(
      expect.arrayContaining([{ path: 'activity.startDate', code: 'custom', rule: 'invalid_date' }]),
    );
    expect(issues(on('1-5-2027'))).toEqual(
      expect.arrayContaining([{ path: 'activity.startDate', code: 'custom', rule: 'invalid_date' }]),
    );
    expect(issues(on('2028-02-29'))).toEqual([]);
  });
});

describe('IBAN', () => {
  const withIban = (iban: string) => validApplication({ iban });

  it.each([
    ['NL', 'NL91ABNA0417164300'],
    ['DE', 'DE89370400440532013000'],
    ['BE', 'BE68539007547034'],
    ['CH (SEPA, not EU)', 'CH9300762011623852957'],
  ])('accepts a valid %s IBAN', (_country, iban) => {
    expect(issues(withIban(iban))).toEqual([]);
  });

  it('refuses a wrong check digit', () => {
    expect(issues(withIban('NL92ABNA0417164300'))).toEqual([{ path: 'iban', code: 'custom', rule: 'invalid_iban' }]);
    expect(issues(withIban('NL91ABNA0417164301'))).toEqual([{ path: 'iban', code: 'custom', rule: 'invalid_iban' }]);
    expect(issues(withIban('not an iban'))).toEqual([{ path: 'iban', code: 'custom', rule: 'invalid_iban' }]);
  });

  it('refuses a valid IBAN from outside SEPA', () => {
    expect(isSEPACountry('TR')).toBe(false);
    expect(isSEPACountry('BR')).toBe(false);
    expect(issues(withIban('TR330006100519786457841326'))).toEqual([{ path: 'iban', code: 'custom', rule: 'iban_not_sepa' }]);
    expect(issues(withIban('BR1800360305000010009795493C1'))).toEqual([{ path: 'iban', code: 'custom', rule: 'iban_not_sepa' }]);
  });

  it('stores an IBAN typed with spaces, dashes or lower case in electronic format', () => {
    expect(parsed(withIban('nl91 abna 0417 1643 00')).iban).toBe('NL91ABNA0417164300');
    expect(parsed(withIban(' NL91-ABNA-0417-1643-00 ')).iban).toBe('NL91ABNA0417164300');
  });
});

describe('wijken', () => {
  it('refuses a wijk the fund does not know, pointing at the entry', () => {
    expect(issues(validApplication({ wijken: ['Voorburg-Midden', 'Atlantis'] }))).toEqual([
      { path: 'wijken.1', code: 'custom', rule: 'unknown_wijk' },
    ]);
  });

  it('allows the whole municipality, alone or with wijken', () => {
    expect(WHOLE_MUNICIPALITY).toBe('Gemeentebreed');
    expect(issues(validApplication({ wijken: ['Gemeentebreed'] }))).toEqual([]);
    expect(issues(validApplication({ wijken: ['Bovenveen', 'Gemeentebreed'] }))).toEqual([]);
  });

  it('refuses the same wijk twice and an empty list', () => {
    expect(issues(validApplication({ wijken: ['Bovenveen', 'Bovenveen'] }))).toEqual([{ path: 'wijken', code: 'custom', rule: 'duplicate_value' }]);
    expect(issues(validApplication({ wijken: [] }))).toEqual([{ path: 'wijken', code: 'too_small' }]);
  });

  it('follows the configured list', () => {
    const custom = applicationInputSchema({ wijken: ['Noord'], maxAmountCents: 3_000_000, now: () => NOON_NEW_YEAR_2027 });
    expect(custom.safeParse(validApplication({ wijken: ['Noord'] })).success).toBe(true);
    expect(custom.safeParse(validApplication({ wijken: ['Voorburg-Midden'] })).success).toBe(false);
  });
});

describe('consent, support and earlier applications', () => {
  it('needs privacy consent', () => {
    expect(issues(validApplication({ privacyConsent: false }))).toEqual([{ path: 'privacyConsent', code: 'custom', rule: 'consent_required' }]);
  });

  it('needs to know what help is wanted when support is asked for', () => {
    const { supportWish: _omitted, ...withoutWish } = validApplication();
    expect(issues({ ...withoutWish, wantsSupport: true })).toEqual([{ path: 'supportWish', code: 'custom', rule: 'support_wish_required' }]);
    expect(issues({ ...withoutWish, wantsSupport: false })).toEqual([]);
  });

  it('needs to know what changed when it refers to an earlier application', () => {
    const previousApplicationId = randomUUID();
    expect(issues(validApplication({ previousApplicationId }))).toEqual([
      { path: 'whatChanged', code: 'custom', rule: 'what_changed_required' },
    ]);
    expect(issues(validApplication({ previousApplicationId, whatChanged: 'Kleinere begroting, andere locatie' }))).toEqual([]);
    expect(issues(validApplication({ previousApplicationId: 'VW-2026-0001', whatChanged: 'x' })).map((i) => i.path)).toEqual([
      'previousApplicationId',
    ]);
  });

  it('reports every broken rule at once', () => {
    const { supportWish: _omitted, ...withoutWish } = validApplication();
    const found = issues({ ...withoutWish, privacyConsent: false, amountRequestedCents: 1, iban: 'TR330006100519786457841326' });
    expect(found.map((i) => i.rule).sort()).toEqual(['budget_lines_sum_mismatch', 'consent_required', 'iban_not_sepa', 'support_wish_required']);
  });
});

describe('the form is strict', () => {
  it('refuses fields it does not know', () => {
    expect(issues(validApplication({ status: 'approved' }))).toEqual([{ path: '', code: 'unrecognized_keys' }]);
  });

  it('refuses unknown fields in nested objects too, so a misspelt optional field is not lost silently', () => {
    const applicant = validApplication().applicant;
    expect(issues(validApplication({ applicant: { ...applicant, organization: 'Buurtvereniging' } }))).toEqual([
      { path: 'applicant', code: 'unrecognized_keys' },
    ]);
    expect(issues(validApplication({ applicant: { ...applicant, address: { ...applicant.address, country: 'NL' } } }))).toEqual([
      { path: 'applicant.address', code: 'unrecognized_keys' },
    ]);
    expect(issues(validApplication({ activity: { startDate: '2027-05-01', endDate: '2027-05-01', location: 'Kerkstraat', time: '14:00' } }))).toEqual([
      { path: 'activity', code: 'unrecognized_keys' },
    ]);
    expect(issues(validApplication({ budgetLines: [{ description: 'Huur partytent', amountCents: 60_050, vat: 0 }] }))).toEqual([
      { path: 'budgetLines.0', code: 'unrecognized_keys' },
    ]);
    expect(issues(validApplication({ coFunding: [{ source: 'Eigen bijdrage', amountCents: 100, confirmed: true }] }))).toEqual([
      { path: 'coFunding.0', code: 'unrecognized_keys' },
    ]);
    expect(parsed(validApplication({ applicant: { ...applicant, organisation: 'Buurtvereniging' } })).applicant.organisation).toBe('Buurtvereniging');
  });

  it('refuses a missing required field', () => {
    const { title: _omitted, ...withoutTitle } = validApplication();
    expect(issues(withoutTitle)).toEqual([{ path: 'title', code: 'invalid_type' }]);
  });

  it('refuses an unknown purpose', () => {
    expect(issues(validApplication({ purposes: ['profit'] })).map((i) => i.path)).toEqual(['purposes.0']);
  });
});
