import type { TextOp } from '../../protocol';

/** One committed op: the document went from `rev - 1` to `rev` by applying `op`. */
export interface CommittedOp {
  rev: number;
  op: TextOp;
  /** Who committed it: the dedupe key is (user, client id), so one user cannot poison another's. */
  userId: string;
  clientId: string;
  seq: number;
}

export interface DocumentHead {
  /** The current revision (0: created, nothing committed). */
  rev: number;
  /** The oldest base revision whose history is still kept: `read(fromRev)` works for fromRev >= this. */
  oldestRev: number;
  /** The text's length in UTF-16 code units. */
  length: number;
}

export interface DocumentSnapshot {
  rev: number;
  text: string;
}

/** The last op of one (user, client id) committed to a document, for acking resubmits. */
export interface LastCommit {
  seq: number;
  rev: number;
}

/**
 * Storage of the shared documents (ShareDB's model, shaped so that Redis can back it later):
 * per document of a session, a snapshot at the head revision and a bounded history of committed
 * ops. Ordering is the caller's job (`DocumentAuthority` serializes per document); `append` is a
 * compare-and-set on the revision so that several relays on one store cannot both commit a rev.
 */
export interface DocumentStore {
  /** Creates the document at revision 0 with `text`; false if it exists already (nothing changes). */
  create(sessionId: string, documentId: string, text: string): Promise<boolean>;
  /** Undefined if the document does not exist. */
  head(sessionId: string, documentId: string): Promise<DocumentHead | undefined>;
  snapshot(sessionId: string, documentId: string): Promise<DocumentSnapshot | undefined>;
  /**
   * The ops committed after `fromRev` (exclusive), oldest first; undefined if the document does
   * not exist or that part of the history is no longer kept.
   */
  read(sessionId: string, documentId: string, fromRev: number): Promise<CommittedOp[] | undefined>;
  /**
   * Commits `entry` (its `rev` must be head + 1) and records it as its client's last commit. False
   * if the head moved (lost a race: read again and transform). Throws the `OtError` of the op if it
   * does not apply to the snapshot, and then changes nothing.
   */
  append(sessionId: string, documentId: string, entry: CommittedOp): Promise<boolean>;
  /**
   * Someone still has the document open: keep it. A document that is neither touched nor used
   * for the store's idle timeout is dropped (with its history and dedupe records).
   */
  touch(sessionId: string, documentId: string): Promise<void>;
  /** The last commit of `clientId` by `userId` to the document, if it is known. */
  lastCommit(sessionId: string, documentId: string, userId: string, clientId: string): Promise<LastCommit | undefined>;
  close(): Promise<void>;
}
