import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rename, stat, unlink, access } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Content-addressed document store on disk: a file lives at <dir>/<aa>/<sha256>.
 * The same content uploaded twice is stored once.
 */
export class DocumentStore {
  readonly dir: string;
  readonly tmpDir: string;
  constructor(dir: string) {
    this.dir = dir;
    this.tmpDir = join(dir, 'tmp');
  }

  async init(): Promise<void> {
    await mkdir(this.tmpDir, { recursive: true });
  }

  pathOf(sha256: string): string {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`not a sha256: ${sha256}`);
    return join(this.dir, sha256.slice(0, 2), sha256);
  }

  /** Streams a file through SHA-256 (never the whole file in memory). */
  static async hashFile(path: string): Promise<{ sha256: string; size: number }> {
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
    const { size } = await stat(path);
    return { sha256: hash.digest('hex'), size };
  }

  /** Moves an uploaded temp file to its content address (tmp dir is inside the store, so this is a rename). */
  async commit(tempPath: string, sha256: string): Promise<void> {
    const target = this.pathOf(sha256);
    if (await exists(target)) {
      await unlink(tempPath).catch(() => undefined);
      return;
    }
    await mkdir(join(this.dir, sha256.slice(0, 2)), { recursive: true });
    await rename(tempPath, target);
  }

  async has(sha256: string): Promise<boolean> {
    return exists(this.pathOf(sha256));
  }

  async remove(sha256: string): Promise<void> {
    await unlink(this.pathOf(sha256)).catch(() => undefined);
  }

  open(sha256: string) {
    return createReadStream(this.pathOf(sha256));
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
