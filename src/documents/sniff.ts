import { open } from 'node:fs/promises';
import { fileTypeFromFile } from 'file-type';
import { parse } from 'csv-parse/sync';

/** Types we accept, decided from the bytes (magic numbers), never from the file name. */
export const acceptedContentTypes = new Set([
  'application/pdf',
  'image/jpeg',
  'image/png',
  'application/vnd.oasis.opendocument.text',
  'application/vnd.oasis.opendocument.spreadsheet',
  'application/vnd.oasis.opendocument.presentation',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  'text/csv',
]);

const CSV_SAMPLE_BYTES = 64 * 1024;

/** The content type of a file, or undefined when it is none we accept. */
export async function sniffContentType(path: string): Promise<string | undefined> {
  const detected = await fileTypeFromFile(path);
  if (detected) return acceptedContentTypes.has(detected.mime) ? detected.mime : undefined;
  return (await looksLikeCsv(path)) ? 'text/csv' : undefined;
}

/** Text without magic number: accept it as CSV when it is text (UTF-8 or Windows-1252) and parses as at least two rows of the same two or more columns. */
async function looksLikeCsv(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(CSV_SAMPLE_BYTES);
    const { bytesRead } = await fh.read(buf, 0, CSV_SAMPLE_BYTES, 0);
    if (bytesRead === 0) return false;
    let sample = buf.subarray(0, bytesRead);
    if (sample.includes(0)) return false;
    const truncated = bytesRead === CSV_SAMPLE_BYTES;
    if (truncated) {
      const lastNewline = sample.lastIndexOf(0x0a);
      if (lastNewline <= 0) return false;
      sample = sample.subarray(0, lastNewline + 1);
    }
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(sample);
    } catch {
      // Excel on Windows saves CSV in Windows-1252 ("café", "één"); any byte decodes, so
      // control characters are what give away a binary file.
      text = new TextDecoder('windows-1252').decode(sample);
      if (/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(text)) return false;
    }
    // Dutch spreadsheets export with ";" (the comma is the decimal sign); others with "," or tab.
    return [';', ',', '\t'].some((delimiter) => {
      try {
        const rows = parse(text, { delimiter, bom: true, skip_empty_lines: true }) as string[][];
        return rows.length >= 2 && rows.every((r) => r.length >= 2);
      } catch {
        return false; // rows of different lengths, unbalanced quotes …
      }
    });
  } catch {
    return false;
  } finally {
    await fh.close();
  }
}
