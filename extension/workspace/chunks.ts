/**
 * Sizing and pacing of chunked transfers: every frame must fit the relay's inbound frame limit
 * (`limits.max_frame_bytes` of `connect`), and a connection must stay under its message rate
 * (`limits.max_messages_per_second`), or the relay drops frames.
 */

/** Room for the envelope and the other fields of a frame, besides its path and content. */
const FRAME_OVERHEAD_BYTES = 1024;
/** Never smaller, whatever the relay says: below this, nothing would fit anyway. */
const MIN_PIECE_BYTES = 3;

/** Largest file that is shared; bigger ones are refused (a guest editor has little use for them). */
export const MAX_SHARED_FILE_BYTES = 64 * 1024 * 1024;

/** How many raw bytes one frame carries (base64 grows them by 4/3), given the path it names. */
export function pieceBytes(maxFrameBytes: number, path = ''): number {
  // JSON may escape a character of the path to 6 bytes (`\u0001`); names are short, so be generous.
  const room = maxFrameBytes - FRAME_OVERHEAD_BYTES - 6 * path.length;
  return Math.max(MIN_PIECE_BYTES, Math.floor(room / 4) * 3);
}

/** The bytes in base64 pieces of `size` raw bytes each (one empty piece for no bytes). */
export function toBase64Pieces(bytes: Uint8Array, size: number): string[] {
  if (bytes.length === 0) return [''];
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const pieces: string[] = [];
  for (let at = 0; at < buffer.length; at += size) pieces.push(buffer.subarray(at, at + size).toString('base64'));
  return pieces;
}

/** Base64 pieces back into one byte array. */
export function fromBase64Pieces(pieces: readonly string[]): Uint8Array {
  return new Uint8Array(Buffer.concat(pieces.map((piece) => Buffer.from(piece, 'base64'))));
}

/** Splits items into runs whose JSON stays under `maxBytes` each (at least one run, maybe empty). */
export function splitByJsonSize<T>(items: readonly T[], maxBytes: number): T[][] {
  const runs: T[][] = [[]];
  let size = 2;
  for (const item of items) {
    const itemSize = Buffer.byteLength(JSON.stringify(item)) + 1;
    const run = runs[runs.length - 1]!;
    if (run.length > 0 && size + itemSize > maxBytes) {
      runs.push([item]);
      size = 2 + itemSize;
    } else {
      run.push(item);
      size += itemSize;
    }
  }
  return runs;
}

/**
 * A token bucket for outgoing frames: `take()` resolves when one more frame may go. Shared by
 * all transfers of a connection, at a fraction of the relay's limit so that edits and cursors
 * still get through during a large transfer.
 */
export class Pacer {
  private tokens: number;
  private refilledAt = Date.now();
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly perSecond: () => number) {
    this.tokens = Math.max(1, perSecond());
  }

  take(): Promise<void> {
    // Chained, so that waiters are served in order and each one sees the previous one's take.
    const turn = this.queue.then(() => this.wait());
    this.queue = turn;
    return turn;
  }

  private async wait(): Promise<void> {
    const rate = Math.max(1, this.perSecond());
    for (;;) {
      const now = Date.now();
      this.tokens = Math.min(rate, this.tokens + ((now - this.refilledAt) * rate) / 1000);
      this.refilledAt = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.ceil(((1 - this.tokens) * 1000) / rate)));
    }
  }
}
