/**
 * Pages that are the same for every anonymous visitor (the home page, the budget of a
 * year, the empty application form) are rendered and compressed once per version of
 * their data, and only the per-visitor values (the form's CSRF token and idempotency
 * key) are filled in per request.
 *
 * The compressed form of such a page is built from pieces, the way pigz compresses in
 * parallel: each fixed piece is deflated once, ending in a full flush (byte-aligned, no
 * final block), each per-request value goes in as a stored (uncompressed) deflate block
 * (RFC 1951 3.2.4: a few bytes, no zlib call), and the pieces joined are one valid
 * deflate stream; the gzip header and trailer (CRC-32 of the whole page, its length) are
 * added per request. So a visitor gets the page gzipped without the
 * server compressing 40 kB of HTML for every request.
 */
import { constants, crc32, deflateRawSync } from 'node:zlib';

/** Bytes as stored deflate blocks (not final; the stream is byte-aligned after a full flush). */
function stored(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += 0xffff) {
    const chunk = bytes.subarray(at, at + 0xffff);
    const header = Buffer.alloc(5);
    header[0] = 0x00; // BFINAL 0, BTYPE 00 (stored); the rest of the byte is padding
    header.writeUInt16LE(chunk.length, 1);
    header.writeUInt16LE(~chunk.length & 0xffff, 3);
    out.push(header, chunk);
  }
  return out;
}

const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff]);

/** A marker a page renders where a per-request value goes (escaping leaves it as it is). */
export const slot = (n: number) => `\u0001slot${n}\u0001`;
const SLOT = /\u0001slot(\d+)\u0001/;

export interface CachedPage {
  /** The page's fixed pieces, between the slots. */
  pieces: Buffer[];
  /** Which value each slot takes. */
  slots: number[];
  /** Each piece deflated: full flush, the last one finished. */
  deflated: Buffer[];
  /** A page without slots, whole: as it is and gzipped. */
  whole?: { html: Buffer; gzip: Buffer };
}

export function cachePage(html: string): CachedPage {
  const parts = html.split(SLOT);
  const pieces: Buffer[] = [];
  const slots: number[] = [];
  parts.forEach((p, i) => (i % 2 === 0 ? pieces.push(Buffer.from(p, 'utf8')) : slots.push(Number(p))));
  const deflated = pieces.map((p, i) => deflateRawSync(p, { level: 9, finishFlush: i === pieces.length - 1 ? constants.Z_FINISH : constants.Z_FULL_FLUSH }));
  const page: CachedPage = { pieces, slots, deflated };
  if (slots.length === 0) {
    const filled = fillPage(page, []);
    page.whole = { html: filled.html(), gzip: filled.gzip() };
  }
  return page;
}

/** The page with its values, as HTML and (for browsers that take it) gzipped. */
export function fillPage(page: CachedPage, values: readonly string[]): { html: () => Buffer; gzip: () => Buffer } {
  if (page.whole) {
    const { html, gzip } = page.whole;
    return { html: () => html, gzip: () => gzip };
  }
  const parts: Buffer[] = [];
  let length = 0;
  page.pieces.forEach((piece, i) => {
    parts.push(piece);
    length += piece.length;
    if (i < page.slots.length) {
      const value = Buffer.from(values[page.slots[i]!] ?? '', 'utf8');
      parts.push(value);
      length += value.length;
    }
  });
  return {
    html: () => Buffer.concat(parts, length),
    gzip() {
      const body: Buffer[] = [GZIP_HEADER];
      let crc = 0;
      // zlib.crc32 of an empty buffer answers 0 rather than the CRC so far: empty parts are skipped.
      const add = (b: Buffer) => (b.length ? crc32(b, crc) : crc);
      page.pieces.forEach((piece, i) => {
        crc = add(piece);
        body.push(page.deflated[i]!);
        if (i < page.slots.length) {
          const value = parts[2 * i + 1]!;
          crc = add(value);
          body.push(...stored(value));
        }
      });
      const trailer = Buffer.alloc(8);
      trailer.writeUInt32LE(crc >>> 0, 0);
      trailer.writeUInt32LE(length >>> 0, 4);
      body.push(trailer);
      return Buffer.concat(body);
    },
  };
}

/** A bounded map of cached pages (the oldest entry goes when it is full). */
export class PageCache {
  private readonly pages = new Map<string, CachedPage>();
  private readonly max: number;
  constructor(max = 200) {
    this.max = max;
  }
  get(key: string): CachedPage | undefined {
    return this.pages.get(key);
  }
  set(key: string, page: CachedPage): void {
    if (this.pages.size >= this.max) this.pages.delete(this.pages.keys().next().value!);
    this.pages.set(key, page);
  }
}
