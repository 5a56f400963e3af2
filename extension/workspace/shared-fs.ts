/**
 * The host's folder as a file system on the guest's side: `tandem://<session-id>/<path>`. Every
 * call is a request to the host through the relay (`WorkspaceClient`); the host's errors become
 * the same `vscode.FileSystemError`s, and its change events `onDidChangeFile`. A viewer's copy is
 * read-only (registered so, and every stat says so); the relay refuses a viewer's writes anyway.
 */
import * as vscode from 'vscode';
import type { FileKind, WorkspaceChangedPayload } from '../../protocol/schemas/workspace';
import { isWirePath } from './wire-path';
import { WorkspaceError, type WorkspaceClient } from './workspace-client';

export const SHARED_SCHEME = 'tandem';

/** The folder of a session as the guest sees it. */
export function sharedFolderUri(sessionId: string): vscode.Uri {
  return vscode.Uri.from({ scheme: SHARED_SCHEME, authority: sessionId, path: '/' });
}

export class SharedFileSystem implements vscode.FileSystemProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this.changed.event;

  constructor(
    readonly sessionId: string,
    /**
     * The session's requests, once it is connected (a session being resumed gets a moment);
     * undefined when there is no connection to ask through.
     */
    private readonly requests: () => Promise<WorkspaceClient | undefined>,
    readonly readonly: boolean,
  ) {}

  /** The host's change events, as this file system's. */
  fireChanges(payload: WorkspaceChangedPayload): void {
    const types = { created: vscode.FileChangeType.Created, changed: vscode.FileChangeType.Changed, deleted: vscode.FileChangeType.Deleted } as const;
    this.changed.fire(payload.changes.map((change) => ({ type: types[change.type], uri: this.uriOf(change.path) })));
  }

  /** Everything may have changed (after a reconnect, events may have been missed). */
  fireRefresh(): void {
    this.changed.fire([{ type: vscode.FileChangeType.Changed, uri: sharedFolderUri(this.sessionId) }]);
  }

  uriOf(path: string): vscode.Uri {
    return vscode.Uri.from({ scheme: SHARED_SCHEME, authority: this.sessionId, path: `/${path}` });
  }

  watch(): vscode.Disposable {
    // The host reports every change in its folder; there is nothing to start per watch.
    return new vscode.Disposable(() => undefined);
  }

  async stat(uri: vscode.Uri): Promise<vscode.FileStat> {
    const stat = await this.run(uri, (client, path) => client.stat(path));
    return {
      type: fileType(stat.type, stat.symlink),
      size: stat.size,
      ctime: stat.ctime,
      mtime: stat.mtime,
      ...((this.readonly || stat.readonly) && { permissions: vscode.FilePermission.Readonly }),
    };
  }

  async readDirectory(uri: vscode.Uri): Promise<Array<[string, vscode.FileType]>> {
    const entries = await this.run(uri, (client, path) => client.readDirectory(path));
    return entries.map((entry) => [entry.name, fileType(entry.type, entry.symlink)]);
  }

  readFile(uri: vscode.Uri): Promise<Uint8Array> {
    return this.run(uri, (client, path) => client.readFile(path));
  }

  async writeFile(uri: vscode.Uri, content: Uint8Array, options: { readonly create: boolean; readonly overwrite: boolean }): Promise<void> {
    this.assertWritable(uri);
    await this.run(uri, (client, path) => client.writeFile(path, content, { create: options.create, overwrite: options.overwrite }));
  }

  async createDirectory(uri: vscode.Uri): Promise<void> {
    this.assertWritable(uri);
    await this.run(uri, (client, path) => client.createDirectory(path));
  }

  async delete(uri: vscode.Uri, options: { readonly recursive: boolean }): Promise<void> {
    this.assertWritable(uri);
    await this.run(uri, (client, path) => client.delete(path, options.recursive));
  }

  async rename(oldUri: vscode.Uri, newUri: vscode.Uri, options: { readonly overwrite: boolean }): Promise<void> {
    this.assertWritable(oldUri);
    const to = this.pathOf(newUri);
    await this.run(oldUri, (client, path) => client.rename(path, to, options.overwrite));
  }

  private assertWritable(uri: vscode.Uri): void {
    if (this.readonly) throw vscode.FileSystemError.NoPermissions(uri);
  }

  /** The wire path of one of this session's URIs. */
  private pathOf(uri: vscode.Uri): string {
    if (uri.scheme !== SHARED_SCHEME || uri.authority !== this.sessionId) {
      throw vscode.FileSystemError.Unavailable(`${uri.toString(true)} belongs to another Tandem session`);
    }
    const path = uri.path.replace(/^\/+/, '').replace(/\/+$/, '');
    if (!isWirePath(path)) throw vscode.FileSystemError.FileNotFound(uri);
    return path;
  }

  private async run<T>(uri: vscode.Uri, operation: (client: WorkspaceClient, path: string) => Promise<T>): Promise<T> {
    const path = this.pathOf(uri);
    const client = await this.requests();
    if (!client) throw vscode.FileSystemError.Unavailable(`the Tandem session ${this.sessionId} is not connected`);
    try {
      return await operation(client, path);
    } catch (error) {
      throw error instanceof WorkspaceError ? toFileSystemError(error, uri) : error;
    }
  }

  dispose(): void {
    this.changed.dispose();
  }
}

function fileType(kind: FileKind, symlink: boolean | undefined): vscode.FileType {
  const type = kind === 'directory' ? vscode.FileType.Directory : kind === 'file' ? vscode.FileType.File : vscode.FileType.Unknown;
  return symlink ? type | vscode.FileType.SymbolicLink : type;
}

/** The host's error as VS Code's: the standard message for the usual kinds, the host's reason for the others. */
function toFileSystemError(error: WorkspaceError, uri: vscode.Uri): vscode.FileSystemError {
  switch (error.code) {
    case 'FileNotFound':
      return vscode.FileSystemError.FileNotFound(uri);
    case 'FileExists':
      return vscode.FileSystemError.FileExists(uri);
    case 'FileNotADirectory':
      return vscode.FileSystemError.FileNotADirectory(uri);
    case 'FileIsADirectory':
      return vscode.FileSystemError.FileIsADirectory(uri);
    case 'NoPermissions':
      return vscode.FileSystemError.NoPermissions(error.message);
    case 'Unavailable':
      return vscode.FileSystemError.Unavailable(`Tandem: ${error.message}`);
  }
}
