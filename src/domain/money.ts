/** Money is integer euro cents everywhere; these helpers only check and format. */

export type Cents = number;

export function isCents(value: unknown): value is Cents {
  return typeof value === 'number' && Number.isSafeInteger(value);
}

export function sumCents(amounts: readonly Cents[]): Cents {
  let total = 0;
  for (const a of amounts) {
    if (!isCents(a)) throw new TypeError(`not an integer amount of cents: ${a}`);
    total += a;
  }
  return total;
}

const formatters = {
  nl: new Intl.NumberFormat('nl-NL', { style: 'currency', currency: 'EUR' }),
  en: new Intl.NumberFormat('en-IE', { style: 'currency', currency: 'EUR' }),
} as const;

/** "€ 1.234,50" in Dutch, "€1,234.50" in English. */
export function formatEuros(cents: Cents, locale: 'nl' | 'en' = 'nl'): string {
  if (!isCents(cents)) throw new TypeError(`not an integer amount of cents: ${cents}`);
  return formatters[locale].format(cents / 100);
}
