/**
 * The activities do not depend on the workflows: the inputs and states both sides use
 * live in src/domain/workflow-types.ts. Read from the source files: every relative import
 * (type imports, re-exports and dynamic imports included) of every file in activities/,
 * followed through src/ to the end.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const importPattern = /\b(?:import|export)\s[^;]*?\bfrom\s*'(\.[^']+)'|\bimport\(\s*'(\.[^']+)'\s*\)/g;

/** The relative module specifiers a source file imports. */
function importsOf(file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(importPattern)].map((m) => (m[1] ?? m[2])!);
}

/** Every project file reachable from `entries` through relative imports, each with the chain that reached it. */
function reachable(entries: string[]): Map<string, string[]> {
  const chains = new Map<string, string[]>();
  const queue = entries.map((file) => ({ file, chain: [] as string[] }));
  while (queue.length) {
    const { file, chain } = queue.shift()!;
    const name = relative(root, file);
    if (chains.has(name)) continue;
    chains.set(name, [...chain, name]);
    for (const spec of importsOf(file)) queue.push({ file: resolve(dirname(file), spec), chain: [...chain, name] });
  }
  return chains;
}

describe('activities/ and workflows/', () => {
  it('nothing in activities/ imports workflows/, directly or through what it imports', () => {
    const activityFiles = readdirSync(resolve(root, 'activities'))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => resolve(root, 'activities', f));
    const seen = reachable(activityFiles);
    // The walk really follows imports into src/ (it would pass vacuously if it found none).
    expect(seen.has('src/domain/workflow-types.ts')).toBe(true);
    expect(seen.has('src/support/service.ts')).toBe(true);
    const intoWorkflows = [...seen].filter(([name]) => name.startsWith('workflows/')).map(([, chain]) => chain.join(' → '));
    expect(intoWorkflows).toEqual([]);
  });

  it('the import reader sees the forms of import the code uses: type imports, imports over several lines, re-exports', () => {
    expect(importsOf(resolve(root, 'activities/meetings.ts'))).toContain('../src/domain/workflow-types.ts');
    expect(importsOf(resolve(root, 'src/services/initiatives.ts'))).toContain('../../workflows/initiative.ts');
    expect(importsOf(resolve(root, 'workflows/index.ts'))).toEqual(expect.arrayContaining(['./initiative.ts', './support.ts']));
  });
});
