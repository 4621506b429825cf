/** The SEPA credit-transfer file (pain.001.001.09): validated against our schema of the subset we produce. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isValidIBAN } from 'ibantools';
import { describe, expect, it } from 'vitest';
import { validateXML } from 'xmllint-wasm';
import { type BatchInput, type CreditTransfer, renderPain001, sepaText } from '../../src/payouts/sepa.ts';

const XSD_NAME = 'pain.001.001.09-buurtfonds.xsd';
const xsd = readFileSync(new URL(`../../schemas/${XSD_NAME}`, import.meta.url), 'utf8');

async function schemaErrors(xml: string): Promise<string[]> {
  const result = await validateXML({
    xml: [{ fileName: 'batch.xml', contents: xml }],
    schema: [{ fileName: XSD_NAME, contents: xsd }],
  });
  return result.valid ? [] : result.errors.map((e) => e.rawMessage);
}

/** All values of one element, in document order. */
const values = (xml: string, tag: string) =>
  [...xml.matchAll(new RegExp(`<${tag}(?: [^>]*)?>([^<]*)</${tag}>`, 'g'))].map((m) => m[1]);

/** A valid Dutch IBAN for account number n (ISO 7064 mod 97-10 check digits). */
function nlIban(n: number): string {
  const bban = `BUNQ${String(n).padStart(10, '0')}`;
  const digits = [...`${bban}NL00`].map((c) => (/[A-Z]/.test(c) ? String(c.charCodeAt(0) - 55) : c)).join('');
  const check = String(98n - (BigInt(digits) % 97n)).padStart(2, '0');
  return `NL${check}${bban}`;
}

const debtor = { name: 'Gemeente Bovenveen', iban: 'NL91ABNA0417164300', bic: 'ABNANL2A' };

function transfer(n: number, over: Partial<CreditTransfer> = {}): CreditTransfer {
  const id = `VW-2026-${String(n).padStart(4, '0')}`;
  return {
    endToEndId: `BF-${id}`,
    amountCents: 10_000 + n,
    creditorName: `Bewoner ${n}`,
    creditorIban: nlIban(n),
    remittance: `Buurtfonds ${id} Straatfeest Bovenveen`,
    ...over,
  };
}

function batch(transfers: CreditTransfer[], over: Partial<BatchInput> = {}): BatchInput {
  return {
    messageId: 'PB-2026-0003',
    createdAt: new Date('2026-03-01T09:30:15.123Z'),
    requestedExecutionDate: '2026-03-03',
    debtor,
    transfers,
    ...over,
  };
}

const threeTransfers = [
  transfer(42, {
    amountCents: 12_345,
    creditorName: "Zoë Çelik-d'Hondt & Zn.",
    creditorIban: 'de89 3704 0044 0532 0130 00',
    remittance: 'Buurtfonds VW-2026-0042 Straatfeest Bovenveen',
  }),
  transfer(43, { amountCents: 1, creditorName: 'Jörg Straße 🎉 “Buurtkamer” <Oost>' }),
  transfer(44, { amountCents: 9_000_000, creditorIban: ' nl91 abna 0417 1643 00 ' }),
];

describe('renderPain001', () => {
  it('writes exactly the expected pain.001.001.09 document, valid against the schema', async () => {
    const { xml, numberOfTransactions, controlSumCents } = renderPain001(batch([threeTransfers[0]!]));
    expect(numberOfTransactions).toBe(1);
    expect(controlSumCents).toBe(12_345);
    expect(xml).toBe(`<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09">
  <CstmrCdtTrfInitn>
    <GrpHdr>
      <MsgId>PB-2026-0003</MsgId>
      <CreDtTm>2026-03-01T09:30:15Z</CreDtTm>
      <NbOfTxs>1</NbOfTxs>
      <CtrlSum>123.45</CtrlSum>
      <InitgPty>
        <Nm>Gemeente Bovenveen</Nm>
      </InitgPty>
    </GrpHdr>
    <PmtInf>
      <PmtInfId>PB-2026-0003</PmtInfId>
      <PmtMtd>TRF</PmtMtd>
      <BtchBookg>true</BtchBookg>
      <NbOfTxs>1</NbOfTxs>
      <CtrlSum>123.45</CtrlSum>
      <PmtTpInf>
        <SvcLvl>
          <Cd>SEPA</Cd>
        </SvcLvl>
      </PmtTpInf>
      <ReqdExctnDt>
        <Dt>2026-03-03</Dt>
      </ReqdExctnDt>
      <Dbtr>
        <Nm>Gemeente Bovenveen</Nm>
      </Dbtr>
      <DbtrAcct>
        <Id>
          <IBAN>NL91ABNA0417164300</IBAN>
        </Id>
      </DbtrAcct>
      <DbtrAgt>
        <FinInstnId>
          <BICFI>ABNANL2A</BICFI>
        </FinInstnId>
      </DbtrAgt>
      <ChrgBr>SLEV</ChrgBr>
      <CdtTrfTxInf>
        <PmtId>
          <EndToEndId>BF-VW-2026-0042</EndToEndId>
        </PmtId>
        <Amt>
          <InstdAmt Ccy="EUR">123.45</InstdAmt>
        </Amt>
        <Cdtr>
          <Nm>Zoe Celik-d'Hondt + Zn.</Nm>
        </Cdtr>
        <CdtrAcct>
          <Id>
            <IBAN>DE89370400440532013000</IBAN>
          </Id>
        </CdtrAcct>
        <RmtInf>
          <Ustrd>Buurtfonds VW-2026-0042 Straatfeest Bovenveen</Ustrd>
        </RmtInf>
      </CdtTrfTxInf>
    </PmtInf>
  </CstmrCdtTrfInitn>
</Document>
`);
    expect(await schemaErrors(xml)).toEqual([]);
  });

  it('counts and sums in both GrpHdr and PmtInf (12345 + 1 + 9000000 cents = 90123.46)', async () => {
    const { xml, numberOfTransactions, controlSumCents } = renderPain001(batch(threeTransfers));
    expect(numberOfTransactions).toBe(3);
    expect(controlSumCents).toBe(9_012_346);
    expect(values(xml, 'NbOfTxs')).toEqual(['3', '3']);
    expect(values(xml, 'CtrlSum')).toEqual(['90123.46', '90123.46']);
    expect(values(xml, 'InstdAmt')).toEqual(['123.45', '0.01', '90000.00']);
    expect(values(xml, 'EndToEndId')).toEqual(['BF-VW-2026-0042', 'BF-VW-2026-0043', 'BF-VW-2026-0044']);
    expect(await schemaErrors(xml)).toEqual([]);
  });

  it('writes the IBAN in electronic format (spaces removed, upper case)', () => {
    const { xml } = renderPain001(batch(threeTransfers, { debtor: { ...debtor, iban: 'nl91 ABNA 0417 1643 00' } }));
    expect(values(xml, 'IBAN')).toEqual([
      'NL91ABNA0417164300',
      'DE89370400440532013000',
      nlIban(43),
      'NL91ABNA0417164300',
    ]);
  });

  it('writes Othr/Id NOTPROVIDED without a BIC, and a normalised BICFI with one', async () => {
    const without = renderPain001(batch(threeTransfers, { debtor: { name: debtor.name, iban: debtor.iban } })).xml;
    expect(without).toContain('<FinInstnId>\n          <Othr>\n            <Id>NOTPROVIDED</Id>');
    expect(without).not.toContain('BICFI');
    expect(await schemaErrors(without)).toEqual([]);
    const lower = renderPain001(batch(threeTransfers, { debtor: { ...debtor, bic: 'abnanl2a xxx' } })).xml;
    expect(values(lower, 'BICFI')).toEqual(['ABNANL2AXXX']);
    expect(await schemaErrors(lower)).toEqual([]);
  });

  it('transliterates names and remittance into the SEPA character set and still validates', async () => {
    const { xml } = renderPain001(
      batch([
        ...threeTransfers,
        transfer(45, {
          creditorName: 'Ĳsbrand van der Ærø-Łódź, "De Ĳzeren Hond" & Co 👨‍👩‍👧',
          remittance: `Buurtfonds VW-2026-0045 – Kerstmarkt “Plein” ${'x'.repeat(200)}`,
        }),
      ]),
    );
    expect(values(xml, 'Nm')).toEqual([
      'Gemeente Bovenveen',
      'Gemeente Bovenveen',
      "Zoe Celik-d'Hondt + Zn.",
      "Jorg Strasse 'Buurtkamer' Oost",
      'Bewoner 44',
      "IJsbrand van der AEro-Lodz, 'De IJzeren Hond' + Co",
    ]);
    const remittances = values(xml, 'Ustrd');
    expect(remittances[3]).toMatch(/^Buurtfonds VW-2026-0045 - Kerstmarkt 'Plein' x+$/);
    expect(remittances[3]).toHaveLength(140);
    expect(xml).not.toContain('&amp;');
    expect(xml).toMatch(/^[\x20-\x7e\n]*$/);
    expect(await schemaErrors(xml)).toEqual([]);
  });

  it('validates a batch of 500 transfers and sums it exactly, in the given order', async () => {
    // Amounts like 0.10 and 0.07 that drift when summed as floating-point euros.
    const transfers = Array.from({ length: 500 }, (_, i) =>
      transfer(i + 1, { amountCents: [10, 7, 1_999_999, 33, 10_000_000][i % 5]! + i }),
    );
    const reversed = [...transfers].reverse();
    const expected = transfers.reduce((sum, t) => sum + BigInt(t.amountCents), 0n);
    // A floating-point sum of these euro amounts is off; the file must not be.
    expect(transfers.reduce((sum, t) => sum + t.amountCents / 100, 0)).not.toBe(Number(expected) / 100);

    const { xml, numberOfTransactions, controlSumCents } = renderPain001(batch(reversed));
    expect(numberOfTransactions).toBe(500);
    expect(BigInt(controlSumCents)).toBe(expected);
    const ctrlSum = `${expected / 100n}.${String(expected % 100n).padStart(2, '0')}`;
    expect(values(xml, 'CtrlSum')).toEqual([ctrlSum, ctrlSum]);
    expect(values(xml, 'NbOfTxs')).toEqual(['500', '500']);
    expect(values(xml, 'EndToEndId')).toEqual(reversed.map((t) => t.endToEndId));
    const amounts = values(xml, 'InstdAmt');
    expect(amounts.reduce((sum, a) => sum + BigInt(a!.replace('.', '')), 0n)).toBe(expected);
    expect(await schemaErrors(xml)).toEqual([]);
  });

  it('is deterministic: the same input renders byte-identical XML', () => {
    const sha = (s: string) => createHash('sha256').update(s).digest('hex');
    const first = renderPain001(batch(threeTransfers)).xml;
    const again = renderPain001(structuredClone(batch(threeTransfers))).xml;
    expect(again).toBe(first);
    expect(sha(again)).toBe(sha(first));
    expect(renderPain001(batch(threeTransfers, { createdAt: new Date('2026-03-01T09:30:16Z') })).xml).not.toBe(first);
  });

  it('does not change its input', () => {
    const input = batch(threeTransfers);
    const copy = structuredClone(input);
    renderPain001(input);
    expect(input).toEqual(copy);
  });
});

describe('renderPain001 refuses bad input', () => {
  const refused = (input: BatchInput, message: RegExp) => {
    expect(() => renderPain001(input)).toThrow(Error);
    expect(() => renderPain001(input)).toThrow(message);
  };

  it('an empty batch', () => {
    refused(batch([]), /at least one transfer/);
  });

  it('an amount that is not a positive whole number of cents', () => {
    for (const amountCents of [0, -500, 12.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
      refused(batch([transfer(1, { amountCents })]), /positive integer number of cents/);
    }
    refused(batch([transfer(1, { amountCents: '100' as unknown as number })]), /positive integer number of cents/);
    refused(batch([transfer(1, { amountCents: 100_000_000_000 })]), /exceeds the SEPA maximum/);
  });

  it('an endToEndId that is too long or outside the SEPA character set', () => {
    refused(batch([transfer(1, { endToEndId: 'X'.repeat(36) })]), /longer than 35/);
    for (const endToEndId of ['BF_VW_2026_0001', 'BF-VW-2026-0001é', 'BF&1', 'BF\n1']) {
      refused(batch([transfer(1, { endToEndId })]), /outside the SEPA character set/);
    }
    for (const endToEndId of ['/BF-1', 'BF-1/', 'BF//1']) {
      refused(batch([transfer(1, { endToEndId })]), /must not start or end with "\/"/);
    }
    refused(batch([transfer(1, { endToEndId: '' })]), /endToEndId is empty/);
    expect(renderPain001(batch([transfer(1, { endToEndId: 'X'.repeat(35) })])).numberOfTransactions).toBe(1);
  });

  it('an invalid IBAN, for the creditor or the debtor', () => {
    refused(batch([transfer(1, { creditorIban: 'NL92ABNA0417164300' })]), /transfer 1 \(BF-VW-2026-0001\): creditor: invalid IBAN/);
    refused(batch([transfer(1, { creditorIban: '' })]), /invalid IBAN/);
    refused(batch([transfer(1, { creditorIban: 'not an iban' })]), /invalid IBAN/);
    refused(batch([transfer(1, { creditorIban: 'BR1800360305000010009795493C1' })]), /not in a SEPA country/);
    refused(batch([transfer(1)], { debtor: { ...debtor, iban: 'NL91ABNA0417164301' } }), /debtor: invalid IBAN/);
  });

  it('a duplicate endToEndId in one batch', () => {
    refused(
      batch([transfer(1), transfer(2), transfer(3, { endToEndId: 'BF-VW-2026-0001' })]),
      /transfer 3: duplicate endToEndId "BF-VW-2026-0001"/,
    );
  });

  it('a bad execution date or creation time', () => {
    for (const requestedExecutionDate of ['2026-3-3', '03-03-2026', '2026-02-30', '2026-13-01', '', '2026-03-03T00:00:00Z']) {
      refused(batch([transfer(1)], { requestedExecutionDate }), /not a valid date in YYYY-MM-DD/);
    }
    refused(batch([transfer(1)], { createdAt: new Date('nonsense') }), /createdAt is not a valid Date/);
    expect(renderPain001(batch([transfer(1)], { requestedExecutionDate: '2028-02-29' })).numberOfTransactions).toBe(1);
  });

  it('a bad message id, debtor BIC or names that vanish in the SEPA character set', () => {
    refused(batch([transfer(1)], { messageId: 'PB-2026-0003-'.repeat(3) }), /messageId .* longer than 35/);
    refused(batch([transfer(1)], { messageId: 'PB 2026 #3' }), /messageId .* outside the SEPA character set/);
    refused(batch([transfer(1)], { debtor: { ...debtor, bic: 'ABN' } }), /debtor: invalid BIC/);
    refused(batch([transfer(1, { creditorName: '🎉🎉' })]), /creditor name .* is empty/);
    refused(batch([transfer(1, { remittance: '  ' })]), /remittance text is empty/);
  });
});

describe('the schema is not a rubber stamp', () => {
  const good = () => renderPain001(batch(threeTransfers)).xml;

  it('accepts the untouched document', async () => {
    expect(await schemaErrors(good())).toEqual([]);
  });

  it.each([
    ['an amount with three decimals', (x: string) => x.replace('>123.45</InstdAmt>', '>12.345</InstdAmt>'), /InstdAmt/],
    ['a missing EndToEndId', (x: string) => x.replace(/<EndToEndId>BF-VW-2026-0043<\/EndToEndId>/, ''), /PmtId/],
    ['a character outside the SEPA set', (x: string) => x.replace('<Nm>Bewoner 44</Nm>', '<Nm>Bewoner &amp; 44</Nm>'), /Nm/],
    ['a name longer than 70', (x: string) => x.replace('<Nm>Bewoner 44</Nm>', `<Nm>${'B'.repeat(71)}</Nm>`), /Nm/],
    ['a lower-case IBAN', (x: string) => x.replace('<IBAN>DE89370400440532013000</IBAN>', '<IBAN>de89370400440532013000</IBAN>'), /IBAN/],
    ['elements out of order', (x: string) => x.replace('<ChrgBr>SLEV</ChrgBr>\n', '').replace('</PmtInf>', '<ChrgBr>SLEV</ChrgBr></PmtInf>'), /ChrgBr/],
    ['another currency code form', (x: string) => x.replace('Ccy="EUR">0.01', 'Ccy="eur">0.01'), /Ccy/],
    ['a wrong namespace', (x: string) => x.replace('pain.001.001.09', 'pain.001.001.03'), /Document/],
  ])('rejects %s', async (_name, tamper, where) => {
    const tampered = tamper(good());
    expect(tampered).not.toBe(good());
    const errors = await schemaErrors(tampered);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.join('\n')).toMatch(where);
  });
});

describe('sepaText', () => {
  it.each([
    ["Zoë Çelik-d'Hondt & Zn.", "Zoe Celik-d'Hondt + Zn."],
    ['Ĳsselmeer Straße', 'IJsselmeer Strasse'],
    ['ĳs én één', 'ijs en een'],
    ['Bjørn Ærø Łódź Œuvre', 'Bjorn AEro Lodz OEuvre'],
    ['Ångström Ñandú São Paulo Čapek', 'Angstrom Nandu Sao Paulo Capek'],
    ['“Quoted” ‘single’ "plain"', "'Quoted' 'single' 'plain'"],
    ['Jan 🎉 Piet 👨‍👩‍👧', 'Jan Piet'],
    ['<b>Anna</b>', 'b Anna /b'],
    ['  a \t\n  b  ', 'a b'],
    ['a_b – c — d', 'a-b - c - d'],
    ['ok/-?:().,\'+ 09 AZ az', 'ok/-?:().,\'+ 09 AZ az'],
    ['Σωκράτης', ''],
  ])('%j → %j', (input, output) => {
    expect(sepaText(input, 140)).toBe(output);
  });

  it('cuts to the maximum length without a trailing space', () => {
    expect(sepaText('x'.repeat(100), 70)).toBe('x'.repeat(70));
    expect(sepaText('abc def', 4)).toBe('abc');
    expect(sepaText('ßßß', 5)).toBe('sssss');
    expect(sepaText('anything', 0)).toBe('');
  });

  it('always returns the SEPA character set', () => {
    const all = Array.from({ length: 0x2500 }, (_, i) => String.fromCodePoint(i)).join('') + '🎉😀ﬁ';
    expect(sepaText(all, 100_000)).toMatch(/^[A-Za-z0-9/\-?:().,'+ ]*$/);
  });
});

it('test IBANs are valid', () => {
  expect(isValidIBAN(nlIban(1))).toBe(true);
  expect(isValidIBAN(nlIban(500))).toBe(true);
});
