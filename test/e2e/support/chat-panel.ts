/**
 * The Tandem Chat view of one workbench, as a person sees it: the real webview (an iframe inside
 * an iframe of the workbench), found by its composer, read and typed into through Playwright.
 */
import type { Frame } from 'playwright-core';
import { waitUntil } from '../../support/wait';
import type { Workbench } from '../../support/workbench';

const UI_TIMEOUT_MS = 30_000;

export class ChatPanel {
  private constructor(
    private readonly window: Workbench,
    readonly frame: Frame,
  ) {}

  /** Opens the view (Tandem: Open Chat) and finds its webview frame. */
  static async open(window: Workbench): Promise<ChatPanel> {
    await window.runCommand('Tandem: Open Chat');
    let found: Frame | undefined;
    await waitUntil(
      async () => {
        for (const frame of window.page.frames()) {
          if (!frame.url().includes('webview')) continue;
          if (await frame.$('#composer').catch(() => null)) found = frame;
        }
        return found !== undefined;
      },
      `${window.name}: the Chat view's webview`,
      UI_TIMEOUT_MS,
      250,
    );
    return new ChatPanel(window, found!);
  }

  /** Types `text` into the composer and presses Enter, as a person would (Shift+Enter between lines). */
  async send(text: string): Promise<void> {
    const input = this.frame.locator('#input');
    await input.click();
    const lines = text.split('\n');
    for (const [i, line] of lines.entries()) {
      if (i > 0) await input.press('Shift+Enter');
      await input.pressSequentially(line, { delay: 5 });
    }
    await input.press('Enter');
  }

  /** Waits for a chat entry matching `selector` whose text contains `text`; returns its outer HTML. */
  async entry(selector: string, text: string, timeoutMs = UI_TIMEOUT_MS): Promise<string> {
    const locator = this.frame.locator(selector).filter({ hasText: text }).last();
    await locator.waitFor({ state: 'attached', timeout: timeoutMs });
    return locator.evaluate((node) => node.outerHTML);
  }

  async screenshot(label: string): Promise<void> {
    await this.window.screenshot(label);
  }
}
