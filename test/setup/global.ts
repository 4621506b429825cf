/**
 * Starts the real servers once for the whole run, on free ports and in a temp dir,
 * so two runs at once never clash: FerretDB (SQLite) and the Temporal dev server.
 * The time-skipping test server is started per test file that needs it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { bundleWorkflowCode } from '@temporalio/worker';
import { startFerretDB, startTemporalDevServer } from '../../src/embedded/servers.ts';
import { workflowsPath } from '../../src/runtime.ts';
import { createLogger, temporalLogger } from '../../src/logger.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    mongoUri: string;
    temporalAddress: string;
    /** The workflows bundled once for the whole run (a Worker takes it as `workflowBundle: { codePath }`). */
    workflowBundlePath: string;
  }
}

export default async function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), 'buurtfonds-test-'));
  const [ferret, temporal, bundle] = await Promise.all([
    startFerretDB({ dir: join(dir, 'ferretdb') }),
    startTemporalDevServer({ headless: true }),
    // Bundled once here rather than by every test file's Worker: webpack takes seconds of CPU each time.
    bundleWorkflowCode({ workflowsPath, logger: temporalLogger(createLogger('silent')) }),
  ]);
  const bundlePath = join(dir, 'workflow-bundle.js');
  writeFileSync(bundlePath, bundle.code);
  project.provide('mongoUri', ferret.uri);
  project.provide('temporalAddress', temporal.address);
  project.provide('workflowBundlePath', bundlePath);
  return async () => {
    await Promise.all([ferret.stop(), temporal.stop()]);
    rmSync(dir, { recursive: true, force: true });
  };
}
