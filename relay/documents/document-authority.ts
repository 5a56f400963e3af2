import {
  type AckPayload,
  type CheckPayload,
  type CursorPayload,
  diffOp,
  type EditPayload,
  OtError,
  ProtocolError,
  type RecoveryPayload,
  type ResyncPayload,
  type SnapshotPayload,
  textType,
  type TextOp,
  textHash,
} from '../../protocol';
import type { CommitPublication, CommittedOp, DocumentStore } from './document-store';
import { fitted, localText, oldOps, plan, rebaseSince, replay, type RecoveryState, type RecoveryUpload } from './recovery';
import { CostBudget, cursorCost, TRANSFORM_SLICE, transformCost, yieldToEventLoop } from './transform-cost';

/**
 * An edit (or rejoin) of an epoch the document no longer has: the relay lost the document's
 * history (or the whole document) since the client last heard of it. Nothing was applied; the
 * caller closes the connection with `reconnect: true`, and the client's rejoin brings its edits back.
 */
export class DocumentLostError extends Error {
  constructor(readonly document: string) {
    super(`document "${document.slice(0, 128)}": its history was lost; the client must rejoin`);
    this.name = 'DocumentLostError';
  }
}

/**
 * What committing an op led to. `committed`: the store has published it (`announce`) with the
 * commit. `duplicate`: a resubmit of an op committed before, to be acked to its sender again.
 * `resync`: the op's base revision is older than the kept history; nothing was applied.
 */
export type CommitResult =
  | { kind: 'committed'; ack: AckPayload; committed: EditPayload }
  | { kind: 'duplicate'; ack: AckPayload }
  | { kind: 'resync'; resync: ResyncPayload };

/** What a convergence check found (`DocumentAuthority.check`). */
export type CheckResult = { kind: 'match' } | { kind: 'stale' } | { kind: 'diverged'; resync: ResyncPayload };

export interface CommitHooks {
  /**
   * The publication that announces a commit to the document's connections on every relay. The
   * store publishes it with the commit (atomically, on Redis), because only the store sees the
   * commits of every relay in one order: publishing afterwards could reorder two relays' revisions.
   */
  announce(committed: EditPayload, ack: AckPayload): CommitPublication;
  /** Runs in the document's queue when nothing new was committed: the sender alone is answered. */
  reply(result: Exclude<CommitResult, { kind: 'committed' }>): void | Promise<void>;
  /**
   * Whether the sender may spend `cost` steps of transform work now (its connection's budget,
   * transform-cost.ts); false: the op gets a resync instead. Unbounded when absent.
   */
  afford?(cost: number): boolean;
}

export interface OpenRequest {
  document: string;
  /** The text of a new document (default ''). */
  text?: string;
  /** Whether the document may be created (only the session's host may). */
  mayCreate: boolean;
  /** The revision the client has: the ops since are sent first, if still kept. */
  rev?: number;
  clientId?: string;
  /** The epoch of `rev`: if the document's is another, its history was lost and `recovery` is merged. */
  epoch?: string;
  recovery?: RecoveryPayload;
  /** Whether the client may edit (not a viewer): only then are its uploaded edits merged. */
  mayWrite?: boolean;
}

/** The answer to an open: the ops committed since the client's revision (if kept), then the snapshot. */
export interface OpenResult {
  missed: EditPayload[];
  snapshot: SnapshotPayload;
}

export interface OpenHooks {
  /**
   * Runs in the document's queue once it is known to exist, before the snapshot is read: the
   * caller subscribes the connection to the document's commits here, so that it gets every
   * commit after the snapshot (and at worst a few before it, which the client skips by revision).
   */
  join(): Promise<void>;
  send(result: OpenResult): void;
  /** The publication of a commit the open makes (merging a rejoining client's copy): as `CommitHooks.announce`. */
  announce?(committed: EditPayload, ack: AckPayload): CommitPublication;
}

export interface DocumentLimits {
  /** UTF-16 code units a document may hold. */
  maxLength: number;
  /** The most transform work one op or cursor may ask for (transform-cost.ts); a costlier op gets a resync. */
  maxTransformCost?: number;
  /** Transform work one connection may do per second (`transformBudget`). */
  transformCostPerSecond?: number;
  /** Told of each rejoin of a lost document: `rebuilt` recreated it, `reset` brought a copy to it (for `/metrics`). */
  onRecovery?: (kind: 'rebuilt' | 'reset') => void;
}

/**
 * Losing the compare-and-set means another relay committed to the document meanwhile (one relay
 * serializes its own commits), so each loss is someone's progress. Under a steady stream of
 * commits from other relays a relay can lose several times in a row (the Redis store then gives
 * it the next turn, which bounds that), hence the jittered pause after the first few losses and
 * the generous bound; a store that keeps losing beyond it is broken or overloaded: give up
 * rather than spin.
 */
const MAX_APPEND_ATTEMPTS = 50;
/** Documents whose last hash `check` keeps (one entry each, a few dozen bytes). */
const MAX_KEPT_HASHES = 10_000;
const BACKOFF_AFTER_ATTEMPTS = 3;
const MAX_BACKOFF_MS = 20;

/**
 * The relay's authority over the shared documents (central, server-ordered OT): one linear
 * history per document, commits serialized per document. An incoming op is transformed op by op
 * against the history since its base revision (`'right'`: it is not committed yet, committed text
 * goes first), checked against the document, committed at the next revision. A resubmitted op
 * (same user, client id and a seq already committed) is acked again with its revision and not
 * applied twice. Errors are `ProtocolError`s: nothing was applied.
 */
export class DocumentAuthority {
  /** The tail of each document's queue of work; removed when the queue drains. */
  private readonly queues = new Map<string, Promise<void>>();
  /**
   * The hash of each document's text at one revision (`check`): however many checks arrive, the
   * text is hashed once per revision. Bounded: the oldest entries go first.
   */
  private readonly hashes = new Map<string, { epoch: string; rev: number; hash: string }>();

  constructor(
    private readonly store: DocumentStore,
    private readonly limits: DocumentLimits = { maxLength: 10_000_000 },
  ) {}

  /** The most UTF-16 code units a document may hold. */
  get maxLength(): number {
    return this.limits.maxLength;
  }

  /** A connection's budget of transform work (its `afford` hook), as the limits say. */
  transformBudget(): CostBudget {
    return new CostBudget(this.limits.transformCostPerSecond ?? Infinity);
  }

  /**
   * Joins `documentId`, creating it with `text` if it does not exist and `mayCreate`. A rejoin
   * that names an epoch the document no longer has (or that recreates it) merges the client's copy
   * into it (`recover`) and is answered with a snapshot flagged `reset`.
   */
  open(sessionId: string, userId: string, request: OpenRequest, hooks: OpenHooks): Promise<void> {
    const { document, text, mayCreate, rev, clientId, epoch } = request;
    const rejoin = rev !== undefined && clientId !== undefined && epoch !== undefined;
    return this.serialize(sessionId, document, async () => {
      if (text !== undefined && text.length > this.limits.maxLength) {
        throw new ProtocolError(
          'DOCUMENT_TOO_LARGE',
          `the text has ${text.length} code units, the limit is ${this.limits.maxLength}`,
          'payload.text',
        );
      }
      // The head first: a (re)join of an existing document does not ship its text to the store.
      let head = await this.store.head(sessionId, document);
      if (!head && mayCreate && (text !== undefined || !rejoin)) {
        // A rejoin recreates a lost document from the text the client had confirmed at `rev`: its
        // recovery starts from there (recovery.ts); a first open creates it from its initial text.
        const origin = rejoin ? { epoch, rev, history: oldOps(request.recovery) } : undefined;
        await this.store.create(sessionId, document, text ?? '', origin);
        if (rejoin) this.limits.onRecovery?.('rebuilt');
        head = await this.store.head(sessionId, document);
      }
      if (!head) throw notFound(document);
      await hooks.join();
      if (rejoin && head.epoch !== epoch) {
        this.limits.onRecovery?.('reset');
        return this.recover(sessionId, userId, request as RejoinRequest, hooks);
      }
      const snapshot = await this.store.snapshot(sessionId, document);
      if (!snapshot) throw notFound(document);
      if (rev !== undefined && rev > snapshot.rev) {
        throw new ProtocolError('EDIT_REV_TOO_NEW', `revision ${rev} is newer than the document's (${snapshot.rev})`, 'payload.rev');
      }
      // Another relay may commit between the two reads: the catch-up stops at the snapshot, and the
      // later commits reach the connection as publications, held by the hub until it has the snapshot.
      const missed =
        rev === undefined ? [] : ((await this.store.read(sessionId, document, rev)) ?? []).filter((c) => c.rev <= snapshot.rev);
      const last = clientId === undefined ? undefined : await this.store.lastCommit(sessionId, document, userId, clientId);
      hooks.send({
        missed: missed.map((c) => ({ document, rev: c.rev, client_id: c.clientId, seq: c.seq, op: c.op })),
        snapshot: { document, rev: snapshot.rev, text: snapshot.text, ...(last && { last_seq: last.seq }), epoch: snapshot.epoch },
      });
    });
  }

  /**
   * Merges a rejoining client's copy into a document whose history was lost (see recovery.ts):
   * one commit (the old ops it alone had confirmed, then its pending edits, with the upload's seq),
   * then a snapshot flagged `reset` whose `rebase` turns the client's text into the snapshot's.
   * The same upload again (the answer was lost) is recognised by its seq and not merged twice.
   */
  private async recover(sessionId: string, userId: string, request: RejoinRequest, hooks: OpenHooks): Promise<void> {
    const { document, clientId, recovery } = request;
    const upload: RecoveryUpload = {
      epoch: request.epoch,
      rev: request.rev,
      clientId,
      ...(request.text !== undefined && { text: request.text }),
      ...(recovery?.outstanding && { outstanding: recovery.outstanding }),
      ...(recovery?.buffer && { buffer: recovery.buffer }),
      history: oldOps(recovery),
    };
    const mine = localText(upload);
    const seq = recovery?.seq;
    for (let attempt = 0; attempt < MAX_APPEND_ATTEMPTS; attempt++) {
      if (attempt >= BACKOFF_AFTER_ATTEMPTS) await pause(Math.random() * Math.min(MAX_BACKOFF_MS, attempt));
      const snapshot = await this.store.snapshot(sessionId, document);
      if (!snapshot) throw notFound(document);
      const [state, last] = await Promise.all([
        this.store.since(sessionId, document, 0),
        seq === undefined ? undefined : this.store.lastCommit(sessionId, document, userId, clientId),
      ]);
      if (!state) throw notFound(document);
      if (state.head.rev !== snapshot.rev || state.head.epoch !== snapshot.epoch) continue; // another relay committed in between
      const reset = (text: string, rev: number, rebase: TextOp | undefined, lastSeq?: number) =>
        hooks.send({
          missed: [],
          snapshot: {
            document,
            rev,
            text,
            epoch: snapshot.epoch,
            reset: true,
            ...(rebase && { rebase: fitted(rebase, mine, text) }),
            ...(lastSeq !== undefined && { last_seq: lastSeq }),
          },
        });
      if (seq !== undefined && last && last.seq >= seq) {
        // Merged before, and the snapshot that said so was lost with the connection.
        return reset(
          snapshot.text,
          snapshot.rev,
          rebaseSince(state.ops, userId, clientId, seq) ?? (mine === undefined ? undefined : diffOp(mine, snapshot.text)),
          last.seq,
        );
      }
      if (request.mayWrite === false) {
        // A viewer's copy is not merged (it may not write): it only learns where the document is.
        return reset(snapshot.text, snapshot.rev, mine === undefined ? undefined : diffOp(mine, snapshot.text));
      }
      const merge = plan(await this.recoveryState(sessionId, document, snapshot.epoch, state.ops), snapshot.text, upload);
      if (textType.isNoop(merge.op) && merge.record.chain.length === 0 && !merge.record.outstanding) {
        return reset(snapshot.text, snapshot.rev, merge.rebase);
      }
      if (seq === undefined)
        throw new ProtocolError('VALIDATION_FAILED', 'a rejoin with edits to merge needs recovery.seq', 'payload.recovery');
      const length = state.head.length + lengthChange(merge.op);
      if (length > this.limits.maxLength) {
        throw new ProtocolError(
          'DOCUMENT_TOO_LARGE',
          `the document would have ${length} code units, the limit is ${this.limits.maxLength}`,
          'payload.recovery',
        );
      }
      const rev = snapshot.rev + 1;
      const committed: EditPayload = { document, rev, client_id: clientId, seq, op: merge.op };
      const ack: AckPayload = { document, rev, client_id: clientId, seq };
      const entry: CommittedOp = { rev, op: merge.op, userId, clientId, seq, recovery: merge.record };
      try {
        if (!(await this.store.append(sessionId, document, entry, hooks.announce?.(committed, ack)))) continue;
      } catch (error) {
        throw toProtocolError(error);
      }
      return reset(textType.apply(snapshot.text, merge.op), rev, merge.rebase, seq);
    }
    throw new Error(`document "${document}": lost the commit race ${MAX_APPEND_ATTEMPTS} times`);
  }

  /** The recovery state at the head, if the document was rebuilt by a rejoin and its history since is kept. */
  private async recoveryState(
    sessionId: string,
    document: string,
    epoch: string,
    ops: CommittedOp[] | undefined,
  ): Promise<RecoveryState | undefined> {
    if (!ops || (ops[0] !== undefined && ops[0].rev !== 1)) return undefined;
    const origin = await this.store.origin(sessionId, document, epoch);
    if (!origin) return undefined;
    try {
      return replay(origin, ops);
    } catch {
      return undefined; // records that do not fit together: merge by text
    }
  }

  /**
   * Commits `edit` from `userId`; the store publishes `hooks.announce(...)` with the commit. A
   * resubmit or a resync is answered by `hooks.reply`, in the document's queue: ordered with the
   * commits this relay makes.
   */
  commit(sessionId: string, userId: string, edit: EditPayload, hooks: CommitHooks): Promise<CommitResult> {
    return this.serialize(sessionId, edit.document, async () => {
      const result = await this.commitNow(sessionId, userId, edit, hooks);
      if (result.kind !== 'committed') await hooks.reply(result);
      return result;
    });
  }

  /**
   * Brings a cursor made at `cursor.rev` to the head revision: its selections move through the
   * ops committed since by others (the sender's own were already in its text when it placed
   * the cursor). A cursor without a revision is only kept within the document. Undefined when
   * the history since is no longer kept: the next cursor update will do.
   */
  cursor(
    sessionId: string,
    userId: string,
    cursor: CursorPayload,
    publish: (cursor: CursorPayload) => Promise<void>,
    afford: (cost: number) => boolean = () => true,
  ): Promise<void> {
    return this.serialize(sessionId, cursor.document, async () => {
      // Without a revision no history is needed (a base past the head reads none).
      const state = await this.store.since(sessionId, cursor.document, cursor.rev ?? Infinity);
      if (!state) throw notFound(cursor.document);
      const { head } = state;
      if (cursor.epoch !== undefined && cursor.epoch !== head.epoch) return; // of a lost epoch: the next one will do
      const base = cursor.rev ?? head.rev;
      if (base > head.rev)
        throw new ProtocolError('EDIT_REV_TOO_NEW', `revision ${base} is newer than the document's (${head.rev})`, 'payload.rev');
      const history = cursor.rev === undefined ? [] : state.ops;
      if (!history) return;
      const cost = cursorCost(cursor.selections.length, history);
      if (cost > this.maxTransformCost || !afford(cost)) {
        throw new ProtocolError(
          'TRANSFORM_TOO_COSTLY',
          `moving ${cursor.selections.length} selections through ${history.length} revisions costs more than this connection may spend now`,
          'payload.rev',
        );
      }
      const clamp = (n: number) => Math.min(n, head.length);
      const selections = cursor.selections.map((s) => {
        let moved = { anchor: s.anchor, head: s.head };
        for (const committed of history) if (committed.userId !== userId) moved = textType.transformSelection(moved, committed.op);
        return { anchor: clamp(moved.anchor), head: clamp(moved.head) };
      });
      await publish({ document: cursor.document, rev: head.rev, selections });
    });
  }

  /**
   * The convergence check (`collaboration.check`): compares what a client believes the document is
   * at `check.rev` with the document. `diverged` (with the text to adopt) if it differs; `stale` if
   * the document is at another revision or epoch (nothing to compare: the client checks again at
   * its next quiet moment); `match` otherwise. Costs a head read, and a hash of the text once per
   * revision however many clients check it.
   */
  check(sessionId: string, check: CheckPayload): Promise<CheckResult> {
    const { document } = check;
    return this.serialize(sessionId, document, async (): Promise<CheckResult> => {
      const head = await this.store.head(sessionId, document);
      if (!head) throw notFound(document);
      if (head.rev !== check.rev || (check.epoch !== undefined && check.epoch !== head.epoch)) return { kind: 'stale' };
      const key = `${sessionId}\u0000${document}`;
      const known = this.hashes.get(key);
      const current = known?.rev === head.rev && known.epoch === head.epoch ? known.hash : undefined;
      if (current === check.hash && head.length === check.length) return { kind: 'match' };
      // Not hashed at this revision yet, or a difference: the text is needed either way.
      const snapshot = await this.store.snapshot(sessionId, document);
      if (!snapshot || snapshot.rev !== head.rev) return { kind: 'stale' }; // another relay committed in between
      const text = snapshot.text;
      const hash = current ?? textHash(text);
      if (current === undefined) {
        this.hashes.delete(key);
        this.hashes.set(key, { epoch: snapshot.epoch, rev: snapshot.rev, hash });
        if (this.hashes.size > MAX_KEPT_HASHES) this.hashes.delete(this.hashes.keys().next().value!);
      }
      if (hash === check.hash && head.length === check.length) return { kind: 'match' };
      return { kind: 'diverged', resync: { document, rev: head.rev, text, reason: 'diverged' } };
    });
  }

  private async commitNow(sessionId: string, userId: string, edit: EditPayload, hooks: CommitHooks): Promise<CommitResult> {
    const { document, client_id: clientId, seq } = edit;
    for (let attempt = 0; attempt < MAX_APPEND_ATTEMPTS; attempt++) {
      if (attempt >= BACKOFF_AFTER_ATTEMPTS) await pause(Math.random() * Math.min(MAX_BACKOFF_MS, attempt));
      // Both at once (one round trip on Redis): the shorter the time between reading the head and
      // appending, the less often another relay commits in between.
      const [state, last] = await Promise.all([
        this.store.since(sessionId, document, edit.rev),
        this.store.lastCommit(sessionId, document, userId, clientId),
      ]);
      // An op of an epoch the document no longer has is never applied: its base means nothing here.
      if (!state) throw edit.epoch === undefined ? notFound(document) : new DocumentLostError(document);
      const { head, ops: history } = state;
      if (edit.epoch !== undefined && edit.epoch !== head.epoch) throw new DocumentLostError(document);
      if (last && seq <= last.seq) return { kind: 'duplicate', ack: { document, rev: last.rev, client_id: clientId, seq: last.seq } };
      if (edit.rev > head.rev) {
        throw new ProtocolError(
          'EDIT_REV_TOO_NEW',
          `the op is based on revision ${edit.rev}, the document is at ${head.rev}`,
          'payload.rev',
        );
      }
      let op: TextOp = edit.op;
      try {
        textType.checkOp(op);
        op = textType.normalize(op);
      } catch (error) {
        throw toProtocolError(error);
      }
      if (!history) return this.resync(sessionId, document, 'history_trimmed');
      // Refused before any of the work is done (transform-cost.ts): the sender adopts the head
      // text instead, which costs the relay a copy of the text, paced to the sender's reading.
      const cost = transformCost(op.length, history);
      if (cost > this.maxTransformCost || !(hooks.afford?.(cost) ?? true)) return this.resync(sessionId, document, 'too_costly');
      const rev = head.rev + 1;
      const ack: AckPayload = { document, rev, client_id: clientId, seq };
      let committed: EditPayload;
      try {
        let slice = 0;
        for (const c of history) {
          slice += op.length + c.op.length;
          op = textType.transform(op, c.op, 'right');
          if (slice >= TRANSFORM_SLICE) {
            slice = 0;
            await yieldToEventLoop();
          }
        }
        const length = head.length + lengthChange(op);
        if (length > this.limits.maxLength) {
          throw new ProtocolError(
            'DOCUMENT_TOO_LARGE',
            `the document would have ${length} code units, the limit is ${this.limits.maxLength}`,
            'payload.op',
          );
        }
        committed = { document, rev, client_id: clientId, seq, op };
        if (!(await this.store.append(sessionId, document, { rev, op, userId, clientId, seq }, hooks.announce(committed, ack)))) continue;
      } catch (error) {
        throw toProtocolError(error);
      }
      return { kind: 'committed', ack, committed };
    }
    throw new Error(`document "${document}": lost the commit race ${MAX_APPEND_ATTEMPTS} times`);
  }

  private get maxTransformCost(): number {
    return this.limits.maxTransformCost ?? Infinity;
  }

  /** The answer to an op that is not applied: the document as it is now, to adopt and rebase onto. */
  private async resync(sessionId: string, document: string, reason: ResyncPayload['reason']): Promise<CommitResult> {
    const snapshot = await this.store.snapshot(sessionId, document);
    if (!snapshot) throw notFound(document);
    return { kind: 'resync', resync: { document, rev: snapshot.rev, text: snapshot.text, reason } };
  }

  private serialize<T>(sessionId: string, documentId: string, task: () => Promise<T>): Promise<T> {
    const key = `${sessionId}\u0000${documentId}`;
    const previous = this.queues.get(key);
    // An idle document runs its task at once (no extra turn of the microtask queue).
    const run = previous ? previous.then(task) : task();
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(key, tail);
    void tail.then(() => {
      if (this.queues.get(key) === tail) this.queues.delete(key);
    });
    return run;
  }
}

/** How many code units the op adds (negative: removes); whether it fits is the store's check. */
export function lengthChange(op: TextOp): number {
  let change = 0;
  for (const c of op) {
    if (typeof c === 'string') change += c.length;
    else if (typeof c === 'object') change -= c.d.length;
  }
  return change;
}

type RejoinRequest = OpenRequest & { rev: number; clientId: string; epoch: string };

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function notFound(document: string): ProtocolError {
  return new ProtocolError('DOCUMENT_NOT_FOUND', `the session has no document "${document.slice(0, 128)}"`, 'payload.document');
}

/** An `OtError` becomes the wire error of the same code, pointing at the op. */
function toProtocolError(error: unknown): unknown {
  if (!(error instanceof OtError)) return error;
  const path = error.component === undefined ? 'payload.op' : `payload.op[${error.component}]`;
  return new ProtocolError(error.code, error.message, path);
}
