/**
 * One change event of an editor document (`contentChanges`) as one op in wire coordinates.
 *
 * What VS Code gives (1.100, checked by the extension-host suites): the changes of one event in
 * descending order, non-overlapping, touching ranges merged, each range against the text before
 * the event (which is also how the extension host applies them: one after the other, so a later
 * change at a lower offset is not shifted by an earlier one). Inserted text is already in the
 * document's EOL (`\r\n` in a CRLF document), and VS Code trims a replacement to the part that
 * differs. Anything else (an order that does not allow one pass) is taken the slow way: applied
 * one change after the other to a copy of the text, and the ops composed.
 *
 * Offsets: `rangeOffset` counts the document's line breaks; in a CRLF document each one before
 * the change start is one code unit more than on the wire, and each inside the range too.
 */
import { appendDelete, appendInsert, appendRetain, apply, compose, normalize, splitsPair, type TextOp, trim } from '../../protocol/ot';
import { toWireText } from './eol';

/** The part of `vscode.TextDocumentContentChangeEvent` used here. */
export interface ContentChange {
  readonly range: { readonly start: { readonly line: number }; readonly end: { readonly line: number } };
  readonly rangeOffset: number;
  readonly rangeLength: number;
  readonly text: string;
}

/** Where the deleted text comes from: the wire text before the event. */
export interface TextSource {
  readonly length: number;
  slice(from: number, to: number): string;
}

/** One change in wire coordinates: at `offset`, `length` code units are replaced by `text`. */
export interface WireChange {
  readonly offset: number;
  readonly length: number;
  readonly text: string;
}

export function toWireChange(change: ContentChange, crlf: boolean): WireChange {
  const { range, rangeOffset, rangeLength } = change;
  const breaks = range.end.line - range.start.line;
  return {
    offset: crlf ? rangeOffset - range.start.line : rangeOffset,
    length: crlf ? rangeLength - breaks : rangeLength,
    text: toWireText(change.text),
  };
}

/**
 * The op for one change event, against `before` (the wire text before it), in normal form.
 * `crlf`: the document's line ending before the event (an EOL switch is an event of its own).
 * Each replacement is trimmed to the part that changes, so an EOL switch, which VS Code reports
 * as a replacement of the whole text, is a no-op on the wire.
 */
export function changesToOp(changes: readonly ContentChange[], crlf: boolean, before: TextSource): TextOp {
  const wire = changes.map((c) => toWireChange(c, crlf));
  if (wire.length === 0) return [];
  let descending = true;
  for (let i = 1; i < wire.length && descending; i++) descending = wire[i]!.offset + wire[i]!.length <= wire[i - 1]!.offset;
  if (descending) return onePass(wire, before);
  // Not seen from VS Code: change by change, each against the text the previous ones left.
  let text = before.slice(0, before.length);
  let op: TextOp = [];
  for (const change of wire) {
    const step = onePass([change], { length: text.length, slice: (from, to) => text.slice(from, to) });
    text = apply(text, step);
    op = compose(op, step);
  }
  return normalize(op);
}

/** Changes in descending order, all against `before`: walked from the lowest one up. */
function onePass(changes: readonly WireChange[], before: TextSource): TextOp {
  const op: TextOp = [];
  let pos = 0;
  for (let i = changes.length - 1; i >= 0; i--) {
    const { offset, length, text } = changes[i]!;
    if (offset < pos || offset + length > before.length) {
      throw new RangeError(
        `a change at ${offset}+${length} does not fit the wire text (${before.length} code units, previous change ends at ${pos})`,
      );
    }
    const deleted = before.slice(offset, offset + length);
    const [p, s] = commonEnds(deleted, text);
    appendRetain(op, offset + p - pos);
    appendInsert(op, text.slice(p, text.length - s));
    appendDelete(op, deleted.slice(p, deleted.length - s));
    appendRetain(op, s);
    pos = offset + length;
  }
  return trim(op);
}

/** Lengths of the common prefix and suffix of `a` and `b` (not overlapping, never half a surrogate pair). */
export function commonEnds(a: string, b: string): [prefix: number, suffix: number] {
  const max = Math.min(a.length, b.length);
  let p = 0;
  while (p < max && a.charCodeAt(p) === b.charCodeAt(p)) p++;
  if (p > 0 && (splitsPair(a, p) || splitsPair(b, p))) p--;
  let s = 0;
  while (s < max - p && a.charCodeAt(a.length - 1 - s) === b.charCodeAt(b.length - 1 - s)) s++;
  if (s > 0 && (splitsPair(a, a.length - s) || splitsPair(b, b.length - s))) s--;
  return [p, s];
}

/**
 * Whether `a` and `b`, both against `before`, leave the same text: how the binding recognises the
 * change event its own `WorkspaceEdit` caused, whatever form VS Code reported it in (it trims
 * replacements and merges touching ones). Equal ops answer at once; otherwise only the span the
 * two ops touch is read and compared.
 */
export function sameEffect(a: TextOp, b: TextOp, before: TextSource): boolean {
  if (opsEqual(a, b)) return true;
  const [fromA, toA] = span(a);
  const [fromB, toB] = span(b);
  const from = Math.min(fromA, fromB);
  const to = Math.max(toA, toB);
  if (to > before.length) return false;
  const window = before.slice(from, to);
  try {
    return apply(window, shift(a, from)) === apply(window, shift(b, from));
  } catch {
    return false;
  }
}

function opsEqual(a: TextOp, b: TextOp): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (typeof x === 'object' ? typeof y !== 'object' || x.d !== y.d : x !== y) return false;
  }
  return true;
}

/** [where the op first changes something, where its last retain or delete ends]. */
function span(op: TextOp): [number, number] {
  const first = op[0];
  let end = 0;
  for (const c of op) end += typeof c === 'number' ? c : typeof c === 'string' ? 0 : c.d.length;
  return [typeof first === 'number' ? first : 0, end];
}

/** `op` with its first `n` retained code units dropped (n <= its leading retain). */
function shift(op: TextOp, n: number): TextOp {
  if (n === 0) return op;
  const first = op[0] as number;
  return first === n ? op.slice(1) : [first - n, ...op.slice(1)];
}
