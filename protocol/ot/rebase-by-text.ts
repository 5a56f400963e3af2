/**
 * Carrying edits over to a text whose history is unknown: a client's pending edits onto a
 * snapshot after the relay lost the ops between (`ClientDocument.resync`), a participant's pending
 * edits onto a rebuilt document (the relay's recovery fallback).
 *
 * What happened between `from` and `to` is approximated by one replacement of the span where they
 * differ (`diffSpan`), and the edits are transformed past it as uncommitted ones (`'right'`):
 * outside the span they land exactly where they were made; a delete of text the span replaced is
 * dropped; an insert inside the span (or at its edges) has lost its place and lands just after the
 * span's new text. The span's ends are where the texts stop agreeing, which can be the middle of a
 * word (`"[0.2][0.0]"` against `"[1.1]"` share `"["` and `"]"`), so the new text there may be a
 * fragment of someone's word; an insert that lands there would be put inside that word. In that
 * case the span is widened to the next whitespace (or the end): the insert lands between words,
 * and every character of both sides is still kept once.
 */
import { diffSpan, spanOp } from './diff';
import type { TextOp } from './text-op';
import { transform } from './transform';

export interface TextRebase {
  /** The edits, as they apply to `to`. */
  rebased: TextOp;
  /** What turns the editor's text (`from` with the edits) into `to` with `rebased`. */
  incoming: TextOp;
}

const isSpace = (text: string, at: number) => /\s/.test(text.charAt(at));

/** Rebases `pending` (made on `from`) onto `to`: see the module comment. */
export function rebaseByText(from: string, pending: TextOp, to: string): TextRebase {
  const remote = from === to ? [] : replacement(from, pending, to);
  return { rebased: transform(pending, remote, 'right'), incoming: transform(remote, pending, 'left') };
}

/** The one replacement from `from` to `to`, widened where an insert of `pending` would split a word. */
function replacement(from: string, pending: TextOp, to: string): TextOp {
  const span = diffSpan(from, to);
  if (insertsWithin(pending, span.prefix, from.length - span.suffix)) span.suffix = to.length - wordEnd(to, to.length - span.suffix);
  return spanOp(from, to, span);
}

/** Whether `op` inserts anywhere from `start` to `end` (inclusive) of the text it applies to. */
function insertsWithin(op: TextOp, start: number, end: number): boolean {
  let at = 0;
  for (const c of op) {
    if (at > end) return false;
    if (typeof c === 'number') at += c;
    else if (typeof c === 'string') {
      if (at >= start) return true;
    } else at += c.d.length;
  }
  return false;
}

/** The first position from `at` that is not inside a run of non-whitespace (`text`'s end at most). */
function wordEnd(text: string, at: number): number {
  let end = at;
  while (end > 0 && end < text.length && !isSpace(text, end - 1) && !isSpace(text, end)) end++;
  return end;
}
