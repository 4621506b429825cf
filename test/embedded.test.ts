/**
 * `npm start` (src/main.ts) as a user runs it: the whole service on the embedded
 * servers, Ctrl-C stops every process it started, and the data survives a restart.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, projectRoot } from '../src/embedded/servers.ts';
import { validApplication } from './helpers/fixtures.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'buurtfonds-embedded-'));
let ports: { api: number; temporal: number; ui: number; ferret: number };
let running: ChildProcess | undefined;
let output = '';

afterAll(async () => {
  running?.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

async function start(): Promise<ChildProcess> {
  ports ??= { api: await freePort(), temporal: await freePort(), ui: await freePort(), ferret: await freePort() };
  output = '';
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
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const deadline = Date.now() + 90_000;
  while (!output.includes('Ctrl-C stops everything')) {
    if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) throw new Error(`npm start did not come up:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return child;
}

/** Sends what Ctrl-C sends and waits for the process to end. */
async function interrupt(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill('SIGINT');
  return exited;
}

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });

function processesUsing(dir: string): string[] {
  const ps = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  return ps.split('\n').filter((l) => l.includes(dir) && !l.includes(' ps '));
}

describe('npm start (embedded default)', () => {
  let id: string;
  let token: string;

  it('starts Temporal, FerretDB, the worker and the API, and prints where they are', async () => {
    running = await start();
    expect(output).toContain(`API:              http://127.0.0.1:${ports.api}/api/v1`);
    expect(output).toContain(`OpenAPI document: http://127.0.0.1:${ports.api}/api/openapi.json`);
    expect(output).toContain(`Temporal Web UI:  http://127.0.0.1:${ports.ui}`);
    const ready = await fetch(`http://127.0.0.1:${ports.api}/readyz`);
    expect(ready.status).toBe(200);

    const res = await fetch(`http://127.0.0.1:${ports.api}/api/v1/applications`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(validApplication()),
    });
    expect(res.status).toBe(201);
    ({ id, accessToken: token } = (await res.json()) as { id: string; accessToken: string });
    const login = await fetch(`http://127.0.0.1:${ports.api}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'panel1@buurtfonds.test', password: 'embedded-demo-1' }),
    });
    expect(login.status).toBe(200);
  });

  it('stops every process it started on Ctrl-C', async () => {
    const code = await interrupt(running!);
    running = undefined;
    expect(code).toBe(0);
    for (const port of [ports.api, ports.temporal, ports.ferret]) expect(await listening(port), `port ${port} still open`).toBe(false);
    expect(processesUsing(dataDir)).toEqual([]);
  });

  it('keeps the data across a restart: the application, its workflow and the staff accounts', async () => {
    running = await start();
    expect(output).not.toContain('password:'); // the demo password is only printed at first start
    const res = await fetch(`http://127.0.0.1:${ports.api}/api/v1/applications/${id}`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; reference: string };
    expect(body.status).toBe('screening');
    expect(await interrupt(running)).toBe(0);
    running = undefined;
  });
});
