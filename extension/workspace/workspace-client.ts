/**
 * The guest's side of the shared folder, on a `RelayClient`: one method per file operation, each
 * a `workspace.request` answered by the host's `workspace.response`, with a timeout. Contents
 * larger than a frame are pulled (reads) or pushed (writes) piece by piece, a few pieces in
 * flight, paced under the relay's message rate. Failures are `WorkspaceError`s with a
 * `vscode.FileSystemError` kind. No `vscode` import: it runs in plain Node too.
 */
import { randomBytes } from 'node:crypto';
import type { Disposable, RelayClient } from '../../protocol/client';
import type { ErrorCode, FileErrorCode, FileKind, SearchMatch, SearchQuery, WorkspaceRequestIn, WorkspaceResult } from '../../protocol';
import { MAX_SHARED_FILE_BYTES, Pacer, fromBase64Pieces, pieceBytes, toBase64Pieces } from './chunks';

export class WorkspaceError extends Error {
  override name = 'WorkspaceError';
  constructor(
    readonly code: FileErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export type StatResult = Extract<WorkspaceResult, { kind: 'stat' }>;
export interface DirectoryEntry {
  name: string;
  type: FileKind;
  symlink?: boolean;
}

export interface WorkspaceClientOptions {
  /** How long one request (one piece) may wait for its answer, connecting included. Default 20 s. */
  timeoutMs?: number;
  /** Pieces of one transfer in flight at once. Default 4. */
  window?: number;
  /**
   * Requests awaiting their answer at once, all transfers together. Default 8: with pieces of up
   * to a frame each (64 KiB), what the relay buffers towards this connection stays well under its
   * slow-consumer limit (WS_MAX_BUFFERED_BYTES, 1 MiB by default) even on a slow link.
   */
  maxInFlight?: number;
}

interface Pending {
  resolve(result: WorkspaceResult): void;
  reject(error: WorkspaceError): void;
  timer: ReturnType<typeof setTimeout>;
}

const DEFAULT_LIMITS = { max_frame_bytes: 64 * 1024, max_messages_per_second: 200 };

/** The relay's refusals of a request, as the kind of file error they amount to. */
const RELAY_ERRORS: Partial<Record<ErrorCode, FileErrorCode>> = { FORBIDDEN_ROLE: 'NoPermissions', HOST_NOT_CONNECTED: 'Unavailable' };

type RequestBody = WorkspaceRequestIn extends infer R ? (R extends WorkspaceRequestIn ? Omit<R, 'request_id'> : never) : never;

export class WorkspaceClient implements Disposable {
  private readonly pending = new Map<string, Pending>();
  private readonly subscriptions: Disposable[];
  private readonly idPrefix = `ws-${randomBytes(6).toString('hex')}`;
  private counter = 0;
  private readonly timeoutMs: number;
  private readonly window: number;
  private readonly maxInFlight: number;
  private inFlight = 0;
  private readonly slotWaiters: Array<() => void> = [];
  /** Half the relay's rate: edits, cursors and chat keep flowing during a large transfer. */
  private readonly pacer: Pacer;

  constructor(
    private readonly client: RelayClient,
    options: WorkspaceClientOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 20_000;
    this.window = options.window ?? 4;
    this.maxInFlight = options.maxInFlight ?? 8;
    this.pacer = new Pacer(() => Math.floor(this.limits.max_messages_per_second / 2));
    this.subscriptions = [
      client.on('workspace.response', (response) => {
        const pending = this.take(response.request_id, response.chunk ?? 0);
        if (!pending) return;
        if (response.ok) pending.resolve(response.result);
        else pending.reject(new WorkspaceError(response.error.code, response.error.message));
      }),
      client.on('error', (error) => {
        if (error.request_id === undefined) return;
        const code = RELAY_ERRORS[error.code] ?? 'Unavailable';
        const message =
          error.code === 'HOST_NOT_CONNECTED'
            ? 'the host is not connected'
            : `the relay refused the request (${error.code}): ${error.message}`;
        for (const key of [...this.pending.keys()]) {
          if (key.startsWith(`${error.request_id}#`))
            this.take(error.request_id, Number(key.slice(key.lastIndexOf('#') + 1)))?.reject(new WorkspaceError(code, message));
        }
      }),
      // An answer on its way when the connection dropped will never come.
      client.onStateChange((state) => {
        if (state !== 'open') this.failAll(new WorkspaceError('Unavailable', 'the connection to the relay was lost'));
      }),
    ];
  }

  private get limits() {
    return this.client.connection?.limits ?? DEFAULT_LIMITS;
  }

  async stat(path: string): Promise<StatResult> {
    return expect(await this.call({ op: 'stat', path }), 'stat');
  }

  async readDirectory(path: string): Promise<DirectoryEntry[]> {
    const pieces = await this.pull<Extract<WorkspaceResult, { kind: 'directory' }>>(
      (chunk, id) => this.call({ op: 'readDirectory', path, ...(chunk > 0 && { chunk }) }, id),
      'directory',
    );
    return pieces.flatMap((piece) => piece.entries);
  }

  async readFile(path: string): Promise<Uint8Array> {
    const pieces = await this.pull<Extract<WorkspaceResult, { kind: 'content' }>>(
      (chunk, id) => this.call({ op: 'readFile', path, ...(chunk > 0 && { chunk }) }, id),
      'content',
    );
    const size = pieces[0]!.size;
    if (size > MAX_SHARED_FILE_BYTES) throw new WorkspaceError('Unavailable', `${path}: too large to share`);
    const bytes = fromBase64Pieces(pieces.map((piece) => piece.content));
    if (bytes.length !== size) throw new WorkspaceError('Unavailable', `${path}: changed while it was being read; read it again`);
    return bytes;
  }

  /** Go to Shared File: the shared files below `path`, as the host lists them (capped: `incomplete`). */
  async findFiles(path = ''): Promise<{ paths: string[]; incomplete: boolean }> {
    const pieces = await this.pull<Extract<WorkspaceResult, { kind: 'files' }>>(
      (chunk, id) => this.call({ op: 'findFiles', path, ...(chunk > 0 && { chunk }) }, id),
      'files',
    );
    return { paths: pieces.flatMap((piece) => piece.paths), incomplete: pieces[0]!.incomplete };
  }

  /** Find in Shared Folder: the host's matches, piece by piece as they arrive (`onPiece`), then all of them. */
  async search(
    path: string,
    query: SearchQuery,
    onPiece?: (matches: SearchMatch[]) => void,
  ): Promise<{ matches: SearchMatch[]; incomplete: boolean }> {
    const pieces = await this.pull<Extract<WorkspaceResult, { kind: 'matches' }>>(async (chunk, id) => {
      const result = await this.call({ op: 'search', path, query, ...(chunk > 0 && { chunk }) }, id);
      if (result.kind === 'matches') onPiece?.(result.matches);
      return result;
    }, 'matches');
    return { matches: pieces.flatMap((piece) => piece.matches), incomplete: pieces[0]!.incomplete };
  }

  /** Pushes the content in pieces; the host writes the file once it has the last one. */
  async writeFile(path: string, content: Uint8Array, options: { create: boolean; overwrite: boolean }): Promise<void> {
    if (content.length > MAX_SHARED_FILE_BYTES) throw new WorkspaceError('Unavailable', `${path}: too large to share`);
    const pieces = toBase64Pieces(content, pieceBytes(this.limits.max_frame_bytes, path));
    const id = this.newId();
    const send = (chunk: number) =>
      this.call({ op: 'writeFile', path, content: pieces[chunk]!, chunk, done: chunk === pieces.length - 1, ...options }, id);
    // The first piece alone: the host checks the write may happen before the rest travels.
    await send(0);
    if (pieces.length === 1) return;
    // The last piece only after every other one arrived: its answer is the write's.
    await this.inWindow(1, pieces.length - 1, send);
    await send(pieces.length - 1);
  }

  async createDirectory(path: string): Promise<void> {
    expect(await this.call({ op: 'createDirectory', path }), 'done');
  }

  async delete(path: string, recursive: boolean): Promise<void> {
    expect(await this.call({ op: 'delete', path, recursive }), 'done');
  }

  async rename(path: string, to: string, overwrite: boolean): Promise<void> {
    expect(await this.call({ op: 'rename', path, to, overwrite }), 'done');
  }

  /** Piece 0, then the others it announces, a window at a time. */
  private async pull<T extends Extract<WorkspaceResult, { chunks: number }>>(
    get: (chunk: number, id: string) => Promise<WorkspaceResult>,
    kind: T['kind'],
  ): Promise<T[]> {
    const id = this.newId();
    const first = expect(await get(0, id), kind) as T;
    const pieces = [first];
    await this.inWindow(1, first.chunks, async (chunk) => {
      const piece = expect(await get(chunk, id), kind) as T;
      if (piece.chunks !== first.chunks) throw new WorkspaceError('Unavailable', 'the host answered with pieces of another transfer');
      pieces[chunk] = piece;
    });
    return pieces;
  }

  /** Runs `task` for `from` (included) to `to` (excluded), `window` at a time, stopping at the first failure. */
  private async inWindow(from: number, to: number, task: (index: number) => Promise<unknown>): Promise<void> {
    let next = from;
    let failed = false;
    const worker = async () => {
      while (!failed && next < to) {
        const index = next++;
        try {
          await task(index);
        } catch (error) {
          failed = true;
          throw error;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.window, Math.max(0, to - from)) }, worker));
  }

  /** One request frame and its answer, once a slot is free. */
  private async call(body: RequestBody, id = this.newId()): Promise<WorkspaceResult> {
    if (this.inFlight >= this.maxInFlight) await new Promise<void>((resolve) => this.slotWaiters.push(resolve));
    this.inFlight++;
    try {
      return await this.send(body, id);
    } finally {
      this.inFlight--;
      this.slotWaiters.shift()?.();
    }
  }

  private async send(body: RequestBody, id: string): Promise<WorkspaceResult> {
    await this.whenOpen();
    await this.pacer.take();
    const chunk = 'chunk' in body && body.chunk !== undefined ? body.chunk : 0;
    const key = `${id}#${chunk}`;
    return new Promise<WorkspaceResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(key);
        reject(new WorkspaceError('Unavailable', `the host did not answer within ${Math.round(this.timeoutMs / 1000)} s`));
      }, this.timeoutMs);
      this.pending.set(key, { resolve, reject, timer });
      if (!this.client.send('workspace.request', { ...body, request_id: id } as WorkspaceRequestIn)) {
        this.take(id, chunk)?.reject(new WorkspaceError('Unavailable', 'not connected to the relay'));
      }
    });
  }

  private take(id: string, chunk: number): Pending | undefined {
    const key = `${id}#${chunk}`;
    const pending = this.pending.get(key);
    if (!pending) return undefined;
    this.pending.delete(key);
    clearTimeout(pending.timer);
    return pending;
  }

  /** Resolves once the client is connected; a session that is reconnecting gets a moment. */
  private whenOpen(): Promise<void> {
    if (this.client.state === 'open') return Promise.resolve();
    if (this.client.state === 'closed') return Promise.reject(new WorkspaceError('Unavailable', 'not connected to the relay'));
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        subscription.dispose();
        reject(new WorkspaceError('Unavailable', 'not connected to the relay'));
      }, this.timeoutMs);
      const subscription = this.client.onStateChange((state) => {
        if (state !== 'open' && state !== 'closed') return;
        clearTimeout(timer);
        subscription.dispose();
        if (state === 'open') resolve();
        else reject(new WorkspaceError('Unavailable', 'not connected to the relay'));
      });
    });
  }

  private newId(): string {
    return `${this.idPrefix}-${(++this.counter).toString(36)}`;
  }

  private failAll(error: WorkspaceError): void {
    for (const pending of this.pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    this.pending.clear();
  }

  dispose(): void {
    for (const subscription of this.subscriptions.splice(0)) subscription.dispose();
    this.failAll(new WorkspaceError('Unavailable', 'the session is over'));
  }
}

function expect<K extends WorkspaceResult['kind']>(result: WorkspaceResult, kind: K): Extract<WorkspaceResult, { kind: K }> {
  if (result.kind !== kind) throw new WorkspaceError('Unavailable', `the host answered with ${result.kind} where ${kind} was expected`);
  return result as Extract<WorkspaceResult, { kind: K }>;
}
