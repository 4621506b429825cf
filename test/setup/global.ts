/**
 * Starts the real servers once for the whole run, on free ports and in a temp dir,
 * so two runs at once never clash: FerretDB (SQLite) and the Temporal dev server.
 * The time-skipping test server is started per test file that needs it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startFerretDB, startTemporalDevServer } from '../../src/embedded/servers.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    mongoUri: string;
    temporalAddress: string;
  }
}

export default async function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), 'buurtfonds-test-'));
  const [ferret, temporal] = await Promise.all([
    startFerretDB({ dir: join(dir, 'ferretdb') }),
    startTemporalDevServer({ headless: true }),
  ]);
  project.provide('mongoUri', ferret.uri);
  project.provide('temporalAddress', temporal.address);
  return async () => {
    await Promise.all([ferret.stop(), temporal.stop()]);
    rmSync(dir, { recursive: true, force: true });
  };
}
