import { z } from 'zod';
import { electronicFormatIBAN, isSEPACountry, validateIBAN } from 'ibantools';
import { amsterdamDate, isCalendarDate } from './dates.ts';
import { isCents, sumCents } from './money.ts';
import type { RuleCode } from './messages.ts';

export const purposes = ['cohesion', 'safety', 'liveability'] as const;
export const WHOLE_MUNICIPALITY = 'Gemeentebreed';

export interface ApplicationRules {
  /** Configured wijken; "Gemeentebreed" is always allowed. */
  wijken: readonly string[];
  /** Maximum per application, in cents (municipal subsidy regulation: EUR 30,000). */
  maxAmountCents: number;
  /** Clock for "activity not in the past"; the Amsterdam calendar date of now() is "today". */
  now: () => Date;
}

const cents = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const text = (max: number) => z.string().trim().min(1).max(max);

function rule(ctx: z.RefinementCtx, path: (string | number)[], code: RuleCode): void {
  ctx.addIssue({ code: 'custom', path, params: { rule: code }, message: code });
}

// Nested objects are strict too: a misspelt optional field (organization) must not vanish silently.
export const addressSchema = z
  .object({
    street: text(200),
    postalCode: z.string().trim().regex(/^[A-Za-z0-9][A-Za-z0-9 -]{2,9}$/),
    city: text(100),
  })
  .strict();

export const applicantSchema = z
  .object({
    name: text(200),
    email: z.email().max(254),
    phone: z.string().trim().regex(/^\+?[0-9][0-9 ()-]{5,19}$/),
    address: addressSchema,
    organisation: text(200).optional(),
  })
  .strict();

export const budgetLineSchema = z
  .object({
    description: text(300),
    amountCents: cents.min(1),
  })
  .strict();

export const coFundingSchema = z
  .object({
    source: text(300),
    amountCents: cents,
  })
  .strict();

/** A real calendar date, YYYY-MM-DD. */
export const calendarDateSchema = z.string().refine(isCalendarDate, { params: { rule: 'invalid_date' }, message: 'invalid_date' });

export const activitySchema = z
  .object({
    startDate: calendarDateSchema,
    endDate: calendarDateSchema,
    location: text(300),
  })
  .strict();

/** The application form, as the API contract in ARCHITECTURE.md names its fields. */
export function applicationInputSchema(rules: ApplicationRules) {
  const allowedWijken = new Set([...rules.wijken, WHOLE_MUNICIPALITY]);
  return z
    .object({
      applicant: applicantSchema,
      title: text(200),
      description: text(10_000),
      purposes: z.array(z.enum(purposes)).min(1).max(purposes.length),
      wijken: z.array(text(100)).min(1).max(allowedWijken.size),
      targetGroup: text(500),
      expectedParticipants: z.number().int().min(1).max(1_000_000),
      volunteers: z.number().int().min(0).max(100_000),
      activity: activitySchema,
      budgetLines: z.array(budgetLineSchema).min(1).max(100),
      amountRequestedCents: cents.min(1),
      coFunding: z.array(coFundingSchema).max(50).default([]),
      wantsSupport: z.boolean(),
      supportWish: text(2_000).optional(),
      iban: z.string().max(50),
      accountHolder: text(200),
      privacyConsent: z.boolean(),
      previousApplicationId: z.string().uuid().optional(),
      whatChanged: text(5_000).optional(),
    })
    .strict()
    .superRefine((a, ctx) => {
      if (new Set(a.purposes).size !== a.purposes.length) rule(ctx, ['purposes'], 'duplicate_value');
      if (new Set(a.wijken).size !== a.wijken.length) rule(ctx, ['wijken'], 'duplicate_value');
      a.wijken.forEach((w, i) => {
        if (!allowedWijken.has(w)) rule(ctx, ['wijken', i], 'unknown_wijk');
      });
      if (a.amountRequestedCents > rules.maxAmountCents) rule(ctx, ['amountRequestedCents'], 'amount_above_maximum');
      // zod runs this even when a line's amount already failed its check (e.g. above
      // MAX_SAFE_INTEGER): then there is no sum to compare, and sumCents would throw.
      const lineAmounts = a.budgetLines.map((l) => l.amountCents);
      if (lineAmounts.every(isCents) && sumCents(lineAmounts) !== a.amountRequestedCents) {
        rule(ctx, ['budgetLines'], 'budget_lines_sum_mismatch');
      }
      if (isCalendarDate(a.activity.startDate) && isCalendarDate(a.activity.endDate)) {
        if (a.activity.startDate < amsterdamDate(rules.now())) rule(ctx, ['activity', 'startDate'], 'activity_in_past');
        if (a.activity.endDate < a.activity.startDate) rule(ctx, ['activity', 'endDate'], 'end_before_start');
      }
      const iban = electronicFormatIBAN(a.iban) ?? '';
      if (!validateIBAN(iban).valid) rule(ctx, ['iban'], 'invalid_iban');
      else if (!isSEPACountry(iban.slice(0, 2))) rule(ctx, ['iban'], 'iban_not_sepa');
      if (a.privacyConsent !== true) rule(ctx, ['privacyConsent'], 'consent_required');
      if (a.wantsSupport && !a.supportWish) rule(ctx, ['supportWish'], 'support_wish_required');
      if (a.previousApplicationId && !a.whatChanged) rule(ctx, ['whatChanged'], 'what_changed_required');
    })
    .transform((a) => ({ ...a, iban: electronicFormatIBAN(a.iban) ?? a.iban }));
}

export type ApplicationInput = z.output<ReturnType<typeof applicationInputSchema>>;

export const informationRequestInputSchema = z
  .object({
    missing: text(5_000),
    deadlineDays: z.number().int().min(1).max(90).optional(),
  })
  .strict();

export const informationAnswerSchema = z
  .object({
    answer: text(10_000).optional(),
  })
  .strict();

export const withdrawInputSchema = z.object({ reason: text(2_000).optional() }).strict();

/** Reference shown to residents: VW-2026-0042, sequential per year. */
export function formatReference(prefix: string, year: number, sequence: number): string {
  return `${prefix}-${year}-${String(sequence).padStart(4, '0')}`;
}

/** The business id of an application's workflow. */
export const initiativeWorkflowId = (applicationId: string) => `initiative-${applicationId}`;

/** The budget year an activity is charged to: the year of its (first) date. */
export function activityYear(activity: { startDate: string }): number {
  return Number(activity.startDate.slice(0, 4));
}
