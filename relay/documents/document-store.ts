import type { TextOp } from '../../protocol';
import type { BrokerMessage } from '../broker/broker';

/** One committed op: the document went from `rev - 1` to `rev` by applying `op`. */
export interface CommittedOp {
  rev: number;
  op: TextOp;
  /** Who committed it: the dedupe key is (user, client id), so one user cannot poison another's. */
  userId: string;
  clientId: string;
  seq: number;
  /** Set on the commit that merged a rejoining client's copy into a rebuilt document (recovery.ts). */
  recovery?: RecoveryRecord;
}

/** An op of a lost epoch, as a rejoining client uploaded it: the old text went from `rev - 1` to `rev`. */
export interface OldOp {
  rev: number;
  op: TextOp;
  clientId?: string;
  seq?: number;
}

/**
 * How a recovery commit was made, kept with it so that a later recovery can replay the epoch's
 * history (recovery.ts `replay`): which old ops it brought in and what the rejoining client had.
 */
export interface RecoveryRecord {
  /** The lost epoch the client came from, and the revision of it the client had. */
  from: { epoch: string; rev: number };
  /**
   * Ops of that epoch this commit brought in (consecutive revisions, oldest first); `skipped`:
   * already in the document through another participant's pending edits, not applied again.
   */
  chain: Array<OldOp & { skipped?: true }>;
  /**
   * The client's op that was sent and not acknowledged (now part of `pending`), and the text it
   * inserts (`inserted`; absent in records of earlier relays): an old op of that identity is this
   * op only if it inserts the same text (recovery.ts `isCommitOf`).
   */
  outstanding?: { clientId: string; seq: number; inserted?: string };
  /** The client's pending edits as committed: the commit's op is the chain's ops, then this. */
  pending: TextOp;
  /** What the client was told (its text as of the rejoin -> the text after this commit). */
  rebase: TextOp;
}

/**
 * A document that a rejoin recreated after its history was lost: its revision 0 is the text the
 * client had confirmed at `rev` of `epoch`, and `history` the last ops of that epoch it had.
 */
export interface RecoveryOrigin {
  epoch: string;
  rev: number;
  history: OldOp[];
}

export interface DocumentHead {
  /** The current revision (0: created, nothing committed). */
  rev: number;
  /** The oldest base revision whose history is still kept: `read(fromRev)` works for fromRev >= this. */
  oldestRev: number;
  /** The text's length in UTF-16 code units. */
  length: number;
  /** The document's incarnation: random per `create`, so a document lost and created again is another. */
  epoch: string;
}

export interface DocumentSnapshot {
  rev: number;
  text: string;
  epoch: string;
}

/** The last op of one (user, client id) committed to a document, for acking resubmits. */
export interface LastCommit {
  seq: number;
  rev: number;
}

/**
 * The broker publication that announces a commit (the edit for the others, the ack as the
 * sender's echo), handed to `append` so that the store publishes it with the commit.
 */
export interface CommitPublication {
  /** The broker channel (the hub's channel of the document). */
  channel: string;
  message: BrokerMessage;
}

/**
 * What a commit starts from (`DocumentStore.commitBase`): the head, the ops since a revision and
 * the last commits of the clients, as this relay knows them.
 */
export interface CommitBase {
  head: DocumentHead;
  /** The ops committed after the `from` asked for, up to `head`, oldest first; undefined if not kept. */
  ops: CommittedOp[] | undefined;
  /** The last commit of (user, client id) as this relay knows it: the store's may be newer (its commit checks that one). */
  lastCommit(userId: string, clientId: string): LastCommit | undefined;
}

/** Thrown by `DocumentStore.commit`: the op of `entries[index]` does not apply (`cause`: its `OtError`); nothing was committed. */
export class EntryRejectedError extends Error {
  constructor(
    readonly index: number,
    override readonly cause: unknown,
  ) {
    super(`the op of entry ${index} does not apply: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'EntryRejectedError';
  }
}

/**
 * Storage of the shared documents (ShareDB's model): per document of a session, a snapshot at
 * the head revision and a bounded history of committed ops. Ordering within a relay is the
 * caller's job (`DocumentAuthority` serializes per document); `append` is a compare-and-set on
 * the revision so that several relays on one store cannot both commit a rev.
 */
export interface DocumentStore {
  /**
   * Creates the document at revision 0 with `text` and a new epoch; false if it exists already
   * (nothing changes). `origin`: it is recreated from a rejoining client's copy (kept for `origin`).
   * Throws the ProtocolError TOO_MANY_DOCUMENTS if the session has as many as the store allows.
   */
  create(sessionId: string, documentId: string, text: string, origin?: RecoveryOrigin): Promise<boolean>;
  /**
   * The document lost its revisions after `from`, its head (a Redis failover lost what the master
   * had not yet passed on to its replica; clients that had them say so): a new epoch starts at
   * revision 0 with `from`'s text, recreated as a rejoin recreates a lost document (`origin`: of
   * `from`'s epoch and revision, with the last ops kept before it), so that the participants'
   * rejoins merge what they had past it (recovery.ts). `notice` is published with it, on the
   * document's channel before any commit of the new epoch. False if the head is no longer `from`
   * (nothing changed).
   */
  fork(sessionId: string, documentId: string, from: DocumentSnapshot, origin: RecoveryOrigin, notice?: CommitPublication): Promise<boolean>;
  /**
   * The newest revision of `head`'s epoch this store instance has seen committed, if it is past
   * `head.rev` (as read from the store): the store lost the revisions since (a failover), and the
   * authority forks the document (`DocumentAuthority.forkLost`) before anyone commits at those
   * revision numbers again. Undefined otherwise, and always for a store that cannot lose them.
   */
  seenPast(sessionId: string, documentId: string, head: { epoch: string; rev: number }): number | undefined;
  /** The `origin` the document was created with, if it is still the incarnation `epoch`. */
  origin(sessionId: string, documentId: string, epoch: string): Promise<RecoveryOrigin | undefined>;
  /** Undefined if the document does not exist. */
  head(sessionId: string, documentId: string): Promise<DocumentHead | undefined>;
  snapshot(sessionId: string, documentId: string): Promise<DocumentSnapshot | undefined>;
  /**
   * The ops committed after `fromRev` (exclusive), oldest first; undefined if the document does
   * not exist or that part of the history is no longer kept.
   */
  read(sessionId: string, documentId: string, fromRev: number): Promise<CommittedOp[] | undefined>;
  /**
   * The head and the ops committed after `fromRev` up to it, as of one moment (one round trip on
   * Redis: what a commit needs, read at once, so that another relay has less time to commit in
   * between). `ops` as `read` has them; undefined if the document does not exist.
   */
  since(
    sessionId: string,
    documentId: string,
    fromRev: number,
  ): Promise<{ head: DocumentHead; ops: CommittedOp[] | undefined } | undefined>;
  /**
   * Commits `entry` (its `rev` must be head + 1) and records it as its client's last commit. False
   * if the head moved or the entry's (user, client id, seq) is already committed (lost a race: read
   * again and transform, or ack). Throws the `OtError` of the op if it does not apply to the
   * snapshot, and then changes nothing.
   *
   * `publication`, if given, is published iff the entry is committed, and the publications of a
   * document are published in revision order, whichever relay committed them. Publishing after
   * `append` returned would not do: two relays committing revisions 5 and 6 could publish them
   * in the other order, and a client on a third relay would see a gap. (Memory: published right
   * after the commit, within the one relay's per-document queue. Redis: by the commit script.)
   * Publishing is at most once, like the broker: a commit whose publication a relay missed is
   * caught up by rejoining (`collaboration.open` with the revision the client has).
   */
  append(sessionId: string, documentId: string, entry: CommittedOp, publication?: CommitPublication): Promise<boolean>;
  /**
   * What committing ops based on `from` or later needs, as `since` and `lastCommit` would have it,
   * but from this relay's copy of the document where it has one, without a round trip: the hot
   * path of a commit. That copy may be behind the store (another relay committed since), never
   * wrong: a `commit` built on a copy that is behind returns false and catches the copy up, so
   * that the next `commitBase` has what was missing. `fresh`: read from the store (an op based on
   * a revision or epoch the copy does not know yet). Undefined if the document does not exist.
   */
  commitBase(sessionId: string, documentId: string, from: number, fresh?: boolean): Promise<CommitBase | undefined>;
  /**
   * `append` for several entries at once (a group commit): consecutive revisions from head + 1,
   * committed all or none, and `publications` (one per entry, or none) published with them, in
   * revision order, as `append` publishes. False if the head moved or an entry's (user, client id,
   * seq) is committed already: nothing changed, and the next `commitBase` knows why. Throws
   * `EntryRejectedError` naming the first entry whose op does not apply, and then changes nothing.
   */
  commit(
    sessionId: string,
    documentId: string,
    entries: readonly CommittedOp[],
    publications?: readonly CommitPublication[],
  ): Promise<boolean>;
  /**
   * Another relay that commits this document for the others (it holds the document's commit
   * lease, as this relay's last commit of it learned, recently enough to trust): this relay
   * forwards its clients' edits there (commit-forwarding.ts), so that the document's commits are
   * made in one relay's groups instead of racing each other. Undefined: this relay, no one known,
   * or a store without leases (memory: there is one relay). Advisory: a commit made anywhere else
   * is as safe as ever.
   */
  commitHome?(sessionId: string, documentId: string): string | undefined;
  /**
   * Edits this relay forwarded to `home` (its `commitHome`) were committed there: the holder
   * renewed its lease, as a commit here would have learned. `concurrent`: others' commits landed
   * between an edit's base revision and its own, so a commit here would have raced them; forwarding
   * goes on while that keeps happening, as it would while commits here kept losing races.
   */
  committedAtHome?(sessionId: string, documentId: string, home: string, concurrent: boolean): void;
  /**
   * Someone still has the document open: keep it. A document that is neither touched nor used
   * for the store's idle timeout is dropped (with its history and dedupe records).
   */
  touch(sessionId: string, documentId: string): Promise<void>;
  /** The last commit of `clientId` by `userId` to the document, if it is known. */
  lastCommit(sessionId: string, documentId: string, userId: string, clientId: string): Promise<LastCommit | undefined>;
  close(): Promise<void>;
}
