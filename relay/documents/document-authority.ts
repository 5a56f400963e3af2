import { type AckPayload, type EditPayload, OtError, ProtocolError, type ResyncPayload, type SnapshotPayload, textType, type TextOp } from '../../protocol';
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

  constructor(private readonly store: DocumentStore) {}

  /**
   * Joins `documentId`, creating it with `text` if it does not exist and `mayCreate`. Runs in the
   * document's queue, so that every op committed after the snapshot is published after it.
   */
  open(sessionId: string, userId: string, request: OpenRequest, send: (result: OpenResult) => void): Promise<void> {
    const { document, text = '', mayCreate, rev, clientId } = request;
    return this.serialize(sessionId, document, async () => {
      if (mayCreate) await this.store.create(sessionId, document, text);
      const snapshot = await this.store.snapshot(sessionId, document);
      if (!snapshot) throw new ProtocolError('DOCUMENT_NOT_FOUND', `the session has no document "${document.slice(0, 128)}"`, 'payload.document');
      if (rev !== undefined && rev > snapshot.rev) {
        throw new ProtocolError('EDIT_REV_TOO_NEW', `revision ${rev} is newer than the document's (${snapshot.rev})`, 'payload.rev');
      }
      const missed = rev === undefined ? [] : ((await this.store.read(sessionId, document, rev)) ?? []);
      const last = clientId === undefined ? undefined : await this.store.lastCommit(sessionId, document, userId, clientId);
      send({
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

  private async commitNow(sessionId: string, userId: string, edit: EditPayload): Promise<CommitResult> {
    const { document, client_id: clientId, seq } = edit;
    for (let attempt = 0; attempt < MAX_APPEND_ATTEMPTS; attempt++) {
      const head = await this.store.head(sessionId, document);
      if (!head) throw new ProtocolError('DOCUMENT_NOT_FOUND', `the session has no document "${document.slice(0, 128)}"`, 'payload.document');
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
      const history = await this.store.read(sessionId, document, edit.rev);
      if (!history) {
        const snapshot = await this.store.snapshot(sessionId, document);
        if (!snapshot) throw new ProtocolError('DOCUMENT_NOT_FOUND', undefined, 'payload.document');
        return { kind: 'resync', resync: { document, rev: snapshot.rev, text: snapshot.text, reason: 'history_trimmed' } };
      }
      const rev = edit.rev + history.length + 1;
      try {
        for (const committed of history) op = textType.transform(op, committed.op, 'right');
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
    const previous = this.queues.get(key) ?? Promise.resolve();
    const run = previous.then(task);
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

/** An `OtError` becomes the wire error of the same code, pointing at the op. */
function toProtocolError(error: unknown): unknown {
  if (!(error instanceof OtError)) return error;
  const path = error.component === undefined ? 'payload.op' : `payload.op[${error.component}]`;
  return new ProtocolError(error.code, error.message, path);
}
