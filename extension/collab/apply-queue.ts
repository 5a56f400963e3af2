/**
 * How a binding's own edits (remote ops, undo, redo) reach the editor, and which change events
 * are theirs. Its owner (`DocumentBinding`) decides what an item and an edit mean for the shared
 * text; this module only applies them and attributes the editor's change events.
 *
 * Remote ops are applied one `WorkspaceEdit` at a time from a queue (`inbox`, which also holds
 * acks, resyncs, snapshots and undo requests, so they keep their order). Which change event is the
 * echo of our edit is decided from what VS Code guarantees, never from the text alone (a user can
 * type the very same text at the same place at the same moment):
 * - `applyEdit` carries the document version the extension host knows when it is called, and the
 *   renderer applies it only if its document is still at that version (bulkTextEdits.ts
 *   `validate`; the edits carry entry metadata so that this holds for the active editor too, see
 *   remote-edit.ts). Applied, it is one model edit: the document goes to exactly that version + 1.
 * - The renderer sends the change event of whatever it applies to the extension host before it
 *   answers `applyEdit` (mainThreadDocuments.ts sends `$acceptModelChanged` as the model changes;
 *   one ordered RPC channel), so every change event of the edit's time arrives before the answer.
 * So our edit's change event, if it was applied, is the one that takes the document to the version
 * after the one the edit was made against; and only the answer says whether it was applied. A change
 * event at that version with the same effect as our edit (changes.ts `sameEffect`) is the echo or
 * the user's identical edit: it is held (`Apply.echo`), with any change events after it
 * (`Apply.after`, local in either case), until the answer: applied, it was the echo; refused, it
 * was the user's, and it is shared like any local edit. Any other change event while our edit is in
 * flight is the user's (or another extension's): a local edit. Our edit will then be refused; the
 * local op is transformed past ours for the client, ours past the local one for the editor, and
 * ours is sent again.
 */
import * as vscode from 'vscode';
import { isNoop, type TextOp } from '../../protocol/ot';
import { type CaretAtInsert, caretsAtInserts, keptCarets } from './carets-at-inserts';
import { sameEffect, type TextSource } from './changes';
import { type LineIndex, withoutCr } from './eol';
import { replacementsFor, toWorkspaceEdit } from './remote-edit';

/** An edit of ours on its way to the editor. */
export interface Apply {
  readonly kind: 'remote' | 'undo' | 'redo';
  /** Against the binding's `mirror`. For `remote` it is in `client.text` already; an undo or redo is not yet. */
  op: TextOp;
  /** A local change came first: the `applyEdit` under way will be refused; send `op` again. */
  stale: boolean;
  /** Refusals without a local change in between. */
  failures: number;
  /** Superseded by a recovery: its answer is ignored. */
  cancelled: boolean;
  /** The document's version when the `applyEdit` under way was made: applied, it makes `version + 1`. */
  version?: number;
  /** The change event (as an op against `mirror` before it) that is its echo if VS Code answers true, else the user's. */
  echo?: TextOp;
  /** Local change events after `echo`, waiting for the answer to be shared. */
  after?: TextOp[];
  /** The caret as of the last selection event while `echo` waits (undo grouping), if any came. */
  caret?: { offset: number | undefined };
  /** The editors' carets at the insert points of the `applyEdit` under way (carets-at-inserts.ts). */
  carets?: Array<{ editor: vscode.TextEditor; noted: CaretAtInsert[] }>;
  /** A remote insert at the caret of someone typing waits for a pause (see `issue`): since when. */
  deferredSince?: number;
  readonly done?: (applied: boolean) => void;
}

/** What the queue needs from its owner: what its items and edits mean for the shared text. */
export interface ApplyQueueHost<Item> {
  /** The document's line index (wire offsets to positions) as of the last change event handled. */
  index(): LineIndex;
  /** The owner is replacing the editor's text (a recovery): the queue waits, then `pump` goes on. */
  recovering(): boolean;
  /** Handles one queued item (it may `start` an edit). Throws nothing. */
  process(item: Item): void;
  /** An item that will never be handled: the queue is disposed. */
  dropped(item: Item): void;
  /** The queue stopped: it is empty, or waits for the editor or a recovery. */
  pumped(): void;
  /** `apply` reached the editor: `echo` is its change event (an op against the text before it). */
  arrived(apply: Apply, echo: TextOp): void;
  /**
   * Shares local ops held while VS Code's answer was awaited (already in the owner's copy of the
   * editor's text), with `apply` still in flight or not; false if one could not be shared (the
   * owner recovers).
   */
  shareHeld(ops: readonly TextOp[], apply: Apply | undefined, caret: { offset: number | undefined } | undefined): boolean;
  /** When the user last changed the text (performance.now()), undefined if never. */
  lastLocalChange(): number | undefined;
  /** When the user last made an input method's step (typing-run.ts `isInputMethodStep`), undefined if never. */
  lastInputMethodStep(): number | undefined;
  /** The editor and the shared text parted: the owner replaces the editor's text (and calls `cancel`). */
  recover(reason: string): void;
  /** A refused edit goes to the editor again after a local change got in first. */
  retried(): void;
  warn(message: string): void;
}

const MAX_FAILURES = 3;
/** A remote insert at the caret waits until the user has not typed for this long... */
const TYPING_PAUSE_MS = 250;
/** ...but no longer than this, so that a long burst of typing does not hold the others' edits back... */
const MAX_DEFER_MS = 3_000;
/**
 * ...unless the user is composing with an input method (a step in the last `COMPOSING_MS`): an
 * insert forced in between two steps pushes the caret, and the next step, relative to the caret,
 * replaced the other person's character and left a marked one behind (the same-place input-method
 * probe: after 3 s of composing without a pause, one `h` lost and one `に` left in ten rounds).
 * Composing that long without a quarter-second pause is rare; this bound only keeps a stuck queue finite.
 */
const MAX_DEFER_COMPOSING_MS = 30_000;
const COMPOSING_MS = 1_000;

/**
 * The owner's queue of items (remote ops, acks, undo requests...) handled in order, and its edit
 * in flight to the editor: at most one, and nothing else is handled until VS Code has answered it.
 */
export class ApplyQueue<Item> implements vscode.Disposable {
  private readonly inbox: Item[] = [];
  private inFlight: Apply | undefined;
  private disposed = false;

  constructor(
    private readonly document: vscode.TextDocument,
    private readonly host: ApplyQueueHost<Item>,
  ) {}

  /** The edit of ours on its way to the editor, if any. */
  get current(): Apply | undefined {
    return this.inFlight;
  }

  /** Nothing queued, nothing in flight. */
  get idle(): boolean {
    return !this.inFlight && this.inbox.length === 0;
  }

  enqueue(item: Item): void {
    if (this.disposed) {
      this.host.dropped(item);
      return;
    }
    this.inbox.push(item);
    this.pump();
  }

  /** Handles queued items until one of them needs the editor (an edit in flight). */
  pump(): void {
    while (!this.disposed && !this.inFlight && !this.host.recovering() && this.inbox.length > 0) {
      this.host.process(this.inbox.shift()!);
    }
    this.host.pumped();
  }

  /** Sends `apply` to the editor (nothing if it changes nothing); the queue waits for its answer. */
  start(apply: Apply): void {
    if (isNoop(apply.op)) {
      apply.done?.(false);
      return;
    }
    this.inFlight = apply;
    this.issue(apply);
  }

  /**
   * A change event of the editor (`op`, against `before`, the text before it; it took the document
   * to `version`). True: it is held with the edit in flight until VS Code answers (the caller still
   * applies it to `before`); false: a local edit, to be shared now.
   */
  hold(op: TextOp, version: number, before: TextSource): boolean {
    const apply = this.inFlight;
    if (apply?.echo !== undefined) {
      // Local whoever made the echo: shared once VS Code answers (see the top of this file).
      apply.after!.push(op);
      return true;
    }
    if (apply && !apply.stale && version === apply.version! + 1 && sameEffect(op, docOp(apply), before)) {
      apply.echo = op;
      apply.after = [];
      return true;
    }
    return false;
  }

  /** A caret move (undo grouping): true if it waits with a held echo, handed to `shareHeld` with it. */
  holdCaret(offset: number | undefined): boolean {
    const apply = this.inFlight;
    // Typing held with an echo is not in the undo stack yet: its caret move waits with it.
    if (apply?.echo === undefined) return false;
    apply.caret = { offset };
    return true;
  }

  /** Forgets the edit in flight (a recovery supersedes it): its answer will be ignored. */
  cancel(): void {
    const apply = this.inFlight;
    this.inFlight = undefined;
    if (!apply) return;
    apply.cancelled = true;
    apply.done?.(false);
  }

  /** Drops what is queued (`dropped`) and the edit in flight. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const item of this.inbox.splice(0)) this.host.dropped(item);
    this.cancel();
  }

  /**
   * Sends `apply` to the editor as one `WorkspaceEdit`, against the document as it is now.
   *
   * A remote insert exactly at the caret of a user who is typing waits for a pause in the typing
   * (`TYPING_PAUSE_MS`, at most `MAX_DEFER_MS`, or `MAX_DEFER_COMPOSING_MS` with an input method):
   * VS Code pushes the caret past the inserted text, and putting it back (`keepCarets`) takes a
   * round trip to the extension host, during which an input method's next step (Japanese, Chinese,
   * Korean...) replaced the characters before the pushed caret, someone else's among them (the
   * pair-session e2e's same-place input-method round). Local changes made meanwhile transform the
   * waiting op as they would an op in flight. Typing elsewhere and remote edits elsewhere are not
   * held themselves, but remote edits queued behind a held one wait with it (the queue keeps order).
   */
  private issue(apply: Apply): void {
    const carets = apply.kind === 'remote' ? this.caretsAtInserts(docOp(apply)) : undefined;
    if (carets && this.deferred(apply)) return;
    let edit: vscode.WorkspaceEdit;
    try {
      edit = toWorkspaceEdit(this.document.uri, replacementsFor(docOp(apply), this.host.index()), vscode);
    } catch (error) {
      this.host.recover(`an edit did not fit the editor's text (${message(error)})`);
      return;
    }
    apply.stale = false;
    apply.version = this.document.version;
    apply.carets = carets;
    void vscode.workspace.applyEdit(edit).then(
      (ok) => this.answered(apply, ok),
      (error: unknown) => {
        this.host.warn(`applyEdit failed (${message(error)})`);
        this.answered(apply, false);
      },
    );
  }

  /**
   * True if `apply`, a remote edit that inserts at a caret, waits for a pause in the user's typing
   * (it is issued again after one).
   */
  private deferred(apply: Apply): boolean {
    const now = performance.now();
    const typedAt = this.host.lastLocalChange();
    const typing = typedAt !== undefined && now - typedAt < TYPING_PAUSE_MS;
    const composedAt = this.host.lastInputMethodStep();
    const longest = composedAt !== undefined && now - composedAt < COMPOSING_MS ? MAX_DEFER_COMPOSING_MS : MAX_DEFER_MS;
    if (!typing || (apply.deferredSince !== undefined && now - apply.deferredSince >= longest)) {
      apply.deferredSince = undefined;
      return false;
    }
    apply.deferredSince ??= now;
    apply.stale = false;
    apply.version = undefined;
    setTimeout(
      () => {
        if (!this.disposed && this.inFlight === apply && !apply.cancelled) this.issue(apply);
      },
      TYPING_PAUSE_MS - (now - typedAt),
    );
    return true;
  }

  /** The carets of this document's visible editors that sit at an insert point of `op`. */
  private caretsAtInserts(op: TextOp): Apply['carets'] {
    const index = this.host.index();
    const carets = vscode.window.visibleTextEditors
      .filter((editor) => editor.document === this.document)
      .map((editor) => ({ editor, noted: caretsAtInserts(op, index, collapsed(editor)) }))
      .filter(({ noted }) => noted.length > 0);
    return carets.length > 0 ? carets : undefined;
  }

  /** Puts back the carets VS Code pushed past a remote insert (see carets-at-inserts.ts). */
  private keepCarets(apply: Apply): void {
    const carets = apply.carets;
    apply.carets = undefined;
    if (!carets) return;
    const index = this.host.index();
    for (const { editor, noted } of carets) {
      const moves = keptCarets(noted, index, collapsed(editor));
      if (!moves) continue;
      editor.selections = editor.selections.map((selection, i) => {
        const kept = moves.get(i);
        return kept ? new vscode.Selection(kept.line, kept.character, kept.line, kept.character) : selection;
      });
    }
  }

  /** VS Code's answer to `applyEdit`; its change event, if any, has been handled already. */
  private answered(apply: Apply, ok: boolean): void {
    if (this.disposed || apply.cancelled || this.inFlight !== apply) return;
    const { echo, after = [], caret } = apply;
    apply.echo = apply.after = apply.caret = undefined;
    if (ok) {
      this.inFlight = undefined;
      if (echo === undefined) {
        apply.done?.(false);
        this.host.recover(`the editor applied a ${apply.kind} edit but reported a different change`);
        return;
      }
      this.host.arrived(apply, echo);
      // Typed meanwhile: the carets are where the typing left them.
      if (after.length === 0) this.keepCarets(apply);
      this.host.shareHeld(after, undefined, caret);
      this.pump();
      return;
    }
    // Refused: the change that looked like our edit was the user's own, identical one.
    if (echo !== undefined && !this.host.shareHeld([echo, ...after], apply, caret)) return;
    if (apply.stale) {
      this.host.retried();
      this.issue(apply);
      return;
    }
    if (++apply.failures < MAX_FAILURES && !this.document.isClosed) {
      // Refused with no local change seen: give a change event on its way a moment to arrive.
      setTimeout(() => {
        if (!this.disposed && this.inFlight === apply && !apply.cancelled) this.issue(apply);
      }, 20 * apply.failures);
      return;
    }
    this.inFlight = undefined;
    apply.done?.(false);
    if (apply.kind === 'remote') this.host.recover(`the editor refused a remote edit ${MAX_FAILURES} times`);
    else this.pump();
  }
}

/** Collapsed selections as positions; a range is undefined. */
function collapsed(editor: vscode.TextEditor): Array<vscode.Position | undefined> {
  return editor.selections.map((selection) => (selection.isEmpty ? selection.active : undefined));
}

/** What `apply` does to the editor: its op, with any `\r` inserted as a line break. */
function docOp(apply: Apply): TextOp {
  return apply.kind === 'remote' ? withoutCr(apply.op) : apply.op;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
