/**
 * The Message-ID of an outbox row (src/mail/message-id.ts): readable for our keys, an
 * RFC 5322 msg-id for any key, and injective: read back, it gives the key, so two rows
 * never share one (the old `key.replace(/[^A-Za-z0-9.-]/g, '.')` gave `a:b`, `a.b` and
 * `a/b` the same).
 */
import { describe, expect, it } from 'vitest';
import { mailDomain, outboxMessageId } from '../../src/mail/message-id.ts';

// RFC 5322 §3.6.4: msg-id = "<" id-left "@" id-right ">"; id-left = dot-atom-text; id-right = dot-atom-text / no-fold-literal.
const atext = "[A-Za-z0-9!#$%&'*+\\-/=?^_`{|}~]";
const dotAtom = `${atext}+(?:\\.${atext}+)*`;
const msgId = new RegExp(`^<${dotAtom}@(?:${dotAtom}|\\[[\\x21-\\x5a\\x5e-\\x7e]*\\])>$`);

/** The reading back the module describes: "." is ":", "=XX" is the byte XX, anything else is itself. */
function keyOf(id: string): string {
  const left = id.slice(1, id.lastIndexOf('@'));
  const bytes: number[] = [];
  for (let i = 0; i < left.length; i++) {
    if (left[i] === '.') bytes.push(0x3a);
    else if (left[i] === '=') {
      bytes.push(parseInt(left.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(left.charCodeAt(i));
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Every string of up to `n` characters from `alphabet`. */
function* strings(alphabet: string[], n: number, prefix = ''): Generator<string> {
  if (prefix !== '') yield prefix;
  if (prefix.length === n) return;
  for (const c of alphabet) yield* strings(alphabet, n, prefix + c);
}

describe('outboxMessageId', () => {
  it('keeps our keys readable: the key with ":" as "." at the host of the public base URL', () => {
    const id = '0b6f2a4e-8c1d-4d7e-9f3a-2b5c6d7e8f90';
    expect(outboxMessageId(`${id}:confirmation`, 'buurtfonds.test')).toBe(`<${id}.confirmation@buurtfonds.test>`);
    expect(outboxMessageId(`${id}:decision:meeting-2027-03-04`, 'buurtfonds.test')).toBe(`<${id}.decision.meeting-2027-03-04@buurtfonds.test>`);
    expect(outboxMessageId(`${id}:report_received:2027-05-01T10:00:00.000Z`, 'x.nl')).toBe(`<${id}.report_received.2027-05-01T10.00.00=2E000Z@x.nl>`);
    expect(mailDomain('http://buurtfonds.test')).toBe('buurtfonds.test');
    expect(mailDomain('https://subsidie.gemeente.nl:8443/buurtfonds')).toBe('subsidie.gemeente.nl');
  });

  it('gives the keys the old Message-IDs confused each their own', () => {
    const keys = ['a:b', 'a.b', 'a/b', 'a b', 'a=2Eb', 'a=3Ab', 'a:b:', 'a::b', ':a:b'];
    const ids = keys.map((k) => outboxMessageId(k, 'buurtfonds.test'));
    expect(new Set(ids).size).toBe(keys.length);
    expect(ids.slice(0, 4)).toEqual(['<a.b@buurtfonds.test>', '<a=2Eb@buurtfonds.test>', '<a=2Fb@buurtfonds.test>', '<a=20b@buurtfonds.test>']);
  });

  it('is a valid msg-id that reads back to its key, for every key of up to 4 characters of separators, escapes and non-ASCII', () => {
    const alphabet = ['a', 'Z', '7', '-', '_', ':', '.', '=', ' ', '@', '<', '"', 'é', '€', '\n'];
    const seen = new Map<string, string>();
    for (const key of strings(alphabet, 4)) {
      const id = outboxMessageId(key, 'buurtfonds.test');
      expect(id, JSON.stringify(key)).toMatch(msgId);
      expect(keyOf(id), JSON.stringify(key)).toBe(key);
      expect(seen.get(id), `${JSON.stringify(key)} and ${JSON.stringify(seen.get(id))}`).toBeUndefined();
      seen.set(id, key);
    }
    expect(seen.size).toBe((15 ** 5 - 1) / 14 - 1); // 15 + 15² + 15³ + 15⁴ keys
    expect(outboxMessageId('a', '[::1]')).toMatch(msgId);
    expect(mailDomain('http://[::1]:3000')).toBe('[::1]');
    expect(() => outboxMessageId('', 'buurtfonds.test')).toThrow(/never empty/);
  });
});
