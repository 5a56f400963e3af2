/**
 * One editor document bound to one shared (OT) document: local changes become ops for the relay,
 * the relay's ops become edits of the editor, and neither is lost when they race.
 *
 * Three texts, in wire form (LF):
 * - `mirror`: the editor's text as of the last change event handled (see `editorMirror`);
 * - `client.text` (`ClientDocument`): the shared text with this user's pending edits;
 * - the editor's own text, which equals `mirror` whenever this code runs (the extension host
 *   updates the document and fires its change event in one go).
 * They differ only while one edit of ours is on its way to the editor (`queue.current`): then
 * `client.text` is `mirror` plus that op (for a remote op), or `mirror` (for an undo or redo).
 *
 * Remote ops, undo and redo reach the editor one `WorkspaceEdit` at a time, in order with acks,
 * resyncs and snapshots, through an `ApplyQueue` (apply-queue.ts), which also tells which change
 * event is the echo of our edit (from what VS Code guarantees, never from the text alone). Any
 * other change event while our edit is in flight is a local edit: the binding transforms the local
 * op past ours for the client, ours past the local one for the editor, and the queue sends ours again.
 * If the editor and the shared text still part (an edit that applied without its event, a change
 * event that does not fit the copy, a length that differs when idle), the binding recovers by
 * replacing the editor's text with the shared text, and logs it.
 */
import * as vscode from 'vscode';
import {
  ClientDocument,
  isNoop,
  type OutgoingEdit,
  type RejoinState,
  SyncError,
  textDiff as diff,
  TextDocument,
  textHash,
  type TextOp,
  transform,
} from '../../protocol/ot';
import { type ErrorCode, refusedEditAction, type ResyncPayload } from '../../protocol';
import { type Apply, ApplyQueue } from './apply-queue';
import { changesToOp } from './changes';
import { crFix, documentLineIndex, type LineIndex, toWireText, wireLength, wireOffsetAt, withoutCr } from './eol';
import { replacementsFor, toWorkspaceEdit } from './remote-edit';
import { TypingRun } from './typing-run';
import { UndoStack, type UndoStackOptions } from './undo-stack';

export type { OutgoingEdit };

/** The shared document as the relay gave it (`collaboration.snapshot`), and who this client is. */
export interface BindingSnapshot {
  /** Wire form (LF). */
  readonly text: string;
  readonly rev: number;
  readonly clientId: string;
  /** Keep the seq counter across bindings of one client id (default 0). */
  readonly nextSeq?: number;
  /** The document's epoch on the relay (`collaboration.snapshot`'s `epoch`). */
  readonly epoch?: string;
}

/** A snapshot answering a re-open (`collaboration.snapshot`). */
export interface RejoinSnapshot {
  readonly text: string;
  readonly rev: number;
  readonly lastSeq?: number;
  readonly epoch?: string;
  /** The relay lost the document's history and rebuilt it from its participants' copies. */
  readonly reset?: boolean;
  /** With `reset`: turns this client's text as of its rejoin into `text`. */
  readonly rebase?: TextOp;
}

/** Where the binding logs (a `vscode.LogOutputChannel` fits). */
export interface BindingLog {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface DocumentBindingOptions {
  /** Sends an op (`collaboration.edit` without `document`). False: not sent; it is sent again after the next snapshot. */
  send(edit: OutgoingEdit): boolean | void;
  /** The most JSON bytes of op one edit carries (`maxEditOpBytes`): a larger change goes in pieces. Default: no bound. */
  maxOpBytes?: number;
  log?: BindingLog;
  /** Listen to `onDidChangeTextDocument` itself (default); false: the owner calls `onLocalChange`. */
  listen?: boolean;
  undo?: UndoStackOptions;
  /**
   * An edit or ack skipped revisions (publications lost on the way, e.g. while the relay's Redis
   * restarted): the owner re-opens the document from `revision` (after `onRejoining`), as after
   * a reconnect, and the relay sends what was missed.
   */
  onGap?: () => void;
  /**
   * The convergence check: after a quiet moment (`checkAfterMs` idle, default 1000) with changes
   * since the last one, the binding compares the editor's text with its copy (repairing the editor
   * if they differ), then hands what it has to the owner to send as `collaboration.check`; the
   * relay answers a difference with a resync (`onResync(..., 'diverged')`).
   */
  check?: (check: ConvergenceCheck) => void;
  checkAfterMs?: number;
}

/** What the binding has at a quiet moment (`collaboration.check` without `document`). */
export interface ConvergenceCheck {
  rev: number;
  length: number;
  hash: string;
  epoch?: string;
  /** Repairs of the editor's text since the last check. */
  repairs?: number;
}

type Inbound =
  | { kind: 'edit'; op: TextOp; rev: number; clientId: string | undefined; seq: number | undefined }
  | { kind: 'ack'; rev: number; seq: number }
  | { kind: 'refused'; seq: number; code: ErrorCode; message: string }
  | { kind: 'resync'; text: string; rev: number; lastSeq: number | undefined; diverged?: boolean }
  | ({ kind: 'snapshot' } & RejoinSnapshot)
  | { kind: 'undo' | 'redo'; done: (applied: boolean) => void };

const CHECK_AFTER_MS = 1000;
/** An edit refused as over the relay's message rate (per second) goes again after this. */
const RESEND_AFTER_RATE_LIMIT_MS = 1000;
const MAX_RESET_ATTEMPTS = 5;
const silent: BindingLog = { info: () => undefined, warn: () => undefined, error: () => undefined };

export class DocumentBinding implements vscode.Disposable {
  private readonly client: ClientDocument;
  private mirror: TextDocument;
  private crlf: boolean;
  private readonly undoStack: UndoStack;
  /** Where the user is typing: keystrokes that continue it are widened so that no tie splits it (typing-run.ts). */
  private readonly typing = new TypingRun();
  /** performance.now() of the last local change (the apply queue holds remote inserts at the caret while the user types). */
  private lastLocalAt: number | undefined;
  /** When the user last made an input method's step: a remote insert at the caret waits for them longer (apply-queue.ts). */
  private lastInputMethodAt: number | undefined;
  /** Remote ops, acks, resyncs, snapshots and undo requests in order; our edit in flight to the editor. */
  private readonly queue: ApplyQueue<Inbound>;
  private resetting = false;
  /** Between `onRejoining` and the snapshot that answers the re-open: nothing is sent. */
  private joining = false;
  private sentOnConnection = new Set<number>();
  private disposed = false;
  private wasIdle = false;
  /** A remote op reached the editor since the last length check (keystrokes alone skip it). */
  private unchecked = true;
  private readonly sendEdit: (edit: OutgoingEdit) => boolean | void;
  private readonly onGap: (() => void) | undefined;
  private readonly sendCheck: ((check: ConvergenceCheck) => void) | undefined;
  private readonly checkAfterMs: number;
  private checkTimer: ReturnType<typeof setTimeout> | undefined;
  /** Something changed since the last convergence check. */
  private changedSinceCheck = true;
  /** Repairs not yet reported in a check. */
  private unreportedRepairs = 0;
  private readonly log: BindingLog;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly idleEmitter = new vscode.EventEmitter<void>();
  private readonly recoverEmitter = new vscode.EventEmitter<string>();
  private readonly repairEmitter = new vscode.EventEmitter<string>();
  private readonly refuseEmitter = new vscode.EventEmitter<{ code: ErrorCode; message: string }>();
  private resendTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly textEmitter = new vscode.EventEmitter<{ op: TextOp; local: boolean }>();
  /**
   * The editor's text changed (wire op against the text before it): `local` for this user's
   * typing, undo and redo, not for remote edits. Presence moves cursors with it.
   */
  readonly onDidChangeText = this.textEmitter.event;
  /** Nothing pending: every edit acknowledged, every remote op in the editor. */
  readonly onDidBecomeIdle = this.idleEmitter.event;
  /** The editor's text was replaced by the shared text; the reason. */
  readonly onDidRecover = this.recoverEmitter.event;
  /**
   * A divergence was found and repaired: the editor differed from this binding's copy (a recovery),
   * or the copy from the relay's document (a convergence check). The reason. A bug to find.
   */
  readonly onDidRepair = this.repairEmitter.event;
  /** The relay refused one of this user's edits for good, and it was taken out of the editor: why. */
  readonly onDidRefuse = this.refuseEmitter.event;
  /** Counts, for logs and tests. */
  readonly stats = {
    localOps: 0,
    remoteOps: 0,
    /** Remote edits sent to the editor again after a local change got in first. */
    retries: 0,
    recoveries: 0,
    /** Divergences found and repaired (`onDidRepair`): recoveries and resyncs after a failed check. */
    repairs: 0,
    /** The editor's change events handled, the time spent on them (ms), and the longest one. */
    changes: 0,
    changeMs: 0,
    maxChangeMs: 0,
  };

  constructor(
    readonly document: vscode.TextDocument,
    snapshot: BindingSnapshot,
    options: DocumentBindingOptions,
  ) {
    this.sendEdit = options.send;
    this.onGap = options.onGap;
    this.sendCheck = options.check;
    this.checkAfterMs = options.checkAfterMs ?? CHECK_AFTER_MS;
    this.log = options.log ?? silent;
    this.undoStack = new UndoStack(options.undo);
    this.crlf = document.eol === vscode.EndOfLine.CRLF;
    this.queue = new ApplyQueue<Inbound>(document, {
      index: () => this.index(),
      lastLocalChange: () => this.lastLocalAt,
      lastInputMethodStep: () => this.lastInputMethodAt,
      recovering: () => this.resetting,
      process: (item) => this.handle(item),
      dropped: (item) => {
        if (item.kind === 'undo' || item.kind === 'redo') item.done(false);
      },
      pumped: () => this.checkIdle(),
      arrived: (apply, echo) => this.arrived(apply, echo),
      shareHeld: (ops, apply, caret) => this.shareHeld(ops, apply, caret),
      recover: (reason) => this.recover(reason),
      retried: () => {
        this.stats.retries++;
      },
      warn: (text) => this.log.warn(`${this.name}: ${text}`),
    });
    this.client = new ClientDocument({
      clientId: snapshot.clientId,
      revision: snapshot.rev,
      text: snapshot.text,
      nextSeq: snapshot.nextSeq,
      epoch: snapshot.epoch,
      ...(options.maxOpBytes !== undefined && { maxOpBytes: options.maxOpBytes }),
    });
    this.disposables.push(this.idleEmitter, this.recoverEmitter, this.repairEmitter, this.refuseEmitter, this.textEmitter);
    if (options.listen !== false) this.disposables.push(vscode.workspace.onDidChangeTextDocument((e) => this.onLocalChange(e)));
    // After the change event of an edit comes its caret move; any other move ends the undo group.
    this.disposables.push(vscode.window.onDidChangeTextEditorSelection((e) => this.onSelection(e)));
    const shown = toWireText(document.getText());
    this.mirror = editorMirror(shown);
    // A `\r` on the wire (from a client that sends CRLF) cannot be shown: VS Code turns it into
    // a line break. Replace it on the wire too, so that everyone converges on what editors show.
    const wire = toWireText(snapshot.text);
    if (wire !== snapshot.text) this.sendOut(this.client.applyLocal(crFix([snapshot.text])));
    if (shown !== this.client.text) this.recover('the editor does not show the shared text it was bound to');
    this.checkIdle();
  }

  /** The shared text with this user's pending edits (wire form): what the editor shows once idle. */
  get text(): string {
    return this.client.text;
  }
  /** The last revision of the shared document applied here. */
  get revision(): number {
    return this.client.revision;
  }
  get clientId(): string {
    return this.client.clientId;
  }
  /** The document's epoch on the relay: sent with edits and cursors, so that none of an older one is applied. */
  get epoch(): string | undefined {
    return this.client.epoch;
  }
  /** Nothing pending: no queued or in-flight remote edit, no unacknowledged local edit. */
  get idle(): boolean {
    return !this.disposed && this.queue.idle && !this.resetting && !this.joining && this.client.state === 'synchronized';
  }

  /** Resolves once idle (at once if idle now). */
  whenIdle(): Promise<void> {
    if (this.idle) return Promise.resolve();
    return new Promise((resolve) => {
      const listener = this.onDidBecomeIdle(() => {
        listener.dispose();
        resolve();
      });
    });
  }

  // --- From the relay (in the order they arrive) ---

  /** `collaboration.edit` from the relay: an op committed at `rev`. */
  onRemoteEdit(op: TextOp, rev: number, clientId?: string, seq?: number): void {
    this.queue.enqueue({ kind: 'edit', op, rev, clientId, seq });
  }

  /** `collaboration.ack`: this client's op `seq` was committed at `rev`. */
  onAck(rev: number, seq: number): void {
    this.queue.enqueue({ kind: 'ack', rev, seq });
  }

  /**
   * The relay refused this client's edit `seq` (an `error` naming it); `refusedEditAction` says
   * what follows. Over the message rate, it goes again a second later; if the relay is past it
   * (`EDIT_REV_TOO_NEW`) or no longer has it open, the document is opened again (`onGap`); while
   * Redis is unreachable, the reconnect the relay asks for afterwards settles it. Refused for good
   * (the document would outgrow DOCUMENT_MAX_LENGTH, this user may no longer edit, ...): the edit
   * is taken out of the editor, what was typed after it is kept and sent, and `onDidRefuse` says
   * why, so that this copy never waits for an ack that will not come.
   */
  onRefused(seq: number, code: ErrorCode, message: string): void {
    this.queue.enqueue({ kind: 'refused', seq, code, message });
  }

  /**
   * `collaboration.resync`: adopt `text` at `rev` and rebase the pending edits onto it. `diverged`:
   * a convergence check found this copy differs from the relay's (a repair).
   */
  onResync(text: string, rev: number, reason?: ResyncPayload['reason']): void {
    this.queue.enqueue({ kind: 'resync', text, rev, lastSeq: undefined, diverged: reason === 'diverged' });
  }

  /**
   * The connection was lost (or revisions skipped) and the document is being opened again: returns
   * what that `collaboration.open` carries besides `document` (`rev`, `client_id`, `epoch`, the
   * confirmed `text` and `recovery`: the relay rebuilds the document from its participants' copies
   * if it lost it). Nothing is sent until the snapshot arrives.
   */
  onRejoining(): RejoinState {
    this.joining = true;
    this.sentOnConnection = new Set();
    return this.client.rejoin();
  }

  /**
   * The snapshot answering a re-open: resends what is pending, or rebases onto it if ops were
   * missed; after a `reset` (the relay rebuilt the document) adopts the rebuilt text.
   */
  onSnapshot(snapshot: RejoinSnapshot): void {
    this.queue.enqueue({ kind: 'snapshot', ...snapshot });
  }

  // --- Undo and redo of this user's own edits ---

  /** Undoes this user's last edit group (not someone else's); false if there was none. */
  undo(): Promise<boolean> {
    return this.request('undo');
  }

  redo(): Promise<boolean> {
    return this.request('redo');
  }

  // --- From the editor ---

  /** A change of the editor's document (others are ignored): a local edit, or one of ours arriving. */
  onLocalChange(event: vscode.TextDocumentChangeEvent): void {
    if (event.document !== this.document || this.disposed) return;
    const started = performance.now();
    try {
      this.handleChange(event);
    } finally {
      const ms = performance.now() - started;
      this.stats.changes++;
      this.stats.changeMs += ms;
      this.stats.maxChangeMs = Math.max(this.stats.maxChangeMs, ms);
    }
  }

  private onSelection(event: vscode.TextEditorSelectionChangeEvent): void {
    if (event.textEditor.document !== this.document || this.disposed) return;
    const [only, ...more] = event.selections;
    const caret =
      only && more.length === 0 && only.isEmpty ? wireOffsetAt(this.index(), only.active.line, only.active.character) : undefined;
    if (!this.queue.holdCaret(caret)) this.undoStack.caretMoved(caret);
  }

  private handleChange(event: vscode.TextDocumentChangeEvent): void {
    const crlfBefore = this.crlf;
    this.crlf = event.document.eol === vscode.EndOfLine.CRLF;
    // Also fired with no changes (e.g. when the dirty state changes).
    if (event.contentChanges.length === 0 || this.resetting) return;
    let op: TextOp;
    try {
      op = changesToOp(event.contentChanges, crlfBefore, this.mirror);
    } catch (error) {
      this.recover(`a change of the editor did not fit the text it was made against (${message(error)})`);
      return;
    }
    // Our edit's echo, or what came after it: local or not, decided by VS Code's answer (apply-queue.ts).
    if (this.queue.hold(op, event.document.version, this.mirror)) {
      this.mirror.apply(op);
      return;
    }
    try {
      this.local(op, this.queue.current);
    } catch (error) {
      this.recover(`a change of the editor could not be shared (${message(error)})`);
      return;
    }
    this.checkIdle();
  }

  /**
   * Compares the editor's text with the shared one (O(n): for tests and diagnostics). On a
   * difference it recovers and returns false.
   */
  verify(): boolean {
    if (this.disposed || this.resetting) return true;
    const shown = toWireText(this.document.getText());
    if (shown === this.mirror.toString() && (this.queue.current !== undefined || shown === this.client.text)) return true;
    this.recover('the editor does not show the shared text');
    return false;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    clearTimeout(this.checkTimer);
    clearTimeout(this.resendTimer);
    this.queue.dispose();
    for (const d of this.disposables.splice(0).reverse()) d.dispose();
  }

  // --- Internals ---

  private request(kind: 'undo' | 'redo'): Promise<boolean> {
    return new Promise((done) => this.queue.enqueue({ kind, done }));
  }

  /** One queued item (the queue handles them in order, one edit in flight at a time). */
  private handle(item: Inbound): void {
    try {
      this.process(item);
    } catch (error) {
      // A relay message out of order or not fitting the text: a bug on one side or the other.
      // The owner reopens the document if it keeps happening; the editor is left as it is.
      if (error instanceof SyncError && error.code === 'REVISION_GAP' && this.onGap) {
        if (!this.joining) {
          this.log.warn(`${this.name}: ${error.message}; catching up`);
          this.onGap();
        }
        return;
      }
      this.log.error(`${this.name}: could not handle ${item.kind} (${message(error)})`);
      if (item.kind === 'undo' || item.kind === 'redo') item.done(false);
    }
  }

  private process(item: Inbound): void {
    const client = this.client;
    switch (item.kind) {
      case 'edit': {
        if (item.rev <= client.revision) return; // had it already (a catch-up overlapping live ops)
        if (this.joining && item.rev > client.revision + 1) return; // a live op overtaking the catch-up, which has it too
        if (item.clientId === client.clientId && item.seq !== undefined && client.resendPending()?.seq === item.seq) {
          // Our own op, committed while we were away: it is our ack.
          this.sendOut(client.serverAck(item.rev, item.seq));
          return;
        }
        this.stats.remoteOps++;
        const from = item.clientId !== undefined && item.seq !== undefined ? { clientId: item.clientId, seq: item.seq } : undefined;
        this.queue.start({ kind: 'remote', op: client.applyServer(item.op, item.rev, from), stale: false, failures: 0, cancelled: false });
        return;
      }
      case 'ack':
        this.sendOut(client.serverAck(item.rev, item.seq));
        return;
      case 'refused':
        this.refused(item.seq, item.code, item.message);
        return;
      case 'snapshot':
        this.joining = false;
        if (item.reset) {
          this.typing.clear();
          this.log.warn(
            `${this.name}: the relay lost this document's history and rebuilt it from its participants' copies (revision ${item.rev})`,
          );
          const { op, outgoing } = client.reset({ text: item.text, rev: item.rev, epoch: item.epoch, rebase: item.rebase });
          this.sendOut(outgoing);
          this.queue.start({ kind: 'remote', op, stale: false, failures: 0, cancelled: false });
          return;
        }
        client.endRejoin();
        if (item.rev === client.revision) {
          const pending = client.resendPending();
          if (pending && !this.sentOnConnection.has(pending.seq)) this.sendOut(pending);
          return;
        }
        this.resync(item.text, item.rev, item.lastSeq);
        return;
      case 'resync':
        if (item.diverged) this.repaired(`this copy differed from the relay's document at revision ${item.rev}; took the relay's text`);
        this.resync(item.text, item.rev, item.lastSeq);
        return;
      case 'undo':
      case 'redo': {
        const op = item.kind === 'undo' ? this.undoStack.takeUndo() : this.undoStack.takeRedo();
        if (!op) item.done(false);
        else this.queue.start({ kind: item.kind, op, stale: false, failures: 0, cancelled: false, done: item.done });
        return;
      }
    }
  }

  private refused(seq: number, code: ErrorCode, message: string): void {
    const client = this.client;
    if (client.resendPending()?.seq !== seq) return; // answered since (a late refusal of a resend)
    const action = refusedEditAction(code);
    if (action === 'wait') return;
    if (action === 'resend') {
      clearTimeout(this.resendTimer);
      this.resendTimer = setTimeout(() => {
        const pending = this.client.resendPending();
        if (pending?.seq === seq) this.sendOut(pending);
      }, RESEND_AFTER_RATE_LIMIT_MS);
      return;
    }
    if (action === 'rejoin') {
      this.log.warn(`${this.name}: the relay refused an edit (${code}); opening the document again`);
      this.onGap?.();
      return;
    }
    const result = client.refuse(seq);
    if (!result) return;
    this.typing.clear();
    this.log.warn(`${this.name}: the relay refused an edit for good (${code}: ${message}); it was taken out of the editor`);
    this.refuseEmitter.fire({ code, message });
    this.sendOut(result.outgoing);
    this.queue.start({ kind: 'remote', op: result.op, stale: false, failures: 0, cancelled: false });
  }

  private resync(text: string, rev: number, lastSeq: number | undefined): void {
    this.typing.clear();
    this.log.info(`${this.name}: ops were missed; rebasing the pending edits onto revision ${rev}`);
    const { op, outgoing } = this.client.resync(text, rev, lastSeq);
    this.sendOut(outgoing);
    this.queue.start({ kind: 'remote', op, stale: false, failures: 0, cancelled: false });
  }

  /** Our edit reached the editor (recognised by its change event, `op`). */
  private arrived(apply: Apply, op: TextOp): void {
    // `op` (the change as the editor reported it) has the same effect as `apply` in the editor.
    this.textEmitter.fire({ op, local: apply.kind !== 'remote' });
    if (apply.kind === 'remote') {
      this.typing.moved(op);
      this.unchecked = true;
      this.undoStack.transform(op);
      // The editor shows any `\r` the op inserted as a line break: share that form.
      if (withoutCr(apply.op) !== apply.op) this.sendOut(this.client.applyLocal(crFix(apply.op)));
      return;
    }
    this.typing.clear();
    this.sendOut(this.client.applyLocal(apply.op));
    if (apply.kind === 'undo') this.undoStack.undone(apply.op);
    else this.undoStack.redone(apply.op);
    apply.done?.(true);
  }

  /**
   * Shares local ops held while VS Code's answer was awaited (already in `mirror`), with `apply`
   * still in flight or not; false if one could not be shared (the binding recovers).
   */
  private shareHeld(ops: readonly TextOp[], apply: Apply | undefined, caret: { offset: number | undefined } | undefined): boolean {
    try {
      for (const op of ops) this.local(op, apply, true);
    } catch (error) {
      this.recover(`a change of the editor could not be shared (${message(error)})`);
      return false;
    }
    if (caret) this.undoStack.caretMoved(caret.offset);
    return true;
  }

  /** A local edit `op` (against `mirror`, or the text before it if `mirrored`), with `apply` of ours possibly in flight. */
  private local(op: TextOp, apply: Apply | undefined, mirrored = false): void {
    if (apply) apply.stale = true; // the document's version moved: that applyEdit will be refused
    if (isNoop(op)) return; // e.g. an EOL switch: nothing changes on the wire
    // The same effect; what the user is typing stays in one piece against concurrent inserts. (A
    // held op is already in `mirror`, with what came after it: shared as it is.)
    const shared = mirrored ? op : this.typing.widen(op, this.mirror);
    let forClient = shared;
    if (apply) {
      // The client has the remote op already; the editor had the local one first.
      if (apply.kind === 'remote') forClient = transform(shared, apply.op, 'right');
      apply.op = transform(apply.op, shared, 'left');
    }
    const outgoing = this.client.applyLocal(forClient); // throws (changing nothing) if not shareable
    this.lastLocalAt = performance.now();
    if (this.typing.isInputMethodStep(op)) this.lastInputMethodAt = this.lastLocalAt;
    this.typing.local(op);
    if (!mirrored) this.mirror.apply(op);
    this.textEmitter.fire({ op, local: true });
    this.undoStack.recordLocal(op);
    this.stats.localOps++;
    this.sendOut(outgoing);
  }

  private sendOut(edit: OutgoingEdit | undefined): void {
    if (!edit || this.joining || this.disposed) return;
    if (this.sendEdit(edit) !== false) this.sentOnConnection.add(edit.seq);
  }

  /**
   * Replaces the editor's text with the shared text, then takes the editor's text as it is then
   * (typing that landed after the replacement is a local edit). Undo history is dropped.
   */
  private recover(reason: string): void {
    if (this.disposed) return;
    this.stats.recoveries++;
    this.log.warn(`${this.name}: ${reason}; replacing the editor's text with the shared text`);
    this.repaired(reason, false);
    this.queue.cancel();
    this.recoverEmitter.fire(reason);
    if (this.resetting) return;
    this.resetting = true;
    void this.reset();
  }

  private async reset(): Promise<void> {
    for (let attempt = 0; attempt < MAX_RESET_ATTEMPTS && !this.disposed; attempt++) {
      // One replacement of the part that differs (not the whole text), so the cursor stays put.
      const crlf = this.document.eol === vscode.EndOfLine.CRLF;
      const fix = diff(toWireText(this.document.getText()), this.client.text);
      if (isNoop(fix)) break;
      const index = documentLineIndex(this.document, vscode.Position, crlf);
      const ok = await Promise.resolve(
        vscode.workspace.applyEdit(toWorkspaceEdit(this.document.uri, replacementsFor(fix, index), vscode)),
      ).catch(() => false);
      if (ok) break;
      await new Promise((resolve) => setTimeout(resolve, 20 * (attempt + 1)));
    }
    if (this.disposed) return;
    this.crlf = this.document.eol === vscode.EndOfLine.CRLF;
    const shown = toWireText(this.document.getText());
    this.mirror = editorMirror(shown);
    this.undoStack.clear();
    this.typing.clear();
    this.resetting = false;
    this.unchecked = true;
    if (shown !== this.client.text) {
      try {
        this.sendOut(this.client.applyLocal(diff(this.client.text, shown)));
      } catch (error) {
        this.log.error(`${this.name}: the editor's text cannot be shared (${message(error)}); it stays as it is`);
      }
    }
    this.queue.pump();
  }

  private index(): LineIndex {
    return documentLineIndex(this.document, vscode.Position, this.crlf);
  }

  private checkIdle(): void {
    const idle = this.idle;
    if (!idle) this.changedSinceCheck = true;
    if (idle && !this.wasIdle) {
      // A length that differs means a missed change. Cheap, but VS Code's line index updates the
      // line offsets up to the end: not after every keystroke, after remote edits.
      if (this.unchecked && wireLength(this.index()) !== this.client.length) {
        this.recover('the editor text and the shared text differ in length');
        return;
      }
      this.unchecked = false;
      this.wasIdle = true;
      this.idleEmitter.fire();
      this.scheduleCheck();
      return;
    }
    this.wasIdle = idle;
  }

  /** A divergence was found (and is being repaired): counted, logged, announced. */
  private repaired(reason: string, log = true): void {
    this.stats.repairs++;
    this.unreportedRepairs++;
    if (log) this.log.warn(`${this.name}: ${reason}`);
    this.repairEmitter.fire(reason);
  }

  private scheduleCheck(): void {
    if (!this.sendCheck || this.disposed) return;
    clearTimeout(this.checkTimer);
    this.checkTimer = setTimeout(() => this.quietCheck(), this.checkAfterMs);
  }

  /**
   * At a quiet moment: the editor against this copy (O(n), only after changes), then this copy
   * against the relay's document (its hash, sent to the owner). Busy again: the next quiet moment.
   */
  private quietCheck(): void {
    this.checkTimer = undefined;
    if (!this.idle || !this.sendCheck || (!this.changedSinceCheck && this.unreportedRepairs === 0)) return;
    if (!this.verify()) return; // repairing: checked again once idle
    const text = this.client.text;
    const repairs = this.unreportedRepairs;
    this.changedSinceCheck = false;
    this.unreportedRepairs = 0;
    this.sendCheck({
      rev: this.client.revision,
      length: text.length,
      hash: textHash(text),
      ...(this.epoch !== undefined && { epoch: this.epoch }),
      ...(repairs > 0 && { repairs }),
    });
  }

  private get name(): string {
    return this.document.uri.toString(true);
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The wire form (LF) of the editor's text as the binding last saw it, in chunks. Why a copy of
 * its own: a change event carries the inserted text but not the deleted one, and an op must carry
 * both (`{d: text}`), so the text before each change has to be at hand; VS Code's document is
 * already past the change when the event arrives, and `ClientDocument.text` builds the whole
 * string. In chunks a slice or a small edit costs about one chunk, so a keystroke in a 1 MB file
 * does not copy the file. Surrogates unchecked: it follows whatever the editor holds.
 */
function editorMirror(text: string): TextDocument {
  return new TextDocument(text, { surrogates: 'unchecked' });
}
