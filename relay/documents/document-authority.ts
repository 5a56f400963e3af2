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
import {
  type CommitBase,
  type CommitPublication,
  type CommittedOp,
  type DocumentStore,
  EntryRejectedError,
  type LastCommit,
  type OldOp,
} from './document-store';
import type { CommitForwarding, ForwardOutcome } from './commit-forwarding';
import { committedOpBytes } from './history-bytes';
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
  { kind: 'committed'; ack: AckPayload } | { kind: 'duplicate'; ack: AckPayload } | { kind: 'resync'; resync: ResyncPayload };

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
  /** The notice published with a fork the edit leads to (`forkLost`): the document's other connections rejoin. */
  forked?(): CommitPublication;
  /**
   * The sender's connection, if the edit may be committed by the relay that is the document's
   * home (commit-forwarding.ts): its publication reaches that connection wherever it is made.
   */
  sender?: { userId: string; connectionId: string };
  /** The edit was forwarded here by its sender's relay: it is committed here, never forwarded again. */
  forwarded?: boolean;
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
  /** The notice published with a fork the rejoin leads to (`forkLost`): the document's other connections rejoin. */
  forked?(): CommitPublication;
}

export interface DocumentLimits {
  /** UTF-16 code units a document may hold. */
  maxLength: number;
  /** The most transform work one op or cursor may ask for (transform-cost.ts); a costlier op gets a resync. */
  maxTransformCost?: number;
  /** Transform work one connection may do per second (`transformBudget`). */
  transformCostPerSecond?: number;
  /**
   * Told of each rejoin of a lost document (`rebuilt` recreated it, `reset` brought a copy to it)
   * and of each document whose last revisions were lost (`forked`), for `/metrics`.
   */
  onRecovery?: (kind: 'rebuilt' | 'reset' | 'forked') => void;
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
/** The most edits in one group commit (one store call): a bound on one Lua script's work. */
const MAX_GROUP = 32;
/** Documents whose last hash `check` keeps (one entry each, a few dozen bytes). */
const MAX_KEPT_HASHES = 10_000;
const BACKOFF_AFTER_ATTEMPTS = 3;
/**
 * A document forks (`forkLost`) at most once in this long on one relay: a fork makes every
 * participant rejoin, and a client's word that revisions were lost may be a lie. A real loss (a
 * Redis failover) happens once, and every rejoin that follows it merges into the one fork.
 */
const FORK_COOLDOWN_MS = 30_000;
/**
 * Forks one user's claims may cause in FORK_COOLDOWN_MS on one relay: a failover can take the last
 * revisions of the few documents that were being typed in at that moment, not of many.
 */
const FORK_CLAIMS_PER_USER = 3;
/** The last ops before a fork kept with it (for the rejoins of clients behind it), at most this many bytes of them. */
const FORK_HISTORY_OPS = 100;
const FORK_HISTORY_BYTES = 1024 * 1024;
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
  /** Per document, the group of edits waiting at the tail of its queue (see `commit`), if any. */
  private readonly groups = new Map<string, Group>();
  /** When each document last forked here (`forkLost`), kept for FORK_COOLDOWN_MS. */
  private readonly forks = new Map<string, number>();
  /**
   * Per sender connection, the answer to the forward of its edits under way (`forwardToHome`): its
   * next edits and its cursors wait for it, so that nothing of one connection overtakes its edit.
   */
  private readonly forwardsUnderWay = new Map<string, Promise<unknown>>();
  /** Per user whose claims forked documents here: since when, and how many (FORK_CLAIMS_PER_USER per FORK_COOLDOWN_MS). */
  private readonly claims = new Map<string, { since: number; count: number }>();

  constructor(
    private readonly store: DocumentStore,
    private readonly limits: DocumentLimits = { maxLength: 10_000_000 },
    /** With a store that has commit leases (Redis): edits go to the relay that commits their document. */
    private readonly forwarding?: CommitForwarding,
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
      // This relay saw revisions of the epoch past the store's head: the store lost them.
      const seen = this.store.seenPast(sessionId, document, head);
      if (seen !== undefined) await this.forkLost(sessionId, document, { epoch: head.epoch, rev: seen }, hooks.forked?.());
      const merge = () => {
        this.limits.onRecovery?.('reset');
        return this.recover(sessionId, userId, request as RejoinRequest, hooks);
      };
      const snapshot = await this.store.snapshot(sessionId, document);
      if (!snapshot) throw notFound(document);
      // A rejoin of another epoch: the document was lost, recreated or forked (by this relay or
      // another, even since the head was read). Its copy is merged in.
      if (rejoin && snapshot.epoch !== epoch) return merge();
      if (rev !== undefined && rev > snapshot.rev) {
        // A rejoin from past the head, same epoch: the store lost the revisions this client had
        // (a failover). The document forks (here, or on another relay meanwhile), and this
        // client's copy is merged into the new epoch.
        if (rejoin && request.mayWrite !== false) {
          await this.forkLost(sessionId, document, { epoch, rev }, hooks.forked?.(), userId);
          if ((await this.store.head(sessionId, document))?.epoch !== epoch) return merge();
        }
        // A viewer's word forks nothing (it has nothing to bring in): it is brought to the head.
        if (rejoin && request.mayWrite === false) return merge();
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

  /**
   * The store lost the revisions of `claimed.epoch` after its head, up to `claimed.rev` at least,
   * which a client had (acked or received): a Redis failover lost what the master had not yet
   * passed on. Were the document to go on in that epoch, its next commits would reuse those
   * revision numbers with other ops, and the clients that had the lost ones would diverge without
   * knowing. So it forks (`DocumentStore.fork`): a new epoch from the head's text, with `notice`
   * published so that every relay closes the document's connections, whose rejoins merge what each
   * had (the lost revisions included, from whoever had them) as after any lost history (recovery.ts).
   *
   * A client's word is all there is (the store cannot know what it lost), and a lying client
   * costs every participant of the document a rejoin: hence, on this relay, at most one fork per
   * document per FORK_COOLDOWN_MS, and FORK_CLAIMS_PER_USER per `claimant` (the user whose client
   * said so; none when this relay saw the revisions itself) whatever the documents, so that one
   * guest cannot have everyone rejoin document after document. False if it did not fork (cooldown,
   * the head moved past the claim, another epoch).
   */
  private async forkLost(
    sessionId: string,
    document: string,
    claimed: { epoch: string; rev: number },
    notice: CommitPublication | undefined,
    claimant?: string,
  ): Promise<boolean> {
    const key = `${sessionId}\u0000${document}`;
    const user = claimant === undefined ? undefined : `${sessionId}\u0000${claimant}`;
    const now = Date.now();
    dropSince(this.forks, now - FORK_COOLDOWN_MS, (at) => at);
    dropSince(this.claims, now - FORK_COOLDOWN_MS, (claims) => claims.since);
    const claims = user === undefined ? undefined : this.claims.get(user);
    if (this.forks.has(key) || (claims?.count ?? 0) >= FORK_CLAIMS_PER_USER) return false;
    const [snapshot, head] = await Promise.all([this.store.snapshot(sessionId, document), this.store.head(sessionId, document)]);
    if (!snapshot || !head || snapshot.epoch !== claimed.epoch || snapshot.rev >= claimed.rev) return false;
    const kept = (await this.store.read(sessionId, document, Math.max(head.oldestRev, snapshot.rev - FORK_HISTORY_OPS))) ?? [];
    const history: OldOp[] = [];
    let bytes = 0;
    for (const c of kept.filter((c) => c.rev <= snapshot.rev).reverse()) {
      bytes += committedOpBytes(c);
      if (bytes > FORK_HISTORY_BYTES) break;
      history.unshift({ rev: c.rev, op: c.op, clientId: c.clientId, seq: c.seq });
    }
    const forked = await this.store.fork(sessionId, document, snapshot, { epoch: snapshot.epoch, rev: snapshot.rev, history }, notice);
    if (!forked) return false;
    this.forks.set(key, now);
    if (user !== undefined) {
      if (claims) claims.count++;
      else this.claims.set(user, { since: now, count: 1 });
    }
    this.limits.onRecovery?.('forked');
    return true;
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
   *
   * Group commit: the edits of a document that arrive while its previous work is under way (on
   * Redis, a commit's round trip) wait in one group and are committed together, each at its own
   * revision, transformed as if one after another, in one store call (one Lua script and one
   * publication on Redis). An edit joins the group only while it is the last work queued, so it
   * never overtakes an open or a cursor that came before it.
   */
  commit(sessionId: string, userId: string, edit: EditPayload, hooks: CommitHooks): Promise<CommitResult> {
    const key = `${sessionId}\u0000${edit.document}`;
    return new Promise<CommitResult>((resolve, reject) => {
      const pending: PendingEdit = { userId, edit, hooks, resolve, reject };
      const waiting = this.groups.get(key);
      if (waiting && waiting.edits.length < MAX_GROUP) {
        waiting.edits.push(pending);
        return;
      }
      const group: Group = { edits: [pending], started: false };
      // Behind other work (on Redis, usually the previous group's commit), the group has been
      // gathering edits for that long already: it goes the moment that work is done. An edit to an
      // idle document waits one setImmediate, so that the edits that reach the relay in the same
      // turn of the event loop (several sockets read at once) go together. Measured on Redis, 4
      // editors one op in flight each (bench:scaleout): +26 % commits/s, -13 % CPU per commit
      // against a setImmediate for every group (which let the loop turn once more between a
      // commit's reply and the next group's script).
      const behindOtherWork = this.queues.has(key);
      void this.serialize(sessionId, edit.document, async () => {
        if (!behindOtherWork) await new Promise<void>((resolve) => setImmediate(resolve));
        group.started = true;
        if (this.groups.get(key) === group) this.groups.delete(key);
        return this.commitGroup(sessionId, edit.document, group.edits);
      });
      if (!group.started) this.groups.set(key, group);
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
    /** The sender's connection: the cursor waits for the forward of its last edit, if under way. */
    connectionId?: string,
  ): Promise<void> {
    return this.serialize(sessionId, cursor.document, async () => {
      if (connectionId !== undefined) await this.forwardsUnderWay.get(connectionId);
      // Without a revision no history is needed (a base past the head reads none). From this
      // relay's copy, with no round trip (cursors come more often than edits): a copy a commit or
      // two behind moves the cursor as far as it knows, which is all a cursor needs (receivers draw
      // it where it says, and the next one replaces it). A cursor made at a revision or epoch the
      // copy does not know yet reads the store.
      const from = cursor.rev ?? Infinity;
      let state = await this.store.commitBase(sessionId, cursor.document, from);
      const ahead = (s: CommitBase) =>
        (cursor.rev !== undefined && cursor.rev > s.head.rev) || (cursor.epoch ?? s.head.epoch) !== s.head.epoch;
      if (state && ahead(state)) state = await this.store.commitBase(sessionId, cursor.document, from, true);
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

  /**
   * Commits a group of edits (see `commit`), answering each. Built on the store's `commitBase`
   * (on Redis, the relay's copy: no read while it is current); if the store says the head moved
   * or an edit was committed already, the group is built again on what the store answered with.
   * What an edit gets other than a commit (an ack of a resubmit, a resync, an error) is only told
   * once the group's commit went through, or when there was nothing to commit: never from a try
   * that was built on a copy the store found out of date.
   */
  private async commitGroup(sessionId: string, document: string, edits: PendingEdit[]): Promise<void> {
    let live = edits;
    let fresh = false;
    let mayFork = true;
    try {
      live = await this.forwardToHome(sessionId, document, live);
      for (let attempt = 0; live.length > 0; attempt++) {
        if (attempt >= MAX_APPEND_ATTEMPTS) throw new Error(`document "${document}": lost the commit race ${MAX_APPEND_ATTEMPTS} times`);
        if (attempt >= BACKOFF_AFTER_ATTEMPTS) await pause(Math.random() * Math.min(MAX_BACKOFF_MS, attempt));
        const from = Math.min(...live.map((p) => p.edit.rev));
        const base = await this.store.commitBase(sessionId, document, from, fresh);
        if (!base) {
          // An op of an epoch the document no longer has is never applied: its base means nothing here.
          for (const p of live) p.reject(p.edit.epoch === undefined ? notFound(document) : new DocumentLostError(document));
          return;
        }
        const { head } = base;
        // This relay saw revisions of the epoch past the store's head: the store lost them, and
        // the document forks before anyone commits at their numbers again (see `forkLost`).
        const seen = mayFork ? this.store.seenPast(sessionId, document, head) : undefined;
        if (seen !== undefined) {
          if (!(await this.forkLost(sessionId, document, { epoch: head.epoch, rev: seen }, live[0]!.hooks.forked?.()))) mayFork = false;
          continue;
        }
        // A copy that does not know the op's epoch yet may be behind: ask the store itself.
        if (!fresh && live.some((p) => p.edit.epoch !== undefined && p.edit.epoch !== head.epoch)) {
          fresh = true;
          continue;
        }
        if (!base.ops && from <= head.rev) {
          // The oldest base is older than the kept history: those edits get a resync, the others a next try.
          const [trimmed, rest] = split(live, (p) => p.edit.rev === from);
          await this.settle(
            sessionId,
            document,
            trimmed.map((p) => [p, { kind: 'resync-due', reason: 'history_trimmed' }]),
          );
          live = rest;
          continue;
        }
        const built = await this.build(document, base, from, live, fresh, fresh && mayFork);
        if (built === 'behind') {
          // An op based on a revision the copy does not know yet (nor the group before it).
          fresh = true;
          continue;
        }
        if ('lost' in built) {
          // Based on a revision of this epoch that the store no longer has: it lost the last ones
          // (a failover). The document forks; this client's edits, of the old epoch, are then
          // refused (DocumentLostError) and its rejoin brings them back with what it had.
          const { edit, hooks, userId } = built.lost;
          if (!(await this.forkLost(sessionId, document, { epoch: edit.epoch!, rev: edit.rev }, hooks.forked?.(), userId))) mayFork = false;
          continue;
        }
        fresh = false;
        if (built.entries.length > 0) {
          let committed: boolean;
          try {
            committed = await this.store.commit(
              sessionId,
              document,
              built.entries,
              built.committing.map((c) => c.publication),
            );
          } catch (error) {
            if (!(error instanceof EntryRejectedError)) throw error;
            // That op does not apply (a client's bad op): refused; the others are built again without it.
            const refused = built.committing[error.index]!.pending;
            refused.reject(toProtocolError(error.cause));
            live = live.filter((p) => p !== refused);
            continue;
          }
          if (!committed) continue;
        }
        for (const c of built.committing) c.pending.resolve({ kind: 'committed', ack: c.ack });
        await this.settle(sessionId, document, built.answers);
        return;
      }
    } catch (error) {
      for (const p of live) p.reject(error);
    }
  }

  /**
   * Sends the group's edits to the relay that commits the document (its home, as the store last
   * learned it), if another one does: they are committed there, in its groups, and answered here
   * as if committed here. Returns the edits to commit here now: all of them if there is no home
   * to send to, else those that may not go (forwarded here already, tried there already, or not
   * from a connection).
   *
   * The queue does not wait for the answer: the next group goes at once (the home commits the
   * forwards of one relay in the order they were sent), so that the edits of this relay's
   * clients are not committed one forward at a time. The answer is handled in the document's
   * queue when it comes (`settleForward`); the edits the home could not commit, or left
   * unanswered, are committed here then. A connection's own next edit and cursors wait for the
   * answer to its forward, so nothing of one connection overtakes its edit.
   */
  private async forwardToHome(sessionId: string, document: string, edits: PendingEdit[]): Promise<PendingEdit[]> {
    const home = this.forwarding && this.store.commitHome?.(sessionId, document);
    if (!home || !this.forwarding!.reachable(home)) return edits;
    const [sendable, local] = split(edits, (p) => p.hooks.sender !== undefined && !p.hooks.forwarded && !p.tried);
    if (sendable.length === 0) return edits;
    const senders = [...new Set(sendable.map((p) => p.hooks.sender!.connectionId))];
    await Promise.all(senders.map((id) => this.forwardsUnderWay.get(id)));
    const outcomes = this.forwarding!.forward(
      home,
      sessionId,
      sendable.map((p) => ({ ...p.hooks.sender!, edit: p.edit })),
    );
    for (const id of senders) this.forwardsUnderWay.set(id, outcomes);
    void outcomes.then((answered) => {
      for (const id of senders) if (this.forwardsUnderWay.get(id) === outcomes) this.forwardsUnderWay.delete(id);
      return this.serialize(sessionId, document, () => this.settleForward(sessionId, document, home, sendable, answered)).catch(
        (error: unknown) => {
          for (const p of sendable) p.reject(error);
        },
      );
    });
    return local;
  }

  /**
   * The answer to a forward (`forwardToHome`), in the document's queue: each edit answered as the
   * home says, and those it could not commit, or all of them if no answer came in time, committed
   * here (never sent there again).
   */
  private async settleForward(
    sessionId: string,
    document: string,
    home: string,
    sent: PendingEdit[],
    outcomes: ForwardOutcome[] | undefined,
  ): Promise<void> {
    const rest: PendingEdit[] = [];
    const answers: Built['answers'] = [];
    let landed = false;
    let concurrent = false;
    for (const [i, pending] of sent.entries()) {
      const outcome = outcomes?.[i];
      if (!outcome || outcome.kind === 'failed') rest.push(pending);
      else if (outcome.kind === 'committed') {
        landed = true;
        // Committed past revisions it was not built on: here it would have raced those commits.
        if (outcome.ack.rev > pending.edit.rev + 1) concurrent = true;
        pending.resolve({ kind: 'committed', ack: outcome.ack });
      } else if (outcome.kind === 'lost') pending.reject(new DocumentLostError(document));
      else if (outcome.kind === 'error') {
        answers.push([pending, { kind: 'error', error: new ProtocolError(outcome.code, outcome.message, outcome.path) }]);
      } else answers.push([pending, outcome]);
    }
    if (landed) this.store.committedAtHome?.(sessionId, document, home, concurrent);
    await this.settle(sessionId, document, answers);
    if (rest.length === 0) return;
    for (const pending of rest) pending.tried = true;
    await this.commitGroup(sessionId, document, rest);
  }

  /**
   * Builds the group's commit on `base`: each edit checked (epoch, resubmit, revision, op, cost),
   * transformed op by op past the history since its base revision and the group's earlier edits,
   * and given the next revision. Edits that are not committed get their answer in `answers`.
   * 'behind': an edit is based on a revision newer than the copy (not `fresh`) knows. `lost`: as
   * read from the store (`forking`), an edit of the document's epoch is based on a revision past
   * its head, which only a store that lost revisions can make (a client could lie, see `forkLost`).
   */
  private async build(
    document: string,
    base: CommitBase,
    from: number,
    live: PendingEdit[],
    fresh: boolean,
    forking: boolean,
  ): Promise<Built | 'behind' | { lost: PendingEdit }> {
    const { head } = base;
    const history = base.ops ?? []; // none only when every edit's base is past the head (an error each)
    const entries: CommittedOp[] = [];
    const committing: Built['committing'] = [];
    const answers: Built['answers'] = [];
    const ours = new Map<string, LastCommit>();
    let length = head.length;
    for (const pending of live) {
      const { userId, edit, hooks } = pending;
      const { client_id: clientId, seq } = edit;
      try {
        if (edit.epoch !== undefined && edit.epoch !== head.epoch) throw new DocumentLostError(document);
        const client = `${userId}\u0000${clientId}`;
        const last = ours.get(client) ?? base.lastCommit(userId, clientId);
        if (last && seq <= last.seq) {
          answers.push([pending, { kind: 'duplicate', ack: { document, rev: last.rev, client_id: clientId, seq: last.seq } }]);
          continue;
        }
        // A client may base an op on its previous one's revision before the ack (it is alone, or
        // resends a run of ops): a revision the group itself makes is known here.
        if (edit.rev > head.rev + entries.length) {
          if (!fresh) return 'behind';
          if (forking && edit.epoch === head.epoch) return { lost: pending };
          throw new ProtocolError(
            'EDIT_REV_TOO_NEW',
            `the op is based on revision ${edit.rev}, the document is at ${head.rev + entries.length}`,
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
        const past = [...history.slice(Math.min(edit.rev, head.rev) - from), ...entries.slice(Math.max(0, edit.rev - head.rev))];
        // Refused before any of the work is done (transform-cost.ts): the sender adopts the head
        // text instead, which costs the relay a copy of the text, paced to the sender's reading.
        const cost = transformCost(op.length, past);
        if (cost > this.maxTransformCost || !(hooks.afford?.(cost) ?? true)) {
          answers.push([pending, { kind: 'resync-due', reason: 'too_costly' }]);
          continue;
        }
        try {
          let slice = 0;
          for (const c of past) {
            slice += op.length + c.op.length;
            op = textType.transform(op, c.op, 'right');
            if (slice >= TRANSFORM_SLICE) {
              slice = 0;
              await yieldToEventLoop();
            }
          }
        } catch (error) {
          throw toProtocolError(error);
        }
        const change = lengthChange(op);
        if (length + change > this.limits.maxLength) {
          throw new ProtocolError(
            'DOCUMENT_TOO_LARGE',
            `the document would have ${length + change} code units, the limit is ${this.limits.maxLength}`,
            'payload.op',
          );
        }
        const rev = head.rev + entries.length + 1;
        const ack: AckPayload = { document, rev, client_id: clientId, seq };
        const committed: EditPayload = { document, rev, client_id: clientId, seq, op };
        entries.push({ rev, op, userId, clientId, seq });
        committing.push({ pending, ack, committed, publication: hooks.announce(committed, ack) });
        ours.set(client, { seq, rev });
        length += change;
      } catch (error) {
        answers.push([pending, { kind: 'error', error }]);
      }
    }
    return { entries, committing, answers };
  }

  /** Answers the edits that were not committed, in their order (a resync reads the text as it is now). */
  private async settle(sessionId: string, document: string, answers: Built['answers']): Promise<void> {
    for (const [pending, answer] of answers) {
      try {
        if (answer.kind === 'error') throw answer.error;
        const result: Exclude<CommitResult, { kind: 'committed' }> =
          answer.kind === 'resync-due' ? await this.resync(sessionId, document, answer.reason) : answer;
        await pending.hooks.reply(result);
        pending.resolve(result);
      } catch (error) {
        pending.reject(error);
      }
    }
  }

  private get maxTransformCost(): number {
    return this.limits.maxTransformCost ?? Infinity;
  }

  /** The answer to an op that is not applied: the document as it is now, to adopt and rebase onto. */
  private async resync(
    sessionId: string,
    document: string,
    reason: ResyncPayload['reason'],
  ): Promise<Extract<CommitResult, { kind: 'resync' }>> {
    const snapshot = await this.store.snapshot(sessionId, document);
    if (!snapshot) throw notFound(document);
    return { kind: 'resync', resync: { document, rev: snapshot.rev, text: snapshot.text, reason } };
  }

  private serialize<T>(sessionId: string, documentId: string, task: () => Promise<T>): Promise<T> {
    const key = `${sessionId}\u0000${documentId}`;
    // Work queued behind a waiting group closes it: a later edit must not overtake this work.
    this.groups.delete(key);
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

/** An edit waiting for its group's commit, and how to answer it. */
interface PendingEdit {
  userId: string;
  edit: EditPayload;
  hooks: CommitHooks;
  /** Sent to the document's home once already (`forwardToHome`): committed here from then on. */
  tried?: boolean;
  resolve(result: CommitResult): void;
  reject(error: unknown): void;
}

interface Group {
  edits: PendingEdit[];
  /** Its work has begun: later edits go in the next group. */
  started: boolean;
}

/** What an edit of a group that is not committed gets. */
type Answer =
  { kind: 'duplicate'; ack: AckPayload } | { kind: 'resync-due'; reason: ResyncPayload['reason'] } | { kind: 'error'; error: unknown };

interface Built {
  entries: CommittedOp[];
  /** Per entry, in order: whose edit it is, its ack, the committed edit and their publication. */
  committing: Array<{ pending: PendingEdit; ack: AckPayload; committed: EditPayload; publication: CommitPublication }>;
  answers: Array<[PendingEdit, Answer]>;
}

/** Drops the entries of `map` (in time order) dated at or before `cutoff`. */
function dropSince<V>(map: Map<string, V>, cutoff: number, dateOf: (value: V) => number): void {
  for (const [key, value] of map) {
    if (dateOf(value) > cutoff) return;
    map.delete(key);
  }
}

function split<T>(items: T[], test: (item: T) => boolean): [T[], T[]] {
  const yes: T[] = [];
  const no: T[] = [];
  for (const item of items) (test(item) ? yes : no).push(item);
  return [yes, no];
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
