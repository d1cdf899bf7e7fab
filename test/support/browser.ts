import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/**
 * Chromium for browser tests: Debian's /usr/bin/chromium driven by playwright-core, a fresh
 * profile per launch, and a page harness that records every page error, console error and
 * failed request so a test fails on any of them.
 */

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const DESKTOP_VIEWPORT = { width: 1280, height: 900 } as const;
export const PHONE_VIEWPORT = { width: 390, height: 844 } as const;

/** How long one locator action or wait may take before the test fails with the call log. */
const ACTION_TIMEOUT_MS = 15_000;

const SCREENSHOT_ROOT = join(process.cwd(), 'test-results', 'screenshots');

/**
 * Console messages Chromium writes for responses the page itself handles. A 4xx API response
 * (401 before sign-in, 409 for a sync already running) is part of the API contract and is shown
 * by the page. 5xx responses and 4xx responses outside /api still fail the test through the
 * response check.
 */
const HANDLED_RESOURCE_ERROR = /^Failed to load resource: the server responded with a status of 4\d\d\b/;

export interface LaunchedBrowser {
  browser: Browser;
  close(): Promise<void>;
}

/**
 * Launches headless Chromium. playwright-core rejects a `--user-data-dir` argument in `launch`
 * and instead creates a fresh temporary profile for every launch and deletes it on close, which
 * is the isolation the tests need.
 */
export async function launchChromium(): Promise<LaunchedBrowser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    browser,
    async close() {
      await browser.close();
    },
  };
}

export interface PageHarness {
  context: BrowserContext;
  page: Page;
  /** Page errors, console errors and failed requests seen so far, one sentence each. */
  problems: string[];
  /** Saves test-results/screenshots/<test>/<step>.png of the full page. */
  screenshot(step: string): Promise<string>;
  /** Throws when the page reported any problem since it opened or since the last check. */
  assertNoProblems(): void;
  close(): Promise<void>;
}

export interface OpenPageOptions {
  /** Names the screenshot folder; use the test's name. */
  testName: string;
  baseUrl: string;
  viewport?: { width: number; height: number };
  locale?: string;
  timezoneId?: string;
}

/** Opens a fresh browser context (own cookies) with problem recording attached. */
export async function openPage(launched: LaunchedBrowser, options: OpenPageOptions): Promise<PageHarness> {
  const context = await launched.browser.newContext({
    baseURL: options.baseUrl,
    viewport: options.viewport ?? DESKTOP_VIEWPORT,
    locale: options.locale ?? 'en-US',
    timezoneId: options.timezoneId ?? 'UTC',
  });
  const page = await context.newPage();
  page.setDefaultTimeout(ACTION_TIMEOUT_MS);
  const problems: string[] = [];
  recordProblems(page, problems);

  const folder = join(SCREENSHOT_ROOT, slug(options.testName));
  return {
    context,
    page,
    problems,
    async screenshot(step) {
      await mkdir(folder, { recursive: true });
      const path = join(folder, `${slug(step)}.png`);
      await page.screenshot({ path, fullPage: true });
      return path;
    },
    assertNoProblems() {
      if (problems.length === 0) return;
      const report = problems.splice(0).join('\n  - ');
      throw new Error(`The page reported problems:\n  - ${report}`);
    },
    async close() {
      await context.close();
    },
  };
}

function recordProblems(page: Page, problems: string[]): void {
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    if (HANDLED_RESOURCE_ERROR.test(message.text())) return;
    problems.push(`console error: ${message.text()} (at ${message.location().url})`);
  });
  page.on('requestfailed', (request) => {
    const failure = request.failure()?.errorText ?? 'unknown error';
    // A navigation away (e.g. the form post to PagerDuty) cancels the old page's requests.
    if (failure === 'net::ERR_ABORTED') return;
    problems.push(`request failed: ${request.method()} ${request.url()}: ${failure}`);
  });
  page.on('response', (response) => {
    const request = response.request();
    if (response.status() >= 500) problems.push(`server error: ${request.method()} ${response.url()} responded with ${response.status()}`);
    // A page the user navigates to must never be an error document.
    else if (response.status() >= 400 && request.isNavigationRequest()) problems.push(`navigation failed: ${request.method()} ${response.url()} responded with ${response.status()}`);
    // Scripts, styles, images and fonts must all load; only API calls may answer 4xx.
    else if (response.status() >= 400 && !new URL(response.url()).pathname.startsWith('/api/')) {
      problems.push(`resource failed: ${request.method()} ${response.url()} responded with ${response.status()}`);
    }
  });
}

export interface AccessibilityViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

let axeSource: string | undefined;

/**
 * Runs axe-core inside the page and returns the serious and critical violations. The script is
 * evaluated through the DevTools protocol, so the page's CSP (no inline scripts) stays on.
 */
export async function findAccessibilityViolations(page: Page): Promise<AccessibilityViolation[]> {
  axeSource ??= await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  const isLoaded = await page.evaluate('typeof window.axe === "object"');
  if (isLoaded !== true) await page.evaluate(`${axeSource}\n;true`);

  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(context: Document, options: object): Promise<{ violations: AxeViolation[] }> } }).axe;
    interface AxeViolation {
      id: string;
      impact: string | null;
      help: string;
      nodes: { target: unknown[] }[];
    }
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      help: violation.help,
      targets: violation.nodes.map((node) => node.target.map(String).join(' ')),
    }));
  });
  return violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
}

/** Formats violations for an assertion message: rule, impact, help and the offending elements. */
export function describeViolations(violations: AccessibilityViolation[]): string {
  return violations.map((violation) => `${violation.id} (${violation.impact ?? 'unknown'}): ${violation.help} at ${violation.targets.join(', ')}`).join('\n');
}

function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}
