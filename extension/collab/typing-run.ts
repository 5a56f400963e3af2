/**
 * Where this window's user is typing, and how a remote insert is kept out of the middle of it.
 *
 * The run is the text the user's last local edits put in one piece, up to where the last one
 * ended: typing extends it, Backspace shortens it, an input method's steps (Japanese, Chinese,
 * Korean...) replace its tail. An input method's marked text is always the end of the run, and
 * the input method replaces it relative to the caret: with someone else's characters inside it,
 * its next step replaced *theirs* and left part of the marked text behind (a keystroke lost, a
 * stray character kept: the pair-session e2e's input-method round, about one round in ten with
 * both people typing at the same place).
 *
 * How someone else's text gets inside: they type right after the part of the run they have seen,
 * at the very place where our next keystroke, not yet committed, goes; the two inserts tie, and
 * committed text goes first (protocol/ot/transform.ts), so theirs can land between our characters.
 * Hence each keystroke that continues the run is shared as a replacement of the character before
 * it too (`widen`: "b" typed after "a" goes out as "a" replaced by "ab"). An insert made right
 * after that character, concurrently, then falls at the end of a replaced range, which the
 * transform puts after the replacement: after the run, never inside it. On the wire the op has
 * the same effect; only ties resolve differently. The cost: a concurrent delete of exactly that one
 * character is undone by the replacement (the character stays), where otherwise a keystroke was
 * misplaced or lost.
 *
 * Pure: ops in, ops out; `document-binding.ts` feeds it. Offsets are wire offsets of the editor's
 * text as the binding knows it.
 */
import { appendDelete, appendInsert, appendRetain, type TextOp } from '../../protocol/ot';

export interface Run {
  readonly start: number;
  readonly end: number;
}

/** The text before a local edit, as far as `widen` reads it. */
export interface TextBefore {
  slice(from: number, to: number): string;
}

export class TypingRun {
  private run: Run | undefined;

  get current(): Run | undefined {
    return this.run;
  }

  /**
   * The op to share for the local edit `op` (against `before`, the text before it; call before
   * `local(op)`): the same op if it does not continue the run, else the same change widened to
   * the run's character just before it.
   */
  widen(op: TextOp, before: TextBefore): TextOp {
    const run = this.run;
    const change = singleChange(op);
    // A pure delete (Backspace) ties with nothing: it stays as it is.
    if (!run || !change || change.inserted === '' || !continues(run, change) || change.at <= run.start) return op;
    // One code point: never half of a surrogate pair.
    let from = change.at - 1;
    if (from > run.start && isLowSurrogate(before.slice(from, from + 1)) && isHighSurrogate(before.slice(from - 1, from))) from--;
    const kept = before.slice(from, change.at);
    const widened: TextOp = [];
    appendRetain(widened, from);
    appendInsert(widened, kept + change.inserted);
    appendDelete(widened, kept + change.deleted);
    return widened;
  }

  /**
   * True if the local edit `op` (call before `local(op)`) is an input method's step: it replaces
   * the run's tail with other text (marked text updated, or committed). Plain typing only inserts.
   */
  isInputMethodStep(op: TextOp): boolean {
    const run = this.run;
    const change = singleChange(op);
    return !!run && !!change && change.deleted !== '' && change.inserted !== '' && continues(run, change);
  }

  /** A local edit, against the text before it. */
  local(op: TextOp): void {
    const change = singleChange(op);
    if (!change) {
      this.run = undefined;
      return;
    }
    const run = this.run;
    const { at, inserted } = change;
    let next: Run | undefined;
    if (run && continues(run, change)) next = { start: run.start, end: at + inserted.length };
    else next = inserted.length > 0 ? { start: at, end: at + inserted.length } : undefined;
    this.run = next && next.end > next.start ? next : undefined;
  }

  /**
   * Someone else's edit reached the editor (against the text before it): the run moves with the
   * text; an insert or a delete inside it ends it (it is no longer what the user typed in one piece).
   */
  moved(op: TextOp): void {
    const run = this.run;
    if (!run) return;
    let pos = 0;
    let shift = 0;
    for (const c of op) {
      if (typeof c === 'number') {
        pos += c;
      } else if (typeof c === 'string') {
        if (pos > run.start && pos < run.end) return this.clear();
        // At the start it goes before the run; at the end, after it (the caret stays before it).
        if (pos <= run.start) shift += c.length;
      } else {
        const end = pos + c.d.length;
        if (end > run.start && pos < run.end) return this.clear();
        if (end <= run.start) shift -= c.d.length;
        pos = end;
      }
      if (pos >= run.end) break;
    }
    this.run = { start: run.start + shift, end: run.end + shift };
  }

  clear(): void {
    this.run = undefined;
  }
}

interface Change {
  readonly at: number;
  readonly deleted: string;
  readonly inserted: string;
}

/** A change at the run's end, or replacing the run's tail (Backspace, an input method's next step). */
function continues(run: Run, change: Change): boolean {
  return change.at >= run.start && change.at + change.deleted.length === run.end;
}

function isHighSurrogate(s: string): boolean {
  const c = s.charCodeAt(0);
  return c >= 0xd800 && c <= 0xdbff;
}

function isLowSurrogate(s: string): boolean {
  const c = s.charCodeAt(0);
  return c >= 0xdc00 && c <= 0xdfff;
}

/** The one place an op changes (where, what it deletes and inserts), or undefined if it changes several. */
function singleChange(op: TextOp): Change | undefined {
  let at = 0;
  let deleted = '';
  let inserted = '';
  let seen = false;
  let closed = false;
  for (const c of op) {
    if (typeof c === 'number') {
      if (seen) closed = true;
      else at += c;
      continue;
    }
    if (closed) return undefined;
    seen = true;
    if (typeof c === 'string') inserted += c;
    else deleted += c.d;
  }
  return seen ? { at, deleted, inserted } : undefined;
}
