/**
 * End to end through the UI: a host and a guest, each in their own VS Code (two code-server
 * processes with the packaged .vsix installed, in headless Chromium), and a relay. The host
 * starts a session from the Command Palette and copies the invite link; the guest joins with it;
 * both status bars show the live session with both participants. Screenshots of both windows
 * are kept in test-artifacts/.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { mintPersonalToken } from '../../relay/auth/tokens';
import { REPO_ROOT, RelayProcess } from '../extension-host/support/relay-process';
import { ARTIFACTS_DIR, launchChromium } from '../support/browser';
import { type CodeServer, startCodeServer } from '../support/code-server';
import { Workbench } from '../support/workbench';

/** The .vsix a user installs: built by vsce from the current build (npm test builds first). */
function packageExtension(dir: string): string {
  const vsix = join(dir, 'tandem.vsix');
  const vsce = join(REPO_ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');
  const result = spawnSync(process.execPath, [vsce, 'package', '--no-dependencies', '--out', vsix], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000 });
  if (result.status !== 0) throw new Error(`vsce package failed: ${result.stdout}${result.stderr}`);
  return vsix;
}

describe('a pair session through the UI of two VS Code windows', { timeout: 300_000 }, () => {
  let temp: string;
  let relay: RelayProcess;
  let browser: Browser;
  const servers: CodeServer[] = [];
  const windows: Workbench[] = [];
  let host: Workbench;
  let guest: Workbench;

  before(async () => {
    temp = mkdtempSync(join(tmpdir(), 'tandem-e2e-'));
    const vsix = packageExtension(temp);
    relay = await RelayProcess.start({ LOG_LEVEL: 'debug' });
    const hostFolder = join(temp, 'host-project');
    const guestFolder = join(temp, 'guest-scratch');
    mkdirSync(join(hostFolder, 'src'), { recursive: true });
    mkdirSync(guestFolder);
    writeFileSync(join(hostFolder, 'src', 'app.ts'), 'export const greeting = "hello";\n');
    writeFileSync(join(hostFolder, 'src', 'notes.txt'), INITIAL_NOTES);
    writeFileSync(join(hostFolder, '.env'), 'SECRET=never-shared\n');
    const settings = (name: string) => ({
      'tandem.relayUrl': relay.httpUrl,
      'tandem.displayName': name,
      // Plain typing: no suggestion may take a keystroke.
      'editor.quickSuggestions': { other: false, comments: false, strings: false },
      'editor.suggestOnTriggerCharacters': false,
      'editor.wordBasedSuggestions': 'off',
      'files.autoSave': 'off',
    });
    const [hostServer, guestServer] = await Promise.all([
      startCodeServer({ folder: hostFolder, vsix, settings: settings('Hana Host') }),
      startCodeServer({ folder: guestFolder, vsix, settings: settings('Gus Guest') }),
    ]);
    servers.push(hostServer!, guestServer!);
    browser = await launchChromium();
    host = await Workbench.open(browser, hostServer!, 'host');
    guest = await Workbench.open(browser, guestServer!, 'guest');
    windows.push(host, guest);
  });

  after(async () => {
    if (relay) {
      mkdirSync(ARTIFACTS_DIR, { recursive: true });
      writeFileSync(join(ARTIFACTS_DIR, 'pair-session-relay.log'), relay.log);
    }
    for (const window of windows) {
      await window.screenshot('pair-session-end');
      await window.close();
    }
    await browser?.close();
    for (const server of servers) await server.stop();
    await relay?.stop();
    if (temp) rmSync(temp, { recursive: true, force: true });
  });

  it('the host starts a session; the guest joins with the invite link; both see it live with two people', async () => {
    await host.runCommand('Tandem: Start Session');
    // First time: the personal token prompt (kept in secret storage).
    await host.answer(mintPersonalToken(relay.secret, { user: 'hana', name: 'Hana Host', ttl: '1h' }), 'personal token');
    await host.statusBar(/Tandem: live/, 60_000);
    const link = await host.readClipboard();
    assert.match(link, /^vscode:\/\/tandem\.tandem\/join\?relay=/);
    await host.screenshot('pair-session-started');

    await guest.runCommand('Tandem: Join Session');
    await guest.answer(link, 'invite link');
    const guestStatus = await guest.statusBar(/Tandem: live.*2/s, 60_000);
    assert.match(guestStatus, /\d+ ms/, 'the round-trip time shows');
    await host.statusBar(/Tandem: live.*2/s);
    await guest.screenshot('pair-session-joined');
    await host.screenshot('pair-session-joined');
  });
});

const INITIAL_NOTES = 'Meeting notes\n- first point\n- second point\n';
