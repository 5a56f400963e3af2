/**
 * Applying an op to a document, and checking an op against one. Both refuse a malformed op with
 * an `OtError` before anything is built, so a caller never sees half an edit.
 */
import { OtError } from './ot-error';
import { loneSurrogateAt, scanOp, splitsPair, type TextOp } from './text-op';

function excerpt(s: string): string {
  return JSON.stringify(s.length > 20 ? `${s.slice(0, 20)}...` : s);
}

function checkBoundary(doc: string, pos: number, i: number): void {
  if (splitsPair(doc, pos)) {
    throw new OtError('OP_SPLITS_SURROGATE', `op component ${i} ends at ${pos}, between the two halves of a surrogate pair`, i);
  }
}

function checkInsert(text: string, i: number): void {
  const at = loneSurrogateAt(text);
  if (at >= 0) {
    throw new OtError('OP_SPLITS_SURROGATE', `op component ${i} inserts a lone surrogate at ${at} (half of a pair)`, i);
  }
}

function checkDeleteKeys(c: object, i: number): void {
  for (const key in c) {
    if (key !== 'd') throw new OtError('OP_INVALID', `op component ${i}: a delete has only the key "d", not "${key}"`, i);
  }
}

/** Walks `op` over `doc`, validating every component; builds the result only when asked. */
function walk(doc: string, op: TextOp, build: boolean): string {
  scanOp(op);
  let out = '';
  let pos = 0;
  for (let i = 0; i < op.length; i++) {
    const c = op[i]!;
    if (typeof c === 'number') {
      const end = pos + c;
      if (end > doc.length) {
        throw new OtError('OP_OUT_OF_RANGE', `op component ${i} retains to ${end}, past the end of the document (${doc.length})`, i);
      }
      checkBoundary(doc, end, i);
      if (build) out += doc.slice(pos, end);
      pos = end;
    } else if (typeof c === 'string') {
      checkInsert(c, i);
      if (build) out += c;
    } else {
      checkDeleteKeys(c, i);
      const d = c.d;
      const end = pos + d.length;
      if (end > doc.length) {
        throw new OtError('OP_OUT_OF_RANGE', `op component ${i} deletes to ${end}, past the end of the document (${doc.length})`, i);
      }
      if (!doc.startsWith(d, pos)) {
        throw new OtError(
          'OP_DELETE_MISMATCH',
          `op component ${i} deletes ${excerpt(d)} at ${pos}, but the document has ${excerpt(doc.slice(pos, end))}`,
          i,
        );
      }
      checkBoundary(doc, end, i);
      pos = end;
    }
  }
  if (!build) return '';
  return pos === 0 ? out + doc : out + doc.slice(pos);
}

/**
 * The document after `op`. Throws `OtError`: `OP_INVALID` (shape), `OP_OUT_OF_RANGE` (a retain or
 * delete past the end), `OP_DELETE_MISMATCH` (a delete whose text is not the document's) or
 * `OP_SPLITS_SURROGATE` (a component boundary inside a surrogate pair, or an insert with a lone
 * surrogate). A well-formed UTF-16 document therefore stays well-formed.
 */
export function apply(doc: string, op: TextOp): string {
  if (typeof doc !== 'string') throw new OtError('OP_INVALID', 'the document must be a string');
  return walk(doc, op, true);
}

/**
 * Throws an `OtError` unless `op` is well-formed: valid components, and inserted text without
 * lone surrogates. With `doc`, also checks that it applies to `doc` exactly as `apply` would
 * (in range, deleted text matching, no split surrogate pair), without building the result.
 * Non-normalized ops are accepted (`normalize` them if you keep them).
 */
export function checkOp(op: unknown, doc?: string): asserts op is TextOp {
  if (doc !== undefined) {
    if (typeof doc !== 'string') throw new OtError('OP_INVALID', 'the document must be a string');
    walk(doc, op as TextOp, false);
    return;
  }
  scanOp(op);
  const ops = op as TextOp;
  for (let i = 0; i < ops.length; i++) {
    const c = ops[i]!;
    if (typeof c === 'string') checkInsert(c, i);
    else if (typeof c === 'object') checkDeleteKeys(c, i);
  }
}
