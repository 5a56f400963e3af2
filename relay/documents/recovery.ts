/**
 * Rebuilding a document whose history the relay lost (Redis restarted without persistence, an
 * embedded relay restarted), from its participants' copies, with no edit lost or applied twice
 * wherever the ops allow it. Pure: no I/O, the authority reads and commits.
 *
 * Every participant had a prefix of one linear history (the lost epoch's revisions) plus its own
 * pending edits, and when the history is lost they rejoin in any order. The first one back
 * recreates the document from its confirmed text at its revision X0 (`RecoveryOrigin`). Each one
 * (the first included) then uploads its pending edits and the last ops it had confirmed, and one
 * commit merges them in:
 *
 * - the ops it confirmed past X (the newest old revision the document holds), in order: the
 *   document now holds X' = its revision (a participant that was ahead brings the others' commits
 *   it alone had seen);
 * - its pending edits, transformed past what the document holds that its copy did not.
 *
 * What makes this exact is the `bridge`: the op from the old text at X to the document's text at
 * its head (everyone's merged pending edits and new edits since the rebuild, in one op). Old ops
 * are transformed past it as committed text (`'left'`, as the old relay would have put them before
 * anything still pending); pending edits as uncommitted (`'right'`). A participant that was behind
 * X has its pending edits transformed first past the old ops it missed (kept from the uploads), as
 * its client would have: its own outstanding op among them is its ack. An old op that arrives in a
 * chain after its author's pending edits already brought it in (the author never got its ack) is
 * skipped: not applied, and the bridge says the document holds it.
 *
 * The state is not stored: `replay` rebuilds it from the origin and the epoch's history, whose
 * recovery commits carry what they merged (`RecoveryRecord`). So this needs the history since
 * revision 0 (the first `historySize` commits after the rebuild); later, or for a participant of
 * another lost epoch or without the ops needed, `fallback` merges by text (`rebaseByText`): the
 * pending edits are transformed past a replacement of the differing span, so they are kept, but
 * what the participant alone had confirmed is lost, and an edit made inside the span lands after
 * its new text (between words).
 */
import { diffOp, rebaseByText, type RecoveryPayload, textType, type TextOp } from '../../protocol';
import type { CommittedOp, OldOp, RecoveryOrigin, RecoveryRecord } from './document-store';

const { compose, invert, transform, normalize } = textType;

export interface RecoveryState {
  /** The lost epoch the document was rebuilt from. */
  readonly epoch: string;
  /** The newest revision of that epoch the document holds (with everything merged since). */
  rev: number;
  /** Turns the old text at `rev` into the document's text at the head. */
  bridge: TextOp;
  /** The old ops the relay was given (origin and chains), by revision. */
  readonly old: Map<number, OldOp>;
  /**
   * `client\0seq` of old outstanding ops already brought in through their author's pending edits,
   * with the text each inserts (undefined: not recorded, the identity alone decides).
   */
  readonly merged: Map<string, string | undefined>;
}

/** A rejoining client's copy: what `collaboration.open` carried. */
export interface RecoveryUpload {
  epoch: string;
  /** The old revision the client had. */
  rev: number;
  clientId: string;
  /** The client's confirmed text at `rev`, if sent. */
  text?: string;
  outstanding?: { seq: number; op: TextOp };
  buffer?: TextOp;
  history: OldOp[];
}

/** What one rejoin commits (`op`, possibly a no-op) and tells its client (`rebase`). */
export interface RecoveryPlan {
  op: TextOp;
  record: RecoveryRecord;
  /** The client's text as of its rejoin -> the text after `op`; undefined if it cannot be told. */
  rebase: TextOp | undefined;
  /** Merged by ops (not by text). */
  exact: boolean;
}

const identity = (clientId: string, seq: number) => `${clientId}\u0000${seq}`;

/**
 * The recovery state at the head of a rebuilt document: `history` must be every commit since
 * revision 0 (in order). Throws an `OtError` if the stored records do not fit together.
 */
export function replay(origin: RecoveryOrigin, history: readonly CommittedOp[]): RecoveryState {
  const state: RecoveryState = { epoch: origin.epoch, rev: origin.rev, bridge: [], old: new Map(), merged: new Map() };
  for (const o of origin.history) if (o.rev <= origin.rev) state.old.set(o.rev, o);
  for (const commit of history) {
    const record = commit.recovery;
    if (!record) {
      state.bridge = compose(state.bridge, commit.op);
      continue;
    }
    for (const o of record.chain) advance(state, o, o.skipped === true);
    state.bridge = compose(state.bridge, record.pending);
    if (record.outstanding && record.from.epoch === state.epoch)
      state.merged.set(identity(record.outstanding.clientId, record.outstanding.seq), record.outstanding.inserted);
  }
  return state;
}

/**
 * Brings the old op at `state.rev + 1` into the document: returns it as it applies to the head
 * (undefined if `skip`: the document holds it already, and only the bookkeeping moves).
 */
function advance(state: RecoveryState, o: OldOp, skip: boolean): TextOp | undefined {
  const committed = transform(o.op, state.bridge, 'left');
  state.bridge = transform(state.bridge, o.op, 'right');
  state.rev = o.rev;
  state.old.set(o.rev, o);
  if (!skip) return committed;
  state.bridge = compose(state.bridge, invert(committed));
  return undefined;
}

/**
 * Merges `upload` into the document at the head (`state` replayed to it; `text` its text, for the
 * fallback). Exact when `state` is of the upload's epoch and the ops it needs are there; else
 * `fallback`. `state` is advanced past the merge.
 */
export function plan(state: RecoveryState | undefined, text: string, upload: RecoveryUpload): RecoveryPlan {
  if (state && state.epoch === upload.epoch) {
    try {
      const exact = upload.rev >= state.rev ? ahead(state, upload) : behind(state, upload);
      if (exact) return exact;
    } catch {
      // Ops that do not fit together (an upload that disagrees with the others): merge by text.
    }
  }
  return fallback(text, upload, state);
}

function pendingOf(upload: RecoveryUpload): TextOp {
  return compose(normalize(upload.outstanding?.op ?? []), normalize(upload.buffer ?? []));
}

function recordOf(
  upload: RecoveryUpload,
  chain: RecoveryRecord['chain'],
  outstanding: boolean,
  pending: TextOp,
  rebase: TextOp,
): RecoveryRecord {
  return {
    from: { epoch: upload.epoch, rev: upload.rev },
    chain,
    ...(outstanding &&
      upload.outstanding && {
        outstanding: { clientId: upload.clientId, seq: upload.outstanding.seq, inserted: insertedText(upload.outstanding.op) },
      }),
    pending,
    rebase,
  };
}

/** The client had at least what the document holds of the old epoch: its newer ops come in first. */
function ahead(state: RecoveryState, upload: RecoveryUpload): RecoveryPlan | undefined {
  if (!sameAt(state, upload, state.rev)) return undefined;
  const ops = upload.history.filter((o) => o.rev > state.rev && o.rev <= upload.rev).sort((a, b) => a.rev - b.rev);
  if (ops.length !== upload.rev - state.rev || ops.some((o, i) => o.rev !== state.rev + 1 + i)) return undefined;
  const work: RecoveryState = { ...state, old: new Map(state.old) };
  let chained: TextOp = [];
  const chain: RecoveryRecord['chain'] = [];
  for (const o of ops) {
    const op = normalize(o.op);
    const skip = o.clientId !== undefined && o.seq !== undefined && wasMerged(state, o.clientId, o.seq, o.op);
    const committed = advance(work, { ...o, op }, skip);
    if (committed) chained = compose(chained, committed);
    chain.push({ ...o, op, ...(skip && { skipped: true as const }) });
  }
  const pending = pendingOf(upload);
  const merged = transform(pending, work.bridge, 'right');
  const rebase = transform(work.bridge, pending, 'left');
  commitTo(state, work, merged);
  return { op: compose(chained, merged), record: recordOf(upload, chain, true, merged, rebase), rebase, exact: true };
}

/**
 * The client had less of the old epoch than the document holds: its pending edits go past the old
 * ops it missed first (its outstanding op among them is its ack), as its client would have done.
 */
function behind(state: RecoveryState, upload: RecoveryUpload): RecoveryPlan | undefined {
  if (!sameAt(state, upload, upload.rev)) return undefined;
  let outstanding = normalize(upload.outstanding?.op ?? []);
  let buffer = normalize(upload.buffer ?? []);
  let acked = false;
  /** The client's text as of the rejoin -> its text with the missed old ops. */
  let missed: TextOp = [];
  for (let rev = upload.rev + 1; rev <= state.rev; rev++) {
    const o = state.old.get(rev);
    if (!o) return undefined;
    if (!acked && upload.outstanding && isCommitOf(o, upload.clientId, upload.outstanding)) {
      acked = true;
      outstanding = [];
      continue;
    }
    const past = transform(o.op, outstanding, 'left');
    outstanding = transform(outstanding, o.op, 'right');
    const incoming = transform(past, buffer, 'left');
    buffer = transform(buffer, past, 'right');
    missed = compose(missed, incoming);
  }
  const pending = compose(outstanding, buffer);
  const merged = transform(pending, state.bridge, 'right');
  const rebase = compose(missed, transform(state.bridge, pending, 'left'));
  const work: RecoveryState = { ...state };
  commitTo(state, work, merged);
  return { op: merged, record: recordOf(upload, [], !acked, merged, rebase), rebase, exact: true };
}

/**
 * Whether the upload's op at `rev` is the one the document holds, where both name who made it. Not
 * so when the old epoch went on in two ways from some revision: after a failover lost its last
 * revisions, before anyone said so (`DocumentAuthority.forkLost`), others committed other ops at
 * those numbers; this client had the lost ones. Its ops then do not continue the document's.
 */
function sameAt(state: RecoveryState, upload: RecoveryUpload, rev: number): boolean {
  const mine = upload.history.find((o) => o.rev === rev);
  const held = state.old.get(rev);
  if (!mine || !held || mine.clientId === undefined || held.clientId === undefined) return true;
  return mine.clientId === held.clientId && mine.seq === held.seq;
}

/**
 * Whether the old op `o` is `outstanding` (the unacknowledged edit of `clientId`) as the lost epoch
 * committed it, so that the client's edit is in the document already. The identity alone is a
 * participant's word: any upload may name any client in its history, and a guest naming the
 * host's next seq would have the host's edit dropped for an op of its own. What an op inserts is
 * kept whole by every transform, though, so the op must insert exactly what the client's edit
 * does: text nobody else has seen unless it was committed.
 */
function isCommitOf(o: OldOp, clientId: string, outstanding: { seq: number; op: TextOp }): boolean {
  return o.clientId === clientId && o.seq === outstanding.seq && insertedText(o.op) === insertedText(outstanding.op);
}

/**
 * Whether the old op `op` of that identity came into the document already through its author's
 * pending edits: the same identity (a participant's word, see `isCommitOf`) and the same inserted
 * text. A guest rejoining under the host's client id must not have the host's real op skipped.
 */
function wasMerged(state: RecoveryState, clientId: string, seq: number, op: TextOp): boolean {
  const key = identity(clientId, seq);
  if (!state.merged.has(key)) return false;
  const inserted = state.merged.get(key);
  return inserted === undefined || inserted === insertedText(op);
}

function insertedText(op: TextOp): string {
  let text = '';
  for (const c of op) if (typeof c === 'string') text += c;
  return text;
}

/** `state` becomes `work` with `merged` committed on top. */
function commitTo(state: RecoveryState, work: RecoveryState, merged: TextOp): void {
  state.rev = work.rev;
  state.bridge = compose(work.bridge, merged);
  for (const [rev, o] of work.old) state.old.set(rev, o);
}

/**
 * By text: the pending edits transformed past one replacement from the client's confirmed text to
 * the document's. The outstanding op counts as confirmed if the document is known to hold it (an
 * old op of its identity was brought in). Without the client's text there is nothing to merge its
 * edits into: nothing is committed and the rebase is unknown (the client then keeps its text and
 * sends the difference).
 */
export function fallback(text: string, upload: RecoveryUpload, state?: RecoveryState): RecoveryPlan {
  const none = (): RecoveryPlan => ({ op: [], record: recordOf(upload, [], false, [], []), rebase: undefined, exact: false });
  if (upload.text === undefined) return none();
  try {
    const sent = upload.outstanding;
    const held =
      sent !== undefined && state?.epoch === upload.epoch && [...state.old.values()].some((o) => isCommitOf(o, upload.clientId, sent));
    const confirmed = held ? textType.apply(upload.text, sent.op) : upload.text;
    const pending = held ? normalize(upload.buffer ?? []) : pendingOf(upload);
    textType.apply(confirmed, pending); // the pending edits must fit the text they were made on
    const { rebased: merged, incoming: rebase } = rebaseByText(confirmed, pending, text);
    return { op: merged, record: recordOf(upload, [], !held, merged, rebase), rebase, exact: false };
  } catch {
    return none();
  }
}

// Helpers for the authority's `recover`.

/** The ops of a rejoin's `recovery.history`, as the store keeps them. */
export function oldOps(recovery: RecoveryPayload | undefined): OldOp[] {
  return (recovery?.history ?? []).map((o) => ({
    rev: o.rev,
    op: o.op,
    ...(o.client_id !== undefined && { clientId: o.client_id }),
    ...(o.seq !== undefined && { seq: o.seq }),
  }));
}

/** The client's text as of its rejoin (confirmed + pending), if it sent its confirmed text and the edits fit. */
export function localText(upload: RecoveryUpload): string | undefined {
  if (upload.text === undefined) return undefined;
  try {
    return textType.apply(textType.apply(upload.text, upload.outstanding?.op ?? []), upload.buffer ?? []);
  } catch {
    return undefined;
  }
}

/**
 * `rebase` if it turns the client's text into `text` (it does, unless an upload contradicted
 * itself); otherwise the plain difference, so that the client always lands on the relay's text.
 */
export function fitted(rebase: TextOp, mine: string | undefined, text: string): TextOp {
  if (mine === undefined) return rebase;
  try {
    if (textType.apply(mine, rebase) === text) return rebase;
  } catch {
    // does not fit
  }
  return diffOp(mine, text);
}

/** The rebase told with the client's earlier merge, brought to the head; undefined if that commit is no longer kept. */
export function rebaseSince(ops: CommittedOp[] | undefined, userId: string, clientId: string, seq: number): TextOp | undefined {
  const at = ops?.findIndex((c) => c.recovery && c.userId === userId && c.clientId === clientId && c.seq === seq) ?? -1;
  if (at < 0) return undefined;
  let rebase = ops![at]!.recovery!.rebase;
  for (const c of ops!.slice(at + 1)) rebase = textType.compose(rebase, c.op);
  return rebase;
}
