/**
 * End to end through the UI: what a guest works with besides the text, in two VS Code windows
 * (code-server with the packaged .vsix, headless Chromium) and a relay. The host has a TypeScript
 * project and no extension of the guest's knows TypeScript's types: the guest's hover shows the
 * host's TypeScript answer, Go to Definition opens the host's file at the function, Go to Shared
 * File finds a file by part of its name, Find in Shared Folder lists the matches in its view, and
 * a terminal the host shares shows the guest its output live, read-only.
 * Screenshots of each are kept in test-artifacts/ (guest-tools-*.png).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Workbench } from '../support/workbench';
import { HOST_NAME, PairWindows } from './support/pair-windows';

const UI_TIMEOUT_MS = 60_000;

const GREET = 'export function greet(name: string, times: number): string {\n  return `hello ${name} `.repeat(times);\n}\n';
const MAIN = "import { greet } from './greet';\n\nconsole.log(greet('tandem', 2));\n";

/** The texts of the elements matching `selector` once they satisfy `ready` (bounded), else what they last showed. */
async function shownText(
  window: Workbench,
  selector: string,
  ready: (text: string) => boolean,
  timeoutMs = UI_TIMEOUT_MS,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let text = '';
  while (Date.now() < deadline) {
    text = (await window.page.locator(selector).allInnerTexts()).join('\n');
    if (ready(text)) return text;
    await window.page.waitForTimeout(250);
  }
  return text;
}

/** Puts the guest's caret at `line`:`column` (1-based) with Go to Line. */
async function goToLine(window: Workbench, line: number, column: number): Promise<void> {
  await window.page.keyboard.press('Control+G');
  await window.answer(`:${line}:${column}`);
}

describe('a guest’s language features, file finder and search come from the host', { timeout: 420_000 }, () => {
  let pair: PairWindows;
  let host: Workbench;
  let guest: Workbench;

  before(async () => {
    pair = await PairWindows.start({
      name: 'guest-tools',
      hostFiles: {
        'tsconfig.json': JSON.stringify({ compilerOptions: { strict: true, target: 'es2022', module: 'commonjs' } }),
        'src/greet.ts': GREET,
        'src/main.ts': MAIN,
        'docs/notes.md': '# Notes\n\nCall greet() twice.\n',
        '.env': 'GREET_SECRET=never-shared\n',
      },
      // The guest's own TypeScript answers too on the tandem: file (syntax only: the import in this
      // file), beside the host's declaration: go to the first, the host's, rather than a peek of both.
      // The terminal's DOM renderer (not a canvas): its rows can be read.
      settings: { 'editor.gotoLocation.multipleDefinitions': 'goto', 'terminal.integrated.gpuAcceleration': 'off' },
    });
    ({ host, guest } = pair);
  });

  after(async () => {
    await pair?.close();
  });

  it('the guest follows the host into a TypeScript file and its hover is the host’s TypeScript answer', async () => {
    await pair.joinSession(await pair.startSession());
    await host.statusBar(/Tandem: live.*2/s, UI_TIMEOUT_MS);
    await host.quickOpen('main.ts');
    await host.editorFocused('main.ts');
    await guest.runCommand('Tandem: Follow Participant');
    await guest.pick(HOST_NAME);
    await guest.editorFocused('main.ts', UI_TIMEOUT_MS);
    await guest.runCommand('Tandem: Stop Following');
    await guest.editorFocused('main.ts');
    // On "greet" in the call: the guest's window has no TypeScript project, only the host has.
    await goToLine(guest, 3, 15);
    const signature = /greet\(name: string, times: number\): string/;
    let hover = '';
    for (let attempt = 0; attempt < 5 && !signature.test(hover); attempt++) {
      await guest.runCommand('Show or Focus Hover');
      hover = await shownText(guest, '.monaco-hover', (text) => signature.test(text), 15_000);
    }
    await guest.screenshot('guest-tools-hover');
    assert.match(hover, signature, `the hover shows the host's signature; it shows ${JSON.stringify(hover)}`);
    await guest.page.keyboard.press('Escape');
  });

  it('Go to Definition opens the host’s file at the function', async () => {
    await guest.editorFocused('main.ts');
    await goToLine(guest, 3, 15);
    await guest.runCommand('Go to Definition');
    await guest.editorFocused('greet.ts', UI_TIMEOUT_MS).catch(async (error: unknown) => {
      await guest.screenshot('guest-tools-definition-missed');
      throw error;
    });
    assert.equal(await guest.editorText(), GREET);
    await guest.screenshot('guest-tools-definition');
  });

  it('Go to Shared File finds a file by part of its name; Find in Shared Folder lists the matches, never in unshared files', async () => {
    await guest.runCommand('Tandem: Go to Shared File');
    // Picked once the host's list is in (Enter before that would pick nothing).
    await guest.page.locator('.quick-input-widget input').fill('notes');
    await guest.pick('notes.md');
    await guest.editorFocused('notes.md', UI_TIMEOUT_MS);
    assert.equal(await guest.editorText(), '# Notes\n\nCall greet() twice.\n');

    await guest.runCommand('Tandem: Find in Shared Folder');
    await guest.answer('greet', 'Text to find');
    await guest.answer('', 'Files to search');
    // Three files with five matches, listed by path: the first two files and their matches fill
    // the four rows the pane has room for (what the list renders past them varies).
    const ready = (text: string) =>
      text.includes('5 matches of greet in 3 files') && ['docs/notes.md', 'src/greet.ts'].every((name) => text.includes(name));
    const results = await shownText(guest, '.pane:has(.pane-header:has-text("Shared Search Results"))', ready);
    await guest.screenshot('guest-tools-search');
    assert.ok(ready(results), `the view lists the matches; it shows ${JSON.stringify(results)}`);
    assert.ok(!results.includes('.env'), 'an unshared file never shows');
  });

  it('the host shares a terminal: the guest sees its output live, in a read-only terminal', async () => {
    await host.runCommand('Tandem: Share Terminal');
    await host.page.locator('.terminal-wrapper .xterm').first().waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS });
    // The shell's prompt first, then the host types into its terminal (it has the focus).
    await shownText(host, '.xterm-rows', (text) => text.trim().length > 0);
    await host.page.keyboard.type('echo tandem-$((6*7))', { delay: 10 });
    await host.page.keyboard.press('Enter');
    const hostShows = await shownText(host, '.xterm-rows', (text) => text.includes('tandem-42'));
    assert.ok(hostShows.includes('tandem-42'), `the host's terminal ran it; it shows ${JSON.stringify(hostShows)}`);
    await host.screenshot('guest-tools-terminal');

    // The guest's terminal opened by itself (its panel, without taking the focus) and shows the output.
    const guestShows = await shownText(guest, '.xterm-rows', (text) => text.includes('tandem-42'));
    const panel = await shownText(guest, '.part.panel', (text) => text.includes('read-only'));
    await guest.screenshot('guest-tools-terminal');
    assert.ok(guestShows.includes('tandem-42'), `the guest's terminal shows the output; it shows ${JSON.stringify(guestShows)}`);
    assert.match(panel, /read-only/, 'the guest’s terminal says it is read-only');
  });
});
