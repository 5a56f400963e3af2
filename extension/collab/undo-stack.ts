/**
 * Undo and redo of this user's own edits in a shared document (ot.js's UndoManager, op by op).
 *
 * Why not VS Code's undo: remote edits reach the editor as `WorkspaceEdit`s, and VS Code puts
 * every `WorkspaceEdit` on the document's undo stack (there is no API to apply an edit outside
 * it), so its Undo would take back the last remote edit, not the user's own.
 *
 * Each entry is the inverse of one group of local edits, kept in the coordinates of the current
 * text: the top entry applies to the text as it is now, the one below to the text after the top
 * one was applied, and so on. When someone else's op changes the text, every entry is transformed
 * past it, from the top down, so undoing takes back only what this user did, where it now is.
 */
import { compose, invert, isNoop, type TextOp, transform, transformCursor } from '../../protocol/ot';

export interface UndoStackOptions {
  /** Most groups kept (default 200); the oldest go first. */
  limit?: number;
  /**
   * Typing closer together than this (ms) undoes as one group (default 1000; 0: never grouped):
   * an insert where the last one ended, or a delete next to the last one (Backspace or Delete).
   */
  groupMs?: number;
  now?: () => number;
}

export class UndoStack {
  private undos: TextOp[] = [];
  private redos: TextOp[] = [];
  private readonly limit: number;
  private readonly groupMs: number;
  private readonly now: () => number;
  /** When the last local edit was recorded, and where it left the caret if it was one simple edit. */
  private lastLocalAt = Number.NEGATIVE_INFINITY;
  private caret: number | undefined;

  constructor(options: UndoStackOptions = {}) {
    this.limit = options.limit ?? 200;
    this.groupMs = options.groupMs ?? 1000;
    this.now = options.now ?? Date.now;
  }

  get canUndo(): boolean {
    return this.undos.length > 0;
  }
  get canRedo(): boolean {
    return this.redos.length > 0;
  }

  /** The user edited: `op` applied to the text before it. Clears the redo stack. */
  recordLocal(op: TextOp): void {
    if (isNoop(op)) return;
    const inverse = invert(op);
    const now = this.now();
    const top = this.undos.at(-1);
    const run = simpleRun(op);
    // Only typing continues a group, so a group stays one run and composing it costs O(1).
    const continues =
      run !== undefined &&
      this.caret !== undefined &&
      (run.at === this.caret || (run.inserted === 0 && run.at + run.deleted === this.caret));
    if (top !== undefined && continues && now - this.lastLocalAt < this.groupMs) this.undos[this.undos.length - 1] = compose(inverse, top);
    else this.push(this.undos, inverse);
    this.lastLocalAt = now;
    this.caret = run && run.at + run.inserted;
    this.redos = [];
  }

  /**
   * The editor's caret is now at `offset` (undefined: several carets, or a selection). Anywhere
   * but where this user's typing left it (a click, an arrow key, Ctrl+End, even one that came back
   * to the same place through a selection) the next edit starts a new group, as in VS Code.
   */
  caretMoved(offset: number | undefined): void {
    if (offset !== this.caret) this.caret = undefined;
  }

  /** Someone else's op changed the text: moves every entry past it. */
  transform(op: TextOp): void {
    if (isNoop(op)) return;
    if (this.caret !== undefined) this.caret = transformCursor(this.caret, op);
    this.undos = transformStack(this.undos, op);
    this.redos = transformStack(this.redos, op);
  }

  /** Takes the op that undoes the last group (it applies to the current text). */
  takeUndo(): TextOp | undefined {
    this.caret = undefined;
    return this.undos.pop();
  }

  /** Takes the op that redoes the last undone group. */
  takeRedo(): TextOp | undefined {
    this.caret = undefined;
    return this.redos.pop();
  }

  /** An op from `takeUndo` was applied (as moved by later local edits): it can be redone. */
  undone(op: TextOp): void {
    if (!isNoop(op)) this.push(this.redos, invert(op));
  }

  /** An op from `takeRedo` was applied: it can be undone again. */
  redone(op: TextOp): void {
    if (!isNoop(op)) this.push(this.undos, invert(op));
  }

  clear(): void {
    this.undos = [];
    this.redos = [];
    this.caret = undefined;
  }

  private push(stack: TextOp[], op: TextOp): void {
    stack.push(op);
    if (stack.length > this.limit) stack.splice(0, stack.length - this.limit);
  }
}

/** Where a one-run op (retain, insert and/or delete) acts, or undefined for anything else. */
function simpleRun(op: TextOp): { at: number; inserted: number; deleted: number } | undefined {
  let at = 0;
  let inserted = 0;
  let deleted = 0;
  for (let i = 0; i < op.length; i++) {
    const c = op[i]!;
    if (typeof c === 'number') {
      if (i > 0) return undefined; // a retain after the run: a second run follows (ops have no trailing retain)
      at = c;
    } else if (typeof c === 'string') inserted += c.length;
    else deleted += c.d.length;
  }
  return { at, inserted, deleted };
}

/** Each entry past `op`, from the top down; `op` moves past each entry on the way. */
function transformStack(stack: readonly TextOp[], op: TextOp): TextOp[] {
  const out: TextOp[] = [];
  for (let i = stack.length - 1; i >= 0; i--) {
    const entry = stack[i]!;
    const moved = transform(entry, op, 'right');
    op = transform(op, entry, 'left');
    if (!isNoop(moved)) out.push(moved);
  }
  return out.reverse();
}
