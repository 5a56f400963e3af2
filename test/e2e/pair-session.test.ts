/**
 * End to end through the UI: a host and a guest, each in their own VS Code (two code-server
 * processes with the packaged .vsix installed, in headless Chromium), and a relay. The host
 * starts a session from the Command Palette and copies the invite link; the guest joins with it;
 * both status bars show the live session with both participants. Screenshots of both windows
 * are kept in test-artifacts/.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Workbench } from '../support/workbench';
import { HOST_NAME, PairWindows } from './support/pair-windows';

describe('a pair session through the UI of two VS Code windows', { timeout: 300_000 }, () => {
  let pair: PairWindows;
  let host: Workbench;
  let guest: Workbench;
  let notesPath: string;

  before(async () => {
    pair = await PairWindows.start({
      name: 'pair-session',
      hostFiles: { 'src/app.ts': 'export const greeting = "hello";\n', 'src/notes.txt': INITIAL_NOTES, '.env': 'SECRET=never-shared\n' },
      // Plain typing: no suggestion may take a keystroke.
      settings: {
        'editor.quickSuggestions': { other: false, comments: false, strings: false },
        'editor.suggestOnTriggerCharacters': false,
        'editor.wordBasedSuggestions': 'off',
      },
    });
    ({ host, guest } = pair);
    notesPath = join(pair.hostFolder, 'src', 'notes.txt');
  });

  after(async () => {
    await pair?.close();
  });

  it('the host starts a session; the guest joins with the invite link; both see it live with two people', async () => {
    const link = await pair.startSession();
    assert.match(link, /^vscode:\/\/tandem\.tandem\/join\?relay=/);
    await host.screenshot('pair-session-started');

    await pair.joinSession(link);
    // The round-trip time shows once the first latency probe is answered, a moment after "live".
    const guestStatus = await guest.statusBar(/Tandem: live.*2.*\d+ ms/s, 60_000);
    assert.match(guestStatus, /\d+ ms/, 'the round-trip time shows');
    await host.statusBar(/Tandem: live.*2/s);
    await guest.screenshot('pair-session-joined');
    await host.screenshot('pair-session-joined');
  });

  it(
    'both type at once into one file (200+ keystrokes each, then the same keys at the same place); Ctrl+Z takes back only your own; ' +
      'the guest saves to the host’s disk',
    async () => {
      // The host opens a file: it is shared. The guest follows the host into it.
      await host.quickOpen('notes.txt');
      await host.editorFocused('notes.txt');
      await host.page.keyboard.press('Control+End');
      await guest.runCommand('Tandem: Follow Participant');
      await guest.pick(HOST_NAME);
      await guest.editorFocused('notes.txt', 60_000);
      await guest.cursorLabel(HOST_NAME);
      assert.equal(await guest.editorText(), INITIAL_NOTES);

      // Interleaved rounds, both typing at the same time: at the same place (the end), then apart
      // (the host at the start, the guest at the end). Keystrokes from each round can interleave
      // character by character, so what is checked is that every character typed is there once.
      const typed = { host: '', guest: '' };
      const rounds: Array<{ host: string; guest: string; hostAt: 'Control+End' | 'Control+Home'; guestAt: 'Control+End' }> = [];
      for (let round = 0; round < 6; round++) {
        rounds.push({
          host: words('abcdefghij', round, 40),
          guest: words('KLMNOPQRST', round, 40),
          hostAt: round % 2 === 0 ? 'Control+End' : 'Control+Home',
          guestAt: 'Control+End',
        });
      }
      for (const round of rounds) {
        await host.page.keyboard.press(round.hostAt);
        await guest.page.keyboard.press(round.guestAt);
        await Promise.all([host.page.keyboard.type(round.host, { delay: 12 }), guest.page.keyboard.type(round.guest, { delay: 12 })]);
        typed.host += round.host;
        typed.guest += round.guest;
      }
      assert.ok(typed.host.length >= 200 && typed.guest.length >= 200, `${typed.host.length} and ${typed.guest.length} keystrokes`);
      const typedApart = await sameText(host, guest);
      assert.deepEqual(
        characterCounts(typedApart),
        characterCounts(INITIAL_NOTES + typed.host + typed.guest),
        'every character typed is there exactly once',
      );

      // The same keys at the same place at the same moment: both at the end press Enter then x,
      // 25 times. Each editor sees the other's identical keystroke land where its own goes: all 100 count.
      for (let round = 0; round < 25; round++) {
        await Promise.all([host.page.keyboard.press('Control+End'), guest.page.keyboard.press('Control+End')]);
        await Promise.all([
          host.page.keyboard.press('Enter').then(() => host.page.keyboard.type('x')),
          guest.page.keyboard.press('Enter').then(() => guest.page.keyboard.type('x')),
        ]);
      }
      const converged = await sameText(host, guest);
      assert.deepEqual(characterCounts(converged), characterCounts(typedApart + '\nx'.repeat(50)), 'every Enter and every x of both, once');

      // The guest types, the host types after it, the guest undoes: its own word goes, the host's stays.
      // (At the start: typing that continues the guest's last run within a second would undo as one group with it.)
      await guest.page.keyboard.press('Control+Home');
      await guest.page.keyboard.type('undome ', { delay: 12 });
      await eventuallyText(host, (text) => text.startsWith('undome '), 'the guest’s word reaches the host');
      await host.page.keyboard.press('Control+End');
      await host.page.keyboard.type(' HOST', { delay: 12 });
      await eventuallyText(guest, (text) => text.endsWith(' HOST'), 'the host’s word reaches the guest');
      await guest.page.keyboard.press('Control+Z');
      const afterUndo = await sameText(host, guest);
      assert.equal(afterUndo, converged + ' HOST', 'the guest’s Ctrl+Z took back its own word only');

      // The guest saves: the host's file on disk has the shared text, and the host's editor is clean.
      await guest.page.keyboard.press('Control+S');
      await eventually(
        () => readFileSync(notesPath, 'utf8') === afterUndo,
        () => `the host’s disk to have the text; it has ${JSON.stringify(readFileSync(notesPath, 'utf8'))}`,
      );
      await host.editorClean('notes.txt');
      await guest.cursorLabel(HOST_NAME);
      await guest.screenshot('pair-session-typed');
      await host.screenshot('pair-session-typed');
    },
  );

  it('the guest composes with an input method while the host types: the composition and every host keystroke kept', async () => {
    const before = await sameText(host, guest);
    // An input method (Japanese, Chinese, Korean...) as Chromium gets it from the OS: composition
    // updates replace the marked text (each a change event of the guest's editor), then the commit.
    const ime = await guest.page.context().newCDPSession(guest.page);
    // Input methods compose in the focused editor of the page in front (reading a window's text moves the focus).
    await guest.page.bringToFront();
    await guest.editorFocused('notes.txt');
    const rounds = 8;
    for (let round = 0; round < rounds; round++) {
      // The host types at the start, so its edits land before the composition and move it.
      await Promise.all([host.page.keyboard.press('Control+Home'), guest.page.keyboard.press('Control+End')]);
      const hostTyping = host.page.keyboard.type('hh', { delay: 10 });
      for (const marked of ['n', 'に', 'にh', 'にほ', 'にほn', 'にほん']) {
        await ime.send('Input.imeSetComposition', { text: marked, selectionStart: marked.length, selectionEnd: marked.length });
      }
      // The input method is at work: the marked text is in the guest's editor. (Read from the
      // rendered lines: reading through the clipboard would move the focus and end the composition.)
      if (round === 0) await eventuallyShown(guest, 'にほん', 'the marked text in the editor');
      await ime.send('Input.insertText', { text: '日本' });
      await hostTyping;
    }
    const after = await sameText(host, guest);
    assert.deepEqual(
      characterCounts(after),
      characterCounts(before + 'hh'.repeat(rounds) + '日本'.repeat(rounds)),
      `every committed word and every host keystroke once; no marked text left behind: ${JSON.stringify(after.slice(before.length - 20))}`,
    );
    await guest.screenshot('pair-session-ime');
  });

  it('the guest composes where the host types, at the same moment: every character once, nothing left marked', async () => {
    const before = await sameText(host, guest);
    const ime = await guest.page.context().newCDPSession(guest.page);
    await guest.page.bringToFront();
    await guest.editorFocused('notes.txt');
    // Ten rounds without a pause: longer than a plain-typing hold (3 s), so the composing hold is what keeps them apart.
    const rounds = 10;
    for (let round = 0; round < rounds; round++) {
      // Both at the end: the host's keystrokes tie with the guest's marked text at its very edge.
      await Promise.all([host.page.keyboard.press('Control+End'), guest.page.keyboard.press('Control+End')]);
      const hostTyping = host.page.keyboard.type('hh', { delay: 40 });
      // An input method's steps at a quick typist's pace.
      for (const marked of ['n', 'に', 'にh', 'にほ', 'にほn', 'にほん']) {
        await ime.send('Input.imeSetComposition', { text: marked, selectionStart: marked.length, selectionEnd: marked.length });
        await guest.page.waitForTimeout(60);
      }
      await ime.send('Input.insertText', { text: '日本' });
      await hostTyping;
    }
    const after = await sameText(host, guest);
    assert.deepEqual(
      characterCounts(after),
      characterCounts(before + 'hh'.repeat(rounds) + '日本'.repeat(rounds)),
      `every committed word and every host keystroke once; no marked text left behind: ${JSON.stringify(after.slice(before.length - 20))}`,
    );
    await guest.screenshot('pair-session-ime-same-place');
  });
});

/** `count` keystrokes: words of letters from `alphabet` (rotated by `round`), separated by spaces. */
function words(alphabet: string, round: number, count: number): string {
  let out = '';
  for (let i = 0; out.length < count; i++) out += i % 6 === 5 ? ' ' : alphabet[(i + round) % alphabet.length]!;
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

/** Waits until the editor's rendered lines (what is in view) show `text`, without touching the focus. */
async function eventuallyShown(window: Workbench, text: string, what: string, timeoutMs = 30_000): Promise<void> {
  const shown = () => window.page.evaluate(() => document.querySelector('.editor-instance .monaco-editor .view-lines')?.textContent ?? '');
  const deadline = Date.now() + timeoutMs;
  while (!(await shown()).includes(text)) {
    if (Date.now() > deadline) throw new Error(`${window.name}: timed out waiting for ${what}; it shows ${JSON.stringify(await shown())}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
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
    if (Date.now() > deadline)
      throw new Error(`the editors did not converge: ${a.name} ${JSON.stringify(left)}, ${b.name} ${JSON.stringify(right)}`);
    await a.page.waitForTimeout(300);
  }
}

const INITIAL_NOTES = 'Meeting notes\n- first point\n- second point\n';
