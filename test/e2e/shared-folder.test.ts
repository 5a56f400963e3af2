/**
 * End to end through the UI: the host's folder in the guest's Explorer. A host window (code-server
 * with the packaged .vsix) starts a session; a guest in an empty window joins and accepts "Show
 * in Explorer": the window opens the host's folder (`tandem://<session>/`) as its folder, which
 * reloads it (in the browser the page reloads; desktop VS Code restarts the extensions), so this
 * is also the test of the session resuming by itself: after the reload the guest is live again
 * and its Explorer shows the host's files (never `.env` nor `.gitignore`d ones), which open in an
 * editor.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Workbench } from '../support/workbench';
import { PairWindows } from './support/pair-windows';

const UI_TIMEOUT_MS = 60_000;

/** The Explorer's text once it satisfies `ready` (bounded), else what it last showed. */
async function explorerText(window: Workbench, ready: (text: string) => boolean, timeoutMs = UI_TIMEOUT_MS): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let text = '';
  while (Date.now() < deadline) {
    text = await window.page
      .locator('.sidebar')
      .innerText({ timeout: 5000 })
      .catch(() => '');
    if (ready(text)) return text;
    await window.page.waitForTimeout(500);
  }
  return text;
}

async function eventuallyUrl(window: Workbench, check: (url: string) => boolean): Promise<void> {
  const deadline = Date.now() + UI_TIMEOUT_MS;
  while (!check(window.page.url())) {
    if (Date.now() > deadline) throw new Error(`${window.name}: the window did not reload into a workspace; it is at ${window.page.url()}`);
    await window.page.waitForTimeout(250);
  }
}

describe('the host’s folder in the guest’s Explorer, across the reload that adding it causes', { timeout: 420_000 }, () => {
  let pair: PairWindows;
  let host: Workbench;
  let guest: Workbench;

  before(async () => {
    pair = await PairWindows.start({
      name: 'shared-folder',
      hostFiles: {
        'README.md': '# Shared from the host\n',
        'src/app.ts': 'export const answer = 42;\n',
        '.env': 'SECRET=never-shared\n',
        '.gitignore': 'build/\n',
        'build/out.js': 'compiled\n',
      },
      // An empty window: adding the first folder is what VS Code reloads for.
      guestEmptyWindow: true,
    });
    ({ host, guest } = pair);
  });

  after(async () => {
    await pair?.close();
  });

  it(
    'the guest accepts "Show in Explorer"; after the reload the session is live again and the Explorer shows the shared files ' + 'only',
    async () => {
      await pair.joinSession(await pair.startSession());
      const show = guest.page.locator('.notifications-toasts .monaco-button', { hasText: 'Show in Explorer' }).first();
      await show.waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS });
      assert.match(
        await guest.page.locator('.notifications-toasts').innerText(),
        /host-project \(Tandem\)/,
        'the prompt names the host’s folder',
      );
      await guest.screenshot('shared-folder-prompt');

      // The page navigates to the new workspace (`?workspace=` or `?folder=`, as VS Code decides).
      const startUrl = guest.page.url();
      await show.click();
      await eventuallyUrl(guest, (url) => url !== startUrl && /[?&](workspace|folder)=/.test(url));
      await guest.page.locator('.monaco-workbench .part.statusbar').waitFor({ state: 'visible', timeout: 90_000 });

      // Resumed with the token it kept: live again, without joining anew.
      await guest.statusBar(/Tandem: live/, UI_TIMEOUT_MS);
      // An empty window opens the host's folder as its own folder (named by its URI there).
      const shown = (text: string) => text.includes('README.md') && text.includes('src') && text.includes('.gitignore');
      // Without loading the page again: the window opened a folder, no workspace was made.
      const explorer = await explorerText(guest, shown);
      await guest.screenshot('shared-folder-explorer');
      assert.ok(shown(explorer), `the Explorer shows the host's folder; it shows ${JSON.stringify(explorer)}`);
      for (const hidden of ['.env', 'build', 'out.js'])
        assert.ok(!explorer.split('\n').includes(hidden), `${hidden} is not shared; the Explorer shows ${JSON.stringify(explorer)}`);
    },
  );

  it('a shared file opens from the Explorer with the host’s content', async () => {
    await guest.page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'README.md' }).first().click();
    await guest.editorFocused('README.md');
    assert.equal(await guest.editorText(), '# Shared from the host\n');
    await host.statusBar(/Tandem: live.*2/s, UI_TIMEOUT_MS);
    await guest.screenshot('shared-folder-file');
  });
});
