/**
 * Web pages benchmark (not a test): the server-rendered pages against the API routes
 * doing the same work, in the same run, and the weight of the apply page.
 *
 * Starts its own FerretDB and headless Temporal dev server, the production worker and
 * API (withBenchStack: startWorker / startApi as npm start wires them; the pages are
 * served by that same API process). Set-up: an admin account (argon2, logged in through
 * POST /api/v1/auth/login for its bearer token), BENCH_GRANTS reservations (a third of
 * them paid) in this year's ledger spread over the wijken, so the budget figures, the
 * chart and the wijk table have something in them; and a few "browsers": each opened
 * /aanvragen once and keeps its cookies (browser id, CSRF cookie) and the form's CSRF
 * token, as a returning visitor does.
 *
 * Four pairs, each measured as candidate (the page) and baseline (the API), every round
 * one phase of each side of each pair, the order of the sides alternating per round and
 * the pairs interleaved, so drift in the machine's load falls on all of them alike:
 *
 *   home    GET / (budget left, next meeting: ledger.summary + calendar.list(3), layout)
 *           vs GET /api/v1/budget/<year> and GET /api/v1/meetings as admin, the two sent
 *           at once (one operation): the page is an anonymous visitor's view of exactly
 *           these two reads; through the API, the meetings are staff-only, so the closest
 *           equivalent is the admin's call. The baseline pays two requests and a token
 *           check (JWT + the active-account lookup), so this pair leans the page's way;
 *           the budget pair below is the strict one-read-each comparison.
 *   form    GET /aanvragen vs GET /static/buurtfonds.css: the form has no API equivalent
 *           (it reads nothing: it is the layout, the form template, a CSRF token and a
 *           fresh idempotency key, compressed for this request). The fairest "same
 *           request" is the page's own stylesheet from the same server: same middleware
 *           (request log line, helmet headers, compression's check), a body of the same
 *           order on the wire, but pre-gzipped at start-up and no template. It is the
 *           floor of this server for such a response, so the ratio is the share of that
 *           floor the page keeps, i.e. what rendering + compressing + the CSRF cookie cost.
 *           (Rejected: GET /api/openapi.json, the API's "what to send", is 93 kB of JSON,
 *           4× the form's HTML, and takes ~3× as long: it would flatter the page; /healthz
 *           writes no log line and has a 15-byte body.)
 *   budget  GET /budget/<year> vs GET /api/v1/budget/<year>: the same ledger.summary; the
 *           page also reads the journal (in memory) and renders figures, a line chart, a
 *           bar chart and two tables.
 *   submit  POST /aanvragen vs POST /api/v1/applications, the important pair: the same
 *           application (applyFields() / validApplication()) with the same small PDF,
 *           multipart on both sides, a fresh idempotency key each time (the form's hidden
 *           field / the Idempotency-Key header). Both do the whole intake: file check,
 *           validation, reference claim, access token, event, document, application,
 *           workflow start. The page also parses ~30 form fields, checks the CSRF token,
 *           keeps the file (kept-files: rename + metadata) and hands intake a hard link,
 *           sets the applicant cookie and answers 303 to the confirmation page (not
 *           followed; the API's 201 JSON is its counterpart). The form's GET (for the token
 *           and key) is not part of the operation, as the API client's reading of the
 *           OpenAPI document is not either.
 *
 * Ratio = candidate (page) throughput / baseline (API) throughput, both operations per
 * second over all rounds (higher is better; the issue's goal is ≥ 0.8 for each pair);
 * `ratio` is the lowest of the four, so the goal holds for every pair when it holds for
 * it. p50/p95 latency and CPU ms per operation per process are reported per side.
 *
 * The HTTP client is node:http with a keep-alive agent (one connection per operation in
 * flight), `Accept-Encoding: gzip` on every request and no decompression, so the load
 * generator (which shares this process with the API) spends the same on either side.
 *
 * The worker: as in bench/intake, both submit sides start the same workflow, so the
 * worker runs the warm-up (and the run checks that both kinds of submission reach
 * `screening`) and is stopped for the measured phases.
 *
 * Page weight: /aanvragen fetched with Accept-Encoding: gzip, its compressed HTML plus
 * every stylesheet and script it links, each as served (gzipped) and summed against
 * the issue's budget of 100 kB (102 400 bytes).
 *
 * Environment: BENCH_N (GET operations per side per round), BENCH_POST_N (submissions per
 * side per round), BENCH_CONCURRENCY (in flight), BENCH_ROUNDS, BENCH_WARMUP (operations
 * per side of each pair), BENCH_GRANTS, BENCH_LOG_LEVEL; BENCH_PAIRS=form,budget runs only
 * those pairs (written to bench/results/pages-form-budget.json, beside the full run's).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { cpus } from 'node:os';
import { gunzipSync } from 'node:zlib';
import argon2 from 'argon2';
import { BudgetLedger } from '../src/budget/ledger.ts';
import { amsterdamYear } from '../src/domain/dates.ts';
import { validApplication, pdfBytes } from '../test/helpers/fixtures.ts';
import { applyFields, type FormFields } from '../test/helpers/web.ts';
import {
  benchSettings,
  compareSides,
  envInt,
  loadAverage,
  logComparison,
  round,
  runIfMain,
  runInfo,
  runPool,
  stdoutLog,
  withBenchStack,
  writeResult,
  type BenchSettings,
  type Comparison,
  type PhaseResult,
  type RunInfo,
} from './support.ts';

const GOAL = 0.8;
const WEIGHT_BUDGET_BYTES = 102_400;

const pairNames = ['home', 'form', 'budget', 'submit'] as const;
type PairName = (typeof pairNames)[number];

export interface PairResult extends Comparison {
  candidateRequest: string;
  baselineRequest: string;
  /** Why this baseline is the API doing the same work (or the closest there is). */
  baselineChoice: string;
}

export interface WeightPart {
  url: string;
  kind: 'html' | 'stylesheet' | 'script';
  contentEncoding: string;
  /** Bytes on the wire (the body as served, compressed). */
  bytes: number;
  uncompressedBytes: number;
}

export interface PagesBenchResult extends BenchSettings, RunInfo {
  name: 'pages' | `pages-${string}`;
  date: string;
  postN: number;
  workerMode: 'paused';
  ratioDefinition: string;
  /** The lowest pair ratio. */
  ratio: number;
  goal: number;
  pass: boolean;
  /** Every pair's ratio (a run with BENCH_PAIRS has only those). */
  pairRatios: Partial<Record<PairName, number>>;
  pairs: Partial<Record<PairName, PairResult>>;
  /** The apply page with its CSS and scripts, compressed as served. */
  applyPageWeightBytes: number;
  applyPageWeightParts: WeightPart[];
  weightBudgetBytes: number;
  weightPass: boolean;
  data: { year: number; grants: number; paid: number; journalEntries: number; browsers: number };
  durationSec: number;
}

// --- a small HTTP client: keep-alive, raw bodies ------------------------------------------

interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

function httpClient(base: string, maxSockets: number) {
  const agent = new Agent({ keepAlive: true, maxSockets });
  const once = (method: string, path: string, headers: Record<string, string>, body?: Buffer) =>
    new Promise<{ res: HttpResponse } | { err: NodeJS.ErrnoException; reused: boolean }>((resolve) => {
      const req = httpRequest(`${base}${path}`, { method, agent, headers: { 'accept-encoding': 'gzip', ...headers, ...(body ? { 'content-length': String(body.length) } : {}) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ res: { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) } }));
        res.on('error', (err) => resolve({ err, reused: false }));
      });
      req.on('error', (err) => resolve({ err, reused: req.reusedSocket }));
      req.end(body);
    });
  return {
    /** One request; retried once when a kept-alive connection was closed under it (the server's keep-alive timeout). */
    async send(method: string, path: string, headers: Record<string, string> = {}, body?: Buffer): Promise<HttpResponse> {
      let r = await once(method, path, headers, body);
      if ('err' in r && r.reused && r.err.code === 'ECONNRESET') r = await once(method, path, headers, body);
      if ('err' in r) throw r.err;
      return r.res;
    },
    close: () => agent.destroy(),
  };
}

/** multipart/form-data as a browser sends it: the fields in order, then the files. */
function multipart(fields: [string, string][], files: { field: string; name: string; type: string; bytes: Buffer }[]): { body: Buffer; contentType: string } {
  const boundary = `----benchBoundary${randomBytes(12).toString('hex')}`;
  const parts: Buffer[] = [];
  for (const [name, value] of fields) parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  for (const f of files) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${f.field}"; filename="${f.name}"\r\nContent-Type: ${f.type}\r\n\r\n`), f.bytes, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

const formEntries = (fields: FormFields): [string, string][] => Object.entries(fields).flatMap(([k, v]) => (Array.isArray(v) ? v.map((one): [string, string] => [k, one]) : [[k, v] as [string, string]]));

/** The Set-Cookie headers of a response as name → value. */
function setCookies(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of headers['set-cookie'] ?? []) {
    const m = /^([^=;\s]+)=([^;]*)/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

const bodyText = (r: HttpResponse) => (r.headers['content-encoding'] === 'gzip' ? gunzipSync(r.body) : r.body).toString('utf8');

// --- the benchmark ------------------------------------------------------------------------

export async function runPagesBench(log = stdoutLog): Promise<PagesBenchResult> {
  const settings = benchSettings({ n: 400, concurrency: 8, rounds: 4, warmup: 30 });
  const { n, concurrency, rounds, warmup, logLevel } = settings;
  const postN = envInt('BENCH_POST_N', 120);
  const grantCount = envInt('BENCH_GRANTS', 40, 0);
  const browserCount = concurrency;
  const only = (process.env.BENCH_PAIRS ?? '').split(',').map((p) => p.trim()).filter(Boolean);
  const unknownPairs = only.filter((p) => !(pairNames as readonly string[]).includes(p));
  if (unknownPairs.length) throw new Error(`BENCH_PAIRS: unknown pair(s) ${unknownPairs.join(', ')}; known: ${pairNames.join(', ')}`);
  const selected = pairNames.filter((p) => !only.length || only.includes(p));
  const startedAt = Date.now();
  const loadavgAtStart = loadAverage();

  return withBenchStack({ name: 'pages', logLevel, log }, async (stack) => {
    const { config, api, models, cpu } = stack;
    const http = httpClient(api.url, concurrency);
    const year = amsterdamYear(new Date());
    log(`pages: api and pages at ${api.url}`);

    // --- data: an admin, grants in this year's ledger --------------------------------------
    const password = randomBytes(12).toString('base64url');
    await models.StaffUser.create({ _id: randomUUID(), email: 'admin@bench.test', name: 'Bench Beheer', role: 'admin', chair: false, active: true, passwordHash: await argon2.hash(password), createdAt: new Date() });
    const login = await http.send('POST', '/api/v1/auth/login', { 'content-type': 'application/json' }, Buffer.from(JSON.stringify({ email: 'admin@bench.test', password })));
    const token = (JSON.parse(bodyText(login)) as { token?: string }).token;
    if (login.status !== 200 || !token) throw new Error(`pages: admin login: ${login.status} ${bodyText(login)}`);
    const adminAuth = { authorization: `Bearer ${token}` };

    // The bench's own ledger on the same journal (as a second API process would write it).
    const ledger = new BudgetLedger({ models, defaultTotalCents: config.fund.annualBudgetCents });
    const wijken = config.fund.wijken;
    let paid = 0;
    for (let i = 0; i < grantCount; i++) {
      const applicationId = randomUUID();
      const reserved = await ledger.reserve({ applicationId, year, amountCents: 25_000 + ((i * 7919) % 125_000), wijken: [wijken[i % wijken.length]!], actor: 'staff:bench' });
      if (reserved.outcome !== 'reserved') throw new Error(`pages: grant ${i + 1} did not fit the budget`);
      if (i % 3 === 0) {
        await ledger.pay({ applicationId, year, actor: 'staff:bench' });
        paid++;
      }
    }
    const journalEntries = (await ledger.journal(year)).length;
    log(`pages: ${grantCount} grants (${paid} paid) in ${year}, ${journalEntries} journal entries`);

    // --- browsers: each opened the form once and keeps its cookies and CSRF token ------------
    const browsers: { cookie: string; csrf: string }[] = [];
    for (let b = 0; b < browserCount; b++) {
      const first = await http.send('GET', '/aanvragen');
      const jar = setCookies(first.headers);
      const csrf = /name="_csrf" value="([^"]+)"/.exec(bodyText(first))?.[1];
      if (first.status !== 200 || !csrf || Object.keys(jar).length < 2) throw new Error(`pages: GET /aanvragen (first visit): ${first.status}, cookies ${Object.keys(jar).join(',')}`);
      browsers.push({ cookie: Object.entries(jar).map(([k, v]) => `${k}=${v}`).join('; '), csrf });
    }

    // --- the operations ------------------------------------------------------------------------
    const expect = (r: HttpResponse, status: number, what: string) => {
      if (r.status !== status) throw new Error(`${what}: ${r.status} (expected ${status}) ${bodyText(r).slice(0, 500)}`);
    };
    const page = async (path: string, i: number, mustContain?: string) => {
      const r = await http.send('GET', path, { cookie: browsers[i % browserCount]!.cookie });
      expect(r, 200, `GET ${path}`);
      if (r.headers['content-encoding'] !== 'gzip') throw new Error(`GET ${path}: not gzipped`);
      if (mustContain && i === 0 && !bodyText(r).includes(mustContain)) throw new Error(`GET ${path}: no ${mustContain}`);
    };
    const apiGet = async (path: string, headers: Record<string, string> = {}) => expect(await http.send('GET', path, headers), 200, `GET ${path}`);
    const cssUrl = (bodyText(await http.send('GET', '/aanvragen')).match(/href="(\/static\/buurtfonds\.css\?v=[^"]+)"/) ?? [])[1];
    if (!cssUrl) throw new Error('pages: the form does not link /static/buurtfonds.css');

    let seq = 0;
    const pdf = { field: 'documents', name: 'begroting.pdf', type: 'application/pdf', bytes: pdfBytes };
    const submitPage = async (i: number) => {
      const browser = browsers[i % browserCount]!;
      const fields = applyFields({ title: `Straatfeest formulier ${++seq}` }); // a fresh idempotencyKey each time
      const { body, contentType } = multipart([['_csrf', browser.csrf], ...formEntries(fields)], [pdf]);
      const r = await http.send('POST', '/aanvragen', { cookie: browser.cookie, 'content-type': contentType }, body);
      expect(r, 303, 'POST /aanvragen');
      if (!/^\/aanvraag\/[0-9a-f-]{36}\/verzonden$/.test(String(r.headers.location))) throw new Error(`POST /aanvragen: redirected to ${r.headers.location}`);
    };
    const submitApi = async () => {
      const { body, contentType } = multipart([['application', JSON.stringify(validApplication({ title: `Straatfeest api ${++seq}` }))]], [pdf]);
      const r = await http.send('POST', '/api/v1/applications', { 'content-type': contentType, 'idempotency-key': randomUUID() }, body);
      expect(r, 201, 'POST /api/v1/applications');
    };

    const pairs: Record<PairName, { baselineChoice: string; n: number; candidate: (i: number) => Promise<void>; baseline: (i: number) => Promise<void>; candidateRequest: string; baselineRequest: string; candidateDescription: string; baselineDescription: string }> = {
      home: {
        baselineChoice: "The page is an anonymous view of exactly these two reads. The API shows meetings to staff only, so the closest equivalent is the admin calling both routes at once; it pays two requests and a token check the page does not (leans the page's way; the budget pair is the strict one-read comparison).",
        n,
        candidate: (i) => page('/', i, 'budget-title'),
        baseline: async () => {
          await Promise.all([apiGet(`/api/v1/budget/${year}`), apiGet('/api/v1/meetings', adminAuth)]);
        },
        candidateRequest: 'GET /',
        baselineRequest: `GET /api/v1/budget/${year} + GET /api/v1/meetings (admin bearer token), sent at once`,
        candidateDescription: 'home page: ledger.summary + calendar.list(3), layout, CSRF cookie, gzip',
        baselineDescription: 'the same two reads through the API: budget summary (anonymous) and the meeting calendar (admin: token check + active-account lookup), two requests in parallel',
      },
      form: {
        baselineChoice: "The form has no API equivalent: it reads nothing. Its own stylesheet, from the same server and middleware, with about the same bytes on the wire (pre-gzipped at start-up), is the floor for such a response; the ratio is the share of that floor the page keeps after rendering, compressing and the CSRF cookie. GET /api/openapi.json (93 kB JSON, ~3x the form's time) would flatter the page; /healthz writes no log line.",
        n,
        candidate: (i) => page('/aanvragen', i, 'name="idempotencyKey"'),
        baseline: () => apiGet(cssUrl),
        candidateRequest: 'GET /aanvragen',
        baselineRequest: `GET ${cssUrl}`,
        candidateDescription: 'apply form: no reads; layout + form template, CSRF token (cookie reused, re-set), fresh idempotency key, gzip per request',
        baselineDescription: "the page's own stylesheet from the same server: same middleware, pre-gzipped at start-up, no template (the floor of this server for a response of this size; the form has no API equivalent)",
      },
      budget: {
        baselineChoice: 'The same service call (ledger.summary) as JSON; the page also reads the journal and renders figures, two charts and two tables.',
        n,
        candidate: (i) => page(`/budget/${year}`, i, 'bf-figures'),
        baseline: () => apiGet(`/api/v1/budget/${year}`),
        candidateRequest: `GET /budget/${year}`,
        baselineRequest: `GET /api/v1/budget/${year}`,
        candidateDescription: 'budget page: ledger.summary + ledger.journal (cached), figures, line and bar chart, two tables, gzip',
        baselineDescription: 'the budget summary as JSON (ledger.summary)',
      },
      submit: {
        baselineChoice: "The same application and PDF through the API's multipart submit with an Idempotency-Key: both run the whole intake and start the workflow.",
        n: postN,
        candidate: submitPage,
        baseline: submitApi,
        candidateRequest: 'POST /aanvragen (multipart: CSRF token, form fields, idempotency key, one PDF)',
        baselineRequest: 'POST /api/v1/applications (multipart: application JSON + the same PDF, Idempotency-Key)',
        candidateDescription: 'the form post: CSRF check, form fields → input, kept file + hard link, intake (validation, reference, token, event, document, application, workflow start), cookie, 303',
        baselineDescription: 'the API submit: file check, validation, intake (reference, token, event, document, application, workflow start), 201 JSON',
      },
    };

    // --- warm-up (worker running: every submission must reach `screening`) -------------------
    const applications = models.Application.collection;
    if (warmup > 0) {
      log(`pages: warm-up (${warmup} of each side of each pair, worker running)`);
      for (const name of selected) {
        await runPool(warmup, concurrency, pairs[name].candidate, cpu);
        await runPool(warmup, concurrency, pairs[name].baseline, cpu);
      }
      const deadline = Date.now() + 300_000;
      while ((await applications.countDocuments({ statusSeq: 1 })) > 0) {
        if (Date.now() > deadline) throw new Error('pages: the worker did not take the warm-up submissions to screening');
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    await stack.stopWorker();

    // --- the measured rounds: pairs interleaved, sides alternating ---------------------------
    const phases = Object.fromEntries(selected.map((p) => [p, { candidate: [] as PhaseResult[], baseline: [] as PhaseResult[] }])) as Record<PairName, { candidate: PhaseResult[]; baseline: PhaseResult[] }>;
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? (['candidate', 'baseline'] as const) : (['baseline', 'candidate'] as const);
      for (const name of selected) {
        for (const side of order) {
          const pair = pairs[name];
          const result = await runPool(pair.n, concurrency, pair[side], cpu);
          phases[name][side].push(result);
          log(
            `pages: round ${r + 1}/${rounds} ${name.padEnd(6)} ${side.padEnd(9)} ${String(result.opsPerSec).padStart(8)} ops/s  p50 ${result.latencyMs.p50} ms  p95 ${result.latencyMs.p95} ms  cpu/op ${JSON.stringify(result.cpuMsPerOp)}`,
          );
        }
      }
    }

    // Sanity: every submission of either side stored its application, its document and its workflow.
    const total = selected.includes('submit') ? warmup + rounds * postN : 0;
    const fromPage = await applications.countDocuments({ title: /^Straatfeest formulier / });
    const fromApi = await applications.countDocuments({ title: /^Straatfeest api / });
    const documents = await models.Document.collection.countDocuments({});
    const workflows = (await stack.client.workflow.count(`TaskQueue = '${config.temporal.taskQueue}'`)).count;
    if (fromPage !== total || fromApi !== total || documents !== 2 * total || workflows < 2 * total) {
      throw new Error(`pages: expected ${total} applications from each side, ${2 * total} documents and workflows; found page ${fromPage}, api ${fromApi}, documents ${documents}, workflows ${workflows}`);
    }

    // --- the apply page's weight ---------------------------------------------------------------
    const weightParts: WeightPart[] = [];
    const form = await http.send('GET', '/aanvragen', { cookie: browsers[0]!.cookie });
    const formHtml = bodyText(form);
    weightParts.push({ url: '/aanvragen', kind: 'html', contentEncoding: String(form.headers['content-encoding'] ?? 'identity'), bytes: form.body.length, uncompressedBytes: Buffer.byteLength(formHtml) });
    const linked = [
      ...[...formHtml.matchAll(/<link\b[^>]*\brel="stylesheet"[^>]*\bhref="([^"]+)"/g)].map((m) => ({ url: m[1]!, kind: 'stylesheet' as const })),
      ...[...formHtml.matchAll(/<script\b[^>]*\bsrc="([^"]+)"/g)].map((m) => ({ url: m[1]!, kind: 'script' as const })),
    ];
    for (const { url, kind } of linked) {
      if (!url.startsWith('/')) throw new Error(`pages: the form links ${url} from another origin`);
      const r = await http.send('GET', url);
      expect(r, 200, `GET ${url}`);
      weightParts.push({ url, kind, contentEncoding: String(r.headers['content-encoding'] ?? 'identity'), bytes: r.body.length, uncompressedBytes: r.headers['content-encoding'] === 'gzip' ? gunzipSync(r.body).length : r.body.length });
    }
    const applyPageWeightBytes = weightParts.reduce((s, p) => s + p.bytes, 0);
    http.close();

    // --- the result ------------------------------------------------------------------------------
    const pairResults = Object.fromEntries(
      selected.map((name) => {
        const p = pairs[name];
        const cmp = compareSides(phases[name], { candidate: p.candidateDescription, baseline: p.baselineDescription }, GOAL);
        return [name, { candidateRequest: p.candidateRequest, baselineRequest: p.baselineRequest, baselineChoice: p.baselineChoice, ...cmp }];
      }),
    ) as Partial<Record<PairName, PairResult>>;
    const pairRatios = Object.fromEntries(selected.map((name) => [name, pairResults[name]!.ratio])) as Partial<Record<PairName, number>>;
    const ratio = Math.min(...Object.values(pairRatios));
    const result: PagesBenchResult = {
      // A run of some of the pairs (BENCH_PAIRS) gets its own file, next to the full run's.
      name: selected.length === pairNames.length ? 'pages' : `pages-${selected.join('-')}`,
      date: new Date().toISOString(),
      ...settings,
      postN,
      workerMode: 'paused',
      ratioDefinition: 'page operations per second / API (baseline) operations per second, over all rounds; `ratio` is the lowest pair ratio',
      ratio,
      goal: GOAL,
      pass: ratio >= GOAL,
      pairRatios,
      pairs: pairResults,
      applyPageWeightBytes,
      applyPageWeightParts: weightParts,
      weightBudgetBytes: WEIGHT_BUDGET_BYTES,
      weightPass: applyPageWeightBytes < WEIGHT_BUDGET_BYTES,
      data: { year, grants: grantCount, paid, journalEntries, browsers: browserCount },
      ...runInfo(loadavgAtStart),
      durationSec: 0,
    };
    const file = await writeResult(stack, result, startedAt);

    log('');
    log(`pages: ${selected.join(', ')}: ${n} GETs and ${postN} submissions per side per round, ${concurrency} in flight, ${rounds} rounds; node ${process.version}, ${cpus().length} cpu(s)`);
    for (const name of selected) {
      const p = pairResults[name]!;
      log(`${name}: ${p.candidateRequest}  vs  ${p.baselineRequest}`);
      logComparison(log, p, { candidate: 'page     ', baseline: 'baseline ' }, 'ops');
    }
    log(`  overall ratio (lowest pair) ${ratio} (goal >= ${GOAL}: ${result.pass ? 'met' : 'NOT met'})`);
    log(`  apply page weight ${applyPageWeightBytes} bytes compressed (${weightParts.map((p) => `${p.url.replace(/\?.*/, '')} ${p.bytes}`).join(', ')}); budget ${WEIGHT_BUDGET_BYTES}: ${result.weightPass ? 'met' : 'NOT met'}`);
    log(`  load average at start ${loadavgAtStart.join(' ')}, at end ${result.machine.loadavgAtEnd.join(' ')}`);
    log(`  written to ${file}`);
    return result;
  });
}

runIfMain(import.meta.url, runPagesBench);
