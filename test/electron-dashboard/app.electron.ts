import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { _electron as electron, type ElectronApplication, type Page } from 'playwright-core';
import { mintOperatorToken } from '../../relay/auth/tokens';
import { screenshot } from '../support/browser';
import { ROOT } from '../support/cli';
import { RelayProcess } from '../support/relay-process';

/**
 * `npm run test:electron`: the real desktop app through playwright-core's Electron support, where
 * an Electron binary exists (ELECTRON_PATH, or the electron package with its binary): the start
 * page, a relay opened, the operator token form, the live overview and each screen's screenshots
 * (light and dark) in test-artifacts/electron-*.png. Not part of `npm test`: machines that install
 * with ELECTRON_SKIP_BINARY_DOWNLOAD=1 have no binary; there it says so and skips.
 */

function electronBinary(): string | undefined {
  if (process.env.ELECTRON_PATH) return existsSync(process.env.ELECTRON_PATH) ? process.env.ELECTRON_PATH : undefined;
  try {
    const path: unknown = createRequire(join(ROOT, 'package.json'))('electron');
    return typeof path === 'string' && existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

const binary = electronBinary();

describe(
  'the desktop app (real Electron)',
  { skip: binary ? false : 'no Electron binary here (set ELECTRON_PATH)', timeout: 180_000 },
  () => {
    let relay: RelayProcess;
    let app: ElectronApplication;
    let page: Page;
    let userData: string;

    before(async () => {
      relay = await RelayProcess.start({ METRICS_SAMPLE_INTERVAL_MS: '500' });
      userData = mkdtempSync(join(tmpdir(), 'tandem-electron-app-'));
      app = await electron.launch({
        executablePath: binary!,
        args: [join(ROOT, 'dist', 'electron', 'main.js'), `--user-data-dir=${userData}`, '--no-sandbox'],
        env: { ...process.env, TANDEM_RELAY_URL: relay.httpUrl } as Record<string, string>,
      });
      page = await app.firstWindow();
    });

    after(async () => {
      await app?.close();
      await relay?.stop();
      if (userData) rmSync(userData, { recursive: true, force: true });
    });

    it('runs the page sandboxed, without Node, with only the preload’s bridge', async () => {
      assert.equal(await page.evaluate(() => typeof (globalThis as { require?: unknown }).require), 'undefined');
      assert.equal(await page.evaluate(() => typeof (globalThis as { process?: unknown }).process), 'undefined');
      assert.deepEqual(
        await page.evaluate(() => Object.keys((globalThis as unknown as { tandemDashboard: object }).tandemDashboard).sort()),
        ['chooseRelay', 'forgetToken', 'getToken', 'listRelays', 'openRelay', 'removeRelay', 'reportState', 'setToken'],
      );
    });

    it('takes the operator token and shows the live overview; screenshots of each screen', async () => {
      await page.fill('#token', mintOperatorToken(relay.secret, { user: 'ops', ttl: '10m' }));
      await page.click('#sign-in');
      await page.waitForSelector(`tr[data-relay="${relay.id}"]`, { timeout: 30_000 });
      for (const screen of ['overview', 'charts', 'sessions', 'alerts']) {
        await page.click(`#tab-${screen}`);
        for (const theme of ['light', 'dark']) {
          if ((await page.getAttribute('html', 'data-theme')) !== theme) await page.click('#theme-toggle');
          await screenshot(page, `electron-${screen}-${theme}`);
        }
      }
    });

    it('refuses to navigate away from the relay’s origin', async () => {
      const before = page.url();
      await page.evaluate(() => (location.href = 'https://example.com/'));
      await page.waitForTimeout(500);
      assert.equal(new URL(page.url()).origin, new URL(before).origin);
    });
  },
);
