import * as vscode from 'vscode';

export type Severity = 'info' | 'warning' | 'error';

export interface NotificationAction {
  title: string;
  run: () => unknown;
}

/** What was shown, for tests (`TandemApi.notifier.shown`). */
export interface ShownNotification {
  severity: Severity;
  message: string;
  actions: string[];
}

/**
 * The one way the extension shows a notification (`vscode.window.show*Message`) with actions:
 * the chosen action runs. Kept as a service so that a suite can see what was shown, with which
 * actions, and choose one (`choose`), while the real call is still made.
 */
export class Notifier implements vscode.Disposable {
  private readonly record: ShownNotification[] = [];
  /** Pending choices a suite can make, by message. */
  private readonly waiting = new Map<ShownNotification, (title: string | undefined) => void>();
  private readonly showed = new vscode.EventEmitter<ShownNotification>();
  readonly onDidShow = this.showed.event;

  /** The notifications shown so far (the last 200). */
  get shown(): readonly ShownNotification[] {
    return this.record;
  }

  show(severity: Severity, message: string, ...actions: NotificationAction[]): void {
    const shown: ShownNotification = { severity, message, actions: actions.map((a) => a.title) };
    this.record.push(shown);
    if (this.record.length > 200) this.record.splice(0, this.record.length - 200);
    const titles = actions.map((a) => a.title);
    const call =
      severity === 'error'
        ? vscode.window.showErrorMessage(message, ...titles)
        : severity === 'warning'
          ? vscode.window.showWarningMessage(message, ...titles)
          : vscode.window.showInformationMessage(message, ...titles);
    const fromTest = new Promise<string | undefined>((resolve) => this.waiting.set(shown, resolve));
    this.showed.fire(shown);
    void Promise.race([call, fromTest]).then((title) => {
      this.waiting.delete(shown);
      const action = actions.find((a) => a.title === title);
      if (action) void Promise.resolve(action.run());
    });
  }

  /** As if the user clicked `title` on a shown notification (for tests: the toast's own button is in the workbench). */
  choose(shown: ShownNotification, title: string): boolean {
    const resolve = this.waiting.get(shown);
    if (!resolve) return false;
    resolve(title);
    return true;
  }

  dispose(): void {
    for (const resolve of this.waiting.values()) resolve(undefined);
    this.waiting.clear();
    this.showed.dispose();
  }
}
