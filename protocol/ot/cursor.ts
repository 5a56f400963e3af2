/**
 * Moving cursors and selections through an op: where a position in the document before the op
 * is in the document after it.
 */
import type { z } from 'zod';
import type { Selection } from '../schemas/collaboration';
import { scanOp, type TextOp } from './text-op';

export type SelectionRange = z.infer<typeof Selection>;

/**
 * The position `cursor` (a UTF-16 offset in the document `op` applies to, at most its length)
 * has after `op`; always within [0, new length].
 * - Text inserted before the cursor pushes it right by the insert's length; text deleted before
 *   it pulls it left; a cursor inside a deleted range ends where the range was (after any text
 *   the op inserts there).
 * - Text inserted exactly at the cursor: someone else's (`isOwnOp` false, the default) stays
 *   after the cursor, so a peer typing where you stand does not move you; your own
 *   (`isOwnOp` true) goes before it, so the cursor follows what you type.
 * An insert is placed where the op's run of inserts and deletes starts (its normal form), so
 * `[{d: 'x'}, 'y']` and `['y', {d: 'x'}]` move cursors alike.
 */
export function transformCursor(cursor: number, op: TextOp, isOwnOp = false): number {
  if (!(Number.isSafeInteger(cursor) && cursor >= 0)) throw new RangeError(`a cursor must be a non-negative integer, not ${cursor}`);
  scanOp(op);
  let pos = 0; // in the original document
  let runStart = 0; // where the current run of inserts and deletes starts
  let shift = 0;
  for (let i = 0; i < op.length; i++) {
    const c = op[i]!;
    if (typeof c === 'number') {
      pos += c;
      runStart = pos;
      if (pos > cursor || (pos === cursor && !isOwnOp)) break;
    } else if (typeof c === 'string') {
      if (runStart < cursor || (isOwnOp && runStart === cursor)) shift += c.length;
    } else {
      const end = pos + c.d.length;
      if (pos < cursor) shift -= (end < cursor ? end : cursor) - pos;
      pos = end;
    }
  }
  return cursor + shift;
}

/** `transformCursor` for both ends of a selection. */
export function transformSelection(selection: SelectionRange, op: TextOp, isOwnOp = false): SelectionRange {
  const anchor = transformCursor(selection.anchor, op, isOwnOp);
  const head = selection.head === selection.anchor ? anchor : transformCursor(selection.head, op, isOwnOp);
  return { anchor, head };
}
