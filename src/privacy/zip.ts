/**
 * A zip archive written as a stream: entries one after the other, each read from an
 * async source, so a file is never whole in memory and the archive is never whole in
 * memory either (an export can hold many documents of several MB each).
 */
import { Zip, ZipDeflate, ZipPassThrough } from 'fflate';

export interface ZipEntry {
  /** Path inside the archive, forward slashes. */
  name: string;
  /** The bytes, in chunks (a Buffer is one chunk). */
  content: () => AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
  /** Deflate the entry (text); documents are mostly compressed already and are stored as they are. */
  compress?: boolean;
  modifiedAt?: Date;
}

/**
 * The archive's bytes. Consumed through `stream.pipeline(Readable.from(…), res)`, the
 * response's backpressure paces the reading of the sources, and a client that goes away
 * ends the generator, which closes the source it was reading.
 */
export async function* zipStream(entries: Iterable<ZipEntry> | AsyncIterable<ZipEntry>): AsyncGenerator<Uint8Array> {
  const ready: Uint8Array[] = [];
  let failure: Error | null = null;
  const zip = new Zip((err, chunk) => {
    if (err) failure = err;
    else ready.push(chunk);
  });
  function* take(): Generator<Uint8Array> {
    if (failure) throw failure;
    while (ready.length) yield ready.shift()!;
  }
  for await (const entry of entries) {
    const file = entry.compress ? new ZipDeflate(entry.name, { level: 6 }) : new ZipPassThrough(entry.name);
    // DOS time starts in 1980; fflate refuses earlier dates.
    if (entry.modifiedAt && entry.modifiedAt.getUTCFullYear() >= 1980) file.mtime = entry.modifiedAt;
    zip.add(file);
    for await (const chunk of entry.content()) {
      file.push(chunk);
      yield* take();
    }
    file.push(new Uint8Array(0), true);
    yield* take();
  }
  zip.end();
  yield* take();
}
