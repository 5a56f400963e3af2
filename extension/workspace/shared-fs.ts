/**
 * The host's folder as a file system on the guest's side: `tandem://<session-id>/<path>`. Every
 * call is a request to the host through the relay (`WorkspaceClient`); the host's errors become
 * the same `vscode.FileSystemError`s, and its change events `onDidChangeFile`. A viewer's copy is
 * read-only (registered so, and every stat says so); the relay refuses a viewer's writes anyway.
 */
import * as vscode from 'vscode';
import type { FileKind, WorkspaceChangedPayload } from '../../protocol';
import { isWirePath } from './wire-path';
import { WorkspaceError, type WorkspaceClient } from './workspace-client';

export const SHARED_SCHEME = 'tandem';

/** The folder of a session as the guest sees it. */
export function sharedFolderUri(sessionId: string): vscode.Uri {
  return vscode.Uri.from({ scheme: SHARED_SCHEME, authority: sessionId, path: '/' });
}

/** Stats kept per path (the last few hundred files VS Code looked at): see `statsRead`. */
const MAX_KEPT_STATS = 500;

export class SharedFileSystem implements vscode.FileSystemProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this.changed.event;
  private readonly hostChanged = new vscode.EventEmitter<string>();
  /** A file bound to a shared document changed on the host's disk (the host, or someone, saved it). */
  readonly onDidChangeOnHost = this.hostChanged.event;
  /**
   * Files bound to a shared document (OT) in this window: their content is the shared text, never
   * the disk's. VS Code must not reload them from the host's disk (a reload racing the shared edits
   * could double or drop text) nor refuse to save them because the host saved first ("the file is
   * newer"): for them, change events are not passed on and `stat` keeps answering what VS Code
   * got when it read the file.
   */
  private bound = new Map<string, vscode.FileStat | undefined>();
  /** The last stat answered per path. */
  private readonly lastStats = new Map<string, vscode.FileStat>();
  /** The stat VS Code got with the content it read (its stat comes just before its read). */
  private readonly statsRead = new Map<string, vscode.FileStat>();
  /** What the host's disk holds for a path, as last compared: a write of exactly these bytes is not sent. */
  private readonly onHost = new Map<string, Uint8Array>();

  constructor(
    readonly sessionId: string,
    /**
     * The session's requests, once it is connected (a session being resumed gets a moment);
     * undefined when there is no connection to ask through.
     */
    private readonly requests: () => Promise<WorkspaceClient | undefined>,
    /** A viewer's copy: every write refused here (and by the relay). Changes when the host changes the guest's role. */
    public readonly: boolean,
  ) {}

  /** The host's change events, as this file system's. */
  fireChanges(payload: WorkspaceChangedPayload): void {
    const types = {
      created: vscode.FileChangeType.Created,
      changed: vscode.FileChangeType.Changed,
      deleted: vscode.FileChangeType.Deleted,
    } as const;
    const events: vscode.FileChangeEvent[] = [];
    for (const change of payload.changes) {
      if (change.type === 'changed' && this.bound.has(change.path)) this.hostChanged.fire(change.path);
      else events.push({ type: types[change.type], uri: this.uriOf(change.path) });
    }
    if (events.length > 0) this.changed.fire(events);
  }

  /** The wire paths bound to shared documents in this window now (see `bound`). */
  setBound(paths: Iterable<string>): void {
    const before = this.bound;
    this.bound = new Map();
    for (const path of paths) this.bound.set(path, before.has(path) ? before.get(path) : this.statsRead.get(path));
  }

  /** Reads a file from the host, without VS Code (whose stat of it stays as it is). */
  readOnHost(path: string): Promise<Uint8Array> {
    return this.run(this.uriOf(path), (client, wirePath) => client.readFile(wirePath));
  }

  /** The host's disk holds `bytes` at `path`: saving exactly these there sends nothing (the editor just turns clean). */
  heldOnHost(path: string, bytes: Uint8Array): void {
    this.onHost.set(path, bytes);
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
    const path = this.pathOf(uri);
    const read = this.bound.get(path);
    if (read) return read;
    const answer = await this.statOnHost(uri);
    remember(this.lastStats, path, answer);
    return answer;
  }

  private async statOnHost(uri: vscode.Uri): Promise<vscode.FileStat> {
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

  async readFile(uri: vscode.Uri): Promise<Uint8Array> {
    const path = this.pathOf(uri);
    const content = await this.run(uri, (client, wirePath) => client.readFile(wirePath));
    // VS Code asks for the stat alongside the read (not always before it): the one answered by now.
    const stat = this.lastStats.get(path);
    if (stat && !this.bound.has(path)) remember(this.statsRead, path, stat);
    return content;
  }

  async writeFile(uri: vscode.Uri, content: Uint8Array, options: { readonly create: boolean; readonly overwrite: boolean }): Promise<void> {
    this.assertWritable(uri);
    const path = this.pathOf(uri);
    const held = this.onHost.get(path);
    this.onHost.delete(path);
    if (held && sameBytes(held, content)) return;
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
    this.hostChanged.dispose();
  }
}

/** Keeps `value` as the newest entry of a bounded map (the oldest goes). */
function remember<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > MAX_KEPT_STATS) map.delete(map.keys().next().value!);
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
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
