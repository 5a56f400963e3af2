/**
 * End to end through the UI of two VS Code windows: debugging together. The guest opens the host's
 * folder (`tandem://<session>/`) in its Explorer and sets a breakpoint with F9 in a shared file; the
 * host's Breakpoints view shows it. The host sets one with F9 too; the guest's Breakpoints view shows
 * it. The host starts its launch configuration (a small Node program under VS Code's built-in
 * JavaScript debugger) with Debug: Start Debugging: it stops at the guest's breakpoint. The guest
 * sees where: the stack frame highlight in its editor, the status bar, and the Host's Debugger view
 * with the variables' values. The guest runs Tandem: Step Over (Host's Debugger): the host's own
 * Call Stack and editor highlight move to the next line, and so do the guest's. Everything is read
 * from the windows' DOM; screenshots of each view land in test-artifacts/.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Workbench } from '../support/workbench';
import { PairWindows } from './support/pair-windows';

const UI_TIMEOUT_MS = 60_000;

/** Line numbers (1-based) as the editors show them. */
const PROGRAM = [
  'function add(a, b) {', // 1
  '  const sum = a + b;', // 2: the guest's breakpoint, where the debugger stops
  '  return sum;', // 3: after one Step Over
  '}', // 4
  'const result = add(20, 22);', // 5
  'console.log(result);', // 6: the host's breakpoint
  '',
].join('\n');
const GUEST_LINE = 2;
const HOST_LINE = 6;
const STEPPED_LINE = 3;

const LAUNCH = JSON.stringify(
  {
    version: '0.2.0',
    configurations: [
      { type: 'node', request: 'launch', name: 'Run app', program: '${workspaceFolder}/app.js', console: 'internalConsole' },
    ],
  },
  null,
  2,
);

/** Polls `read` until `check` holds (bounded); returns the last value read. */
async function until<T>(
  window: Workbench,
  what: string,
  read: () => Promise<T>,
  check: (value: T) => boolean,
  timeoutMs = UI_TIMEOUT_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (check(value)) return value;
    if (Date.now() > deadline) {
      await window.screenshot(`debugging-together-timeout`);
      throw new Error(`${window.name}: timed out after ${timeoutMs} ms waiting for ${what}; last saw ${JSON.stringify(value)}`);
    }
    await window.page.waitForTimeout(300);
  }
}

/** The text of the side bar pane whose header is `title` ('' while it is not shown). */
async function paneText(window: Workbench, title: string): Promise<string> {
  return window.page.evaluate((title) => {
    for (const pane of Array.from(document.querySelectorAll('.part.sidebar .pane'))) {
      const header = pane.querySelector('.pane-header');
      if (header && header.textContent?.trim().toLowerCase().startsWith(title.toLowerCase())) {
        return (pane.querySelector('.pane-body') as HTMLElement | null)?.innerText ?? '';
      }
    }
    return '';
  }, title);
}

/** The Breakpoints view's rows, as `file:line` (the view shows both). */
async function breakpointRows(window: Workbench): Promise<string[]> {
  return window.page.evaluate(() =>
    Array.from(document.querySelectorAll('.part.sidebar .debug-breakpoints .monaco-list-row')).map((row) => {
      const name = row.querySelector('.name')?.textContent?.trim() ?? '';
      const line = row.querySelector('.line-number')?.textContent?.trim() ?? '';
      return `${name}:${line}`;
    }),
  );
}

/**
 * The lines (1-based, as numbered in the gutter) that the active editor highlights with the theme's
 * stack frame colour: VS Code's own top stack frame on the host, Tandem's decoration on a guest.
 */
async function stackFrameLines(window: Workbench): Promise<number[]> {
  return window.page.evaluate(() => {
    const editor = document.querySelector('.editor-instance .monaco-editor');
    if (!editor) return [];
    const probe = document.createElement('div');
    probe.style.backgroundColor = 'var(--vscode-editor-stackFrameHighlightBackground)';
    editor.appendChild(probe);
    const colour = getComputedStyle(probe).backgroundColor;
    probe.remove();
    if (!colour || colour === 'rgba(0, 0, 0, 0)') return [];
    const lines: number[] = [];
    for (const line of Array.from(editor.querySelectorAll<HTMLElement>('.view-overlays > div'))) {
      const highlighted = Array.from(line.children).some((child) => getComputedStyle(child).backgroundColor === colour);
      if (!highlighted) continue;
      const margin = Array.from(editor.querySelectorAll<HTMLElement>('.margin-view-overlays > div')).find(
        (m) => m.style.top === line.style.top,
      );
      const number = Number(margin?.querySelector('.line-numbers')?.textContent?.trim());
      if (Number.isInteger(number)) lines.push(number);
    }
    return lines;
  });
}

/** The top row of the Call Stack view (VS Code's own, on the host). */
async function topStackFrame(window: Workbench): Promise<string> {
  return window.page.evaluate(() => {
    const rows = Array.from(document.querySelectorAll<HTMLElement>('.part.sidebar .debug-call-stack .monaco-list-row'));
    const frame = rows.find((row) => row.querySelector('.stack-frame'));
    return frame?.innerText.replace(/\s+/g, ' ').trim() ?? '';
  });
}

/** Moves the caret of the focused editor to `line` (Go to Line) and toggles a breakpoint there with F9. */
async function toggleBreakpointAt(window: Workbench, fileName: string, line: number): Promise<void> {
  await window.editorFocused(fileName);
  await window.page.keyboard.press('Control+G');
  await window.answer(`:${line}`);
  await window.editorFocused(fileName);
  await window.page.keyboard.press('F9');
}

async function showRunAndDebug(window: Workbench): Promise<void> {
  await window.runCommand('View: Show Run and Debug');
  await window.page.locator('.part.sidebar .debug-breakpoints').first().waitFor({ state: 'attached', timeout: UI_TIMEOUT_MS });
}

describe('debugging together through the UI of two VS Code windows', { timeout: 600_000 }, () => {
  let pair: PairWindows;
  let host: Workbench;
  let guest: Workbench;

  before(async () => {
    pair = await PairWindows.start({
      name: 'debugging-together',
      hostFiles: { 'app.js': PROGRAM, '.vscode/launch.json': LAUNCH },
      // The guest's window has a folder of its own, so the host's is added beside it (a workspace).
      // Not an empty window: one whose only folder is tandem:// is a virtual workspace, where VS Code
      // disables the extensions that do not declare support for it, the JavaScript debugger among
      // them, and F9 then sets no breakpoint ("All debug extensions are disabled").
      settings: { 'debug.openDebug': 'openOnDebugBreak', 'debug.internalConsoleOptions': 'neverOpen' },
    });
    ({ host, guest } = pair);
  });

  after(async () => {
    await pair?.close();
  });

  it('the guest joins and opens the host’s folder; the shared file opens from its Explorer', async () => {
    await pair.joinSession(await pair.startSession());
    const show = guest.page.locator('.notifications-toasts .monaco-button', { hasText: 'Show in Explorer' }).first();
    await show.waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS });
    const startUrl = guest.page.url();
    await show.click();
    await until(
      guest,
      'the window to reopen as a workspace with both folders',
      async () => guest.page.url(),
      (url) => url !== startUrl && /[?&]workspace=.*\.code-workspace/.test(url),
    );
    await guest.page.locator('.monaco-workbench .part.statusbar').waitFor({ state: 'visible', timeout: 90_000 });
    await guest.statusBar(/Tandem: live/, UI_TIMEOUT_MS);
    const root = guest.page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'host-project (Tandem)' }).first();
    await root.waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS });
    const file = guest.page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'app.js' }).first();
    for (let attempt = 0; attempt < 3 && !(await file.isVisible()); attempt++) {
      await root.click();
      await file.waitFor({ state: 'visible', timeout: 10_000 }).catch(() => undefined);
    }
    await file.click();
    await guest.editorFocused('app.js');
    assert.equal(await guest.editorText(), PROGRAM);
    await host.statusBar(/Tandem: live.*2/s, UI_TIMEOUT_MS);
  });

  it('a breakpoint the guest sets with F9 shows in the host’s Breakpoints view, and the host’s in the guest’s', async () => {
    await toggleBreakpointAt(guest, 'app.js', GUEST_LINE);
    await showRunAndDebug(guest);
    await until(
      guest,
      'its own breakpoint in its Breakpoints view',
      () => breakpointRows(guest),
      (rows) => rows.includes(`app.js:${GUEST_LINE}`),
    );

    await host.quickOpen('app.js');
    await showRunAndDebug(host);
    const hostRows = await until(
      host,
      'the guest’s breakpoint in the host’s Breakpoints view',
      () => breakpointRows(host),
      (rows) => rows.includes(`app.js:${GUEST_LINE}`),
    );
    assert.deepEqual(hostRows, [`app.js:${GUEST_LINE}`]);
    await host.screenshot('debugging-together-guest-breakpoint');

    await toggleBreakpointAt(host, 'app.js', HOST_LINE);
    await until(
      host,
      'its own breakpoint in its Breakpoints view',
      () => breakpointRows(host),
      (rows) => rows.includes(`app.js:${HOST_LINE}`),
    );
    const guestRows = await until(
      guest,
      'the host’s breakpoint in the guest’s Breakpoints view',
      () => breakpointRows(guest),
      (rows) => rows.includes(`app.js:${HOST_LINE}`),
    );
    assert.deepEqual([...guestRows].sort(), [`app.js:${GUEST_LINE}`, `app.js:${HOST_LINE}`]);
    assert.deepEqual([...(await breakpointRows(host))].sort(), [`app.js:${GUEST_LINE}`, `app.js:${HOST_LINE}`]);
    await guest.screenshot('debugging-together-breakpoints');
    await host.screenshot('debugging-together-breakpoints');
  });

  it('the host’s debugger stops at the guest’s breakpoint; the guest sees the line and the variables', async () => {
    await host.editorFocused('app.js');
    await host.runCommand('Debug: Start Debugging');
    const top = await until(
      host,
      'the Call Stack to show the stop',
      () => topStackFrame(host),
      (text) => new RegExp(`app\\.js\\s*${GUEST_LINE}:`).test(text),
    );
    assert.match(top, /\badd\b/, 'stopped in add()');
    await until(
      host,
      'its editor to highlight the stopped line',
      () => stackFrameLines(host),
      (lines) => lines.includes(GUEST_LINE),
    );
    await host.screenshot('debugging-together-stopped');

    await guest.statusBar(new RegExp(`Host on a breakpoint at app\\.js:${GUEST_LINE}\\b`), UI_TIMEOUT_MS);
    const guestLines = await until(
      guest,
      'the stopped line highlighted in its editor',
      () => stackFrameLines(guest),
      (lines) => lines.length > 0,
    );
    assert.deepEqual(guestLines, [GUEST_LINE]);
    // The status bar item opens the Host's Debugger view.
    await guest.page.locator('.part.statusbar .statusbar-item', { hasText: 'Host on a breakpoint' }).first().click();
    // The call stack is long (Node's own frames): collapse it, as a person would, so the Variables rows are drawn.
    const stackGroup = guest.page.locator('.part.sidebar .pane .monaco-list-row', { hasText: /^Call Stack/ }).first();
    await stackGroup.waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS });
    if ((await stackGroup.getAttribute('aria-expanded')) === 'true') await stackGroup.click();
    const view = await until(
      guest,
      'the Host’s Debugger view with a and b',
      () => paneText(guest, "Host's Debugger"),
      (text) => /^a\s*20$/m.test(text) && /^b\s*22$/m.test(text),
    );
    assert.match(view, /Paused on breakpoint/, 'the call stack says why');
    await guest.screenshot('debugging-together-stopped');
  });

  it('the guest runs Tandem: Step Over (Host’s Debugger); both see the next line', async () => {
    await guest.runCommand("Tandem: Step Over (Host's Debugger)");
    await until(
      host,
      'the Call Stack to show the next line',
      () => topStackFrame(host),
      (text) => new RegExp(`app\\.js\\s*${STEPPED_LINE}:`).test(text),
    );
    await until(
      host,
      'its editor to highlight the next line',
      () => stackFrameLines(host),
      (lines) => lines.includes(STEPPED_LINE) && !lines.includes(GUEST_LINE),
    );
    await host.screenshot('debugging-together-stepped');

    await guest.statusBar(new RegExp(`Host after a step at app\\.js:${STEPPED_LINE}\\b`), UI_TIMEOUT_MS);
    await until(
      guest,
      'the next line highlighted in its editor',
      () => stackFrameLines(guest),
      (lines) => lines.length === 1 && lines[0] === STEPPED_LINE,
    );
    // (The variables after the step are not read here: the view expands its Call Stack again,
    // and Node's frames push the Variables rows out of the drawn list; the values were read at the stop.)
    await guest.screenshot('debugging-together-stepped');
  });

  it('when the host stops debugging, the guest’s view of it clears', async () => {
    await host.runCommand('Debug: Stop');
    await until(
      guest,
      'the status bar to drop the host’s stop',
      () => guest.page.locator('.part.statusbar .statusbar-item').allInnerTexts(),
      (items) => !items.some((text) => text.includes('Host after a step')),
    );
    await until(
      guest,
      'the highlight to go',
      () => stackFrameLines(guest),
      (lines) => lines.length === 0,
    );
  });
});
