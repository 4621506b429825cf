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

/**
 * An amount a person typed, in euros, as cents: "450", "450,50", "1.234,50" (Dutch),
 * "1234.50", "€ 12". A comma is the decimal separator and dots group thousands; without
 * a comma, a dot followed by one or two digits is a decimal point. `undefined` when it
 * is not an amount (letters, three decimals, a negative sign).
 */
export function parseEuros(text: string): Cents | undefined {
  let s = text.replace(/[€\s\u00a0]/g, '');
  if (s === '') return undefined;
  if (s.includes(',')) s = s.replace(/\./g, '').replace(',', '.');
  else if (/^\d{1,3}(\.\d{3})+$/.test(s)) s = s.replace(/\./g, '');
  const m = /^(\d+)(?:\.(\d{1,2}))?$/.exec(s);
  if (!m) return undefined;
  const cents = Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
  return Number.isSafeInteger(cents) ? cents : undefined;
}

/** Cents as a person types them back into a form: "1234,50" / "1234.50" (no currency sign, no grouping). */
export function centsToInput(cents: Cents, locale: 'nl' | 'en' = 'nl'): string {
  const whole = Math.trunc(cents / 100);
  const rest = String(Math.abs(cents % 100)).padStart(2, '0');
  return rest === '00' ? String(whole) : `${whole}${locale === 'nl' ? ',' : '.'}${rest}`;
}
