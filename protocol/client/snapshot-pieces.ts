import type { ResyncPayload, SnapshotPayload } from '../schemas/collaboration';
import { utf8Length } from './open-frames';

/**
 * Snapshots and resyncs carry a whole document, which may be far larger than a frame or than
 * the relay's outbound buffer (WS_MAX_BUFFERED_BYTES): the relay sends such a text in pieces,
 * each but the last with `more: true`, and the client joins them. Both halves of that format
 * live here: the relay's `textPieces` and the client's `PieceAssembler`.
 */
export type PiecedPayload = SnapshotPayload | ResyncPayload;

/** Room left in a frame for the envelope and the payload's other fields. */
const ENVELOPE_ALLOWANCE_BYTES = 1024;
/** The most bytes JSON gives one UTF-16 code unit (a control character or lone surrogate: `\u001f`). */
const MAX_JSON_BYTES_PER_UNIT = 6;

/** Code units of text per piece such that a piece's frame stays within `maxFrameBytes`, whatever the text. */
export function pieceChars(maxFrameBytes: number): number {
  return Math.max(64, Math.floor((maxFrameBytes - ENVELOPE_ALLOWANCE_BYTES) / MAX_JSON_BYTES_PER_UNIT));
}

/** Whether `text` fits in one frame of `maxFrameBytes` (as JSON, with room for the rest). */
function fitsOneFrame(text: string, maxFrameBytes: number): boolean {
  const room = maxFrameBytes - ENVELOPE_ALLOWANCE_BYTES;
  if (text.length * MAX_JSON_BYTES_PER_UNIT <= room) return true;
  if (text.length > room) return false;
  return utf8Length(JSON.stringify(text)) <= room; // at most a frame's worth to measure
}

/**
 * `payload` as the frames that carry it within `maxFrameBytes`: itself if it fits in one, else
 * pieces of at most `pieceChars(maxFrameBytes)` code units, each with `more: true` and the fields
 * a piece needs (`document`, `rev`, a resync's `reason`), then the last piece with everything
 * else. A surrogate pair is never split.
 */
export function* textPieces<P extends PiecedPayload>(payload: P, maxFrameBytes: number): Generator<P> {
  const { text } = payload;
  if (fitsOneFrame(text, maxFrameBytes)) {
    yield payload;
    return;
  }
  const chars = pieceChars(maxFrameBytes);
  let start = 0;
  while (text.length - start > chars) {
    let end = start + chars;
    const unit = text.charCodeAt(end - 1);
    if (unit >= 0xd800 && unit <= 0xdbff) end--; // keep the pair together
    const piece = { document: payload.document, rev: payload.rev, text: text.slice(start, end), more: true as const };
    yield ('reason' in payload ? { ...piece, reason: payload.reason } : piece) as P;
    start = end;
  }
  yield start === 0 ? payload : { ...payload, text: text.slice(start) };
}

/**
 * Joins the pieces of snapshots and resyncs, per event and document: `accept` returns the whole
 * payload on its last piece (at once for one not sent in pieces) and undefined for the others.
 * A piece of another revision than the ones before it starts over (the relay sends one text at a
 * time per connection, so that only follows a lost connection); `clear` when the connection ends.
 */
export class PieceAssembler {
  private readonly pending = new Map<string, { rev: number; parts: string[] }>();

  accept<P extends PiecedPayload>(eventType: 'collaboration.snapshot' | 'collaboration.resync', payload: P): P | undefined {
    const key = `${eventType}\u0000${payload.document}`;
    let entry = this.pending.get(key);
    if (entry && entry.rev !== payload.rev) entry = undefined;
    if (payload.more) {
      if (!entry) this.pending.set(key, (entry = { rev: payload.rev, parts: [] }));
      entry.parts.push(payload.text);
      return undefined;
    }
    this.pending.delete(key);
    if (!entry) return payload;
    entry.parts.push(payload.text);
    return { ...payload, text: entry.parts.join('') };
  }

  clear(): void {
    this.pending.clear();
  }
}
