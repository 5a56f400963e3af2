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
import type { DocumentStore } from './document-store';

/** What committing an op led to: the sender is acked, or told to resync; `committed` is for the others. */
export type CommitResult =
  | { kind: 'ack'; ack: AckPayload; committed?: EditPayload }
  | { kind: 'resync'; resync: ResyncPayload };

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

/** A store that keeps losing the compare-and-set is broken or overloaded; give up rather than spin. */
const MAX_APPEND_ATTEMPTS = 10;

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
      const missed = rev === undefined ? [] : ((await this.store.read(sessionId, document, rev)) ?? []);
      const last = clientId === undefined ? undefined : await this.store.lastCommit(sessionId, document, userId, clientId);
      hooks.send({
        missed: missed.map((c) => ({ document, rev: c.rev, client_id: c.clientId, seq: c.seq, op: c.op })),
        snapshot: { document, rev: snapshot.rev, text: snapshot.text, ...(last && { last_seq: last.seq }) },
      });
    });
  }

  /**
   * Commits `edit` from `userId`. `publish` runs in the document's queue, right after the commit:
   * whatever it sends is ordered with the other commits of the document.
   */
  commit(sessionId: string, userId: string, edit: EditPayload, publish: (result: CommitResult) => Promise<void>): Promise<void> {
    return this.serialize(sessionId, edit.document, async () => publish(await this.commitNow(sessionId, userId, edit)));
  }

  /**
   * Brings a cursor made at `cursor.rev` to the head revision: its selections move through the
   * ops committed since by others (the sender's own were already in its text when it placed
   * the cursor). A cursor without a revision is only kept within the document. Undefined when
   * the history since is no longer kept: the next cursor update will do.
   */
  cursor(sessionId: string, userId: string, cursor: CursorPayload, publish: (cursor: CursorPayload) => Promise<void>): Promise<void> {
    return this.serialize(sessionId, cursor.document, async () => {
      const head = await this.store.head(sessionId, cursor.document);
      if (!head) throw notFound(cursor.document);
      const base = cursor.rev ?? head.rev;
      if (base > head.rev) throw new ProtocolError('EDIT_REV_TOO_NEW', `revision ${base} is newer than the document's (${head.rev})`, 'payload.rev');
      const history = base === head.rev ? [] : await this.store.read(sessionId, cursor.document, base);
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

  private async commitNow(sessionId: string, userId: string, edit: EditPayload): Promise<CommitResult> {
    const { document, client_id: clientId, seq } = edit;
    for (let attempt = 0; attempt < MAX_APPEND_ATTEMPTS; attempt++) {
      const head = await this.store.head(sessionId, document);
      if (!head) throw notFound(document);
      const last = await this.store.lastCommit(sessionId, document, userId, clientId);
      if (last && seq <= last.seq) return { kind: 'ack', ack: { document, rev: last.rev, client_id: clientId, seq: last.seq } };
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
      const history = edit.rev === head.rev ? [] : await this.store.read(sessionId, document, edit.rev);
      if (!history) {
        const snapshot = await this.store.snapshot(sessionId, document);
        if (!snapshot) throw notFound(document);
        return { kind: 'resync', resync: { document, rev: snapshot.rev, text: snapshot.text, reason: 'history_trimmed' } };
      }
      const rev = edit.rev + history.length + 1;
      try {
        for (const committed of history) op = textType.transform(op, committed.op, 'right');
        const length = head.length + lengthChange(op);
        if (length > this.limits.maxLength) {
          throw new ProtocolError('DOCUMENT_TOO_LARGE', `the document would have ${length} code units, the limit is ${this.limits.maxLength}`, 'payload.op');
        }
        if (!(await this.store.append(sessionId, document, { rev, op, userId, clientId, seq }))) continue;
      } catch (error) {
        throw toProtocolError(error);
      }
      return { kind: 'ack', ack: { document, rev, client_id: clientId, seq }, committed: { document, rev, client_id: clientId, seq, op } };
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
function lengthChange(op: TextOp): number {
  let change = 0;
  for (const c of op) {
    if (typeof c === 'string') change += c.length;
    else if (typeof c === 'object') change -= c.d.length;
  }
  return change;
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
