/**
 * `npm start` killed without a chance to stop its embedded servers (SIGKILL, the
 * out-of-memory killer): the servers do not stay behind holding their ports, the next
 * start comes up with all the data, and a port held by a server that is not ours stops
 * the start with a message naming it (src/embedded/leftovers.ts).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { listenerFromLsof, listenerFromProc } from '../src/embedded/leftovers.ts';
import { eventually } from './helpers/context.ts';
import { validApplication } from './helpers/fixtures.ts';
import { freeMainPorts, interrupt, killMains, listening, processesUsing, spawnMain, startMain, type MainPorts, type MainProcess } from './helpers/npm-start.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'buurtfonds-killed-'));
// Info level: the test reads which servers main.ts says it started.
const env = { LOG_LEVEL: 'info' };
// A start takes seconds alone, more than a minute on a loaded machine (untilRunning waits 90 s).
const START = { timeout: 120_000 };
let ports: MainPorts;
let main: MainProcess;

afterAll(async () => {
  killMains();
  for (const line of processesUsing(dataDir)) process.kill(pidOf(line), 'SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

const pidOf = (psLine: string) => Number(psLine.trim().split(/\s+/)[0]);
const count = (text: string, what: string) => text.split(what).length - 1;

async function killed(m: MainProcess): Promise<void> {
  m.child.kill('SIGKILL');
  expect(await m.exited).toBeNull();
}

/**
 * Waits for /readyz 200, then reads the application back until its workflow has moved it
 * into screening (a kill right after the 201 can come before that step; the restarted
 * worker finishes it).
 */
async function readBack(id: string, token: string): Promise<{ status: string; reference: string }> {
  await eventually(async () => (await fetch(`http://127.0.0.1:${ports.api}/readyz`)).status === 200, 15_000, '/readyz 200');
  let body: { status: string; reference: string } = { status: '', reference: '' };
  await eventually(
    async () => {
      const res = await fetch(`http://127.0.0.1:${ports.api}/api/v1/applications/${id}`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      body = (await res.json()) as typeof body;
      return body.status === 'screening';
    },
    30_000,
    'the application in screening',
  );
  return body;
}

describe('npm start after the previous one was killed', () => {
  let application: { id: string; accessToken: string; reference: string };

  it('runs on the embedded servers and takes an application', START, async () => {
    ports = await freeMainPorts();
    main = await startMain(dataDir, ports, env);
    const res = await fetch(`http://127.0.0.1:${ports.api}/api/v1/applications`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(validApplication()),
    });
    expect(res.status).toBe(201);
    application = (await res.json()) as typeof application;
  });

  it('SIGKILLed: its embedded servers stop with it, and the next start is ready with all the data', START, async () => {
    await killed(main);
    await eventually(async () => processesUsing(dataDir).length === 0, 10_000, 'the servers and their watchdogs to stop');
    for (const port of [ports.temporal, ports.ui, ports.ferret]) expect(await listening(port), `port ${port} still open`).toBe(false);
    expect(existsSync(join(dataDir, 'temporal.pid')), 'the pid file stays behind (nobody removed it)').toBe(true);

    main = await startMain(dataDir, ports, env);
    const out = main.output();
    expect(out).not.toContain('left running by an earlier start'); // they were gone already: the pid files were stale
    expect(count(out, 'embedded Temporal dev server started')).toBe(1);
    expect(count(out, 'embedded FerretDB started')).toBe(1);
    expect(await readBack(application.id, application.accessToken)).toMatchObject({ reference: application.reference, status: 'screening' });
  });

  it('SIGKILLed with its watchdogs: the next start stops the servers left running, found by pid file or by the port they hold, and is ready with all the data', START, async () => {
    const watchdogs = processesUsing(dataDir).filter((l) => l.includes('buurtfonds-watchdog'));
    expect(watchdogs).toHaveLength(2);
    for (const line of watchdogs) process.kill(pidOf(line), 'SIGKILL');
    await killed(main);
    // What the issue saw: both servers still running, holding their ports.
    const leftovers = processesUsing(dataDir).map(pidOf);
    expect(leftovers).toHaveLength(2);
    for (const port of [ports.temporal, ports.ferret]) expect(await listening(port), `port ${port} held by the leftover`).toBe(true);
    // As a version without pid files left it: found by the port it holds.
    rmSync(join(dataDir, 'ferretdb.pid'));

    main = await startMain(dataDir, ports, env);
    expect(count(main.output(), 'stopped an embedded server left running by an earlier start')).toBe(2);
    const running = processesUsing(dataDir).map(pidOf);
    for (const pid of leftovers) expect(running).not.toContain(pid);
    expect(await readBack(application.id, application.accessToken)).toMatchObject({ reference: application.reference, status: 'screening' });
  });

  it('refuses to start while a Temporal that is not its own answers on its port: names the port and the process, logs no start, leaves nothing running', START, async () => {
    expect(await interrupt(main)).toBe(0);
    expect(processesUsing(dataDir)).toEqual([]);
    expect(existsSync(join(dataDir, 'temporal.pid')) || existsSync(join(dataDir, 'ferretdb.pid')), 'pid files removed on a clean stop').toBe(false);

    // The test run's shared dev server (test/setup/global.ts): a Temporal, but not this data dir's.
    const foreignPort = Number(inject('temporalAddress').split(':')[1]);
    const refused = spawnMain(dataDir, { ...ports, temporal: foreignPort }, env);
    expect(await refused.exited).toBe(1);
    expect(refused.output()).toMatch(new RegExp(`port ${foreignPort} for Temporal is in use by pid \\d+ \\(\\S+/temporal server start-dev `));
    expect(refused.output()).not.toContain('embedded Temporal dev server started');
    expect(await listening(foreignPort), 'the other server was left alone').toBe(true);
    expect(processesUsing(dataDir)).toEqual([]);
  });
});

describe('the process listening on a port', () => {
  let server: Server;
  beforeAll(async () => {
    server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => server.close());
  const port = () => (server.address() as AddressInfo).port;
  const hasLsof = spawnSync('lsof', ['-v']).status === 0;

  it.skipIf(!existsSync('/proc/net/tcp'))('is found in /proc (Linux)', () => {
    expect(listenerFromProc(port())).toBe(process.pid);
  });

  it.skipIf(!hasLsof)('is found by lsof (macOS)', () => {
    expect(listenerFromLsof(port())).toBe(process.pid);
  });
});
