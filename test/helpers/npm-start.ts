/**
 * `npm start` as a user runs it, for the tests: src/main.ts in a child process on the
 * embedded servers, in a given data dir on given ports.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { portInUse } from '../../src/embedded/leftovers.ts';
import { projectRoot } from '../../src/embedded/servers.ts';

export interface MainPorts {
  api: number;
  temporal: number;
  ui: number;
  ferret: number;
}

/**
 * Free ports below the ephemeral range (Linux 32768+, macOS 49152+), as the defaults are:
 * the embedded Temporal binds ephemeral ports of its own for its internal services, which
 * can take a port picked by freePort() before main.ts gets to bind it.
 */
export async function freeMainPorts(): Promise<MainPorts> {
  const picked = new Set<number>();
  const pick = async (): Promise<number> => {
    for (;;) {
      const port = 20_000 + Math.floor(Math.random() * 12_000);
      if (!picked.has(port) && !(await portInUse('127.0.0.1', port))) return picked.add(port), port;
    }
  };
  return { api: await pick(), temporal: await pick(), ui: await pick(), ferret: await pick() };
}

export interface MainProcess {
  child: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Its exit code (null when killed by a signal). */
  exited: Promise<number | null>;
}

const spawned = new Set<ChildProcess>();

/** For afterAll: kills every src/main.ts spawned here that still runs (a test that timed out leaves one behind). */
export function killMains(): void {
  for (const child of spawned) child.kill('SIGKILL');
}

/** Spawns src/main.ts; does not wait for it (see `untilRunning`). */
export function spawnMain(dataDir: string, ports: MainPorts, env: Record<string, string> = {}): MainProcess {
  const child = spawn(process.execPath, ['src/main.ts'], {
    cwd: projectRoot,
    env: {
      ...process.env,
      NODE_ENV: 'development',
      DATA_DIR: dataDir,
      PORT: String(ports.api),
      TEMPORAL_PORT: String(ports.temporal),
      TEMPORAL_UI_PORT: String(ports.ui),
      FERRETDB_PORT: String(ports.ferret),
      TEMPORAL_ADDRESS: '',
      MONGODB_URI: '',
      DEMO_PASSWORD: 'embedded-demo-1',
      LOG_LEVEL: 'warn',
      MEETING_SCHEDULE_ID: `panel-meetings-embedded-${ports.api}`,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  spawned.add(child);
  child.once('exit', () => spawned.delete(child));
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, output: () => output, exited };
}

/** Waits for the banner main.ts prints when everything runs. */
export async function untilRunning(main: MainProcess): Promise<MainProcess> {
  const deadline = Date.now() + 90_000;
  while (!main.output().includes('Ctrl-C stops everything')) {
    if (main.child.exitCode !== null) throw new Error(`npm start exited with ${main.child.exitCode}:\n${main.output()}`);
    if (Date.now() > deadline) throw new Error(`npm start did not come up:\n${main.output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return main;
}

export const startMain = (dataDir: string, ports: MainPorts, env?: Record<string, string>) => untilRunning(spawnMain(dataDir, ports, env));

/** Sends what Ctrl-C sends and waits for the process to end. */
export async function interrupt(main: MainProcess): Promise<number | null> {
  main.child.kill('SIGINT');
  return main.exited;
}

export const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });

/** `pid args` of every process whose command line names the dir (the embedded servers and their watchdogs). */
export function processesUsing(dir: string): string[] {
  const ps = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  return ps.split('\n').filter((l) => l.includes(dir) && !l.includes(' ps '));
}
