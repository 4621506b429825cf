/**
 * Starts the real servers the embedded default and the tests run on: FerretDB v1
 * (SQLite backend) and the Temporal CLI dev server, both installed into .tools/
 * by scripts/servers.sh. Each is a child process that stops with us, also when we are
 * killed (see leftovers.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Connection } from '@temporalio/client';
import { customSearchAttributes } from '../domain/search-attributes.ts';
import { clearLeftovers, guard, type ServerIdentity } from './leftovers.ts';

export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export const toolPaths = {
  temporal: join(projectRoot, '.tools/venv/bin/temporal'),
  temporalTestServer: join(projectRoot, '.tools/venv/bin/temporal-test-server'),
  ferretdb: join(projectRoot, '.tools/bin/ferretdb'),
};

export interface RunningServer {
  name: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolvePort(addr.port) : reject(new Error('no port'))));
    });
  });
}

function requireTool(path: string): void {
  if (!existsSync(path)) throw new Error(`${path} is missing: run "bash scripts/servers.sh" (npm start/test do this for you)`);
}

/** Where an embedded server keeps its pid, and who hears of a leftover of an earlier run stopped before it starts. */
export interface LeftoverOptions {
  /** A file under the data dir (`npm start`); without it no leftover is looked for. */
  pidFile?: string;
  onLeftover?: (pid: number, command: string) => void;
}

/** Spawns a server with its watchdog and pid file (leftovers.ts) and keeps its last output. */
function launch(id: ServerIdentity, args: string[], output: string[]): RunningServer {
  const child = spawn(id.binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  guard(id, child);
  return supervise(id.name.toLowerCase(), child, output);
}

const hasExited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

function supervise(name: string, child: ChildProcess, output: string[]): RunningServer {
  const remember = (chunk: Buffer) => {
    output.push(chunk.toString());
    if (output.length > 200) output.shift();
  };
  child.stdout?.on('data', remember);
  child.stderr?.on('data', remember);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    name,
    child,
    async stop() {
      if (hasExited(child)) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function waitFor(name: string, server: RunningServer, output: string[], probe: () => Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (hasExited(server.child)) {
      throw new Error(`${name} exited with ${server.child.signalCode ?? `code ${server.child.exitCode}`}:\n${output.join('')}`);
    }
    // Ready only while our child runs: a probe can be answered by another process on the port.
    if ((await probe().catch(() => false)) && !hasExited(server.child)) return;
    await new Promise((r) => setTimeout(r, 150));
  }
  await server.stop();
  throw new Error(`${name} did not become ready in ${timeoutMs} ms:\n${output.join('')}`);
}

/**
 * Starts a server on ports picked just before: another process (a server starting beside
 * it, or the server's own internal listeners) can take such a port first. When the start
 * fails on "address already in use" and the caller did not choose the ports, it is tried
 * again on new ones.
 */
async function onFreshPorts<T>(chosen: boolean, start: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (chosen || attempt >= 3 || !String((err as Error).message).includes('address already in use')) throw err;
    }
  }
}

export interface FerretOptions extends LeftoverOptions {
  dir: string;
  port?: number;
  host?: string;
}

export async function startFerretDB(opts: FerretOptions): Promise<RunningServer & { uri: string; port: number }> {
  requireTool(toolPaths.ferretdb);
  mkdirSync(opts.dir, { recursive: true });
  const ports = opts.port === undefined ? [] : [opts.port];
  await clearLeftovers(ferretIdentity(opts), opts.host ?? '127.0.0.1', ports, opts.onLeftover);
  return onFreshPorts(opts.port !== undefined, () => startFerretOnce(opts));
}

const ferretIdentity = (opts: FerretOptions): ServerIdentity => ({ name: 'FerretDB', binary: toolPaths.ferretdb, dataPath: opts.dir, pidFile: opts.pidFile });

async function startFerretOnce(opts: FerretOptions): Promise<RunningServer & { uri: string; port: number }> {
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? (await freePort());
  const output: string[] = [];
  const server = launch(ferretIdentity(opts), ['-listen-addr', `${host}:${port}`, '-sqlite-dir', opts.dir, '-log-level', 'error'], output);
  await waitFor('ferretdb', server, output, async () => output.join('').includes('ferretdb listening:'), 30_000);
  return { ...server, uri: `mongodb://${host}:${port}/`, port };
}

export interface TemporalDevOptions extends LeftoverOptions {
  dbFile?: string;
  port?: number;
  uiPort?: number;
  namespace?: string;
  headless?: boolean;
}

export async function startTemporalDevServer(
  opts: TemporalDevOptions = {},
): Promise<RunningServer & { address: string; uiUrl?: string }> {
  requireTool(toolPaths.temporal);
  const ports = [opts.port, opts.headless ? undefined : opts.uiPort].filter((p) => p !== undefined);
  await clearLeftovers(temporalIdentity(opts), '127.0.0.1', ports, opts.onLeftover);
  return onFreshPorts(opts.port !== undefined && (opts.headless || opts.uiPort !== undefined), () => startTemporalOnce(opts));
}

const temporalIdentity = (opts: TemporalDevOptions): ServerIdentity => ({ name: 'Temporal', binary: toolPaths.temporal, dataPath: opts.dbFile, pidFile: opts.pidFile });

async function startTemporalOnce(opts: TemporalDevOptions): Promise<RunningServer & { address: string; uiUrl?: string }> {
  const port = opts.port ?? (await freePort());
  const uiPort = opts.uiPort ?? (await freePort());
  const namespace = opts.namespace ?? 'default';
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--namespace', namespace, '--log-level', 'error'];
  if (opts.headless) args.push('--headless');
  else args.push('--ui-port', String(uiPort));
  if (opts.dbFile) {
    mkdirSync(dirname(opts.dbFile), { recursive: true });
    args.push('--db-filename', opts.dbFile);
  }
  for (const sa of customSearchAttributes) args.push('--search-attribute', `${sa.name}=Keyword`);
  const output: string[] = [];
  const server = launch(temporalIdentity(opts), args, output);
  const address = `127.0.0.1:${port}`;
  await waitFor(
    'temporal',
    server,
    output,
    async () => {
      const conn = await Connection.connect({ address, connectTimeout: 1_000 });
      try {
        await conn.workflowService.describeNamespace({ namespace });
        return true;
      } finally {
        await conn.close();
      }
    },
    60_000,
  );
  return { ...server, address, uiUrl: opts.headless ? undefined : `http://127.0.0.1:${uiPort}` };
}
