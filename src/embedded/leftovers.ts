/**
 * What happens to an embedded server when the process that started it is killed
 * (SIGKILL, the out-of-memory killer): Node cannot ask the kernel to kill its children
 * when it dies, so each server gets two defences.
 *
 * - A watchdog beside it: a tiny `sh` whose stdin is a pipe from us. Nobody writes to it;
 *   when we die the kernel closes our end, its `read` ends, and it stops the server
 *   (SIGTERM, SIGKILL after 10 s).
 * - A pid file under the data dir (for when the watchdog was killed too): the next start
 *   finds the server it names, checks from its command line that it is our binary on
 *   this data dir, and stops it before starting anew. A server of ours on this data dir
 *   that holds one of our ports without a pid file (an older version's leftover) is
 *   stopped the same way; a port held by anything else stops the start with the port
 *   and the process named.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** One embedded server as the OS shows it: its binary and the data path only it was given. */
export interface ServerIdentity {
  /** For messages: 'FerretDB', 'Temporal'. */
  name: string;
  binary: string;
  /** Its data dir or database file; undefined for a throwaway server (tests). */
  dataPath?: string;
  /** Where the pid of the running server is kept; undefined: none kept, nothing cleared. */
  pidFile?: string;
}

interface ProcessInfo {
  ppid: number;
  command: string;
}

const hasProc = existsSync('/proc/self/stat');

/** The parent and command line of a live process; undefined when it is gone or a zombie. */
function processInfo(pid: number): ProcessInfo | undefined {
  try {
    if (hasProc) {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      if (args.length === 0) return undefined; // a zombie (or a kernel thread)
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      return { ppid, command: args.join(' ') };
    }
    const line = execFileSync('ps', ['-o', 'ppid=,stat=,command=', '-p', String(pid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const match = /^(\d+)\s+(\S+)\s+(.*)$/.exec(line);
    return match && !match[2]!.startsWith('Z') ? { ppid: Number(match[1]), command: match[3]! } : undefined;
  } catch {
    return undefined;
  }
}

function isOurs(id: ServerIdentity, command: string): boolean {
  const padded = ` ${command} `;
  return id.dataPath !== undefined && padded.startsWith(` ${id.binary} `) && padded.includes(` ${id.dataPath} `);
}

/** The process listening on a TCP port, read from /proc (Linux). */
export function listenerFromProc(port: number): number | undefined {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const sockets = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(table)) continue;
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[1]?.endsWith(hex) && cols[3] === '0A') sockets.add(`socket:[${cols[9]}]`);
    }
  }
  if (sockets.size === 0) return undefined;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        if (sockets.has(readlinkSync(`/proc/${pid}/fd/${fd}`))) return Number(pid);
      }
    } catch {
      // gone meanwhile, or not ours to look into
    }
  }
  return undefined;
}

/** The process listening on a TCP port, asked of lsof (macOS, most Linux desktops). */
export function listenerFromLsof(port: number): number | undefined {
  try {
    const pids = execFileSync('lsof', ['-nP', '-t', `-iTCP:${port}`, '-sTCP:LISTEN'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const first = Number.parseInt(pids, 10);
    return Number.isNaN(first) ? undefined : first;
  } catch {
    return undefined; // nothing listens, or no lsof
  }
}

const listenerOf = (port: number) => (hasProc ? listenerFromProc(port) : listenerFromLsof(port));

export async function portInUse(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'EADDRINUSE'));
    probe.listen(port, host, () => probe.close(() => resolve(false)));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SIGTERM, then SIGKILL after 10 s; resolves once the process is no longer our server. */
async function stopLeftover(id: ServerIdentity, pid: number): Promise<void> {
  const gone = () => {
    const info = processInfo(pid);
    return !info || !isOurs(id, info.command);
  };
  for (const [signal, waitMs] of [['SIGTERM', 10_000], ['SIGKILL', 5_000]] as const) {
    try {
      process.kill(pid, signal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') return; // already gone
      throw new Error(`could not stop the leftover ${id.name} (pid ${pid}) of an earlier run: ${String(err)}`);
    }
    for (const deadline = Date.now() + waitMs; Date.now() < deadline; await sleep(100)) if (gone()) return;
  }
  throw new Error(`could not stop the leftover ${id.name} (pid ${pid}) of an earlier run`);
}

interface PidRecord {
  pid: number;
  /** The process that started it: while it is still its parent, the server is not a leftover. */
  owner: number;
}

function readPidFile(file: string): PidRecord | undefined {
  try {
    const rec = JSON.parse(readFileSync(file, 'utf8')) as Partial<PidRecord>;
    return Number.isInteger(rec.pid) && Number.isInteger(rec.owner) ? (rec as PidRecord) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Run before starting a server on fixed ports: stops what an earlier, killed run left of
 * it (found by its pid file or holding one of the ports), removes a stale pid file, and
 * fails with the port and the process named when a port is held by something else.
 * Calls `onLeftover` for each leftover it stopped.
 */
export async function clearLeftovers(
  id: ServerIdentity,
  host: string,
  ports: number[],
  onLeftover: (pid: number, command: string) => void = () => {},
): Promise<void> {
  if (id.pidFile) {
    const rec = readPidFile(id.pidFile);
    const info = rec && processInfo(rec.pid);
    if (rec && info && isOurs(id, info.command)) {
      if (info.ppid === rec.owner && rec.owner !== process.pid) {
        throw new Error(`${id.name} on ${id.dataPath} (pid ${rec.pid}) is run by another process (pid ${rec.owner}): stop that one first`);
      }
      await stopLeftover(id, rec.pid);
      onLeftover(rec.pid, info.command);
    }
    rmSync(id.pidFile, { force: true });
  }
  for (const port of ports) {
    while (await portInUse(host, port)) {
      const holder = listenerOf(port);
      const info = holder === undefined ? undefined : processInfo(holder);
      if (holder === undefined || !info || !isOurs(id, info.command)) {
        const by = holder === undefined ? 'another process' : `pid ${holder}${info ? ` (${info.command})` : ''}`;
        throw new Error(`port ${port} for ${id.name} is in use by ${by}: stop it or choose another port`);
      }
      await stopLeftover(id, holder);
      onLeftover(holder, info.command);
    }
  }
}

// $1: the server's pid. $2 (unused) puts the data path in the watchdog's command line.
const watchdogScript =
  'read -r _; kill -TERM "$1" 2>/dev/null || exit 0; i=0; ' +
  'while [ "$i" -lt 50 ] && kill -0 "$1" 2>/dev/null; do sleep 0.2; i=$((i+1)); done; kill -KILL "$1" 2>/dev/null';

/**
 * Keeps the watchdog and the pid file for a server we just spawned; both go when it exits.
 */
export function guard(id: ServerIdentity, child: ChildProcess): void {
  const pid = child.pid;
  if (pid === undefined) return; // spawn failed: the child's 'error'/'exit' tells
  const watchdog = spawn('sh', ['-c', watchdogScript, 'buurtfonds-watchdog', String(pid), id.dataPath ?? id.name], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  watchdog.on('error', () => {}); // no sh: the pid file is the only defence left
  child.once('exit', () => {
    // SIGKILL before closing its stdin: the watchdog must never signal a pid that may be reused.
    watchdog.kill('SIGKILL');
    watchdog.stdin?.destroy();
    if (id.pidFile && readPidFile(id.pidFile)?.pid === pid) rmSync(id.pidFile, { force: true });
  });
  if (!id.pidFile) return;
  try {
    writeFileSync(id.pidFile, JSON.stringify({ pid, owner: process.pid } satisfies PidRecord));
  } catch (err) {
    child.kill('SIGKILL'); // not a server we could not find again
    throw err;
  }
}
