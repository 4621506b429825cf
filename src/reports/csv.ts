/**
 * The initiatives of a year as CSV for a spreadsheet: one row per application,
 * RFC 4180 (CRLF line ends, fields with the separator, a quote, CR or LF in double
 * quotes, quotes doubled), UTF-8 with a byte order mark so Excel reads the accents.
 *
 * Defaults are for Dutch Excel, which expects `;` between fields and a decimal comma:
 * `separator=;` writes amounts as euros with a decimal comma ("1234,50"), `separator=,`
 * with a decimal point ("1234.50") — the pairs Excel uses in the Dutch and English
 * locales, so either opens with numbers it can add up. No thousands separator and no
 * currency sign (Excel would read them as text). `amounts=cents` writes integer cents
 * instead, for programs. Dates are ISO (YYYY-MM-DD), which Excel reads in any locale.
 * Column names and labels (status, decision, purposes, traffic light) are Dutch, or
 * English with `lang=en`; the status code is there too, for filtering.
 *
 * Titles come from residents: one starting with = + - @ (or a tab or CR) would be run
 * as a formula by a spreadsheet, so it gets a leading apostrophe (OWASP's advice on
 * CSV injection). No personal data: no names, addresses, e-mail or IBAN.
 */
import { Readable } from 'node:stream';
import { stringify, type Stringifier } from 'csv-stringify';
import { amsterdamDate } from '../domain/dates.ts';
import { reportCsvTexts, type Locale } from '../domain/messages.ts';
import { grantedCentsOf, outcomeOf, wijkenOf, type ReportRow } from './figures.ts';

export const csvSeparators = [';', ','] as const;
export type CsvSeparator = (typeof csvSeparators)[number];
export const csvAmountFormats = ['euros', 'cents'] as const;
export type CsvAmountFormat = (typeof csvAmountFormats)[number];

export interface CsvOptions {
  lang: Locale;
  separator: CsvSeparator;
  amounts: CsvAmountFormat;
  focusWijken: readonly string[];
}

/** Integer cents as euros with two decimals and the given decimal mark, no grouping. */
export function formatAmount(cents: number, decimalMark: ',' | '.'): string {
  const sign = cents < 0 ? '-' : '';
  const a = Math.abs(Math.round(cents));
  return `${sign}${Math.floor(a / 100)}${decimalMark}${String(a % 100).padStart(2, '0')}`;
}

/** A resident's text made safe to open in a spreadsheet (no formula). */
export function defuse(text: string): string {
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

/** The header row. */
export function csvHeader(opts: Pick<CsvOptions, 'lang' | 'amounts'>): string[] {
  const t = reportCsvTexts[opts.lang];
  const unit = opts.amounts === 'cents' ? t.unitCents : t.unitEuros;
  return [
    t.columns.reference,
    t.columns.title,
    t.columns.status,
    t.columns.statusCode,
    t.columns.submitted,
    t.columns.month,
    t.columns.wijken,
    t.columns.focus,
    t.columns.purposes,
    t.columns.activityDate,
    t.columns.budgetYear,
    t.columns.decision,
    `${t.columns.requested} (${unit})`,
    `${t.columns.granted} (${unit})`,
    `${t.columns.paid} (${unit})`,
    `${t.columns.reclaimed} (${unit})`,
    `${t.columns.refunded} (${unit})`,
    t.columns.participantsExpected,
    t.columns.volunteersExpected,
    t.columns.participantsReached,
    t.columns.volunteersReached,
    t.columns.selfAssessment,
    t.columns.trafficLight,
  ];
}

/** One application as a CSV record. */
export function csvRecord(r: ReportRow, opts: CsvOptions, focus: ReadonlySet<string>): (string | number)[] {
  const t = reportCsvTexts[opts.lang];
  const money = opts.amounts === 'cents' ? (c: number) => c : (c: number) => formatAmount(c, opts.separator === ';' ? ',' : '.');
  const outcome = outcomeOf(r);
  const wijken = wijkenOf(r);
  const submitted = Number.isFinite(r.submittedAt) ? amsterdamDate(new Date(r.submittedAt)) : '';
  return [
    r.reference,
    defuse(r.title),
    t.statuses[r.status] ?? r.status,
    r.status,
    submitted,
    submitted.slice(0, 7),
    wijken.join(', '),
    wijken.some((w) => focus.has(w)) ? t.yes : t.no,
    r.purposes.map((p) => t.purposes[p as keyof typeof t.purposes] ?? p).join(', '),
    r.activityDate ?? '',
    r.budgetYear ?? '',
    t.outcomes[outcome],
    money(r.requestedCents),
    money(grantedCentsOf(r)),
    money(r.money.paidCents),
    money(r.money.reclaimedCents),
    money(r.money.refundedCents),
    r.expectedParticipants,
    r.expectedVolunteers,
    r.report ? r.report.participants : '',
    r.report ? r.report.volunteers : '',
    r.report?.selfAssessment ? t.trafficLights[r.report.selfAssessment] : '',
    r.trafficLight ? t.trafficLights[r.trafficLight] : '',
  ];
}

/** The whole file as a stream (BOM, header, one record per row, CRLF). */
export function initiativesCsv(rows: readonly ReportRow[], opts: CsvOptions): Readable {
  const focus = new Set(opts.focusWijken);
  const stringifier: Stringifier = stringify({
    bom: true,
    delimiter: opts.separator,
    record_delimiter: 'windows',
    // csv-stringify quotes the separator, quotes and its record delimiter (CRLF) only: a lone LF or CR must be quoted too.
    quoted_match: /[\r\n]/,
  });
  function* records() {
    yield csvHeader(opts);
    for (const r of rows) yield csvRecord(r, opts, focus);
  }
  return Readable.from(records()).pipe(stringifier);
}

/** The file name offered for download. */
export function csvFileName(year: number, lang: Locale): string {
  return `${reportCsvTexts[lang].fileName}-${year}.csv`;
}
