/**
 * Two VS Code windows and a relay for end-to-end tests through the UI: a host and a guest, each
 * a code-server process with the packaged .vsix installed, in one headless Chromium. The host's
 * folder is made from a file map; the guest gets a scratch folder (or an empty window).
 * `close()` keeps screenshots of both windows, the relay's log and each window's Tandem log in
 * test-artifacts/.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Browser } from 'playwright-core';
import { mintPersonalToken } from '../../../relay/auth/tokens';
import { REPO_ROOT, RelayProcess } from '../../support/relay-process';
import { ARTIFACTS_DIR, launchChromium } from '../../support/browser';
import { type CodeServer, startCodeServer } from '../../support/code-server';
import { Workbench } from '../../support/workbench';

export const HOST_NAME = 'Hana Host';
export const GUEST_NAME = 'Gus Guest';

export interface PairWindowsOptions {
  /** A name for the artifacts (`<name>-end-host.png`, `<name>-relay.log`). */
  name: string;
  /** The host's folder: relative path -> content. */
  hostFiles: Record<string, string>;
  /** The guest's window opens empty (`ew=true`) instead of on a scratch folder. */
  guestEmptyWindow?: boolean;
  /** More user settings for both windows. */
  settings?: Record<string, unknown>;
  /** More environment for the relay (e.g. its AI model: AI_BASE_URL, AI_MODEL). */
  relayEnv?: Record<string, string>;
}

export class PairWindows {
  private constructor(
    private readonly options: PairWindowsOptions,
    private readonly temp: string,
    readonly hostFolder: string,
    readonly relay: RelayProcess,
    private readonly servers: CodeServer[],
    private readonly browser: Browser,
    readonly host: Workbench,
    readonly guest: Workbench,
  ) {}

  static async start(options: PairWindowsOptions): Promise<PairWindows> {
    const temp = mkdtempSync(join(tmpdir(), `tandem-e2e-${options.name}-`));
    const opened: { relay?: RelayProcess; servers: CodeServer[]; browser?: Browser } = { servers: [] };
    try {
      const vsix = packageExtension(temp);
      opened.relay = await RelayProcess.start({ LOG_LEVEL: 'debug', ...options.relayEnv });
      const hostFolder = join(temp, 'host-project');
      for (const [path, content] of Object.entries(options.hostFiles)) {
        mkdirSync(dirname(join(hostFolder, path)), { recursive: true });
        writeFileSync(join(hostFolder, path), content);
      }
      const guestFolder = join(temp, 'guest-scratch');
      mkdirSync(guestFolder);
      const settings = (name: string) => ({
        'tandem.relayUrl': opened.relay!.httpUrl,
        'tandem.displayName': name,
        'files.autoSave': 'off',
        ...options.settings,
      });
      const [hostServer, guestServer] = await Promise.all([
        startCodeServer({ folder: hostFolder, vsix, settings: settings(HOST_NAME) }),
        startCodeServer({ folder: guestFolder, vsix, settings: settings(GUEST_NAME) }),
      ]);
      opened.servers.push(hostServer!, guestServer!);
      opened.browser = await launchChromium();
      const host = await Workbench.open(opened.browser, hostServer!, 'host');
      const guest = await Workbench.open(opened.browser, guestServer!, 'guest', options.guestEmptyWindow ? 'ew=true' : undefined);
      return new PairWindows(options, temp, hostFolder, opened.relay, opened.servers, opened.browser, host, guest);
    } catch (error) {
      await opened.browser?.close();
      for (const server of opened.servers) await server.stop();
      await opened.relay?.stop();
      rmSync(temp, { recursive: true, force: true });
      throw error;
    }
  }

  /** The host starts a session from the Command Palette (giving its personal token) and returns the invite link. */
  async startSession(): Promise<string> {
    await this.host.runCommand('Tandem: Start Session');
    // First time: the personal token prompt (kept in secret storage).
    await this.host.answer(mintPersonalToken(this.relay.secret, { user: 'hana', name: HOST_NAME, ttl: '1h' }), 'personal token');
    await this.host.statusBar(/Tandem: live/, 60_000);
    return this.host.readClipboard();
  }

  /** The guest pastes the invite link into Join Session and waits until it is live. */
  async joinSession(link: string): Promise<string> {
    await this.guest.runCommand('Tandem: Join Session');
    await this.guest.answer(link, 'invite link');
    return this.guest.statusBar(/Tandem: live/, 60_000);
  }

  async close(): Promise<void> {
    mkdirSync(ARTIFACTS_DIR, { recursive: true });
    writeFileSync(join(ARTIFACTS_DIR, `${this.options.name}-relay.log`), this.relay.log);
    for (const [window, server] of [
      [this.host, this.servers[0]],
      [this.guest, this.servers[1]],
    ] as const) {
      writeFileSync(join(ARTIFACTS_DIR, `${this.options.name}-${window.name}-tandem.log`), server?.extensionLog() ?? '');
    }
    for (const window of [this.host, this.guest]) {
      await window.screenshot(`${this.options.name}-end`);
      await window.close();
    }
    await this.browser.close();
    for (const server of this.servers) await server.stop();
    await this.relay.stop();
    rmSync(this.temp, { recursive: true, force: true });
  }
}

/** The .vsix a user installs: built by vsce from the current build (npm test builds first). */
function packageExtension(dir: string): string {
  const vsix = join(dir, 'tandem.vsix');
  const vsce = join(REPO_ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');
  const result = spawnSync(process.execPath, [vsce, 'package', '--no-dependencies', '--no-rewrite-relative-links', '--out', vsix], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (result.status !== 0) throw new Error(`vsce package failed: ${result.stdout}${result.stderr}`);
  return vsix;
}
