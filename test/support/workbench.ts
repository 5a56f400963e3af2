/**
 * Driving a VS Code workbench (code-server in headless Chromium) the way a person does: the
 * Command Palette, input boxes, the status bar, the clipboard, the keyboard. For end-to-end
 * tests of the extension through its UI.
 */
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { screenshot } from './browser';
import type { CodeServer } from './code-server';

const UI_TIMEOUT_MS = 30_000;

export class Workbench {
  private constructor(
    readonly name: string,
    readonly context: BrowserContext,
    readonly page: Page,
    readonly consoleLog: string[],
  ) {}

  /**
   * Opens the server's folder in a fresh browser context (clipboard allowed) and waits for the
   * workbench. `query` opens something else: `ew=true` is an empty window.
   */
  static async open(
    browser: Browser,
    server: CodeServer,
    name: string,
    query = `folder=${encodeURIComponent(server.folder)}`,
  ): Promise<Workbench> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.origin });
    const page = await context.newPage();
    const consoleLog: string[] = [];
    page.on('console', (message) => {
      if (consoleLog.length < 2000) consoleLog.push(`[${message.type()}] ${message.text()}`);
    });
    await page.goto(`${server.origin}/?${query}`, { waitUntil: 'domcontentloaded', timeout: 60_000 });
    await page.locator('.monaco-workbench .part.statusbar').waitFor({ state: 'visible', timeout: 90_000 });
    return new Workbench(name, context, page, consoleLog);
  }

  /**
   * Runs a command by its palette title (e.g. "Tandem: Start Session"). The palette's list is
   * computed when it opens: a command whose `when` clause or extension was not ready yet is
   * missing, so a miss closes it and tries again (bounded).
   */
  async runCommand(title: string): Promise<void> {
    await this.page.bringToFront();
    const input = this.quickInput();
    let rows: string[] = [];
    for (let attempt = 0; attempt < 6; attempt++) {
      for (let open = 0; open < 5 && !(await input.isVisible()); open++) {
        await this.page.keyboard.press('F1');
        await input.waitFor({ state: 'visible', timeout: 5000 }).catch(() => undefined);
      }
      await input.fill(`>${title}`);
      const row = this.page.locator('.quick-input-widget .monaco-list-row', { hasText: title }).first();
      if (
        await row.waitFor({ state: 'visible', timeout: 5000 }).then(
          () => true,
          () => false,
        )
      ) {
        await row.click();
        return;
      }
      rows = await this.page.locator('.quick-input-widget .monaco-list-row').allInnerTexts();
      await this.page.keyboard.press('Escape');
      await this.page.waitForTimeout(1000);
    }
    throw new Error(`${this.name}: the Command Palette has no "${title}"; it offered ${JSON.stringify(rows)}`);
  }

  /** Types `text` into the open input box (a prompt from a command) and confirms it. */
  async answer(text: string, promptContains?: string): Promise<void> {
    const widget = this.page.locator('.quick-input-widget');
    if (promptContains)
      await widget.getByText(promptContains, { exact: false }).first().waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS });
    const input = this.quickInput();
    await input.waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS });
    await input.fill(text);
    await input.press('Enter');
  }

  /** Picks the quick pick item labelled `label` (a command's own quick pick). */
  async pick(label: string): Promise<void> {
    const row = this.page.locator('.quick-input-widget .monaco-list-row', { hasText: label }).first();
    await row.waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS });
    await row.click();
  }

  /** Opens a file of the workspace by name through Quick Open (Ctrl+P). */
  async quickOpen(fileName: string): Promise<void> {
    await this.page.bringToFront();
    const input = this.quickInput();
    for (let open = 0; open < 5 && !(await input.isVisible()); open++) {
      await this.page.keyboard.press('Control+P');
      await input.waitFor({ state: 'visible', timeout: 5000 }).catch(() => undefined);
    }
    await input.fill(fileName);
    await this.pick(fileName);
  }

  /** Waits until the editor tab `name` shows no unsaved changes. */
  async editorClean(name: string, timeoutMs = UI_TIMEOUT_MS): Promise<void> {
    const tab = this.page.locator('.tabs-container .tab', { hasText: name }).first();
    const deadline = Date.now() + timeoutMs;
    while ((await tab.getAttribute('class'))?.split(/\s+/).includes('dirty')) {
      if (Date.now() > deadline) throw new Error(`${this.name}: the editor "${name}" still has unsaved changes after ${timeoutMs} ms`);
      await this.page.waitForTimeout(200);
    }
  }

  /**
   * Waits until some status bar item's text matches, and returns it. Across a reload too: a read
   * that the page's navigation cut short (the window reopening as a workspace) is read again.
   */
  async statusBar(pattern: RegExp, timeoutMs = UI_TIMEOUT_MS): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let seen: string[] = [];
    while (Date.now() < deadline) {
      seen = await this.page
        .locator('.part.statusbar .statusbar-item')
        .allInnerTexts()
        .catch((error: Error) => {
          if (!/Execution context was destroyed|navigation/i.test(error.message)) throw error;
          return [];
        });
      const match = seen.find((text) => pattern.test(text));
      if (match !== undefined) return match;
      await this.page.waitForTimeout(200);
    }
    throw new Error(`${this.name}: no status bar item matched ${pattern} within ${timeoutMs} ms; saw ${JSON.stringify(seen)}`);
  }

  /** Waits until the active editor's tab is `name` and the editor has the focus. */
  async editorFocused(name: string, timeoutMs = UI_TIMEOUT_MS): Promise<void> {
    await this.page.locator('.tabs-container .tab.active', { hasText: name }).waitFor({ state: 'visible', timeout: timeoutMs });
    await this.page.locator('.editor-instance .monaco-editor textarea').first().focus();
  }

  /** The active editor's whole text (select all, copy, read the clipboard); the selection is put back to the end. */
  async editorText(): Promise<string> {
    await this.page.bringToFront();
    await this.page.locator('.editor-instance .monaco-editor textarea').first().focus();
    await this.page.keyboard.press('Control+A');
    await this.page.keyboard.press('Control+C');
    await this.page.keyboard.press('Control+End');
    return this.readClipboard();
  }

  /**
   * Waits for another participant's cursor label (`name`) in the editor. The label is a
   * decoration's `after` text: CSS content on a generated element, so it is looked up in the
   * computed styles.
   */
  async cursorLabel(name: string, timeoutMs = UI_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = await this.page.evaluate((label) => {
        const elements = document.querySelectorAll('.editor-instance .view-lines span');
        for (let i = 0; i < elements.length; i++) {
          if (getComputedStyle(elements[i]!, '::after').content.includes(label)) return true;
        }
        return false;
      }, name);
      if (found) return;
      await this.page.waitForTimeout(200);
    }
    throw new Error(`${this.name}: no cursor labelled "${name}" in the editor within ${timeoutMs} ms`);
  }

  /** The system clipboard as this window sees it. */
  async readClipboard(): Promise<string> {
    await this.page.bringToFront();
    return this.page.evaluate(() => navigator.clipboard.readText());
  }

  async screenshot(label: string): Promise<string | undefined> {
    return screenshot(this.page, `${label}-${this.name}`);
  }

  async close(): Promise<void> {
    await this.context.close().catch(() => undefined);
  }

  private quickInput(): Locator {
    return this.page.locator('.quick-input-widget input.input, .quick-input-widget .quick-input-box input').first();
  }
}
