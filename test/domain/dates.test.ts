/** The fund's calendar is Europe/Amsterdam; instants are UTC. */
import { describe, expect, it } from 'vitest';
import { addCalendarDays, amsterdamDate, amsterdamYear, DAY_MS, endOfAmsterdamDay, formatDate, formatDeadline, isCalendarDate, startOfAmsterdamDay } from '../../src/domain/dates.ts';
import { instantAt } from '../helpers/summer-time.ts';

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

describe('addCalendarDays', () => {
  it('counts calendar days across months, years and 29 February, forwards and back', () => {
    expect(addCalendarDays('2027-03-27', 14)).toBe('2027-04-10');
    expect(addCalendarDays('2027-12-25', 14)).toBe('2028-01-08');
    expect(addCalendarDays('2028-02-28', 1)).toBe('2028-02-29');
    expect(addCalendarDays('2027-02-28', 1)).toBe('2027-03-01');
    expect(addCalendarDays('2027-03-01', -1)).toBe('2027-02-28');
    expect(addCalendarDays('2027-10-31', 0)).toBe('2027-10-31');
  });
});

describe('startOfAmsterdamDay', () => {
  it('is 00:00 in Amsterdam: 23:00Z the day before in winter, 22:00Z in summer, on both sides of each change', () => {
    expect(startOfAmsterdamDay('2027-03-28').toISOString()).toBe('2027-03-27T23:00:00.000Z'); // the day of the change starts in winter time
    expect(startOfAmsterdamDay('2027-03-29').toISOString()).toBe('2027-03-28T22:00:00.000Z');
    expect(startOfAmsterdamDay('2027-10-31').toISOString()).toBe('2027-10-30T22:00:00.000Z'); // … and this one in summer time
    expect(startOfAmsterdamDay('2027-11-01').toISOString()).toBe('2027-10-31T23:00:00.000Z');
  });
});

/** 23:59:59.999 on `day` at a UTC offset of `offset` hours, written down by hand (not computed by the code under test). */
const lastInstant = (day: string, offset: 1 | 2) => new Date(instantAt(day, '23:59:59.999', offset)).toISOString();

describe('endOfAmsterdamDay', () => {
  it('is the last millisecond of the day in Amsterdam, in winter (UTC+1) and in summer (UTC+2)', () => {
    expect(endOfAmsterdamDay('2027-01-14').toISOString()).toBe('2027-01-14T22:59:59.999Z');
    expect(endOfAmsterdamDay('2027-07-14').toISOString()).toBe('2027-07-14T21:59:59.999Z');
    expect(endOfAmsterdamDay('2027-01-14', 3).toISOString()).toBe(lastInstant('2027-01-17', 1));
  });

  it('counts from the Amsterdam day of an instant, not its UTC day', () => {
    // 00:30 on 15 January in Amsterdam is still the 14th in UTC.
    expect(endOfAmsterdamDay(at('2027-01-14T23:30:00Z')).toISOString()).toBe(lastInstant('2027-01-15', 1));
    // 23:30 on 14 July in Amsterdam (21:30Z) and 00:00 on 15 July (22:00Z).
    expect(endOfAmsterdamDay(at('2027-07-14T21:30:00Z'), 1).toISOString()).toBe(lastInstant('2027-07-15', 2));
    expect(endOfAmsterdamDay(at('2027-07-14T22:00:00Z'), 1).toISOString()).toBe(lastInstant('2027-07-16', 2));
  });

  describe('across the change to summer time (Sunday 28 March 2027: a day of 23 hours)', () => {
    const saturdayEvening = at('2027-03-27T22:30:00Z'); // 23:30 CET on the Saturday before

    it('a deadline set the day before that ends on the day of the change: 23 hours after the Saturday ends', () => {
      expect(endOfAmsterdamDay(saturdayEvening).toISOString()).toBe(lastInstant('2027-03-27', 1));
      expect(endOfAmsterdamDay(saturdayEvening, 1).toISOString()).toBe(lastInstant('2027-03-28', 2));
      expect(endOfAmsterdamDay(saturdayEvening, 1).getTime() - endOfAmsterdamDay(saturdayEvening).getTime()).toBe(23 * 60 * 60 * 1000);
    });

    it('a deadline set the day before that ends the day after the change', () => {
      expect(endOfAmsterdamDay(saturdayEvening, 2).toISOString()).toBe(lastInstant('2027-03-29', 2));
      expect(endOfAmsterdamDay('2027-03-27', 2).toISOString()).toBe('2027-03-29T21:59:59.999Z');
    });

    it('14 days from the Saturday evening end on Saturday 10 April at midnight, where 14 × 24 h would land on the 11th', () => {
      const deadline = endOfAmsterdamDay(saturdayEvening, 14);
      expect(deadline.toISOString()).toBe('2027-04-10T21:59:59.999Z');
      expect(formatDate(deadline)).toBe('10 april 2027');
      expect(amsterdamDate(new Date(saturdayEvening.getTime() + 14 * DAY_MS))).toBe('2027-04-11'); // the old rule: a day off
    });

    it('a deadline set on the day of the change itself, before and after 02:00', () => {
      expect(endOfAmsterdamDay(at('2027-03-28T00:30:00Z'), 7).toISOString()).toBe(lastInstant('2027-04-04', 2)); // 01:30 CET
      expect(endOfAmsterdamDay(at('2027-03-28T01:30:00Z'), 7).toISOString()).toBe(lastInstant('2027-04-04', 2)); // 03:30 CEST
    });
  });

  describe('across the change to winter time (Sunday 31 October 2027: a day of 25 hours)', () => {
    const saturdayEvening = at('2027-10-30T21:30:00Z'); // 23:30 CEST on the Saturday before

    it('a deadline set the day before that ends on the day of the change: 25 hours after the Saturday ends', () => {
      expect(endOfAmsterdamDay(saturdayEvening).toISOString()).toBe(lastInstant('2027-10-30', 2));
      expect(endOfAmsterdamDay(saturdayEvening, 1).toISOString()).toBe(lastInstant('2027-10-31', 1));
      expect(endOfAmsterdamDay(saturdayEvening, 1).getTime() - endOfAmsterdamDay(saturdayEvening).getTime()).toBe(25 * 60 * 60 * 1000);
    });

    it('a deadline set the day before that ends the day after the change', () => {
      expect(endOfAmsterdamDay(saturdayEvening, 2).toISOString()).toBe(lastInstant('2027-11-01', 1));
    });

    it('14 days from the Saturday evening end on Saturday 13 November at midnight, where 14 × 24 h end an hour and a half early', () => {
      const deadline = endOfAmsterdamDay(saturdayEvening, 14);
      expect(deadline.toISOString()).toBe('2027-11-13T22:59:59.999Z');
      expect(formatDate(deadline, 'en')).toBe('13 November 2027');
      expect(deadline.getTime() - (saturdayEvening.getTime() + 14 * DAY_MS)).toBe(90 * 60 * 1000 - 1);
    });

    it('an instant in the hour that happens twice counts as the Sunday both times', () => {
      expect(endOfAmsterdamDay(at('2027-10-31T00:30:00Z')).toISOString()).toBe(lastInstant('2027-10-31', 1)); // 02:30 CEST
      expect(endOfAmsterdamDay(at('2027-10-31T01:30:00Z')).toISOString()).toBe(lastInstant('2027-10-31', 1)); // 02:30 CET
    });
  });

  it('the 2026 changes too (29 March, 25 October)', () => {
    expect(endOfAmsterdamDay('2026-03-28', 14).toISOString()).toBe(lastInstant('2026-04-11', 2));
    expect(endOfAmsterdamDay('2026-03-28', 1).toISOString()).toBe(lastInstant('2026-03-29', 2));
    expect(endOfAmsterdamDay('2026-10-24', 1).toISOString()).toBe(lastInstant('2026-10-25', 1));
    expect(endOfAmsterdamDay('2026-10-24', 14).toISOString()).toBe(lastInstant('2026-11-07', 1));
  });

  it('on every day of 2026–2028 ends on the named Amsterdam day, and the next millisecond is the next day', () => {
    for (let day = '2026-01-01'; day < '2029-01-01'; day = addCalendarDays(day, 1)) {
      const end = endOfAmsterdamDay(day).getTime();
      expect(amsterdamDate(new Date(end)), day).toBe(day);
      expect(amsterdamDate(new Date(end + 1)), day).toBe(addCalendarDays(day, 1));
      expect(endOfAmsterdamDay(new Date(end)).getTime(), day).toBe(end); // an instant on the day counts as that day
    }
  });
});

describe('formatDeadline', () => {
  it('names the day a deadline ends on, in Dutch and English', () => {
    expect(formatDeadline(endOfAmsterdamDay('2027-04-10'))).toBe('10 april 2027');
    expect(formatDeadline(endOfAmsterdamDay('2027-11-13').toISOString(), 'en')).toBe('13 November 2027');
  });

  it('names the last day of a term stored as the midnight after it (report due dates set before end-of-day deadlines)', () => {
    expect(formatDeadline(startOfAmsterdamDay('2027-04-11'))).toBe('10 april 2027');
  });

  it('names the day of a deadline set as days × 24 h (information requests before end-of-day deadlines)', () => {
    expect(formatDeadline('2027-04-10T09:00:00.000Z')).toBe('10 april 2027');
  });
});
