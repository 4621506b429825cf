/** The pages compressed from pieces are valid gzip of exactly the page, whatever goes in the slots. */
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { cachePage, fillPage, slot } from '../../src/web/page-cache.ts';

describe('cached pages filled per request', () => {
  it('gunzips to the page with its values, for pages with no, one, adjacent and repeated slots', () => {
    const long = '<p>Één straatfeest — € 1.234,50</p>'.repeat(500);
    const cases: [string, string[]][] = [
      [`<html>${long}</html>`, []],
      [`<form><input value="${slot(0)}"><input value="${slot(1)}">${long}</form>`, ['token-abc', 'key-123']],
      [`${slot(0)}${slot(1)}${long}${slot(0)}`, ['ä', '']],
      [`${long}<b>${slot(0)}</b>`, ['x'.repeat(70_000)]],
    ];
    for (const [template, values] of cases) {
      const expected = template.replace(/\u0001slot(\d+)\u0001/g, (_m, n: string) => values[Number(n)] ?? '');
      const filled = fillPage(cachePage(template), values);
      expect(filled.html().toString('utf8')).toBe(expected);
      expect(gunzipSync(filled.gzip()).toString('utf8')).toBe(expected);
    }
  });

  it('sends far fewer bytes than the page', () => {
    const page = cachePage(`<main>${'<p class="utrecht-paragraph">Vul uw naam in.</p>'.repeat(400)}<input value="${slot(0)}"></main>`);
    const filled = fillPage(page, ['t'.repeat(40)]);
    expect(filled.gzip().length).toBeLessThan(filled.html().length / 10);
  });
});
