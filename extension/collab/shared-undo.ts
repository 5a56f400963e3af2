import * as vscode from 'vscode';
import type { DocumentBinding } from './document-binding';

/** True while the active editor shows a shared document: the undo keys then go to its binding. */
export const SHARED_EDITOR_CONTEXT = 'tandem.sharedEditor';

/**
 * Undo and redo in a shared editor undo the user's own edits only. VS Code's own undo stack holds
 * the remote edits as well (they arrive as WorkspaceEdits), so Ctrl+Z there would take back
 * someone else's typing. The keybindings (package.json) route Ctrl+Z / Ctrl+Shift+Z / Ctrl+Y to
 * `tandem.undo` / `tandem.redo` while `tandem.sharedEditor` is set; with nothing of ours to undo,
 * nothing happens (never a fall back to the editor's undo).
 */
export class SharedUndo implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private shown: boolean | undefined;

  constructor(
    private readonly bindingOf: (document: vscode.TextDocument) => DocumentBinding | undefined,
    /** Fires when documents get or lose their binding. */
    onDidChangeBindings: vscode.Event<void>,
  ) {
    this.disposables.push(
      vscode.window.onDidChangeActiveTextEditor(() => this.refresh()),
      onDidChangeBindings(() => this.refresh()),
    );
    this.refresh();
  }

  /** `tandem.undo` / `tandem.redo`: true if one of the user's own edits was undone or redone. */
  async run(kind: 'undo' | 'redo'): Promise<boolean> {
    const document = vscode.window.activeTextEditor?.document;
    const binding = document && this.bindingOf(document);
    // Not shared (any more): the editor's own command, as if we were not there.
    if (!binding) {
      await vscode.commands.executeCommand(kind);
      return false;
    }
    return kind === 'undo' ? binding.undo() : binding.redo();
  }

  private refresh(): void {
    const document = vscode.window.activeTextEditor?.document;
    const shared = document !== undefined && this.bindingOf(document) !== undefined;
    if (shared === this.shown) return;
    this.shown = shared;
    void vscode.commands.executeCommand('setContext', SHARED_EDITOR_CONTEXT, shared);
  }

  dispose(): void {
    for (const disposable of this.disposables) disposable.dispose();
  }
}
