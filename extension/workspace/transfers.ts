/**
 * The host's side of chunked transfers, in memory: snapshots being pulled piece by piece (a file's
 * content, a long listing) and uploads being pushed. Keyed by requester and request id, so that a
 * connection only ever reaches its own. Bounded in time (an abandoned transfer goes after
 * `ttlMs` without activity) and in bytes (a new one is refused while the total is over budget).
 */
import type { WorkspaceResult } from '../../protocol';

interface Snapshot {
  kind: 'snapshot';
  pieces: WorkspaceResult[];
  served: Set<number>;
  bytes: number;
  touchedAt: number;
}

interface Upload {
  kind: 'upload';
  pieces: string[];
  /** Known once the piece with `done` arrived. */
  total: number | undefined;
  bytes: number;
  touchedAt: number;
}

export class TransferBudgetError extends Error {
  override name = 'TransferBudgetError';
}

export class Transfers {
  private readonly entries = new Map<string, Snapshot | Upload>();
  private bytes = 0;
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly ttlMs = 60_000,
    /** All transfers together. */
    private readonly maxBytes = 256 * 1024 * 1024,
    /** One upload. */
    private readonly maxUploadBytes = Number.POSITIVE_INFINITY,
  ) {
    this.sweeper = setInterval(() => this.sweep(), Math.max(1000, ttlMs / 4));
    this.sweeper.unref?.();
  }

  static key(requester: string, requestId: string): string {
    return `${requester}\u0000${requestId}`;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Keeps pieces 1.. of a snapshot whose piece 0 was just sent. Throws when over budget. */
  keepSnapshot(key: string, pieces: WorkspaceResult[], bytes: number): void {
    this.drop(key);
    if (this.bytes + bytes > this.maxBytes) throw new TransferBudgetError('the host is busy with other transfers; try again shortly');
    this.entries.set(key, { kind: 'snapshot', pieces, served: new Set([0]), bytes, touchedAt: Date.now() });
    this.bytes += bytes;
  }

  /** Piece `index` of a kept snapshot; the snapshot goes once every piece was served. */
  piece(key: string, index: number): WorkspaceResult | undefined {
    const entry = this.entries.get(key);
    if (entry?.kind !== 'snapshot') return undefined;
    const piece = entry.pieces[index];
    if (piece === undefined) return undefined;
    entry.touchedAt = Date.now();
    entry.served.add(index);
    if (entry.served.size === entry.pieces.length) this.drop(key);
    return piece;
  }

  /**
   * Adds a piece of an upload; returns every piece, in order, once the upload is complete (and
   * forgets it). Pieces may arrive in any order. Throws when over budget (the upload is dropped).
   */
  addPiece(key: string, index: number, content: string, done: boolean): string[] | undefined {
    let entry = this.entries.get(key);
    if (entry?.kind !== 'upload') {
      this.drop(key);
      entry = { kind: 'upload', pieces: [], total: undefined, bytes: 0, touchedAt: Date.now() };
      this.entries.set(key, entry);
    }
    const bytes = content.length;
    if (entry.bytes + bytes > this.maxUploadBytes || this.bytes + bytes > this.maxBytes) {
      this.drop(key);
      throw new TransferBudgetError(
        entry.bytes + bytes > this.maxUploadBytes
          ? 'the file is too large to share'
          : 'the host is busy with other transfers; try again shortly',
      );
    }
    if (entry.pieces[index] === undefined) {
      entry.bytes += bytes;
      this.bytes += bytes;
    } else {
      entry.bytes += bytes - entry.pieces[index]!.length;
      this.bytes += bytes - entry.pieces[index]!.length;
    }
    entry.pieces[index] = content;
    entry.touchedAt = Date.now();
    if (done) entry.total = index + 1;
    if (entry.total === undefined) return undefined;
    for (let i = 0; i < entry.total; i++) if (entry.pieces[i] === undefined) return undefined;
    const pieces = entry.pieces.slice(0, entry.total);
    this.drop(key);
    return pieces;
  }

  drop(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.bytes -= entry.bytes;
  }

  /** Drops everything of one requester (it left). */
  dropRequester(requester: string): void {
    for (const key of [...this.entries.keys()]) if (key.startsWith(`${requester}\u0000`)) this.drop(key);
  }

  private sweep(): void {
    const deadline = Date.now() - this.ttlMs;
    for (const [key, entry] of [...this.entries]) if (entry.touchedAt < deadline) this.drop(key);
  }

  dispose(): void {
    clearInterval(this.sweeper);
    this.entries.clear();
    this.bytes = 0;
  }
}
