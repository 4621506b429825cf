/**
 * Real Chromium for the page tests: Debian's chromium (scripts/servers.sh installs it;
 * CHROMIUM_PATH overrides) driven by playwright-core against the test context's app
 * listening on a free port. Every page a test opens is watched for what must never
 * happen: a script error, a Content-Security-Policy violation, an alert() (an XSS that
 * ran). `axe` runs axe-core's WCAG 2.1 A/AA rules in the page; `shoot` writes a
 * screenshot where CI keeps it (SCREENSHOT_DIR, default test-results/screenshots).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
import { createTestContext, DEMO_PASSWORD, type TestContext, type TestContextOptions } from './context.ts';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export const PHONE = { width: 360, height: 740 };
export const DESKTOP = { width: 1280, height: 900 };
export const screenshotDir = process.env.SCREENSHOT_DIR ?? join(process.cwd(), 'test-results', 'screenshots');

function chromiumPath(): string {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  try {
    return execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('chromium not found: run scripts/servers.sh --with-browser (npm test does) or set CHROMIUM_PATH');
  }
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    // No background traffic: this machine reaches package registries only.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

/** The test context's app on a free port (the pages need a real origin for cookies). */
export async function serve(ctx: Pick<TestContext, 'app'>): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = await new Promise((resolve) => {
    const s = ctx.app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface Tab {
  context: BrowserContext;
  page: Page;
  /** What went wrong in the page so far (script errors, CSP violations, dialogs). */
  problems: string[];
}

/** A fresh browser profile (its own cookies) with one page, watched for problems. */
export async function openTab(browser: Browser, base: string, opts: { viewport?: { width: number; height: number }; javaScript?: boolean; locale?: string } = {}): Promise<Tab> {
  const context = await browser.newContext({ baseURL: base, viewport: opts.viewport ?? DESKTOP, javaScriptEnabled: opts.javaScript !== false, locale: opts.locale ?? 'nl-NL', acceptDownloads: true });
  // A step that cannot happen fails within 20 s, naming the step (not at the test's own timeout).
  context.setDefaultTimeout(20_000);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`script error on ${page.url()}: ${e.message}`));
  page.on('dialog', (d) => {
    problems.push(`a dialog opened on ${page.url()} (a script ran that should have been text): ${d.message()}`);
    void d.dismiss();
  });
  page.on('console', (m) => {
    if (/Content[- ]Security[- ]Policy|Refused to (load|apply|execute)/i.test(m.text())) problems.push(`CSP violation on ${page.url()}: ${m.text()}`);
  });
  return { context, page, problems };
}

/** Logs a staff member in through the login page. */
export async function loginAs(tab: Tab, email: string): Promise<void> {
  await tab.page.goto('/inloggen');
  await tab.page.getByLabel('E-mailadres').fill(email);
  await tab.page.getByLabel('Wachtwoord').fill(DEMO_PASSWORD);
  await Promise.all([tab.page.waitForURL((u) => !u.pathname.startsWith('/inloggen')), tab.page.getByRole('button', { name: 'Inloggen' }).click()]);
}

/** Opens an application's pages as its applicant would from the e-mail (the link's token becomes a cookie). */
export async function asApplicant(tab: Tab, ctx: Pick<TestContext, 'deps'>, applicationId: string): Promise<void> {
  const link = await ctx.deps.signer.signApplicantLink(applicationId);
  await tab.page.goto(`/aanvraag/${applicationId}?token=${link}`);
  expect(tab.page.url()).not.toContain('token');
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[]; html: string }[];
}

/** axe-core's WCAG 2.0/2.1 A and AA rules on the page as it is now: the violations, as readable lines. */
export async function axe(page: Page): Promise<string[]> {
  // Runs in the page (tsconfig has no DOM types: the page's globals are reached through globalThis).
  const loaded = await page.evaluate(() => typeof (globalThis as unknown as { axe?: unknown }).axe !== 'undefined');
  if (!loaded) await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const g = globalThis as unknown as { axe: { run(ctx: unknown, opts: unknown): Promise<{ violations: AxeViolation[] }> }; document: unknown };
    const result = await g.axe.run(g.document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
      resultTypes: ['violations'],
    });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => ({ target: n.target, html: n.html.slice(0, 160) })) }));
  });
  return violations.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.html).join(' | ')}`);
}

/**
 * axe-core on a page whose JavaScript is off (axe itself needs it): the page's HTML as it
 * is, without its scripts, in a scripting browser profile at the same origin.
 */
export async function axeWithoutScript(browser: Browser, page: Page): Promise<string[]> {
  const html = (await page.content()).replace(/<script\b[^>]*>[\s\S]*?<\/script>/gi, '');
  const context = await browser.newContext({ viewport: page.viewportSize() ?? DESKTOP });
  try {
    const copy = await context.newPage();
    await copy.goto(new URL('/static/buurtfonds.css', page.url()).href);
    await copy.setContent(html, { waitUntil: 'load' });
    return await axe(copy);
  } finally {
    await context.close();
  }
}

/** The page's GOV.UK error summary: shown, and every link in it goes to an element of the page. */
export async function errorSummaryLinksResolve(page: Page): Promise<void> {
  const links = page.locator('.bf-error-summary a');
  await links.first().waitFor({ state: 'visible', timeout: 20_000 });
  for (const href of await links.evaluateAll((as) => as.map((a) => (a as unknown as { getAttribute(n: string): string }).getAttribute('href')))) {
    expect(href, 'an error summary link').toMatch(/^#./);
    expect(await page.locator(`[id="${href.slice(1)}"]`).count(), `the error summary links to ${href}, which the page does not have`).toBe(1);
  }
}

/** The page is no wider than its viewport (nothing to scroll sideways, e.g. on a 360 px phone). */
export async function fitsWidth(page: Page, what: string): Promise<void> {
  const { scroll, width } = await page.evaluate(() => {
    const g = globalThis as unknown as { innerWidth: number; document: { documentElement: { scrollWidth: number } } };
    return { scroll: g.document.documentElement.scrollWidth, width: g.innerWidth };
  });
  expect(scroll, `${what} scrolls sideways at ${width} px`).toBeLessThanOrEqual(width);
}

/** Waits until the locator's first match is visible (fails after 20 s, naming what it waited for). */
export async function visible(locator: Locator): Promise<void> {
  await locator.first().waitFor({ state: 'visible', timeout: 20_000 });
}

/** A full-page screenshot, named `<name>.png` in the screenshot folder. */
export async function shoot(page: Page, name: string): Promise<string> {
  mkdirSync(screenshotDir, { recursive: true });
  const path = join(screenshotDir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

export interface BrowserSuite {
  ctx: TestContext;
  browser: Browser;
  url: string;
  /** A new browser profile on the app (its problems are checked when the file ends). */
  tab(opts?: Parameters<typeof openTab>[2]): Promise<Tab>;
  /** axe-core on the page as it is: no WCAG 2.1 A/AA violation. */
  accessible(page: Page, what: string): Promise<void>;
}

/**
 * A test file's browser set-up: the test context, its app on a free port, one Chromium;
 * closed after the file, when every tab opened is also checked for problems. `cleanup`
 * runs first (e.g. to terminate a workflow the file started).
 */
export function browserSuite(options: TestContextOptions = {}, cleanup?: (suite: BrowserSuite) => Promise<void>): BrowserSuite {
  const tabs: Tab[] = [];
  let server: { url: string; close(): Promise<void> } | undefined;
  const suite = {
    async tab(opts: Parameters<typeof openTab>[2] = {}) {
      const t = await openTab(suite.browser, suite.url, opts);
      tabs.push(t);
      return t;
    },
    async accessible(page: Page, what: string) {
      expect(await axe(page), `axe-core violations on ${what} (${page.url()})`).toEqual([]);
    },
  } as BrowserSuite;
  beforeAll(async () => {
    suite.ctx = await createTestContext(options);
    server = await serve(suite.ctx);
    suite.url = server.url;
    suite.browser = await launchBrowser();
  });
  afterAll(async () => {
    if (cleanup && suite.ctx) await cleanup(suite);
    for (const t of tabs) expect(t.problems, 'script errors, CSP violations or dialogs in the pages').toEqual([]);
    await suite.browser?.close();
    await server?.close();
    await suite.ctx?.close();
  });
  return suite;
}
