/**
 * SEPA credit-transfer batch file (ISO 20022 pain.001.001.09) for the fund's payouts.
 *
 * Pure: no I/O, no clock, no randomness. The same input always renders byte-identical XML,
 * so a batch re-rendered after a crash can be compared with the stored one by sha256.
 * Amounts are integer cents throughout (BigInt for the control sum); no floating point.
 *
 * Schema of the subset produced here: schemas/pain.001.001.09-buurtfonds.xsd.
 */
import { electronicFormatIBAN, isSEPACountry, isValidBIC, isValidIBAN } from 'ibantools';
import { create } from 'xmlbuilder2';

export interface Debtor {
  name: string;
  iban: string;
  bic?: string;
}

export interface CreditTransfer {
  /** Unique per payout, max 35 chars, SEPA character set, e.g. "BF-VW-2026-0042". */
  endToEndId: string;
  /** Positive integer euro cents. */
  amountCents: number;
  /** Account holder; any Unicode, transliterated to the SEPA character set. */
  creditorName: string;
  /** May contain spaces / lower case; written in electronic format. */
  creditorIban: string;
  /** Unstructured remittance text (max 140 after transliteration). */
  remittance: string;
}

export interface BatchInput {
  /** Max 35, SEPA character set (e.g. "PB-2026-0003"); also used as PmtInfId. */
  messageId: string;
  /** CreDtTm, written as UTC ISO 8601 without milliseconds. */
  createdAt: Date;
  /** YYYY-MM-DD. */
  requestedExecutionDate: string;
  debtor: Debtor;
  /** At least one; written in this order. */
  transfers: CreditTransfer[];
}

export interface RenderedBatch {
  xml: string;
  numberOfTransactions: number;
  controlSumCents: number;
}

export const PAIN_001_NAMESPACE = 'urn:iso:std:iso:20022:tech:xsd:pain.001.001.09';

/** EPC limits: names 70, unstructured remittance 140, identifiers 35. */
const NAME_MAX = 70;
const REMITTANCE_MAX = 140;
const ID_MAX = 35;
/** EPC maximum for one SEPA credit transfer: 999,999,999.99 EUR. */
const MAX_AMOUNT_CENTS = 99_999_999_999;

/** The SEPA (EPC) basic Latin character set. */
const SEPA_CHARS = /^[A-Za-z0-9/\-?:().,'+ ]*$/;
const SEPA_CHAR = /[A-Za-z0-9/\-?:().,'+ ]/;

/** Letters that Unicode compatibility decomposition leaves alone. */
const LETTERS: Readonly<Record<string, string>> = {
  ß: 'ss', ẞ: 'SS', æ: 'ae', Æ: 'AE', œ: 'oe', Œ: 'OE', ø: 'o', Ø: 'O',
  đ: 'd', Đ: 'D', ð: 'd', Ð: 'D', þ: 'th', Þ: 'Th', ł: 'l', Ł: 'L',
  ı: 'i', ħ: 'h', Ħ: 'H', ŧ: 't', Ŧ: 'T', ŋ: 'n', Ŋ: 'N', ĸ: 'k', ſ: 's',
};

/** Punctuation with a natural equivalent inside the character set. */
const PUNCTUATION: Readonly<Record<string, string>> = {
  '&': '+',
  '"': "'", '`': "'", '´': "'", '‘': "'", '’': "'", '‚': "'", '‛': "'", '′': "'",
  '“': "'", '”': "'", '„': "'", '«': "'", '»': "'", '‹': "'", '›': "'",
  '_': '-', '‐': '-', '‑': '-', '‒': '-', '–': '-', '—': '-', '―': '-', '−': '-',
  ';': ',', '!': '.', '€': 'EUR',
};

/**
 * SEPA restricted Latin character set: transliterate accents (é→e, ü→u, ß→ss, ĳ→ij …),
 * map some punctuation (& → +, typographic quotes → ', dashes and _ → -), replace anything
 * else outside a-z A-Z 0-9 / - ? : ( ) . , ' + space by a space, collapse and trim spaces,
 * and cut to maxLength characters (the result is ASCII, so characters = bytes).
 */
export function sepaText(value: string, maxLength: number): string {
  if (!Number.isInteger(maxLength) || maxLength < 0) throw new Error(`sepaText: invalid maxLength ${maxLength}`);
  let out = '';
  // NFKD splits é into e + combining accent, ĳ into ij, ﬁ into fi, fullwidth A into A.
  for (const ch of value.normalize('NFKD')) {
    if (SEPA_CHAR.test(ch)) out += ch;
    else if (/\p{M}/u.test(ch)) continue; // combining mark left by the decomposition
    else out += LETTERS[ch] ?? PUNCTUATION[ch] ?? ' ';
  }
  out = out.replace(/ {2,}/g, ' ').trim();
  return out.length > maxLength ? out.slice(0, maxLength).trimEnd() : out;
}

/** Identifiers: SEPA character set, 1..35, and (EPC rule) no leading/trailing '/' and no '//'. */
function checkIdentifier(what: string, id: unknown): string {
  if (typeof id !== 'string' || id.length === 0) throw new Error(`${what} is empty`);
  if (id.length > ID_MAX) throw new Error(`${what} "${id}" is longer than ${ID_MAX} characters`);
  if (!SEPA_CHARS.test(id)) throw new Error(`${what} "${id}" has characters outside the SEPA character set`);
  if (id.startsWith('/') || id.endsWith('/') || id.includes('//')) {
    throw new Error(`${what} "${id}" must not start or end with "/" or contain "//"`);
  }
  if (id !== id.trim()) throw new Error(`${what} "${id}" has leading or trailing spaces`);
  return id;
}

function checkIban(what: string, iban: unknown): string {
  const electronic = typeof iban === 'string' ? electronicFormatIBAN(iban) : null;
  if (!electronic || !isValidIBAN(electronic)) throw new Error(`${what}: invalid IBAN "${String(iban)}"`);
  if (!isSEPACountry(electronic.slice(0, 2))) throw new Error(`${what}: IBAN "${electronic}" is not in a SEPA country`);
  return electronic;
}

function checkName(what: string, name: unknown): string {
  if (typeof name !== 'string') throw new Error(`${what} is missing`);
  const text = sepaText(name, NAME_MAX);
  if (text === '') throw new Error(`${what} "${name}" is empty in the SEPA character set`);
  return text;
}

function checkDate(date: unknown): string {
  const match = typeof date === 'string' ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(date) : null;
  if (match) {
    const [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])];
    const probe = new Date(Date.UTC(y, m - 1, d));
    if (probe.getUTCFullYear() === y && probe.getUTCMonth() === m - 1 && probe.getUTCDate() === d) return date as string;
  }
  throw new Error(`requestedExecutionDate "${String(date)}" is not a valid date in YYYY-MM-DD format`);
}

function isoDateTime(date: unknown): string {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) throw new Error('createdAt is not a valid Date');
  const year = date.getUTCFullYear();
  if (year < 1000 || year > 9999) throw new Error(`createdAt ${date.toISOString()} is out of range`);
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** "123.45" from 12345n: integer arithmetic only. */
function formatAmount(cents: bigint): string {
  return `${cents / 100n}.${(cents % 100n).toString().padStart(2, '0')}`;
}

interface CheckedTransfer {
  endToEndId: string;
  amount: string;
  creditorName: string;
  creditorIban: string;
  remittance: string;
}

export function renderPain001(input: BatchInput): RenderedBatch {
  const messageId = checkIdentifier('messageId', input.messageId);
  const createdAt = isoDateTime(input.createdAt);
  const executionDate = checkDate(input.requestedExecutionDate);
  const debtorName = checkName('debtor name', input.debtor?.name);
  const debtorIban = checkIban('debtor', input.debtor?.iban);
  let debtorBic: string | undefined;
  if (input.debtor.bic !== undefined) {
    debtorBic = input.debtor.bic.replace(/\s+/g, '').toUpperCase();
    if (!isValidBIC(debtorBic)) throw new Error(`debtor: invalid BIC "${input.debtor.bic}"`);
  }

  if (!Array.isArray(input.transfers) || input.transfers.length === 0) {
    throw new Error('a batch needs at least one transfer');
  }

  const seen = new Set<string>();
  let total = 0n;
  const transfers: CheckedTransfer[] = input.transfers.map((t, i) => {
    const where = `transfer ${i + 1}`;
    const endToEndId = checkIdentifier(`${where}: endToEndId`, t.endToEndId);
    if (seen.has(endToEndId)) throw new Error(`${where}: duplicate endToEndId "${endToEndId}" in this batch`);
    seen.add(endToEndId);
    const cents = t.amountCents;
    if (typeof cents !== 'number' || !Number.isSafeInteger(cents) || cents <= 0) {
      throw new Error(`${where} (${endToEndId}): amount must be a positive integer number of cents, got ${String(cents)}`);
    }
    if (cents > MAX_AMOUNT_CENTS) {
      throw new Error(`${where} (${endToEndId}): amount ${cents} cents exceeds the SEPA maximum of 999999999.99 EUR`);
    }
    total += BigInt(cents);
    const remittance = typeof t.remittance === 'string' ? sepaText(t.remittance, REMITTANCE_MAX) : '';
    if (remittance === '') throw new Error(`${where} (${endToEndId}): remittance text is empty`);
    return {
      endToEndId,
      amount: formatAmount(BigInt(cents)),
      creditorName: checkName(`${where} (${endToEndId}): creditor name`, t.creditorName),
      creditorIban: checkIban(`${where} (${endToEndId}): creditor`, t.creditorIban),
      remittance,
    };
  });

  if (total > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error('control sum is too large');
  const numberOfTransactions = String(transfers.length);
  const controlSum = formatAmount(total);

  const doc = create({ version: '1.0', encoding: 'UTF-8' });
  const root = doc.ele(PAIN_001_NAMESPACE, 'Document').ele('CstmrCdtTrfInitn');

  root.ele('GrpHdr')
    .ele('MsgId').txt(messageId).up()
    .ele('CreDtTm').txt(createdAt).up()
    .ele('NbOfTxs').txt(numberOfTransactions).up()
    .ele('CtrlSum').txt(controlSum).up()
    .ele('InitgPty').ele('Nm').txt(debtorName);

  const pmtInf = root.ele('PmtInf');
  pmtInf
    .ele('PmtInfId').txt(messageId).up()
    .ele('PmtMtd').txt('TRF').up()
    .ele('BtchBookg').txt('true').up()
    .ele('NbOfTxs').txt(numberOfTransactions).up()
    .ele('CtrlSum').txt(controlSum).up()
    .ele('PmtTpInf').ele('SvcLvl').ele('Cd').txt('SEPA');
  pmtInf.ele('ReqdExctnDt').ele('Dt').txt(executionDate);
  pmtInf.ele('Dbtr').ele('Nm').txt(debtorName);
  pmtInf.ele('DbtrAcct').ele('Id').ele('IBAN').txt(debtorIban);
  const finInstnId = pmtInf.ele('DbtrAgt').ele('FinInstnId');
  if (debtorBic) finInstnId.ele('BICFI').txt(debtorBic);
  else finInstnId.ele('Othr').ele('Id').txt('NOTPROVIDED');
  pmtInf.ele('ChrgBr').txt('SLEV');

  for (const t of transfers) {
    const tx = pmtInf.ele('CdtTrfTxInf');
    tx.ele('PmtId').ele('EndToEndId').txt(t.endToEndId);
    tx.ele('Amt').ele('InstdAmt', { Ccy: 'EUR' }).txt(t.amount);
    tx.ele('Cdtr').ele('Nm').txt(t.creditorName);
    tx.ele('CdtrAcct').ele('Id').ele('IBAN').txt(t.creditorIban);
    tx.ele('RmtInf').ele('Ustrd').txt(t.remittance);
  }

  return {
    xml: `${doc.end({ prettyPrint: true })}\n`,
    numberOfTransactions: transfers.length,
    controlSumCents: Number(total),
  };
}
