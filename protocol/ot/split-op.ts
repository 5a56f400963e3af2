/**
 * An op too large for one frame, as two ops that do the same one after the other: the first within
 * a byte budget, the rest after it. A client sends a large paste (or the deletion of a large
 * selection, whose op carries the deleted text) piece by piece, each an ordinary edit, rather than
 * as one frame that the relay would refuse (`WS_MAX_FRAME_BYTES`), and the relay's cost per frame
 * stays bounded. Sizes are the op's JSON in UTF-8, as it travels.
 */
import { appendDelete, appendInsert, appendRetain, normalize, type TextOp } from './text-op';

/** The least budget `splitOp` takes: room for the brackets, a retain and one escaped character. */
export const MIN_SPLIT_BYTES = 64;

/** JSON bytes of a retain at most (a safe integer has 16 digits), with its comma. */
const RETAIN_BYTES = 17;

/** JSON bytes of the code unit at `i` of `s` in UTF-8, and how many units it takes (a pair: 2). */
function unitCost(s: string, i: number): [bytes: number, units: number] {
  const u = s.charCodeAt(i);
  if (u === 0x22 || u === 0x5c) return [2, 1]; // \" \\
  if (u < 0x20) return u === 0x08 || u === 0x09 || u === 0x0a || u === 0x0c || u === 0x0d ? [2, 1] : [6, 1];
  if (u < 0x80) return [1, 1];
  if (u < 0x800) return [2, 1];
  if (u >= 0xd800 && u <= 0xdbff) {
    const v = s.charCodeAt(i + 1);
    return v >= 0xdc00 && v <= 0xdfff ? [4, 2] : [6, 1]; // a lone surrogate is escaped: \udxxx
  }
  return u >= 0xdc00 && u <= 0xdfff ? [6, 1] : [3, 1];
}

/** How many code units of `s` fit in `budget` JSON bytes (never half a surrogate pair), and their bytes. */
function fittingUnits(s: string, budget: number): [units: number, bytes: number] {
  let bytes = 0;
  let i = 0;
  while (i < s.length) {
    const [b, n] = unitCost(s, i);
    if (bytes + b > budget) break;
    bytes += b;
    i += n;
  }
  return [i, bytes];
}

/** How many code units of `text` its JSON string takes within `budget` bytes (quotes not counted; never half a surrogate pair). */
export function jsonPrefixUnits(text: string, budget: number): number {
  return fittingUnits(text, budget)[0];
}

/** An upper bound of `op`'s JSON bytes, without looking at its characters (6 bytes a code unit at most). */
function boundBytes(op: TextOp): number {
  let bytes = 2;
  for (const c of op) bytes += typeof c === 'number' ? RETAIN_BYTES : typeof c === 'string' ? 3 + 6 * c.length : 9 + 6 * c.d.length;
  return bytes;
}

/**
 * `[head, rest]` such that applying `head` then `rest` is applying `op`, with `head` at most
 * `maxBytes` of JSON and changing something; `undefined` if `op` fits as it is. Both are in normal
 * form. `maxBytes` must be at least `MIN_SPLIT_BYTES`. Costs the head's characters, not the op's:
 * a large op is split again and again at the cost of its pieces.
 */
export function splitOp(op: TextOp, maxBytes: number): [head: TextOp, rest: TextOp] | undefined {
  if (!(maxBytes >= MIN_SPLIT_BYTES)) throw new RangeError(`an op is split into pieces of at least ${MIN_SPLIT_BYTES} bytes`);
  const norm = normalize(op);
  if (boundBytes(norm) <= maxBytes) return undefined;
  const head: TextOp = [];
  // Room for the brackets; each component after the first costs a comma too.
  let room = maxBytes - 2;
  /** Code units of the text after `head` up to where it stops: the retain that opens `rest`. */
  let done = 0;
  let i = 0;
  for (; i < norm.length; i++) {
    const c = norm[i]!;
    const comma = head.length > 0 ? 1 : 0;
    if (typeof c === 'number') {
      if (room < comma + RETAIN_BYTES + 9) break; // no room left for a change after it
      appendRetain(head, c);
      room -= comma + String(c).length;
      done += c;
      continue;
    }
    const text = typeof c === 'string' ? c : c.d;
    const wrapper = (typeof c === 'string' ? 2 : 8) + comma; // "" or {"d":""}
    const fitting = fittingUnits(text, room - wrapper);
    let units = fitting[0];
    if (units === text.length) {
      if (typeof c === 'string') appendInsert(head, c);
      else appendDelete(head, c.d);
      room -= wrapper + fitting[1];
      if (typeof c === 'string') done += c.length;
      continue;
    }
    const alone = 2 + RETAIN_BYTES + 1 + wrapper + 6 * text.length <= maxBytes;
    if (units > 0 && !(alone && head.some((h) => typeof h !== 'number'))) {
      // The component is cut (one that fits a piece of its own is not, if the head changes
      // something already): its first units end the head, the others open the rest. At a line
      // break if there is one in the last quarter: another participant's insert at the cut,
      // which may land between the pieces (see the README), then goes between two lines.
      const lineEnd = text.lastIndexOf('\n', units - 1);
      if (lineEnd >= 0 && lineEnd + 1 >= units * 0.75) units = lineEnd + 1;
      const first = text.slice(0, units);
      if (typeof c === 'string') {
        appendInsert(head, first);
        done += units;
      } else appendDelete(head, first);
      const rest: TextOp = [];
      if (done > 0) appendRetain(rest, done);
      if (typeof c === 'string') appendInsert(rest, text.slice(units));
      else appendDelete(rest, text.slice(units));
      for (let j = i + 1; j < norm.length; j++) rest.push(norm[j]!);
      return [head, normalize(rest)];
    }
    break;
  }
  if (i === norm.length) return undefined; // it fitted after all (the bound is not exact)
  const rest: TextOp = [];
  if (done > 0) appendRetain(rest, done);
  for (let j = i; j < norm.length; j++) {
    const c = norm[j]!;
    if (typeof c === 'number') appendRetain(rest, c);
    else rest.push(c);
  }
  // A head of retains alone would change nothing: cut inside the next component instead (the
  // budget always leaves room for one character of it, see MIN_SPLIT_BYTES).
  if (!head.some((c) => typeof c !== 'number')) throw new Error(`splitOp: no room for a change in ${maxBytes} bytes`);
  while (typeof head[head.length - 1] === 'number') head.pop();
  return [head, normalize(rest)];
}
