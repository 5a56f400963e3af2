import {
  type AckPayload,
  type CursorPayload,
  type EditPayload,
  OtError,
  ProtocolError,
  type ResyncPayload,
  type SnapshotPayload,
  textType,
  type TextOp,
} from '../../protocol';
import type { CommitPublication, DocumentStore } from './document-store';

/**
 * What committing an op led to. `committed`: the store has published it (`announce`) with the
 * commit. `duplicate`: a resubmit of an op committed before, to be acked to its sender again.
 * `resync`: the op's base revision is older than the kept history; nothing was applied.
 */
export type CommitResult =
  | { kind: 'committed'; ack: AckPayload; committed: EditPayload }
  | { kind: 'duplicate'; ack: AckPayload }
  | { kind: 'resync'; resync: ResyncPayload };

export interface CommitHooks {
  /**
   * The publication that announces a commit to the document's connections on every relay. The
   * store publishes it with the commit (atomically, on Redis), because only the store sees the
   * commits of every relay in one order: publishing afterwards could reorder two relays' revisions.
   */
  announce(committed: EditPayload, ack: AckPayload): CommitPublication;
  /** Runs in the document's queue when nothing new was committed: the sender alone is answered. */
  reply(result: Exclude<CommitResult, { kind: 'committed' }>): void | Promise<void>;
}

export interface OpenRequest {
  document: string;
  /** The text of a new document (default ''). */
  text?: string;
  /** Whether the document may be created (a host or editor). */
  mayCreate: boolean;
  /** The revision the client has: the ops since are sent first, if still kept. */
  rev?: number;
  clientId?: string;
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
}

export interface DocumentLimits {
  /** UTF-16 code units a document may hold. */
  maxLength: number;
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

  constructor(
    private readonly store: DocumentStore,
    private readonly limits: DocumentLimits = { maxLength: 10_000_000 },
  ) {}

  /** The most UTF-16 code units a document may hold. */
  get maxLength(): number {
    return this.limits.maxLength;
  }

  /** Joins `documentId`, creating it with `text` if it does not exist and `mayCreate`. */
  open(sessionId: string, userId: string, request: OpenRequest, hooks: OpenHooks): Promise<void> {
    const { document, text = '', mayCreate, rev, clientId } = request;
    return this.serialize(sessionId, document, async () => {
      if (mayCreate) {
        if (text.length > this.limits.maxLength) {
          throw new ProtocolError('DOCUMENT_TOO_LARGE', `the text has ${text.length} code units, the limit is ${this.limits.maxLength}`, 'payload.text');
        }
        await this.store.create(sessionId, document, text);
      }
      if (!(await this.store.head(sessionId, document))) throw notFound(document);
      await hooks.join();
      const snapshot = await this.store.snapshot(sessionId, document);
      if (!snapshot) throw notFound(document);
      if (rev !== undefined && rev > snapshot.rev) {
        throw new ProtocolError('EDIT_REV_TOO_NEW', `revision ${rev} is newer than the document's (${snapshot.rev})`, 'payload.rev');
      }
      // Another relay may commit between the two reads: the catch-up stops at the snapshot, and the
      // later commits reach the connection as publications, held by the hub until it has the snapshot.
      const missed = rev === undefined ? [] : ((await this.store.read(sessionId, document, rev)) ?? []).filter((c) => c.rev <= snapshot.rev);
      const last = clientId === undefined ? undefined : await this.store.lastCommit(sessionId, document, userId, clientId);
      hooks.send({
        missed: missed.map((c) => ({ document, rev: c.rev, client_id: c.clientId, seq: c.seq, op: c.op })),
        snapshot: { document, rev: snapshot.rev, text: snapshot.text, ...(last && { last_seq: last.seq }) },
      });
    });
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
  cursor(sessionId: string, userId: string, cursor: CursorPayload, publish: (cursor: CursorPayload) => Promise<void>): Promise<void> {
    return this.serialize(sessionId, cursor.document, async () => {
      // Without a revision no history is needed (a base past the head reads none).
      const state = await this.store.since(sessionId, cursor.document, cursor.rev ?? Infinity);
      if (!state) throw notFound(cursor.document);
      const { head } = state;
      const base = cursor.rev ?? head.rev;
      if (base > head.rev) throw new ProtocolError('EDIT_REV_TOO_NEW', `revision ${base} is newer than the document's (${head.rev})`, 'payload.rev');
      const history = cursor.rev === undefined ? [] : state.ops;
      if (!history) return;
      const clamp = (n: number) => Math.min(n, head.length);
      const selections = cursor.selections.map((s) => {
        let moved = { anchor: s.anchor, head: s.head };
        for (const committed of history) if (committed.userId !== userId) moved = textType.transformSelection(moved, committed.op);
        return { anchor: clamp(moved.anchor), head: clamp(moved.head) };
      });
      await publish({ document: cursor.document, rev: head.rev, selections });
    });
  }

  private async commitNow(sessionId: string, userId: string, edit: EditPayload, hooks: CommitHooks): Promise<CommitResult> {
    const { document, client_id: clientId, seq } = edit;
    for (let attempt = 0; attempt < MAX_APPEND_ATTEMPTS; attempt++) {
      if (attempt >= BACKOFF_AFTER_ATTEMPTS) await pause(Math.random() * Math.min(MAX_BACKOFF_MS, attempt));
      // Both at once (one round trip on Redis): the shorter the time between reading the head and
      // appending, the less often another relay commits in between.
      const [state, last] = await Promise.all([this.store.since(sessionId, document, edit.rev), this.store.lastCommit(sessionId, document, userId, clientId)]);
      if (!state) throw notFound(document);
      const { head, ops: history } = state;
      if (last && seq <= last.seq) return { kind: 'duplicate', ack: { document, rev: last.rev, client_id: clientId, seq: last.seq } };
      if (edit.rev > head.rev) {
        throw new ProtocolError('EDIT_REV_TOO_NEW', `the op is based on revision ${edit.rev}, the document is at ${head.rev}`, 'payload.rev');
      }
      let op: TextOp = edit.op;
      try {
        textType.checkOp(op);
        op = textType.normalize(op);
      } catch (error) {
        throw toProtocolError(error);
      }
      if (!history) {
        const snapshot = await this.store.snapshot(sessionId, document);
        if (!snapshot) throw notFound(document);
        return { kind: 'resync', resync: { document, rev: snapshot.rev, text: snapshot.text, reason: 'history_trimmed' } };
      }
      const rev = head.rev + 1;
      const ack: AckPayload = { document, rev, client_id: clientId, seq };
      let committed: EditPayload;
      try {
        for (const c of history) op = textType.transform(op, c.op, 'right');
        const length = head.length + lengthChange(op);
        if (length > this.limits.maxLength) {
          throw new ProtocolError('DOCUMENT_TOO_LARGE', `the document would have ${length} code units, the limit is ${this.limits.maxLength}`, 'payload.op');
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
