/**
 * Headless Chromium (Debian's, driven by playwright-core) for tests that need a real browser, such
 * as the VS Code workbench served by code-server. Playwright's own browser download is not used:
 * it cannot reach its CDN here (notes/vscode-under-test.md).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { format } from 'node:util';
import { type Browser, chromium, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** The repo's test-artifacts/ (gitignored): screenshots from failed runs, for CI to keep. */
export const ARTIFACTS_DIR = join(__dirname, '..', '..', 'test-artifacts');

const CHROMIUM_ARGS = [
  // Runs as root in a container: Chromium's sandbox needs user namespaces it does not get.
  '--no-sandbox',
  '--disable-gpu',
  // No update checks, sync or component downloads: there is no internet, and they only add noise.
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  // /dev/shm is small in containers; Chromium then crashes tabs under load.
  '--disable-dev-shm-usage',
];

/** Launches headless Chromium; throws, saying what to install, when the executable is missing. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  }
  // Chromium keeps crash reports in ~/.config/chromium and a dconf cache in ~/.cache, whatever its
  // --user-data-dir: point those at a dir of this launch, removed when the browser goes away.
  const home = mkdtempSync(join(tmpdir(), 'tandem-chromium-'));
  try {
    const browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_ARGS,
      timeout: 60_000,
      env: { ...process.env, XDG_CONFIG_HOME: join(home, 'config'), XDG_CACHE_HOME: join(home, 'cache') },
    });
    browser.once('disconnected', () => rmSync(home, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 }));
    return browser;
  } catch (error) {
    rmSync(home, { recursive: true, force: true });
    throw error;
  }
}

/** Highest number of lines kept per log: a chatty workbench cannot grow a test's memory unbounded. */
const LOG_LINES = 5000;

function pushBounded(lines: string[], line: string): void {
  lines.push(line);
  if (lines.length > LOG_LINES) lines.splice(0, lines.length - LOG_LINES);
}

export interface AutomationPage {
  page: Page;
  /**
   * The exit code the workbench reports through `window.codeAutomationExit(code)` when the
   * extension tests end (0 = `run()` resolved); rejects if the page crashes or closes first.
   */
  exit: Promise<number>;
  /** What the workbench sent through `window.codeAutomationLog(type, args)`, one line per call. */
  automationLog: string[];
  /** The page's console messages and uncaught errors, for failure reports. */
  consoleLog: string[];
}

/**
 * Opens `url` in a new page after exposing `codeAutomationExit` and `codeAutomationLog`: the
 * workbench looks for them when it runs extension tests, so they must exist before navigation.
 */
export async function openAutomationPage(browser: Browser, url: string, navigationTimeoutMs = 60_000): Promise<AutomationPage> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const automationLog: string[] = [];
  const consoleLog: string[] = [];
  let settle: { resolve: (code: number) => void; reject: (error: Error) => void } | undefined;
  const exit = new Promise<number>((resolve, reject) => (settle = { resolve, reject }));
  // Callers may await it only after other steps: keep an early rejection from being "unhandled".
  exit.catch(() => undefined);

  await page.exposeFunction('codeAutomationExit', (code: unknown) => settle?.resolve(Number(code)));
  await page.exposeFunction('codeAutomationLog', (type: unknown, args: unknown) => {
    // The workbench forwards console calls as they were made: apply their printf-style formats.
    const text = Array.isArray(args) ? format(...(args as unknown[])) : format(args);
    pushBounded(automationLog, `[${String(type)}] ${text}`);
  });
  page.on('console', (message) => pushBounded(consoleLog, `[console.${message.type()}] ${message.text()}`));
  page.on('pageerror', (error) => pushBounded(consoleLog, `[pageerror] ${error.stack ?? error.message}`));
  page.on('crash', () => settle?.reject(new Error('the workbench page crashed')));
  page.on('close', () => settle?.reject(new Error('the workbench page closed before codeAutomationExit')));

  await page.goto(url, { waitUntil: 'domcontentloaded', timeout: navigationTimeoutMs });
  return { page, exit, automationLog, consoleLog };
}

/**
 * Saves a full-page PNG as test-artifacts/NAME.png and returns its path; undefined (never a
 * throw) when the page is gone, since it runs while reporting another failure.
 */
export async function screenshot(page: Page, name: string): Promise<string | undefined> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const path = join(ARTIFACTS_DIR, `${name.replace(/[^\w.-]+/g, '-')}.png`);
  try {
    await page.screenshot({ path, timeout: 10_000 });
    return path;
  } catch {
    return undefined;
  }
}
