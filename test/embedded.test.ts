/**
 * `npm start` (src/main.ts) as a user runs it: the whole service on the embedded
 * servers (the API and the pages), Ctrl-C stops every process it started, and the
 * data survives a restart.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validApplication } from './helpers/fixtures.ts';
import { freeMainPorts, interrupt, killMains, listening, processesUsing, startMain, type MainPorts, type MainProcess } from './helpers/npm-start.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'buurtfonds-embedded-'));
let ports: MainPorts;
let running: MainProcess | undefined;

afterAll(async () => {
  killMains();
  rmSync(dataDir, { recursive: true, force: true });
});

async function start(): Promise<MainProcess> {
  ports ??= await freeMainPorts();
  return startMain(dataDir, ports);
}

describe('npm start (embedded default)', () => {
  let id: string;
  let token: string;

  it('starts Temporal, FerretDB, the worker and the API, and prints where they are; serves the home page and a demo account logs in at /inloggen', async () => {
    running = await start();
    expect(running.output()).toContain(`API:              http://127.0.0.1:${ports.api}/api/v1`);
    expect(running.output()).toContain(`OpenAPI document: http://127.0.0.1:${ports.api}/api/openapi.json`);
    expect(running.output()).toContain(`Temporal Web UI:  http://127.0.0.1:${ports.ui}`);
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

    // The pages: the home page, and a demo account's login through /inloggen (CSRF cookie and token, session cookie).
    const base = `http://127.0.0.1:${ports.api}`;
    const home = await fetch(`${base}/`);
    expect(home.status).toBe(200);
    expect(await home.text()).toContain('Vraag geld aan');
    const jar = new Map<string, string>();
    const keep = (r: Response) => {
      for (const c of r.headers.getSetCookie()) jar.set(c.split('=')[0]!, c.split(';')[0]!);
      return r;
    };
    const cookie = () => [...jar.values()].join('; ');
    const form = keep(await fetch(`${base}/inloggen`));
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1];
    expect(csrf, 'the login form has a CSRF token').toBeDefined();
    const posted = keep(
      await fetch(`${base}/inloggen`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookie() },
        body: new URLSearchParams({ _csrf: csrf!, email: 'panel1@buurtfonds.test', password: 'embedded-demo-1' }).toString(),
      }),
    );
    expect(posted.status, 'the login form').toBe(303);
    const list = await fetch(`${base}/beheer/aanvragen`, { headers: { cookie: cookie() }, redirect: 'manual' });
    expect(list.status, 'the staff list after the login').toBe(200);
    const reference = ((await (await fetch(`${base}/api/v1/applications/${id}`, { headers: { authorization: `Bearer ${token}` } })).json()) as { reference: string }).reference;
    expect(await list.text()).toContain(reference);
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
    expect(running.output()).not.toContain('password:'); // the demo password is only printed at first start
    const res = await fetch(`http://127.0.0.1:${ports.api}/api/v1/applications/${id}`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; reference: string };
    expect(body.status).toBe('screening');
    expect(await interrupt(running)).toBe(0);
    running = undefined;
  });
});
