/**
 * The client side of central, server-ordered OT (Jupiter / ot.js style) for one document: the
 * state machine Synchronized / AwaitingConfirm / AwaitingWithBuffer. Shared by the extension, the
 * tests and the load generator; it does no I/O: every method returns what the caller must send
 * to the server or apply to the editor.
 *
 * - `outstanding`: the one op sent and not yet acknowledged (kept transformed so that it applies
 *   to `serverText`); the op as first sent is kept too, for `resendPending`.
 * - `buffer`: local edits made while an op is outstanding, composed into one op (applies after
 *   `outstanding`). It gets its `seq` only when it is sent, after the ack. With `maxOpBytes`, it
 *   also holds the rest of a change too large for one edit, sent piece by piece.
 * - `serverText` is the text at `revision` as the server has it; `text` is
 *   `serverText` + outstanding + buffer, what the local editor shows.
 *
 * Both texts are chunked `TextDocument`s: a keystroke in a large file costs about one chunk, not
 * a copy of the file (a string edit copies the whole string on the next read).
 *
 * Incoming server ops are transformed against the outstanding op and then the buffer, one op at a
 * time (never against a composed history), with the tie-break of `transform`: the server op is
 * committed, so it goes `'left'`; the pending ops are not, so they go `'right'`.
 */
import { apply } from './apply';
import { diffOp } from './diff';
import { rebaseByText } from './rebase-by-text';
import { TextDocument } from './text-document';
import { MIN_SPLIT_BYTES, splitOp } from './split-op';
import { invert, isNoop, normalize, type TextOp } from './text-op';
import type { CommittedEntry, RecoveryPayload } from '../schemas/collaboration';
import { compose, transform } from './transform';

export type ClientState = 'synchronized' | 'awaitingConfirm' | 'awaitingWithBuffer';

/** An op for the server: `EditPayload` without `document` (the caller adds it). */
export interface OutgoingEdit {
  /** The revision the op was made against. */
  readonly rev: number;
  readonly client_id: string;
  readonly seq: number;
  readonly op: TextOp;
}

export interface ClientDocumentOptions {
  clientId: string;
  /** The revision of `text` on the server. */
  revision: number;
  text: string;
  /** The seq of the first op this client sends (default 0); keep it across resyncs of one client id. */
  nextSeq?: number;
  /** The document's epoch (`collaboration.snapshot`'s `epoch`), if the relay said. */
  epoch?: string;
  /**
   * How many of the last committed ops to keep for a rejoin (default 100): if the relay lost the
   * document's history, they let it rebuild what this client had confirmed (see `rejoin`).
   */
  historyLimit?: number;
  /**
   * The most JSON bytes of op one edit carries (at least `MIN_SPLIT_BYTES`; default: no bound). A
   * larger change (a paste, the deletion of a large selection) is sent as several edits, one after
   * the other, each within it (`splitOp`); the rest waits as the buffer. A rejoin's upload carries
   * up to two of them (the outstanding op and the start of the buffer), so half of what fits in a
   * frame is the bound for a relay's frame limit.
   */
  maxOpBytes?: number;
}

/**
 * What a rejoin (`collaboration.open` with `rev`) sends so that the relay can rebuild the document
 * from this client's copy if it lost it: `text` is the confirmed text at `rev` (without pending
 * edits), `recovery` the pending edits and the last committed ops. See `ClientDocument.rejoin`.
 */
export interface RejoinState {
  readonly rev: number;
  readonly client_id: string;
  readonly epoch?: string;
  readonly text: string;
  readonly recovery: RecoveryPayload;
}

/** `collaboration.snapshot` flagged `reset`: the relay lost the history and rebuilt the document. */
export interface ResetSnapshot {
  readonly text: string;
  readonly rev: number;
  readonly epoch?: string;
  /** Turns the client's text as of its rejoin (confirmed + pending) into `text`. */
  readonly rebase?: TextOp;
}

/** Between `rejoin` and the snapshot that answers it. */
interface Rejoin {
  readonly state: RejoinState;
  /** Every change of the local text since `rejoin` (and the end of a buffer too large for its upload), as one op. */
  since: TextOp;
  /**
   * Only local edits since (no server op or ack): the same upload can be sent again. A server op
   * or ack means the relay answered the usual way, so no merge of this upload can have happened.
   */
  clean: boolean;
}

export const syncErrorCodes = {
  REVISION_GAP: 'A server op or ack skips revisions: ops were missed, the caller must catch up or resync.',
  REVISION_STALE: 'A server op at a revision the client already has (a duplicate); it was ignored.',
  UNEXPECTED_ACK: 'An ack arrived while no op is outstanding.',
} as const;
export type SyncErrorCode = keyof typeof syncErrorCodes;

export class SyncError extends Error {
  constructor(
    readonly code: SyncErrorCode,
    message: string = syncErrorCodes[code],
  ) {
    super(message);
    this.name = 'SyncError';
  }
}

export interface ResyncResult {
  /** Turns the local text from before `resync` into the new local text: apply it to the editor. */
  readonly op: TextOp;
  /** The rebased local edits, to send (state awaitingConfirm), or undefined if none are left. */
  readonly outgoing: OutgoingEdit | undefined;
}

export class ClientDocument {
  readonly clientId: string;
  private rev: number;
  private local: TextDocument;
  private server: TextDocument;
  /** `local` and `server` as strings, made on demand. */
  private localText: string | undefined;
  private serverString: string | undefined;
  private seq: number;
  /** The outstanding op as first sent (for `resendPending`). */
  private sent: OutgoingEdit | undefined;
  /** The outstanding op, transformed past every server op since: applies to `server`. */
  private pending: TextOp | undefined;
  /** Applies after `pending`. Only set while `pending` is. */
  private buf: TextOp | undefined;
  private epochId: string | undefined;
  /** The last committed ops, contiguous, ending at `rev` (empty after a resync or reset). */
  private committed: CommittedEntry[] = [];
  private readonly historyLimit: number;
  private readonly maxOpBytes: number | undefined;
  private rejoining: Rejoin | undefined;

  constructor(options: ClientDocumentOptions) {
    const { clientId, revision, text, nextSeq = 0, epoch, historyLimit = 100, maxOpBytes } = options;
    if (!(Number.isSafeInteger(revision) && revision >= 0))
      throw new TypeError(`revision must be a non-negative integer, got ${String(revision)}`);
    if (!(Number.isSafeInteger(nextSeq) && nextSeq >= 0))
      throw new TypeError(`nextSeq must be a non-negative integer, got ${String(nextSeq)}`);
    if (typeof text !== 'string') throw new TypeError('text must be a string');
    this.clientId = clientId;
    this.rev = revision;
    this.local = new TextDocument(text);
    this.server = new TextDocument(text);
    this.localText = text;
    this.serverString = text;
    this.seq = nextSeq;
    this.epochId = epoch;
    this.historyLimit = Math.max(0, Math.floor(historyLimit));
    if (maxOpBytes !== undefined && !(maxOpBytes >= MIN_SPLIT_BYTES))
      throw new RangeError(`maxOpBytes must be at least ${MIN_SPLIT_BYTES}, got ${String(maxOpBytes)}`);
    this.maxOpBytes = maxOpBytes;
  }

  get state(): ClientState {
    if (this.pending === undefined) return 'synchronized';
    return this.buf === undefined ? 'awaitingConfirm' : 'awaitingWithBuffer';
  }
  /** The last server revision this client has applied. */
  get revision(): number {
    return this.rev;
  }
  /** The local text (what the editor shows). */
  get text(): string {
    return (this.localText ??= this.local.toString());
  }
  /** The local text's length in UTF-16 code units (without building the string). */
  get length(): number {
    return this.local.length;
  }
  /** The text at `revision` as the server has it (without the local pending edits). */
  get serverText(): string {
    return (this.serverString ??= this.server.toString());
  }
  /** The seq the next sent op gets. */
  get nextSeq(): number {
    return this.seq;
  }
  /** The outstanding op, transformed to apply to `serverText`. */
  get outstanding(): TextOp | undefined {
    return this.pending;
  }
  get buffer(): TextOp | undefined {
    return this.buf;
  }
  /** The document's epoch as last heard from the relay (a new one after a reset). */
  get epoch(): string | undefined {
    return this.epochId;
  }
  /** The last committed ops this client applied (oldest first, ending at `revision`). */
  get history(): readonly CommittedEntry[] {
    return this.committed;
  }
  /** Whether a `rejoin` awaits its snapshot. */
  get isRejoining(): boolean {
    return this.rejoining !== undefined;
  }

  /**
   * A local edit, made against `text`. Applies it to `text` (throws an `OtError` and changes
   * nothing if it does not fit), and returns the edit to send when synchronized; otherwise it is
   * buffered and `undefined` is returned. An op that changes nothing is dropped.
   */
  applyLocal(op: TextOp): OutgoingEdit | undefined {
    this.local.check(op);
    const norm = normalize(op);
    if (isNoop(norm)) return undefined;
    this.local.apply(norm);
    this.localText = undefined;
    if (this.rejoining) this.rejoining.since = compose(this.rejoining.since, norm);
    if (this.pending === undefined) return this.send(norm);
    this.buf = this.buf === undefined ? norm : compose(this.buf, norm);
    return undefined;
  }

  /**
   * An op of another client, committed by the server at revision `rev`. Returns the op to apply
   * to the editor (it applies to `text` as it was before this call). Throws `SyncError`
   * `REVISION_GAP` if `rev` is not `revision + 1` (the caller must catch up or resync) and
   * `REVISION_STALE` if this client has `rev` already; in both cases nothing changes. `from`: who
   * committed it (`client_id` and `seq` of the edit), kept with it for a rejoin's history.
   */
  applyServer(op: TextOp, rev: number, from?: { clientId: string; seq: number }): TextOp {
    this.checkNext(rev);
    this.server.check(op);
    let incoming = normalize(op);
    let pending = this.pending;
    let buf = this.buf;
    if (pending !== undefined) {
      const p = transform(pending, incoming, 'right');
      incoming = transform(incoming, pending, 'left');
      pending = p;
      if (buf !== undefined) {
        const b = transform(buf, incoming, 'right');
        incoming = transform(incoming, buf, 'left');
        buf = b;
      }
    }
    // Both checked before either changes: a bad op leaves the client as it was.
    this.local.check(incoming);
    this.server.apply(op);
    this.local.apply(incoming);
    this.serverString = undefined;
    this.localText = undefined;
    this.pending = pending;
    this.buf = buf;
    this.rev = rev;
    this.remember({ rev, op: normalize(op), ...(from && { client_id: from.clientId, seq: from.seq }) });
    if (this.rejoining) {
      this.rejoining.since = compose(this.rejoining.since, incoming);
      this.rejoining.clean = false;
    }
    return incoming;
  }

  /**
   * The server committed the outstanding op at revision `rev`. From awaitingWithBuffer, returns
   * the buffer to send (based on `rev`, with the next seq). An ack for a revision this client
   * already has is a duplicate (the server acks a resubmitted op again) and is ignored. `seq`,
   * if given, must be the outstanding op's.
   */
  serverAck(rev: number, seq?: number): OutgoingEdit | undefined {
    if (Number.isSafeInteger(rev) && rev <= this.rev) return undefined; // duplicate ack
    if (this.pending === undefined || this.sent === undefined)
      throw new SyncError('UNEXPECTED_ACK', `ack for revision ${rev} while synchronized`);
    if (seq !== undefined && seq !== this.sent.seq) {
      throw new SyncError('UNEXPECTED_ACK', `ack for seq ${seq}, but seq ${this.sent.seq} is outstanding`);
    }
    this.checkNext(rev);
    this.server.apply(this.pending);
    this.serverString = undefined;
    this.rev = rev;
    this.remember({ rev, op: this.pending, client_id: this.clientId, seq: this.sent.seq });
    if (this.rejoining) this.rejoining.clean = false; // answered the usual way: the next rejoin uploads afresh
    this.pending = undefined;
    this.sent = undefined;
    const buf = this.buf;
    this.buf = undefined;
    return buf === undefined ? undefined : this.send(buf);
  }

  /**
   * After a reconnect: the outstanding op exactly as first sent (same `client_id`, `seq`, `rev`
   * and op), so that the server acks it again if it already committed it, or transforms it from
   * its original revision if it did not. `undefined` when nothing is outstanding.
   */
  resendPending(): OutgoingEdit | undefined {
    return this.sent;
  }

  /**
   * The server refused the outstanding op `seq` for good (the document would grow past its limit,
   * the client's role no longer allows edits, ...): nothing of it was applied, and it is dropped.
   * Returns the op that takes it out of the local text (transformed past the buffer, which is
   * kept), for the editor, and the buffer to send next, if any. `undefined` (nothing changes) if
   * `seq` is not the outstanding op's: a refusal that came late, or for another op.
   */
  refuse(seq: number): ResyncResult | undefined {
    if (this.pending === undefined || this.sent?.seq !== seq) return undefined;
    const undo = invert(this.pending);
    const buf = this.buf ?? [];
    // Both apply to the local text as it was with the refused op: one drops it, the other keeps the buffer.
    const editorOp = transform(undo, buf, 'left');
    const rest = transform(buf, undo, 'right');
    this.local.apply(editorOp);
    this.localText = undefined;
    if (this.rejoining) this.rejoining.since = compose(this.rejoining.since, editorOp);
    this.pending = undefined;
    this.sent = undefined;
    this.buf = undefined;
    return { op: editorOp, outgoing: isNoop(rest) ? undefined : this.send(rest) };
  }

  /**
   * Recovery when the server no longer has the history since `revision`: adopt `snapshot` at
   * `revision` and keep the user's pending edits.
   *
   * The pending edits (outstanding then buffer) are known exactly as one op against `serverText`.
   * What happened on the server between is not: it is approximated by one replacement, the
   * common-prefix/common-suffix diff from `serverText` to `snapshot` (never splitting a surrogate
   * pair). The pending op is transformed past that diff (`rebaseByText`) and becomes a new op
   * with a new seq. Limitation: the diff is coarse, so where remote changes and local edits
   * overlap, a local insert inside the replaced span lands just after its new text (between
   * words) and a local delete of text the span replaced is dropped; edits outside the span are
   * kept exactly.
   *
   * `lastCommittedSeq`: the last seq of this client the server committed, if it can tell. If it
   * covers the outstanding op, that op is taken to be in the snapshot already and only the buffer
   * is rebased; otherwise the outstanding op is taken as not committed.
   */
  resync(snapshot: string, revision: number, lastCommittedSeq?: number): ResyncResult {
    if (typeof snapshot !== 'string') throw new TypeError('snapshot must be a string');
    if (!(Number.isSafeInteger(revision) && revision >= 0))
      throw new TypeError(`revision must be a non-negative integer, got ${String(revision)}`);
    let base = this.serverText;
    let pending: TextOp = [];
    if (this.pending !== undefined && this.sent !== undefined) {
      if (lastCommittedSeq !== undefined && lastCommittedSeq >= this.sent.seq) base = apply(base, this.pending);
      else pending = this.pending;
      if (this.buf !== undefined) pending = compose(pending, this.buf);
    }
    // editorOp, what the editor must do: the remote change as seen after the local edits.
    const { rebased, incoming: editorOp } = rebaseByText(base, pending, snapshot);
    const local = apply(snapshot, rebased);
    this.server = new TextDocument(snapshot);
    this.serverString = snapshot;
    this.local = new TextDocument(local);
    this.localText = local;
    this.rev = revision;
    this.pending = undefined;
    this.sent = undefined;
    this.buf = undefined;
    this.committed = [];
    this.rejoining = undefined;
    return { op: editorOp, outgoing: isNoop(rebased) ? undefined : this.send(rebased) };
  }

  /**
   * Before re-opening the document (after a reconnect or a gap): what the `collaboration.open`
   * sends besides `document` (`rev`, `client_id`, `epoch`, `text`, `recovery`). If the relay kept
   * the document, it answers as usual (call `endRejoin` then); if it lost it (a new epoch), it
   * rebuilds it from what its participants upload here and answers with a snapshot flagged `reset`
   * (call `reset`).
   *
   * Reserves a seq for the commit that brings this client's pending edits back. Until the snapshot
   * comes, the same upload is returned again (a connection lost before the answer: the relay
   * recognises the upload by that seq and does not apply it twice), as long as only local edits
   * were made meanwhile; local edits made after it are kept apart and rebased by `reset`. Send
   * nothing else for the document until the snapshot.
   *
   * `maxHistory` bounds the committed ops sent (frames are limited; fewer only means that the
   * relay may have to fall back to a coarser merge).
   */
  rejoin(maxHistory = this.historyLimit): RejoinState {
    if (this.rejoining?.clean) return this.rejoining.state;
    // A buffer too large for the upload's frame goes as far as it fits; the rest counts as made
    // after the rejoin (`since`): a reset rebases it and sends it then, in pieces.
    const split = this.buf !== undefined && this.maxOpBytes !== undefined ? splitOp(this.buf, this.maxOpBytes) : undefined;
    const buffer = split ? split[0] : this.buf;
    const recovery: RecoveryPayload = {
      seq: this.seq++,
      ...(this.pending !== undefined && this.sent !== undefined && { outstanding: { seq: this.sent.seq, op: this.pending } }),
      ...(buffer !== undefined && { buffer }),
      history: this.committed.slice(Math.max(0, this.committed.length - maxHistory)),
    };
    const state: RejoinState = {
      rev: this.rev,
      client_id: this.clientId,
      ...(this.epochId !== undefined && { epoch: this.epochId }),
      text: this.serverText,
      recovery,
    };
    this.rejoining = { state, since: split ? split[1] : [], clean: true };
    return state;
  }

  /** The relay answered the rejoin as usual (same epoch): what `rejoin` kept is dropped. */
  endRejoin(): void {
    this.rejoining = undefined;
  }

  /**
   * The relay lost the document's history and rebuilt it (a snapshot flagged `reset`): `text` at
   * `rev` of the new `epoch` already holds this client's pending edits as of `rejoin` (the relay
   * committed them), and `rebase` turns the local text as of `rejoin` into `text`. Local edits made
   * since `rejoin` are rebased onto it and become the next op to send (with a new seq: the old
   * epoch's seqs mean nothing to it). Returns the op that turns the local text into the new one,
   * for the editor.
   *
   * Without a `rejoin` before (or a `rebase` that does not fit), a client with pending edits keeps
   * its local text as it is and sends the difference from `text` as one op (`diffOp`): nothing of
   * its own is lost, though a change of someone else's inside the replaced span is undone. One
   * with nothing pending (a viewer) takes `text`.
   */
  reset(snapshot: ResetSnapshot): ResyncResult {
    const { text, rev, epoch, rebase } = snapshot;
    if (typeof text !== 'string') throw new TypeError('text must be a string');
    if (!(Number.isSafeInteger(rev) && rev >= 0)) throw new TypeError(`revision must be a non-negative integer, got ${String(rev)}`);
    const before = this.text;
    const rebased = this.rejoining && rebase !== undefined ? rebaseOnto(before, text, this.rejoining.since, rebase) : undefined;
    // Without a usable rebase: a client with nothing of its own pending simply takes the relay's text.
    const own = this.pending !== undefined || (this.rejoining !== undefined && !isNoop(this.rejoining.since));
    const { local, pending, editorOp } =
      rebased ??
      (own ? { local: before, pending: diffOp(text, before), editorOp: [] } : { local: text, pending: [], editorOp: diffOp(before, text) });
    this.server = new TextDocument(text);
    this.serverString = text;
    this.local = new TextDocument(local);
    this.localText = local;
    this.rev = rev;
    this.epochId = epoch ?? this.epochId;
    this.pending = undefined;
    this.sent = undefined;
    this.buf = undefined;
    this.committed = [];
    this.rejoining = undefined;
    return { op: editorOp, outgoing: isNoop(pending) ? undefined : this.send(pending) };
  }

  /** Sends `op` (the buffer is empty): all of it, or as much as fits (`maxOpBytes`), the rest becoming the buffer. */
  private send(op: TextOp): OutgoingEdit {
    const split = this.maxOpBytes === undefined ? undefined : splitOp(op, this.maxOpBytes);
    if (split) {
      op = split[0];
      this.buf = split[1];
    }
    const edit: OutgoingEdit = { rev: this.rev, client_id: this.clientId, seq: this.seq++, op };
    this.sent = edit;
    this.pending = op;
    return edit;
  }

  private remember(entry: CommittedEntry): void {
    if (this.historyLimit === 0) return;
    this.committed.push(entry);
    if (this.committed.length > this.historyLimit) this.committed.splice(0, this.committed.length - this.historyLimit);
  }

  private checkNext(rev: number): void {
    if (!Number.isSafeInteger(rev)) throw new TypeError(`rev must be an integer, got ${String(rev)}`);
    if (rev <= this.rev) throw new SyncError('REVISION_STALE', `revision ${rev} already applied (at ${this.rev})`);
    if (rev !== this.rev + 1) throw new SyncError('REVISION_GAP', `expected revision ${this.rev + 1}, got ${rev}`);
  }
}

/**
 * `since` (local edits made after the rejoin) rebased past `rebase` (which turns the text as of the
 * rejoin into `text`); undefined if they do not fit together.
 */
function rebaseOnto(
  before: string,
  text: string,
  since: TextOp,
  rebase: TextOp,
): { local: string; pending: TextOp; editorOp: TextOp } | undefined {
  try {
    const pending = transform(since, rebase, 'right');
    const editorOp = transform(rebase, since, 'left');
    const local = apply(text, pending);
    return apply(before, editorOp) === local ? { local, pending, editorOp } : undefined;
  } catch {
    return undefined;
  }
}

/** The common-prefix/common-suffix replacement from `a` to `b` (see `diffOp`). */
export { diffOp as diff } from './diff';
