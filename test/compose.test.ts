/**
 * docker-compose.yml, checked without Docker: the services a user expects, wired to
 * each other, with only environment variables src/config.ts knows. When a Compose
 * plugin is installed, `docker compose config -q` validates the file as well.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configVariables, loadConfig } from '../src/config.ts';
import { projectRoot } from '../src/embedded/servers.ts';

const composeFile = join(projectRoot, 'docker-compose.yml');

interface Service {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: (string | number | Record<string, unknown>)[];
  healthcheck?: { test?: string[] | string };
  depends_on?: string[] | Record<string, { condition?: string }>;
  volumes?: (string | Record<string, unknown>)[];
}

// Compose supports YAML merge keys (`<<: *anchor`); YAML 1.2 parsers only with `merge`.
const compose = parse(readFileSync(composeFile, 'utf8'), { merge: true }) as { services: Record<string, Service>; volumes?: Record<string, unknown> };
const services = compose.services;

/** The container environment as compose would hand it over (list or map form). */
function environment(name: string): Record<string, string | null> {
  const env = services[name]?.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(env.map((e) => (e.includes('=') ? [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)] : [e, null])));
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? null : String(v)]));
}

/** `repo[:tag]` → repo; a `${VAR:-default}` tag does not matter here. */
function imageRepository(name: string): string {
  const image = services[name]?.image ?? '';
  return image.replace(/:[^/]*$/, '');
}

function dependsOn(name: string): Record<string, string | undefined> {
  const d = services[name]?.depends_on ?? {};
  return Array.isArray(d) ? Object.fromEntries(d.map((s) => [s, undefined])) : Object.fromEntries(Object.entries(d).map(([k, v]) => [k, v.condition]));
}

/** `${VAR:-default}` → default; `${VAR:?message}` → undefined (the user must set it). */
function interpolateDefault(value: string): string | undefined {
  let missing = false;
  const out = value.replace(/\$\{([A-Z0-9_]+)(?::?([-?])([^}]*))?\}/g, (_m, _name, op: string | undefined, arg: string | undefined) => {
    if (op === '-') return arg ?? '';
    missing = true;
    return '';
  });
  return missing ? undefined : out;
}

describe('docker-compose.yml', () => {
  it('has the api, the worker, MongoDB, the Temporal server and its Web UI', () => {
    for (const name of ['api', 'worker', 'mongo', 'temporal', 'temporal-ui']) expect(services, name).toHaveProperty(name);
  });

  it('uses official images for MongoDB and Temporal', () => {
    expect(imageRepository('mongo')).toBe('mongo');
    expect(services.mongo?.image).toMatch(/^mongo:8(\.\d+)*$/);
    expect(imageRepository('temporal')).toBe('temporalio/server');
    expect(imageRepository('temporal-ui')).toBe('temporalio/ui');
    expect(imageRepository('temporal-schema')).toBe('temporalio/admin-tools');
    expect(imageRepository('temporal-namespace')).toBe('temporalio/admin-tools');
    expect(imageRepository('temporal-postgresql')).toBe('postgres');
    // auto-setup is deprecated by Temporal; nothing should still use it.
    for (const [name, s] of Object.entries(services)) expect(s.image ?? '', name).not.toContain('auto-setup');
  });

  it('builds api and worker from the Dockerfile and runs the TypeScript entry points with Node', () => {
    const dockerfile = readFileSync(join(projectRoot, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^FROM node:24\b/m);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    for (const dir of ['src', 'activities', 'workflows']) expect(dockerfile).toMatch(new RegExp(`^COPY ${dir} `, 'm'));
    expect(services.api?.build).toBeDefined();
    expect(services.worker?.build).toBeDefined();
    expect(services.api?.command).toEqual(['node', 'src/server.ts']);
    expect(services.worker?.command).toEqual(['node', 'src/worker.ts']);
    const dockerignore = readFileSync(join(projectRoot, '.dockerignore'), 'utf8').split('\n');
    expect(dockerignore).toContain('node_modules');
    expect(dockerignore).not.toContain('package-lock.json');
  });

  it('points api and worker at the compose Temporal and MongoDB services, on the same namespace and task queue', () => {
    const api = environment('api');
    const worker = environment('worker');
    for (const env of [api, worker]) {
      expect(env.TEMPORAL_ADDRESS).toBe('temporal:7233');
      expect(env.MONGODB_URI).toMatch(/^mongodb:\/\/mongo:27017\/\w+$/);
      expect(env.NODE_ENV).toBe('production');
      expect(env.AUTH_SECRET, 'AUTH_SECRET must be required from the user').toMatch(/^\$\{AUTH_SECRET:\?.+\}$/);
      expect(env.PAYOUT_DEBTOR_IBAN, 'the debtor account must be required from the user').toMatch(/^\$\{PAYOUT_DEBTOR_IBAN:\?.+\}$/);
    }
    expect(worker.MONGODB_URI).toBe(api.MONGODB_URI);
    expect(worker.TEMPORAL_NAMESPACE).toBe(api.TEMPORAL_NAMESPACE);
    expect(worker.TEMPORAL_TASK_QUEUE).toBe(api.TEMPORAL_TASK_QUEUE);
    expect(worker.AUTH_SECRET).toBe(api.AUTH_SECRET);
    expect(worker.PUBLIC_BASE_URL).toBe(api.PUBLIC_BASE_URL);
    expect(api.HOST).toBe('0.0.0.0');

    for (const name of ['api', 'worker']) {
      const deps = dependsOn(name);
      expect(deps.mongo, `${name} waits for mongo`).toBe('service_healthy');
      expect(deps.temporal, `${name} waits for temporal`).toBe('service_healthy');
      expect(deps['temporal-namespace'], `${name} waits for the namespace`).toBe('service_completed_successfully');
    }
    expect(environment('temporal-namespace').NAMESPACE).toBe(api.TEMPORAL_NAMESPACE);
  });

  it('gives api and worker only environment variables that src/config.ts knows', () => {
    for (const name of ['api', 'worker']) {
      const unknown = Object.keys(environment(name)).filter((k) => !configVariables.includes(k));
      expect(unknown, `${name}: unknown variables`).toEqual([]);
    }
    expect(configVariables).toContain('TEMPORAL_ADDRESS'); // the export really is the schema's keys
  });

  it('passes every fund and panel setting through to both api and worker, so .env values are not ignored', () => {
    // Only settings for the embedded servers (ports of the dev servers) and those only the api reads (uploads, login limits) are left out.
    const notForCompose = new Set(['HOST', 'PORT', 'TEMPORAL_PORT', 'TEMPORAL_UI_PORT', 'FERRETDB_PORT', 'DOCUMENT_DIR', 'MAX_UPLOAD_BYTES', 'MAX_UPLOAD_FILES', 'LOGIN_RATE_LIMIT', 'LOGIN_RATE_WINDOW_SECONDS', 'LOGIN_ACCOUNT_LIMIT', 'LOGIN_ACCOUNT_WINDOW_SECONDS', 'LOGIN_ACCOUNT_LOCK_SECONDS']);
    for (const name of ['api', 'worker']) {
      const missing = configVariables.filter((k) => !notForCompose.has(k) && !(k in environment(name)));
      expect(missing, `${name}: settings not passed through`).toEqual([]);
    }
  });

  it('passes config validation with its defaults once AUTH_SECRET and PAYOUT_DEBTOR_IBAN are set', () => {
    for (const name of ['api', 'worker']) {
      const env: Record<string, string> = {};
      for (const [k, v] of Object.entries(environment(name))) {
        if (v === null) continue; // pass-through, unset unless the user sets it
        const value = k === 'AUTH_SECRET' ? 'x'.repeat(64) : k === 'PAYOUT_DEBTOR_IBAN' ? 'NL34BNGH0285000001' : interpolateDefault(v);
        expect(value, `${name}: ${k} needs a default`).toBeDefined();
        env[k] = value!;
      }
      const config = loadConfig(env);
      expect(config.env).toBe('production');
      expect(config.temporal.address).toBe('temporal:7233');
    }
  });

  it('publishes the api port and checks its readiness on /readyz', () => {
    const ports = (services.api?.ports ?? []).map(String);
    expect(ports.some((p) => /:3000$/.test(p))).toBe(true);
    expect(environment('api').PORT).toBe('3000');
    const test = services.api?.healthcheck?.test;
    expect(JSON.stringify(test)).toContain('/readyz');
    expect(JSON.stringify(test)).toContain(':3000');
  });

  it('keeps documents and database data on named volumes', () => {
    const volumeNames = Object.keys(compose.volumes ?? {});
    const mounts = (name: string) => (services[name]?.volumes ?? []).map(String);
    expect(mounts('api').some((m) => m.endsWith(':/data'))).toBe(true);
    expect(environment('api').DOCUMENT_DIR).toMatch(/^\/data\//);
    expect(mounts('mongo').some((m) => m.endsWith(':/data/db'))).toBe(true);
    for (const m of [...mounts('api'), ...mounts('mongo'), ...mounts('temporal-postgresql')]) {
      expect(volumeNames).toContain(m.split(':')[0]);
    }
  });

  // The Compose plugin (`docker compose`) or the standalone binary (`docker-compose`), whichever runs.
  const composeCli = [['docker', 'compose'], ['docker-compose']]
    .map((cmd) => ({ cmd, version: spawnSync(cmd[0]!, [...cmd.slice(1), 'version'], { encoding: 'utf8' }) }))
    .find((c) => c.version.status === 0);
  const runCompose = (authSecret: string) =>
    spawnSync(composeCli!.cmd[0]!, [...composeCli!.cmd.slice(1), '-f', composeFile, 'config', '-q'], {
      encoding: 'utf8',
      env: { ...process.env, AUTH_SECRET: authSecret, PAYOUT_DEBTOR_IBAN: 'NL34BNGH0285000001' },
    });
  it.skipIf(!composeCli)(
    composeCli
      ? `is valid for ${composeCli.cmd.join(' ')} config (${composeCli.version.stdout.trim()}), and demands AUTH_SECRET`
      : 'is valid for docker compose config — skipped: neither `docker compose version` nor `docker-compose version` succeeds on this machine',
    () => {
      const ok = runCompose('x'.repeat(64));
      expect(ok.stderr).toBe('');
      expect(ok.status).toBe(0);

      const missing = runCompose('');
      expect(missing.status).not.toBe(0);
      expect(missing.stderr).toContain('AUTH_SECRET');
    },
  );
});
