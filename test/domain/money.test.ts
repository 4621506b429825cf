/** Money is integer euro cents; formatting is what residents and the panel read. */
import { describe, expect, it } from 'vitest';
import { formatEuros, isCents, sumCents } from '../../src/domain/money.ts';

/** Intl puts a no-break space between € and the amount (so a line never breaks there); compare it as a space. */
const seen = (s: string) => s.replace(/[\u00a0\u202f]/g, ' ');

describe('formatEuros', () => {
  it('writes Dutch amounts as "€ 1.234,50"', () => {
    expect(seen(formatEuros(123_450))).toBe('€ 1.234,50');
    expect(seen(formatEuros(123_450, 'nl'))).toBe('€ 1.234,50');
    expect(seen(formatEuros(9_000_000))).toBe('€ 90.000,00');
    expect(seen(formatEuros(3_000_000))).toBe('€ 30.000,00');
    expect(seen(formatEuros(100_000_000))).toBe('€ 1.000.000,00');
    expect(seen(formatEuros(5))).toBe('€ 0,05');
    expect(seen(formatEuros(0))).toBe('€ 0,00');
  });

  it('keeps € and the amount together with a no-break space', () => {
    const text = formatEuros(123_450);
    expect(text).not.toContain(' ');
    expect(text).toMatch(/^€[\u00a0\u202f]1\.234,50$/);
  });

  it('writes English amounts as "€1,234.50"', () => {
    expect(formatEuros(123_450, 'en')).toBe('€1,234.50');
    expect(formatEuros(9_000_000, 'en')).toBe('€90,000.00');
  });

  it('shows a negative amount (a repayment) with its sign', () => {
    expect(seen(formatEuros(-500))).toBe('€ -5,00');
    expect(formatEuros(-500, 'en')).toBe('-€5.00');
  });

  it('refuses anything that is not a whole number of cents', () => {
    expect(() => formatEuros(12.5)).toThrow(TypeError);
    expect(() => formatEuros(Number.NaN)).toThrow(TypeError);
    expect(() => formatEuros(2 ** 53)).toThrow(TypeError);
  });
});

describe('sumCents and isCents', () => {
  it('adds whole cents exactly (no floating-point drift)', () => {
    expect(sumCents([10, 20])).toBe(30);
    expect(sumCents(Array.from({ length: 1000 }, () => 10))).toBe(10_000);
    expect(sumCents([45_000, 15_050])).toBe(60_050);
    expect(sumCents([])).toBe(0);
  });

  it('refuses a fraction of a cent, naming it', () => {
    expect(() => sumCents([100, 12.5])).toThrow(/12\.5/);
    expect(() => sumCents([100, Number.POSITIVE_INFINITY])).toThrow(TypeError);
  });

  it('knows what an amount of cents is', () => {
    expect(isCents(0)).toBe(true);
    expect(isCents(-100)).toBe(true);
    expect(isCents(Number.MAX_SAFE_INTEGER)).toBe(true);
    for (const v of [0.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, '100', null, undefined, 100n]) expect(isCents(v), String(v)).toBe(false);
  });
});
