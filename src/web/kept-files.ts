/**
 * Files chosen in a form that came back with errors (or for another budget line) are
 * kept, so the resident does not have to choose them again: moved beside the upload
 * temp files as `kept-<id>`, with their checked name and type in `kept-<id>.json`. The
 * form carries the ids (random, 128 bits: only the browser that sent the file knows
 * them). Sending the form takes copies (hard links) of them, so a failed intake loses
 * nothing; kept files older than a day are swept.
 */
import { randomUUID } from 'node:crypto';
import { link, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { IngestedFile } from '../api/uploads.ts';
import type { DocumentStore } from '../documents/store.ts';

export interface KeptFile {
  id: string;
  fileName: string;
  contentType: string;
  size: number;
  sha256: string;
}

const ID = /^[0-9a-f-]{36}$/;
const DAY_MS = 24 * 60 * 60 * 1000;

export class KeptFiles {
  private readonly store: DocumentStore;
  constructor(store: DocumentStore) {
    this.store = store;
  }

  private path(id: string): string {
    return join(this.store.tmpDir, `kept-${id}`);
  }

  /** Keeps checked uploads (their temp files move). */
  async keep(files: readonly IngestedFile[]): Promise<KeptFile[]> {
    const out: KeptFile[] = [];
    for (const f of files) {
      const kept: KeptFile = { id: randomUUID(), fileName: f.fileName, contentType: f.contentType, size: f.size, sha256: f.sha256 };
      await rename(f.tempPath, this.path(kept.id));
      await writeFile(`${this.path(kept.id)}.json`, JSON.stringify(kept));
      out.push(kept);
    }
    return out;
  }

  /** The kept files a form names (unknown or malformed ids are left out). */
  async load(ids: readonly string[]): Promise<KeptFile[]> {
    const out: KeptFile[] = [];
    for (const id of new Set(ids)) {
      if (!ID.test(id)) continue;
      try {
        const meta = JSON.parse(await readFile(`${this.path(id)}.json`, 'utf8')) as KeptFile;
        await stat(this.path(id));
        out.push({ ...meta, id });
      } catch {
        // swept or never there
      }
    }
    return out;
  }

  /** Copies to hand to intake (which moves them into the store); the kept files stay until `discard`. */
  async copies(kept: readonly KeptFile[]): Promise<IngestedFile[]> {
    const out: IngestedFile[] = [];
    for (const k of kept) {
      const tempPath = join(this.store.tmpDir, randomUUID());
      await link(this.path(k.id), tempPath);
      out.push({ tempPath, fileName: k.fileName, contentType: k.contentType, size: k.size, sha256: k.sha256 });
    }
    return out;
  }

  async discard(kept: readonly KeptFile[]): Promise<void> {
    for (const k of kept) {
      await unlink(this.path(k.id)).catch(() => undefined);
      await unlink(`${this.path(k.id)}.json`).catch(() => undefined);
    }
  }

  /** Removes kept files older than a day (forms that were never sent). */
  async sweep(now = Date.now()): Promise<number> {
    let removed = 0;
    for (const name of await readdir(this.store.tmpDir).catch(() => [] as string[])) {
      if (!name.startsWith('kept-')) continue;
      const path = join(this.store.tmpDir, name);
      const s = await stat(path).catch(() => undefined);
      if (s && now - s.mtimeMs > DAY_MS) {
        await unlink(path).catch(() => undefined);
        removed++;
      }
    }
    return removed;
  }
}
