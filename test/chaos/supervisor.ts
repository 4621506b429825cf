/**
 * Runs a child process (the chaos worker) and starts it again each time it dies by
 * SIGKILL, like a process manager would. Any other exit is a failure of the test: it
 * is recorded and the child is not restarted.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface Exit {
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  at: number;
}

export interface Supervisor {
  /** Every exit so far, in order. */
  readonly exits: readonly Exit[];
  /** Children that told us they run, in order. */
  readonly started: readonly { pid: number; at: number }[];
  /** Resolves once a child other than `notPid` runs (the one started after that one died). */
  waitReady(notPid?: number, timeoutMs?: number): Promise<number>;
  /** The last lines the children wrote (for a failure message). */
  output(): string;
  stop(): Promise<void>;
}

export function supervise(script: string, env: NodeJS.ProcessEnv): Supervisor {
  const exits: Exit[] = [];
  const started: { pid: number; at: number }[] = [];
  const lines: string[] = [];
  let current: ChildProcess | undefined;
  let stopping = false;
  let failed: Error | undefined;
  const listeners = new Set<() => void>();
  const wake = () => listeners.forEach((l) => l());

  const remember = (pid: number | undefined) => (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(`[${pid}] ${line}`);
    lines.splice(0, Math.max(0, lines.length - 200));
  };

  function start(): void {
    const child = spawn(process.execPath, [script], { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    current = child;
    child.stdout?.on('data', remember(child.pid));
    child.stderr?.on('data', remember(child.pid));
    child.on('message', (m: { ready?: number }) => {
      if (m.ready) {
        started.push({ pid: m.ready, at: Date.now() });
        wake();
      }
    });
    child.once('exit', (code, signal) => {
      exits.push({ pid: child.pid ?? -1, code, signal, at: Date.now() });
      if (current === child) current = undefined;
      if (!stopping) {
        if (signal === 'SIGKILL') start();
        else failed = new Error(`worker ${child.pid} exited unexpectedly (code ${code}, signal ${signal}):\n${lines.slice(-30).join('\n')}`);
      }
      wake();
    });
  }
  start();

  return {
    exits,
    started,
    output: () => lines.join('\n'),
    waitReady(notPid, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (failed) return done(() => reject(failed));
          const pid = current?.pid;
          if (pid !== undefined && pid !== notPid && started.some((s) => s.pid === pid)) return done(() => resolve(pid));
        };
        const timer = setTimeout(() => done(() => reject(new Error(`no worker ready within ${timeoutMs} ms:\n${lines.slice(-30).join('\n')}`))), timeoutMs);
        const done = (fn: () => void) => {
          clearTimeout(timer);
          listeners.delete(check);
          fn();
        };
        listeners.add(check);
        check();
      });
    },
    async stop() {
      stopping = true;
      const child = current;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
