/**
 * End to end through the UI: a guest whose window already has a folder of its own accepts "Show
 * in Explorer". The window reopens as a workspace with both folders (a workspace file Tandem
 * writes first: code-server was seen to reload into an untitled workspace before its file existed,
 * showing "no folder opened" with the session idle). After the reload the session is live again
 * without any help, both folders are in the Explorer, and a shared file opens from it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Workbench } from '../support/workbench';
import { PairWindows } from './support/pair-windows';

const UI_TIMEOUT_MS = 60_000;

describe('the host’s folder added to a guest window that has a folder already', { timeout: 420_000 }, () => {
  let pair: PairWindows;
  let guest: Workbench;

  before(async () => {
    pair = await PairWindows.start({
      name: 'shared-folder-workspace',
      hostFiles: { 'README.md': '# Shared from the host\n', '.env': 'SECRET=never-shared\n' },
    });
    ({ guest } = pair);
  });

  after(async () => {
    await pair?.close();
  });

  it('reopens as a workspace with both folders; the session resumes by itself; a shared file opens', async () => {
    await pair.joinSession(await pair.startSession());
    const show = guest.page.locator('.notifications-toasts .monaco-button', { hasText: 'Show in Explorer' }).first();
    await show.waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS });
    const startUrl = guest.page.url();
    await show.click();
    const deadline = Date.now() + UI_TIMEOUT_MS;
    while (!/[?&]workspace=.*\.code-workspace/.test(guest.page.url()) || guest.page.url() === startUrl) {
      if (Date.now() > deadline) throw new Error(`the window did not reopen as a workspace; it is at ${guest.page.url()}`);
      await guest.page.waitForTimeout(250);
    }
    await guest.page.locator('.monaco-workbench .part.statusbar').waitFor({ state: 'visible', timeout: 90_000 });
    await guest.statusBar(/Tandem: live/, UI_TIMEOUT_MS);

    // Both folders, without reloading the page: the guest's own and the host's.
    const sidebar = guest.page.locator('.sidebar');
    const root = guest.page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'host-project (Tandem)' }).first();
    await root.waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS });
    assert.match(await sidebar.innerText(), /guest-scratch/i, 'the guest’s own folder is still there');
    assert.doesNotMatch(await sidebar.innerText(), /no folder opened/i);
    await guest.screenshot('shared-folder-workspace');

    const readme = guest.page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'README.md' }).first();
    for (let attempt = 0; attempt < 3 && !(await readme.isVisible()); attempt++) {
      await root.click();
      await readme.waitFor({ state: 'visible', timeout: 10_000 }).catch(() => undefined);
    }
    await guest.screenshot('shared-folder-workspace-expanded');
    await readme.click({ timeout: UI_TIMEOUT_MS });
    await guest.editorFocused('README.md');
    assert.equal(await guest.editorText(), '# Shared from the host\n');
    assert.doesNotMatch(await sidebar.innerText(), /\.env/, '.env is not shared');
  });
});
