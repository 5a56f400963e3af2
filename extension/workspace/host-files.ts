/**
 * The host's file service: answers the guests' `workspace.request`s from the shared folder through
 * `vscode.workspace.fs` (so any folder VS Code can open works, local or not), with the exclusion
 * and containment rules of `HostFolder`. Large contents go in pieces (see protocol/schemas/workspace).
 */
import * as vscode from 'vscode';
import type { RelayClient } from '../../protocol/client';
import {
  type FileKind,
  READ_ONLY_WORKSPACE_OPS,
  type Role,
  WORKSPACE_SEARCH_LIMITS,
  type WorkspaceOp,
  type WorkspaceRequestOut,
  type WorkspaceResult,
} from '../../protocol';
import { MAX_SHARED_FILE_BYTES, Pacer, fromBase64Pieces, pieceBytes, splitByJsonSize, toBase64Pieces } from './chunks';
import { FileFault, toFileError } from './file-fault';
import type { HostFolder } from './host-folder';
import { TransferBudgetError, Transfers } from './transfers';
import { sharedFiles } from './shared-files';
import { searchSharedFiles } from '../search/host-search';
import { joinWire, parentOf } from './wire-path';

/** A guest's request the host served; for features that follow what guests open and save. */
export interface ServedRequest {
  op: WorkspaceOp;
  path: string;
  /** `rename`'s target. */
  to?: string;
  /** The asking connection, and its user. */
  requester: string;
  userId: string;
}

export interface HostFileServiceOptions {
  /** The shared folder; undefined when the host has none open (every request is refused). */
  folder: HostFolder | undefined;
  client: RelayClient;
  /** A connection's role, when known: a viewer's write is refused here too (the relay refuses it first). */
  roleOf?: (connectionId: string) => Role | undefined;
  onError?: (message: string, error: unknown) => void;
}

const DEFAULT_MAX_FRAME_BYTES = 64 * 1024;
/** A recursive delete or rename first looks for hidden files inside; this many entries at most. */
const MAX_SCAN_ENTRIES = 50_000;

export class HostFileService implements vscode.Disposable {
  private readonly folder: HostFolder | undefined;
  private readonly transfers = new Transfers(60_000, 256 * 1024 * 1024, Math.ceil((MAX_SHARED_FILE_BYTES * 4) / 3) + 4);
  private readonly subscriptions: Array<{ dispose(): void }> = [];
  /**
   * Half the relay's message rate for answers: several guests pulling large files at once must
   * not push the host over the limit (the relay would drop answers), and its own edits and
   * cursors keep flowing. Guests wait for each answer, so a slower pace slows them down.
   */
  private readonly pacer: Pacer;
  private readonly served = new vscode.EventEmitter<ServedRequest>();
  /** After a successful request: a guest read, listed, wrote... `path`. */
  readonly onDidServe = this.served.event;

  constructor(private readonly options: HostFileServiceOptions) {
    this.folder = options.folder;
    this.pacer = new Pacer(() => Math.floor((options.client.connection?.limits.max_messages_per_second ?? 200) / 2));
    this.subscriptions.push(
      options.client.on('workspace.request', (request, frame) => void this.handle(request, frame.user_id)),
      options.client.on('session.left', (participant) => this.transfers.dropRequester(participant.connection_id)),
    );
  }

  private get maxFrameBytes(): number {
    return this.options.client.connection?.limits.max_frame_bytes ?? DEFAULT_MAX_FRAME_BYTES;
  }

  private async handle(request: WorkspaceRequestOut, userId: string): Promise<void> {
    const chunk = 'chunk' in request ? request.chunk : undefined;
    const head = { request_id: request.request_id, requester: request.requester, ...(chunk !== undefined && { chunk }) };
    try {
      const result = await this.answer(request);
      await this.pacer.take();
      this.options.client.send('workspace.response', { ...head, ok: true, result });
      if (request.op === 'writeFile' ? request.done : !chunk) {
        this.served.fire({
          op: request.op,
          path: request.path,
          ...(request.op === 'rename' && { to: request.to }),
          requester: request.requester,
          userId,
        });
      }
    } catch (error) {
      if (!(error instanceof FileFault) && !(error instanceof vscode.FileSystemError) && !(error instanceof TransferBudgetError)) {
        this.options.onError?.(`shared folder: ${request.op} failed`, error);
      }
      const fileError =
        error instanceof TransferBudgetError ? { code: 'Unavailable' as const, message: error.message } : toFileError(error, request.path);
      await this.pacer.take();
      this.options.client.send('workspace.response', { ...head, ok: false, error: fileError });
    }
  }

  private answer(request: WorkspaceRequestOut): Promise<WorkspaceResult> {
    const folder = this.folder;
    if (!folder) return Promise.reject(new FileFault('Unavailable', 'the host has no folder open'));
    if (!READ_ONLY_WORKSPACE_OPS.includes(request.op) && this.options.roleOf?.(request.requester) === 'viewer') {
      return Promise.reject(new FileFault('NoPermissions', 'viewers cannot change the shared folder'));
    }
    const key = Transfers.key(request.requester, request.request_id);
    switch (request.op) {
      case 'stat':
        return this.stat(folder, request.path);
      case 'readDirectory':
        return request.chunk ? this.nextPiece(key, request.chunk) : this.readDirectory(folder, request.path, key);
      case 'readFile':
        return request.chunk ? this.nextPiece(key, request.chunk) : this.readFile(folder, request.path, key);
      case 'writeFile':
        return this.writeFile(folder, request, key);
      case 'createDirectory':
        return this.createDirectory(folder, request.path);
      case 'delete':
        return this.delete(folder, request.path, request.recursive);
      case 'rename':
        return this.rename(folder, request.path, request.to, request.overwrite);
      case 'findFiles':
        return request.chunk ? this.nextPiece(key, request.chunk) : this.findFiles(folder, request.path, key);
      case 'search':
        return request.chunk ? this.nextPiece(key, request.chunk) : this.search(folder, request, key);
    }
  }

  /**
   * The stat of a path a guest may read; "not found" for one it may not, whatever it is (only
   * once its kind is known can a folder-only rule like `build/` apply).
   */
  private async sharedStat(folder: HostFolder, path: string): Promise<vscode.FileStat> {
    if (!(await folder.staysInside(path))) throw FileFault.notFound(path);
    const stat = await vscode.workspace.fs.stat(folder.uriOf(path, 'read'));
    if (await folder.isExcluded(path, kindOf(stat.type) === 'directory')) throw FileFault.notFound(path);
    return stat;
  }

  private async stat(folder: HostFolder, path: string): Promise<WorkspaceResult> {
    const stat = await this.sharedStat(folder, path);
    const type = kindOf(stat.type);
    return {
      kind: 'stat',
      type,
      ...((stat.type & vscode.FileType.SymbolicLink) !== 0 && { symlink: true }),
      size: type === 'directory' ? 0 : stat.size,
      ctime: Math.max(0, stat.ctime),
      mtime: Math.max(0, stat.mtime),
      ...(((stat.permissions !== undefined && (stat.permissions & vscode.FilePermission.Readonly) !== 0) || folder.isReadOnly(path)) && {
        readonly: true,
      }),
      ...(path === '' && { name: folder.name.slice(0, 255) }),
    };
  }

  private async readDirectory(folder: HostFolder, path: string, key: string): Promise<WorkspaceResult> {
    const stat = await this.sharedStat(folder, path);
    if (kindOf(stat.type) !== 'directory') throw new FileFault('FileNotADirectory', `${path}: not a folder`);
    const entries = (await folder.sharedEntries(path)).map(({ name, type, symlink }) => ({
      name,
      type: kindOf(type),
      ...(symlink && { symlink: true }),
    }));
    const runs = splitByJsonSize(entries, this.maxFrameBytes - 2048);
    const pieces: WorkspaceResult[] = runs.map((run) => ({ kind: 'directory', entries: run, chunks: runs.length }));
    return this.firstPiece(key, pieces, Buffer.byteLength(JSON.stringify(entries)));
  }

  /** Go to Shared File's list: every shared file below `path`, capped. */
  private async findFiles(folder: HostFolder, path: string, key: string): Promise<WorkspaceResult> {
    await this.sharedStat(folder, path);
    const { paths, incomplete } = await sharedFiles(folder, path, WORKSPACE_SEARCH_LIMITS.files);
    const runs = splitByJsonSize(paths, this.maxFrameBytes - 2048);
    const pieces: WorkspaceResult[] = runs.map((run) => ({ kind: 'files', paths: run, chunks: runs.length, incomplete }));
    return this.firstPiece(key, pieces, Buffer.byteLength(JSON.stringify(paths)));
  }

  /** Find in Shared Folder: ripgrep over the shared files below `path` only, capped. */
  private async search(folder: HostFolder, request: Extract<WorkspaceRequestOut, { op: 'search' }>, key: string): Promise<WorkspaceResult> {
    await this.sharedStat(folder, request.path);
    const { matches, incomplete } = await searchSharedFiles(folder, request.path, request.query);
    const runs = splitByJsonSize(matches, this.maxFrameBytes - 2048);
    const pieces: WorkspaceResult[] = runs.map((run) => ({ kind: 'matches', matches: run, chunks: runs.length, incomplete }));
    return this.firstPiece(key, pieces, Buffer.byteLength(JSON.stringify(matches)));
  }

  private async readFile(folder: HostFolder, path: string, key: string): Promise<WorkspaceResult> {
    const stat = await this.sharedStat(folder, path);
    const uri = folder.uriOf(path, 'read');
    if (kindOf(stat.type) === 'directory') throw new FileFault('FileIsADirectory', `${path}: is a folder`);
    if (stat.size > MAX_SHARED_FILE_BYTES)
      throw new FileFault('Unavailable', `${path}: larger than ${MAX_SHARED_FILE_BYTES / 1024 / 1024} MiB, not shared`);
    const bytes = await vscode.workspace.fs.readFile(uri);
    const contents = toBase64Pieces(bytes, pieceBytes(this.maxFrameBytes));
    const pieces: WorkspaceResult[] = contents.map((content) => ({
      kind: 'content',
      content,
      size: bytes.length,
      chunks: contents.length,
    }));
    return this.firstPiece(key, pieces, bytes.length);
  }

  /** Piece 0 now; the others are kept for the requester to pull. */
  private firstPiece(key: string, pieces: WorkspaceResult[], bytes: number): WorkspaceResult {
    if (pieces.length > 1) this.transfers.keepSnapshot(key, pieces, bytes);
    return pieces[0]!;
  }

  private async nextPiece(key: string, chunk: number): Promise<WorkspaceResult> {
    const piece = this.transfers.piece(key, chunk);
    if (!piece) throw new FileFault('Unavailable', 'this transfer is over or expired; start again');
    return piece;
  }

  private async writeFile(
    folder: HostFolder,
    request: Extract<WorkspaceRequestOut, { op: 'writeFile' }>,
    key: string,
  ): Promise<WorkspaceResult> {
    const { path, create, overwrite } = request;
    // Checked before the first piece is kept (fail early), and again before writing.
    if (request.chunk === 0) await this.assertWritable(folder, path, create, overwrite);
    const pieces = this.transfers.addPiece(key, request.chunk, request.content, request.done);
    if (!pieces) return { kind: 'done' };
    if (request.chunk !== 0) await this.assertWritable(folder, path, create, overwrite);
    const bytes = fromBase64Pieces(pieces);
    if (bytes.length > MAX_SHARED_FILE_BYTES)
      throw new FileFault('Unavailable', `${path}: larger than ${MAX_SHARED_FILE_BYTES / 1024 / 1024} MiB, not shared`);
    const uri = folder.uriOf(path, 'write');
    if (!(await saveOpenDocumentHolding(uri, bytes))) await vscode.workspace.fs.writeFile(uri, bytes);
    return { kind: 'done' };
  }

  /** `vscode.FileSystemProvider.writeFile`'s rules, and the sharing rules. */
  private async assertWritable(folder: HostFolder, path: string, create: boolean, overwrite: boolean): Promise<void> {
    if (path === '') throw new FileFault('FileIsADirectory', 'the shared folder is a folder');
    await folder.assertShared(path, 'file', 'write');
    const existing = await statOf(folder.uriOf(path, 'write'));
    if (existing) {
      // A folder-only rule (`build/`) applies once the kind is known.
      if (await folder.isExcluded(path, kindOf(existing.type) === 'directory')) throw FileFault.notShared(path);
      if (kindOf(existing.type) === 'directory') throw new FileFault('FileIsADirectory', `${path}: is a folder`);
      if (create && !overwrite) throw FileFault.exists(path);
      return;
    }
    if (!create) throw FileFault.notFound(path);
    await this.assertParentFolder(folder, path);
  }

  private async assertParentFolder(folder: HostFolder, path: string): Promise<void> {
    const parent = parentOf(path);
    const stat = await statOf(folder.uriOf(parent, 'write'));
    if (!stat || (await folder.isExcluded(parent, true))) throw FileFault.notFound(parent);
    if (kindOf(stat.type) !== 'directory') throw new FileFault('FileNotADirectory', `${parent}: not a folder`);
  }

  private async createDirectory(folder: HostFolder, path: string): Promise<WorkspaceResult> {
    if (path === '') throw FileFault.exists(path);
    await folder.assertShared(path, 'directory', 'write');
    const uri = folder.uriOf(path, 'write');
    if (await statOf(uri)) throw FileFault.exists(path);
    await this.assertParentFolder(folder, path);
    await vscode.workspace.fs.createDirectory(uri);
    return { kind: 'done' };
  }

  private async delete(folder: HostFolder, path: string, recursive: boolean): Promise<WorkspaceResult> {
    if (path === '') throw FileFault.notShared(path);
    await folder.assertShared(path, 'unknown', 'write');
    const uri = folder.uriOf(path, 'write');
    const stat = await statOf(uri);
    if (!stat) throw FileFault.notFound(path);
    if (kindOf(stat.type) === 'directory' && (stat.type & vscode.FileType.SymbolicLink) === 0) {
      const children = await vscode.workspace.fs.readDirectory(uri);
      if (children.length > 0 && !recursive) throw new FileFault('NoPermissions', `${path}: the folder is not empty`);
      await this.assertNothingHidden(folder, path);
    }
    await vscode.workspace.fs.delete(uri, { recursive, useTrash: false });
    return { kind: 'done' };
  }

  private async rename(folder: HostFolder, path: string, to: string, overwrite: boolean): Promise<WorkspaceResult> {
    if (path === '' || to === '') throw FileFault.notShared('');
    await folder.assertShared(path, 'unknown', 'write');
    const source = folder.uriOf(path, 'write');
    const stat = await statOf(source);
    if (!stat) throw FileFault.notFound(path);
    const kind = kindOf(stat.type);
    // The target as either kind: whatever is there (an excluded folder?) would be replaced.
    await folder.assertShared(to, 'unknown', 'write');
    if (kind === 'directory' && (stat.type & vscode.FileType.SymbolicLink) === 0) await this.assertNothingHidden(folder, path);
    const target = folder.uriOf(to, 'write');
    if (!overwrite && (await statOf(target))) throw FileFault.exists(to);
    await this.assertParentFolder(folder, to);
    await vscode.workspace.fs.rename(source, target, { overwrite });
    return { kind: 'done' };
  }

  /**
   * A guest may not delete or move what it cannot see: a folder holding an excluded file (or a
   * link out of the shared folder) is refused as a whole.
   */
  private async assertNothingHidden(folder: HostFolder, path: string): Promise<void> {
    const queue = [path];
    let seen = 0;
    while (queue.length > 0) {
      const dir = queue.pop()!;
      for (const [name, type] of await vscode.workspace.fs.readDirectory(folder.uriOf(dir, 'write'))) {
        if (++seen > MAX_SCAN_ENTRIES) throw new FileFault('NoPermissions', `${path}: too many files to check what it holds`);
        const child = joinWire(dir, name);
        const kind = kindOf(type);
        const symlink = (type & vscode.FileType.SymbolicLink) !== 0;
        let hidden: boolean;
        try {
          folder.uriOf(child, 'write');
          hidden = (await folder.isExcluded(child, kind === 'directory')) || (symlink && !(await folder.staysInside(child)));
        } catch {
          hidden = true;
        }
        if (hidden) throw new FileFault('NoPermissions', `${path}: holds files that are not shared`);
        if (folder.isReadOnly(child)) throw new FileFault('NoPermissions', `${path}: holds files that are read-only for guests`);
        if (kind === 'directory' && !symlink) queue.push(child);
      }
    }
  }

  dispose(): void {
    for (const subscription of this.subscriptions.splice(0)) subscription.dispose();
    this.transfers.dispose();
    this.served.dispose();
  }
}

function kindOf(type: vscode.FileType): FileKind {
  if ((type & vscode.FileType.Directory) !== 0) return 'directory';
  if ((type & vscode.FileType.File) !== 0) return 'file';
  return 'unknown';
}

async function statOf(uri: vscode.Uri): Promise<vscode.FileStat | undefined> {
  try {
    return await vscode.workspace.fs.stat(uri);
  } catch (error) {
    if (error instanceof vscode.FileSystemError && error.code === 'FileNotFound') return undefined;
    throw error;
  }
}

/**
 * A guest saving a shared document: the host has the same document open, with the same text
 * (they are one OT document), unsaved. Saving it here writes those bytes and leaves the host's
 * editor clean; writing the file underneath would leave it dirty and in conflict with the disk.
 * False when the host's document is not open, not dirty, or holds some other text (an edit still
 * on its way): the bytes are written as they came.
 */
async function saveOpenDocumentHolding(uri: vscode.Uri, bytes: Uint8Array): Promise<boolean> {
  const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  if (!document || !document.isDirty) return false;
  if (new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes) !== document.getText()) return false;
  return document.save();
}
