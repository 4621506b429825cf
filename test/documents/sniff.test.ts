/** sniffContentType decides an upload's type from its bytes, never from its name. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { strToU8, zipSync, type Zippable } from 'fflate';
import { acceptedContentTypes, sniffContentType } from '../../src/documents/sniff.ts';
import { csvBytes, elfBytes, exeBytes, jpegBytes, odtBytes, pdfBytes, pngBytes } from '../helpers/fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'buurtfonds-sniff-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
/** Writes `bytes` to a temp file (with a misleading name, to show names are ignored) and sniffs it. */
async function sniff(bytes: Uint8Array | string, name = 'upload.pdf'): Promise<string | undefined> {
  const path = join(dir, `${n++}-${name}`);
  writeFileSync(path, bytes);
  return sniffContentType(path);
}

const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const PPTX = 'application/vnd.openxmlformats-officedocument.presentationml.presentation';

/** An Office Open XML package as Word, Excel or PowerPoint write it: [Content_Types].xml first. */
function ooxml(mainPart: string, mainContentType: string, extra: Zippable = {}): Uint8Array {
  const contentTypes =
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>' +
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
    '<Default Extension="xml" ContentType="application/xml"/>' +
    `<Override PartName="/${mainPart}" ContentType="${mainContentType}"/>` +
    '</Types>';
  return zipSync({
    '[Content_Types].xml': strToU8(contentTypes),
    '_rels/.rels': strToU8('<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"/>'),
    [mainPart]: strToU8('<?xml version="1.0"?><document/>'),
    ...extra,
  });
}

/** An OpenDocument package: a stored "mimetype" entry first. */
function odf(mimeType: string): Uint8Array {
  return zipSync({
    mimetype: [strToU8(mimeType), { level: 0 }],
    'content.xml': strToU8('<?xml version="1.0"?><office:document-content/>'),
  });
}

describe('accepted documents', () => {
  it('recognises PDF, PNG and JPEG', async () => {
    expect(await sniff(pdfBytes, 'offerte.pdf')).toBe('application/pdf');
    expect(await sniff(pngBytes, 'foto.png')).toBe('image/png');
    expect(await sniff(jpegBytes, 'foto.jpg')).toBe('image/jpeg');
  });

  it('recognises OpenDocument text, spreadsheet and presentation', async () => {
    expect(await sniff(odtBytes(), 'plan.odt')).toBe('application/vnd.oasis.opendocument.text');
    expect(await sniff(odf('application/vnd.oasis.opendocument.spreadsheet'), 'begroting.ods')).toBe('application/vnd.oasis.opendocument.spreadsheet');
    expect(await sniff(odf('application/vnd.oasis.opendocument.presentation'), 'plan.odp')).toBe('application/vnd.oasis.opendocument.presentation');
  });

  it('recognises Word, Excel and PowerPoint (Office Open XML)', async () => {
    expect(await sniff(ooxml('word/document.xml', `${DOCX}.main+xml`), 'plan.docx')).toBe(DOCX);
    expect(await sniff(ooxml('xl/workbook.xml', `${XLSX}.main+xml`), 'begroting.xlsx')).toBe(XLSX);
    expect(await sniff(ooxml('ppt/presentation.xml', `${PPTX}.main+xml`), 'plan.pptx')).toBe(PPTX);
  });

  it('ignores the file name: a PDF called .docx is a PDF', async () => {
    expect(await sniff(pdfBytes, 'plan.docx')).toBe('application/pdf');
  });

  it('only ever answers with an accepted type', async () => {
    for (const bytes of [pdfBytes, pngBytes, jpegBytes, odtBytes(), csvBytes]) {
      expect(acceptedContentTypes.has((await sniff(bytes))!)).toBe(true);
    }
  });
});

describe('CSV (no magic number: decided by parsing)', () => {
  it('accepts a Dutch export with ";" and decimal commas', async () => {
    expect(await sniff(csvBytes, 'begroting.csv')).toBe('text/csv');
  });

  it('accepts "," and tab separated files, quoted fields, CRLF and a UTF-8 BOM', async () => {
    expect(await sniff('post,bedrag\n"Huur partytent, 3x6 m",450.00\nSpringkussen,150.50\n')).toBe('text/csv');
    expect(await sniff('post\tbedrag\nPartytent\t450\n')).toBe('text/csv');
    expect(await sniff('\ufeffpost;bedrag\r\nCafé-tafels;€ 12,50\r\n')).toBe('text/csv');
  });

  it('accepts a CSV larger than the 64 KB sample, even when a multi-byte character straddles its end', async () => {
    const row = 'Financiële bijdrage één;12,50\n';
    const big = row.repeat(Math.ceil((100 * 1024) / Buffer.byteLength(row)));
    expect(Buffer.byteLength(big)).toBeGreaterThan(64 * 1024);
    expect(await sniff(big)).toBe('text/csv');
    // Shift the rows so that a two-byte "ë" sits across byte 65,536.
    const lead = 'kolom;waarde\n';
    let shifted = '';
    for (let pad = 0; pad < row.length; pad++) {
      const candidate = lead + 'x'.repeat(pad) + ';1\n' + big;
      const bytes = Buffer.from(candidate);
      if (bytes[64 * 1024 - 1]! >= 0xc0 && bytes[64 * 1024]! >= 0x80 && bytes[64 * 1024]! < 0xc0) {
        shifted = candidate;
        break;
      }
    }
    expect(shifted, 'a layout with a character across the sample boundary').not.toBe('');
    expect(await sniff(shifted)).toBe('text/csv');
  });

  it('refuses plain prose, which has no columns', async () => {
    const prose = [
      'Beste panel,',
      '',
      'Wij willen dit jaar een straatfeest houden voor de hele Kerkstraat.',
      'Er komen een springkussen, een partytent en muziek; iedereen is welkom.',
      'Met vriendelijke groet, namens de buren, Sanne',
    ].join('\n');
    expect(await sniff(prose, 'brief.txt')).toBeUndefined();
    expect(await sniff('Eén regel tekst zonder scheidingsteken\n', 'notitie.txt')).toBeUndefined();
  });

  it('accepts a Windows-1252 export from Dutch Excel ("Café", "één")', async () => {
    expect(await sniff(Buffer.from('post;bedrag\nCaf\xe9-tafels;12,50\n\xe9\xe9n tent;45,00\n', 'latin1'))).toBe('text/csv');
  });

  it('refuses text with NUL bytes or other control characters (binary data)', async () => {
    expect(await sniff(Buffer.from([0x61, 0x3b, 0x62, 0x0a, 0x63, 0x00, 0x64, 0x0a]))).toBeUndefined();
    expect(await sniff(Buffer.from([0x61, 0x3b, 0xff, 0x01, 0x0a, 0x63, 0x3b, 0x64, 0x0a]))).toBeUndefined();
  });

  it('refuses a single row: a header alone is no spreadsheet', async () => {
    expect(await sniff('post;bedrag\n')).toBeUndefined();
  });

  it('refuses a single line longer than the sample (no row ends in it)', async () => {
    expect(await sniff(`${'a;'.repeat(40 * 1024)}b\n`)).toBeUndefined();
  });
});

describe('refused documents', () => {
  it('refuses executables, whatever their name', async () => {
    expect(await sniff(exeBytes, 'offerte.pdf')).toBeUndefined();
    expect(await sniff(elfBytes, 'foto.jpg')).toBeUndefined();
  });

  it('refuses a zip that is not an office document', async () => {
    expect(await sniff(zipSync({ 'readme.txt': strToU8('hallo'), 'foto.jpg': jpegBytes }), 'plan.docx')).toBeUndefined();
  });

  it('refuses macro-enabled Word and Excel files', async () => {
    expect(await sniff(ooxml('word/document.xml', 'application/vnd.ms-word.document.macroEnabled.main+xml'), 'plan.docx')).toBeUndefined();
    expect(await sniff(ooxml('xl/workbook.xml', 'application/vnd.ms-excel.sheet.macroEnabled.main+xml'), 'begroting.xlsx')).toBeUndefined();
  });

  it('refuses other image types (GIF) and markup (SVG)', async () => {
    expect(await sniff(Buffer.from('GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x00\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;', 'latin1'), 'foto.png')).toBeUndefined();
    expect(await sniff('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>\n', 'foto.png')).toBeUndefined();
  });

  it('refuses an empty file', async () => {
    expect(await sniff(Buffer.alloc(0), 'leeg.pdf')).toBeUndefined();
  });
});
