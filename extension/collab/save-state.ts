/**
 * A guest's editor of a shared file turns clean when the file is saved, whoever saved it: a save by
 * anyone is the save of the host's file. When the host's disk changes under a file this guest has
 * bound (its `workspace.changed`), and it now holds exactly what the guest's editor shows, the
 * editor is saved, which sends nothing (`SharedFileSystem.heldOnHost`): it only turns clean. If the
 * host saved another text (edits still on their way to one side), the editor stays dirty, as the
 * host's does once those edits reach it.
 *
 * Not when saving here would run save participants (format on save, trimming whitespace, code
 * actions): they would edit the shared text on every save of anyone. Such an editor stays dirty.
 */
import * as vscode from 'vscode';
import type { Log } from '../log';
import { sameBytes, SHARED_SCHEME, type SharedFileSystem } from '../workspace/shared-fs';
import type { SessionDocuments } from './session-documents';

/** What this needs of the guest's shared folder (`WorkspaceSharing`). */
export interface GuestFiles {
  readonly guestFileSystem: SharedFileSystem | undefined;
  readonly onDidChangeBoundFile: vscode.Event<{ fs: SharedFileSystem; path: string }>;
}

export class SaveStateFollower implements vscode.Disposable {
  private readonly subscriptions: vscode.Disposable[];
  /** Paths being followed now, and whether another change came meanwhile. */
  private readonly running = new Map<string, { again: boolean }>();

  constructor(
    private readonly documents: SessionDocuments,
    private readonly files: GuestFiles,
    private readonly log: Log,
  ) {
    this.subscriptions = [
      documents.onDidChangeBindings(() => this.files.guestFileSystem?.setBound(this.guestBound())),
      files.onDidChangeBoundFile(({ fs, path }) => void this.follow(fs, path)),
    ];
  }

  private guestBound(): string[] {
    return this.documents.boundIds().filter((id) => this.documents.binding(id)?.document.uri.scheme === SHARED_SCHEME);
  }

  private async follow(fs: SharedFileSystem, path: string): Promise<void> {
    const run = this.running.get(path);
    if (run) {
      run.again = true;
      return;
    }
    const state = { again: true };
    this.running.set(path, state);
    try {
      while (state.again) {
        state.again = false;
        await this.cleanIfSaved(fs, path);
      }
    } catch (error) {
      this.log.warn(`${path}: could not compare with the host's saved file (${error instanceof Error ? error.message : String(error)})`);
    } finally {
      this.running.delete(path);
    }
  }

  private async cleanIfSaved(fs: SharedFileSystem, path: string): Promise<void> {
    const binding = this.documents.binding(path);
    const document = binding?.document;
    if (!binding || !document || document.uri.scheme !== SHARED_SCHEME || !document.isDirty || runsSaveParticipants(document)) return;
    await binding.whenIdle();
    const onHost = await fs.readOnHost(path);
    if (document.isClosed || !document.isDirty || !binding.idle) return;
    const shown = new TextEncoder().encode(document.getText());
    if (!sameBytes(onHost, shown)) return;
    fs.heldOnHost(path, onHost);
    if (await document.save()) this.log.info(`${path}: saved on the host; this editor is clean again`);
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
  }
}

/** Whether saving `document` here would change it first (format on save and the like). */
function runsSaveParticipants(document: vscode.TextDocument): boolean {
  const editor = vscode.workspace.getConfiguration('editor', document);
  const files = vscode.workspace.getConfiguration('files', document);
  const actions = editor.get<unknown>('codeActionsOnSave');
  const hasActions = Array.isArray(actions)
    ? actions.length > 0
    : typeof actions === 'object' &&
      actions !== null &&
      Object.values(actions).some((v) => v === true || v === 'explicit' || v === 'always');
  return (
    editor.get<boolean>('formatOnSave') === true ||
    files.get<boolean>('trimTrailingWhitespace') === true ||
    files.get<boolean>('insertFinalNewline') === true ||
    files.get<boolean>('trimFinalNewlines') === true ||
    hasActions
  );
}
