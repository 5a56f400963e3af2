/**
 * Text ops: their shape, the normal form, and the small helpers built on them. Positions and
 * lengths are UTF-16 code units (as in VS Code and `String#length`).
 *
 * Normal form (what every function here returns, so equal edits compare equal):
 * - no empty component (the schema already forbids zero retains and empty strings);
 * - adjacent components of the same kind merged (`[1, 2]` -> `[3]`, `['a', 'b']` -> `['ab']`);
 * - no trailing retain (the rest of the document is retained implicitly);
 * - between two retains, inserts come before deletes: a run of inserts and deletes becomes one
 *   insert followed by one delete (`[{d: 'x'}, 'y']` -> `['y', {d: 'x'}]`). Both orders give the
 *   same text, but `transform` places an insert by where it stands in the op, so one order is
 *   chosen; inserting first keeps a replacement's text at the start of the text it replaces.
 */
import type { TextOp } from '../schemas/collaboration';
import { OtError } from './ot-error';

export type { TextOp };
export type TextOpComponent = TextOp[number];

const NONE = 0;
const RETAIN = 1;
const INSERT = 2;
const DELETE = 3;

function describe(c: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(c) ?? String(c);
  } catch {
    text = String(c);
  }
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

function invalid(i: number, c: unknown, why: string): OtError {
  return new OtError('OP_INVALID', `op component ${i} (${describe(c)}): ${why}`, i);
}

/**
 * Checks the shape of every component (throws `OP_INVALID`) and tells whether `op` is already in
 * normal form. One pass, no allocation.
 */
export function scanOp(op: unknown): boolean {
  if (!Array.isArray(op)) throw new OtError('OP_INVALID', `op must be an array of components, got ${describe(op)}`);
  let normal = true;
  let prev = NONE;
  for (let i = 0; i < op.length; i++) {
    const c: unknown = op[i];
    let kind: number;
    if (typeof c === 'number') {
      if (!(Number.isSafeInteger(c) && c > 0)) throw invalid(i, c, 'a retain must be a positive integer');
      kind = RETAIN;
    } else if (typeof c === 'string') {
      if (c.length === 0) throw invalid(i, c, 'an insert must not be empty');
      kind = INSERT;
    } else if (typeof c === 'object' && c !== null && !Array.isArray(c)) {
      const d = (c as { d?: unknown }).d;
      if (typeof d !== 'string') throw invalid(i, c, 'a delete must carry the deleted text as a string: {d: "text"}');
      if (d.length === 0) throw invalid(i, c, 'a delete must not be empty');
      kind = DELETE;
    } else {
      throw invalid(i, c, 'not a retain (number), insert (string) or delete ({d: "text"})');
    }
    if (kind === prev || (kind === INSERT && prev === DELETE)) normal = false;
    prev = kind;
  }
  return normal && prev !== RETAIN;
}

/** Index of the first lone surrogate (half of a pair) in `s`, or -1 if `s` is well-formed UTF-16. */
export function loneSurrogateAt(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const u = s.charCodeAt(i);
    if (u < 0xd800 || u > 0xdfff) continue;
    if (u <= 0xdbff) {
      const v = s.charCodeAt(i + 1);
      if (v >= 0xdc00 && v <= 0xdfff) {
        i++;
        continue;
      }
    }
    return i;
  }
  return -1;
}

/** True if a boundary at `pos` falls between the two halves of a surrogate pair of `doc`. */
export function splitsPair(doc: string, pos: number): boolean {
  if (pos <= 0 || pos >= doc.length) return false;
  const hi = doc.charCodeAt(pos - 1);
  const lo = doc.charCodeAt(pos);
  return hi >= 0xd800 && hi <= 0xdbff && lo >= 0xdc00 && lo <= 0xdfff;
}

// Appenders: build an op in normal form component by component. Component objects are never
// mutated (a merge makes a new `{d}`), so input components can be shared with the output.

export function appendRetain(op: TextOp, n: number): void {
  if (n <= 0) return;
  const last = op.length - 1;
  if (last >= 0) {
    const c = op[last];
    if (typeof c === 'number') {
      op[last] = c + n;
      return;
    }
  }
  op.push(n);
}

export function appendInsert(op: TextOp, s: string): void {
  if (s.length === 0) return;
  const last = op.length - 1; // (never read index -1: a miss there is a slow property lookup)
  if (last >= 0) {
    const c = op[last]!;
    if (typeof c === 'string') {
      op[last] = c + s;
      return;
    }
    if (typeof c === 'object') {
      // After a delete: the insert goes before it (normal form), merged with an insert there.
      const prev = last > 0 ? op[last - 1] : undefined;
      if (typeof prev === 'string') {
        op[last - 1] = prev + s;
      } else {
        op[last] = s;
        op.push(c);
      }
      return;
    }
  }
  op.push(s);
}

export function appendDelete(op: TextOp, d: string): void {
  if (d.length === 0) return;
  const last = op.length - 1;
  if (last >= 0) {
    const c = op[last];
    if (typeof c === 'object') {
      op[last] = { d: c.d + d };
      return;
    }
  }
  op.push({ d });
}

/** Drops a trailing retain (there is at most one when the op was built with the appenders). */
export function trim(op: TextOp): TextOp {
  if (op.length > 0 && typeof op[op.length - 1] === 'number') op.pop();
  return op;
}

/** The op in normal form (a new array unless it already is). Throws `OP_INVALID` on a bad shape. */
export function normalize(op: TextOp): TextOp {
  if (scanOp(op)) return op;
  const out: TextOp = [];
  for (const c of op) {
    if (typeof c === 'number') appendRetain(out, c);
    else if (typeof c === 'string') appendInsert(out, c);
    else appendDelete(out, c.d);
  }
  return trim(out);
}

/** True if `op` is in normal form. Throws `OP_INVALID` on a bad shape. */
export function isNormalized(op: TextOp): boolean {
  return scanOp(op);
}

/** The op that undoes `op`: inserts become deletes of the same text and deletes become inserts. */
export function invert(op: TextOp): TextOp {
  scanOp(op);
  const out: TextOp = [];
  for (const c of op) {
    if (typeof c === 'number') appendRetain(out, c);
    else if (typeof c === 'string') appendDelete(out, c);
    else appendInsert(out, c.d);
  }
  return trim(out);
}

/** True if the op changes nothing (it only retains, or is empty). */
export function isNoop(op: TextOp): boolean {
  scanOp(op);
  for (const c of op) if (typeof c !== 'number') return false;
  return true;
}

/**
 * The length the op spans in the document it applies to (retains + deletes): the smallest
 * document it fits. Anything past it is retained implicitly.
 */
export function length(op: TextOp): number {
  scanOp(op);
  let n = 0;
  for (const c of op) {
    if (typeof c === 'number') n += c;
    else if (typeof c === 'object') n += c.d.length;
  }
  return n;
}

/**
 * The length of the document after applying `op` to a document of `baseLength` code units
 * (by default `length(op)`, the span the op covers).
 */
export function newLength(op: TextOp, baseLength: number = length(op)): number {
  scanOp(op);
  let n = baseLength;
  let spanned = 0;
  for (const c of op) {
    if (typeof c === 'number') {
      spanned += c;
    } else if (typeof c === 'string') {
      n += c.length;
    } else {
      spanned += c.d.length;
      n -= c.d.length;
    }
  }
  if (!(Number.isSafeInteger(baseLength) && baseLength >= spanned)) {
    throw new OtError('OP_OUT_OF_RANGE', `the op spans ${spanned} code units, more than the document's ${baseLength}`);
  }
  return n;
}

/**
 * The op for one editor change: at `offset`, `deletedText` is replaced by `insertedText`
 * (VS Code's `rangeOffset`, the replaced text and `text`, in wire form).
 */
export function fromChange(offset: number, deletedText: string, insertedText: string): TextOp {
  if (!(Number.isSafeInteger(offset) && offset >= 0)) {
    throw new OtError('OP_INVALID', `a change offset must be a non-negative integer, got ${describe(offset)}`);
  }
  if (typeof deletedText !== 'string' || typeof insertedText !== 'string') {
    throw new OtError('OP_INVALID', 'a change carries its deleted and inserted text as strings');
  }
  const op: TextOp = [];
  if (deletedText.length === 0 && insertedText.length === 0) return op;
  appendRetain(op, offset);
  appendInsert(op, insertedText);
  appendDelete(op, deletedText);
  return op;
}
