/**
 * The host's file changes as `workspace.changed` events: a file system watcher on the shared
 * folder, excluded paths left out (never mentioned, not even as deleted), a burst gathered into
 * few frames, each within the frame limit.
 */
import * as vscode from 'vscode';
import type { FileChangeType, WorkspaceChangedPayload } from '../../protocol';
import { splitByJsonSize } from './chunks';
import { Exclusions } from './exclusions';
import type { HostFolder } from './host-folder';
import { relativeWirePath } from './wire-path';

/** Changes arriving within this window go out together. */
const GATHER_MS = 100;
const MAX_CHANGES_PER_FRAME = 1000;

type Change = WorkspaceChangedPayload['changes'][number];

export class ChangeFeed implements vscode.Disposable {
  private readonly watcher: vscode.FileSystemWatcher;
  private readonly listeners: vscode.Disposable[];
  private readonly pending = new Map<string, FileChangeType>();
  private timer: NodeJS.Timeout | undefined;
  private disposed = false;

  constructor(
    private readonly folder: HostFolder,
    private readonly send: (payload: WorkspaceChangedPayload) => void,
    private readonly maxFrameBytes: () => number,
  ) {
    this.watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(folder.root, '**'));
    this.listeners = [
      this.watcher.onDidCreate((uri) => this.record(uri, 'created')),
      this.watcher.onDidChange((uri) => this.record(uri, 'changed')),
      this.watcher.onDidDelete((uri) => this.record(uri, 'deleted')),
    ];
  }

  private record(uri: vscode.Uri, type: FileChangeType): void {
    const path = relativeWirePath(this.folder.root.path, uri.path);
    if (path === undefined || path === '') return;
    if (Exclusions.isRulesFile(path)) this.folder.rulesChanged();
    // A file created then deleted within the window is still reported: a guest may have seen it.
    this.pending.set(path, type);
    this.timer ??= setTimeout(() => void this.flush(), GATHER_MS);
  }

  private async flush(): Promise<void> {
    this.timer = undefined;
    const batch = [...this.pending];
    this.pending.clear();
    const changes: Change[] = [];
    for (const [path, type] of batch) {
      // The kind of a deleted path is unknown: left out if either rule would exclude it.
      if (!(await this.folder.mayBeExcluded(path)) && (type === 'deleted' || (await this.folder.staysInside(path))))
        changes.push({ type, path });
    }
    if (this.disposed || changes.length === 0) return;
    for (const run of splitByJsonSize(changes, this.maxFrameBytes() - 1024)) {
      for (let at = 0; at < run.length; at += MAX_CHANGES_PER_FRAME) this.send({ changes: run.slice(at, at + MAX_CHANGES_PER_FRAME) });
    }
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const listener of this.listeners) listener.dispose();
    this.watcher.dispose();
  }
}
