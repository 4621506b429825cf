/** The fund's calendar is Europe/Amsterdam; instants are UTC. */
import { describe, expect, it } from 'vitest';
import { amsterdamDate, amsterdamYear, formatDate, isCalendarDate } from '../../src/domain/dates.ts';

const at = (iso: string) => new Date(iso);

describe('amsterdamDate', () => {
  it('changes day at midnight in Amsterdam in winter (UTC+1)', () => {
    expect(amsterdamDate(at('2027-01-14T22:59:59.999Z'))).toBe('2027-01-14');
    expect(amsterdamDate(at('2027-01-14T23:00:00Z'))).toBe('2027-01-15');
  });

  it('changes day at midnight in Amsterdam in summer (UTC+2)', () => {
    expect(amsterdamDate(at('2027-07-14T21:59:59.999Z'))).toBe('2027-07-14');
    expect(amsterdamDate(at('2027-07-14T22:00:00Z'))).toBe('2027-07-15');
  });

  it('follows the spring change to summer time (28 March 2027, 02:00 → 03:00)', () => {
    // Midnight before the change is still at UTC+1 …
    expect(amsterdamDate(at('2027-03-27T22:59:59Z'))).toBe('2027-03-27');
    expect(amsterdamDate(at('2027-03-27T23:00:00Z'))).toBe('2027-03-28');
    // … across the change the date stays …
    expect(amsterdamDate(at('2027-03-28T00:59:59Z'))).toBe('2027-03-28');
    expect(amsterdamDate(at('2027-03-28T01:00:00Z'))).toBe('2027-03-28');
    // … and the next midnight is at UTC+2.
    expect(amsterdamDate(at('2027-03-28T21:59:59Z'))).toBe('2027-03-28');
    expect(amsterdamDate(at('2027-03-28T22:00:00Z'))).toBe('2027-03-29');
  });

  it('follows the autumn change back to winter time (31 October 2027, 03:00 → 02:00)', () => {
    expect(amsterdamDate(at('2027-10-30T21:59:59Z'))).toBe('2027-10-30');
    expect(amsterdamDate(at('2027-10-30T22:00:00Z'))).toBe('2027-10-31');
    // The repeated hour 02:00–03:00 happens twice on the 31st.
    expect(amsterdamDate(at('2027-10-31T00:30:00Z'))).toBe('2027-10-31');
    expect(amsterdamDate(at('2027-10-31T01:30:00Z'))).toBe('2027-10-31');
    expect(amsterdamDate(at('2027-10-31T22:59:59Z'))).toBe('2027-10-31');
    expect(amsterdamDate(at('2027-10-31T23:00:00Z'))).toBe('2027-11-01');
  });
});

describe('amsterdamYear', () => {
  it('starts the budget year at midnight in Amsterdam, an hour before UTC', () => {
    expect(amsterdamYear(at('2026-12-31T22:59:59Z'))).toBe(2026);
    expect(amsterdamYear(at('2026-12-31T23:00:00Z'))).toBe(2027);
  });
});

describe('formatDate', () => {
  it('writes the Amsterdam date the way residents read it', () => {
    expect(formatDate(at('2027-05-12T10:00:00Z'))).toBe('12 mei 2027');
    expect(formatDate(at('2027-05-12T10:00:00Z'), 'en')).toBe('12 May 2027');
    // 00:30 on 12 May in Amsterdam, still 11 May in UTC.
    expect(formatDate(at('2027-05-11T22:30:00Z'))).toBe('12 mei 2027');
  });
});

describe('isCalendarDate', () => {
  it('accepts real YYYY-MM-DD dates only', () => {
    expect(isCalendarDate('2027-05-01')).toBe(true);
    expect(isCalendarDate('2028-02-29')).toBe(true);
    for (const s of ['2027-02-29', '2027-13-01', '2027-04-31', '2027-00-10', '2027-5-1', '01-05-2027', '2027-05-01T00:00:00Z', '', 'morgen']) {
      expect(isCalendarDate(s), s).toBe(false);
    }
  });
});
