/**
 * End to end through the UI: a host and a guest, each in their own VS Code (two code-server
 * processes with the packaged .vsix installed, in headless Chromium), and a relay. The host
 * starts a session from the Command Palette and copies the invite link; the guest joins with it;
 * both status bars show the live session with both participants. Screenshots of both windows
 * are kept in test-artifacts/.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
  let notesPath: string;

  before(async () => {
    temp = mkdtempSync(join(tmpdir(), 'tandem-e2e-'));
    const vsix = packageExtension(temp);
    relay = await RelayProcess.start({ LOG_LEVEL: 'debug' });
    const hostFolder = join(temp, 'host-project');
    const guestFolder = join(temp, 'guest-scratch');
    mkdirSync(join(hostFolder, 'src'), { recursive: true });
    mkdirSync(guestFolder);
    writeFileSync(join(hostFolder, 'src', 'app.ts'), 'export const greeting = "hello";\n');
    notesPath = join(hostFolder, 'src', 'notes.txt');
    writeFileSync(notesPath, INITIAL_NOTES);
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

  it('both type at once into one file (200+ keystrokes each); Ctrl+Z takes back only your own; the guest saves to the host’s disk', async () => {
    // The host opens a file: it is shared. The guest follows the host into it.
    await host.quickOpen('notes.txt');
    await host.editorFocused('notes.txt');
    await host.page.keyboard.press('Control+End');
    await guest.runCommand('Tandem: Follow Participant');
    await guest.pick('Hana Host');
    await guest.editorFocused('notes.txt', 60_000);
    await guest.cursorLabel('Hana Host');
    assert.equal(await guest.editorText(), INITIAL_NOTES);

    // Interleaved rounds, both typing at the same time: at the same place (the end), then apart
    // (the host at the start, the guest at the end). Keystrokes from each round can interleave
    // character by character, so what is checked is that every character typed is there once.
    const typed = { host: '', guest: '' };
    const rounds: Array<{ host: string; guest: string; hostAt: 'Control+End' | 'Control+Home'; guestAt: 'Control+End' }> = [];
    for (let round = 0; round < 6; round++) {
      rounds.push({ host: words('abcdefghij', round, 40), guest: words('KLMNOPQRST', round, 40), hostAt: round % 2 === 0 ? 'Control+End' : 'Control+Home', guestAt: 'Control+End' });
    }
    for (const round of rounds) {
      await host.page.keyboard.press(round.hostAt);
      await guest.page.keyboard.press(round.guestAt);
      await Promise.all([host.page.keyboard.type(round.host, { delay: 12 }), guest.page.keyboard.type(round.guest, { delay: 12 })]);
      typed.host += round.host;
      typed.guest += round.guest;
    }
    assert.ok(typed.host.length >= 200 && typed.guest.length >= 200, `${typed.host.length} and ${typed.guest.length} keystrokes`);
    const converged = await sameText(host, guest);
    assert.deepEqual(characterCounts(converged), characterCounts(INITIAL_NOTES + typed.host + typed.guest), 'every character typed is there exactly once');

    // The guest types, the host types after it, the guest undoes: its own word goes, the host's stays.
    await guest.page.keyboard.press('Control+End');
    await guest.page.keyboard.type(' undome', { delay: 12 });
    await eventuallyText(host, (text) => text.endsWith(' undome'), 'the guest’s word reaches the host');
    await host.page.keyboard.press('Control+Home');
    await host.page.keyboard.type('HOST ', { delay: 12 });
    await eventuallyText(guest, (text) => text.startsWith('HOST '), 'the host’s word reaches the guest');
    await guest.page.keyboard.press('Control+Z');
    const afterUndo = await sameText(host, guest);
    assert.equal(afterUndo, 'HOST ' + converged, 'the guest’s Ctrl+Z took back its own word only');

    // The guest saves: the host's file on disk has the shared text, and the host's editor is clean.
    await guest.page.keyboard.press('Control+S');
    await eventually(() => readFileSync(notesPath, 'utf8') === afterUndo, () => `the host’s disk to have the text; it has ${JSON.stringify(readFileSync(notesPath, 'utf8'))}`);
    await host.editorClean('notes.txt');
    await guest.cursorLabel('Hana Host');
    await guest.screenshot('pair-session-typed');
    await host.screenshot('pair-session-typed');
  });
});

/** `count` keystrokes: words of letters from `alphabet` (rotated by `round`), separated by spaces. */
function words(alphabet: string, round: number, count: number): string {
  let out = '';
  for (let i = 0; out.length < count; i++) out += (i % 6 === 5 ? ' ' : alphabet[(i + round) % alphabet.length]!);
  return out;
}

function characterCounts(text: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const c of text) counts[c] = (counts[c] ?? 0) + 1;
  return counts;
}

async function eventually(check: () => boolean, what: () => string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function eventuallyText(window: Workbench, check: (text: string) => boolean, what: string, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await window.editorText();
    if (check(text)) return text;
    if (Date.now() > deadline) throw new Error(`${window.name}: timed out waiting for ${what}; the editor has ${JSON.stringify(text)}`);
    await window.page.waitForTimeout(300);
  }
}

/** Waits until both editors show the same text (twice in a row, so nothing was still arriving). */
async function sameText(a: Workbench, b: Workbench, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let previous: string | undefined;
  for (;;) {
    const [left, right] = [await a.editorText(), await b.editorText()];
    if (left === right && left === previous) return left;
    previous = left === right ? left : undefined;
    if (Date.now() > deadline) throw new Error(`the editors did not converge: ${a.name} ${JSON.stringify(left)}, ${b.name} ${JSON.stringify(right)}`);
    await a.page.waitForTimeout(300);
  }
}

const INITIAL_NOTES = 'Meeting notes\n- first point\n- second point\n';
