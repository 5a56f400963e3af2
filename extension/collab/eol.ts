/**
 * Document offsets (CRLF or LF) to and from wire offsets (LF), using VS Code's own line index.
 *
 * Text on the wire uses `\n`. VS Code keeps one line ending per document (it normalizes a mixed
 * file when it opens it, and the text of every edit to the document's EOL), so in a CRLF document
 * each line break before a position is 2 code units in the document and 1 on the wire:
 * `wire = document.offsetAt(pos) - pos.line`. Both directions cost a few `offsetAt` calls on the
 * line index VS Code keeps anyway, never a pass over the text.
 *
 * No runtime `vscode` import: the node unit tests run this with a string-backed index.
 */
import type * as vscode from 'vscode';
import { appendDelete, appendInsert, appendRetain, trim, type TextOp } from '../../protocol/ot';

export interface LinePosition {
  readonly line: number;
  readonly character: number;
}

/** What the mapping needs of a document: its line ending and VS Code's line index. */
export interface LineIndex {
  readonly crlf: boolean;
  readonly lineCount: number;
  /** The document offset of a position (valid positions only). */
  offsetAt(line: number, character: number): number;
  /** The position of a document offset. */
  positionAt(offset: number): LinePosition;
}

/** A document's text in wire form. O(n): for opening a document, not for keystrokes. */
export function toWireText(text: string): string {
  // VS Code treats a lone `\r` as a line break too (and turns it into the document's EOL).
  return text.indexOf('\r') < 0 ? text : text.replace(/\r\n?/g, '\n');
}

/** Wire text as a document with this line ending holds it. */
export function toDocumentText(wire: string, crlf: boolean): string {
  return crlf ? wire.replace(/\r?\n/g, '\r\n') : wire;
}

/** The wire offset of a document position (e.g. a cursor). */
export function wireOffsetAt(index: LineIndex, line: number, character: number): number {
  return index.offsetAt(line, character) - (index.crlf ? line : 0);
}

/** The length of the document in wire form. */
export function wireLength(index: LineIndex): number {
  const last = index.lineCount - 1;
  const end = index.positionAt(Number.MAX_SAFE_INTEGER);
  return index.offsetAt(end.line, end.character) - (index.crlf ? last : 0);
}

/**
 * The document position of a wire offset. For a CRLF document the line is found by binary
 * search between the line of `wire` read as a document offset (a lower bound: the document
 * offset is larger by the line number) and the line of `wire + lineCount - 1` (an upper bound).
 */
export function positionAtWire(index: LineIndex, wire: number): LinePosition {
  if (!index.crlf) return index.positionAt(wire);
  const lineStart = (line: number) => index.offsetAt(line, 0) - line;
  let lo = index.positionAt(wire).line;
  let hi = index.positionAt(wire + index.lineCount - 1).line;
  // Invariant: lineStart(lo) <= wire; find the last line that starts at or before `wire`.
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (lineStart(mid) <= wire) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo, character: wire - lineStart(lo) };
}

// A `\r` on the wire (sent by a client that does not map CRLF) cannot be shown: VS Code makes it
// a line break. The binding applies `withoutCr(op)` to the editor and shares `crFix(op)`.

/** `op` with `\r\n` and lone `\r` in its inserts as `\n` (the same op if there are none). */
export function withoutCr(op: TextOp): TextOp {
  if (!op.some((c) => typeof c === 'string' && c.includes('\r'))) return op;
  return op.map((c) => (typeof c === 'string' ? toWireText(c) : c));
}

/**
 * Applies after `op`: makes the text it inserted read as the editor shows it (`withoutCr`).
 * Deletes the `\r` of each `\r\n` rather than replacing the pair, so that two editors fixing
 * the same text at once converge on one line break (their deletes of one `\r` merge); a lone
 * `\r` has to become a `\n`, which two editors fixing at once would each insert.
 */
export function crFix(op: TextOp): TextOp {
  const fix: TextOp = [];
  for (const c of op) {
    if (typeof c === 'number') appendRetain(fix, c);
    else if (typeof c === 'string') {
      for (let i = 0; i < c.length; i++) {
        if (c.charCodeAt(i) !== 13) appendRetain(fix, 1);
        else if (c.charCodeAt(i + 1) === 10) appendDelete(fix, '\r');
        else {
          appendInsert(fix, '\n');
          appendDelete(fix, '\r');
        }
      }
    }
  }
  return trim(fix);
}

/** VS Code's line index of `document`. `Position` is passed in: `offsetAt` takes only real Positions. */
export function documentLineIndex(document: vscode.TextDocument, Position: typeof vscode.Position, crlf: boolean): LineIndex {
  return {
    crlf,
    get lineCount() {
      return document.lineCount;
    },
    offsetAt: (line, character) => document.offsetAt(new Position(line, character)),
    positionAt: (offset) => document.positionAt(offset),
  };
}

/** A string-backed index (tests, and anything that has the text at hand). */
export function stringLineIndex(text: string, crlf = text.includes('\r\n')): LineIndex {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  const lineEnd = (line: number) => (line + 1 < starts.length ? starts[line + 1]! - (crlf ? 2 : 1) : text.length);
  return {
    crlf,
    lineCount: starts.length,
    offsetAt(line, character) {
      const l = Math.min(Math.max(0, line), starts.length - 1);
      return Math.min(starts[l]! + Math.max(0, character), lineEnd(l));
    },
    positionAt(offset) {
      const o = Math.min(Math.max(0, offset), text.length);
      let lo = 0;
      let hi = starts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (starts[mid]! <= o) lo = mid;
        else hi = mid - 1;
      }
      return { line: lo, character: Math.min(o, lineEnd(lo)) - starts[lo]! };
    },
  };
}
