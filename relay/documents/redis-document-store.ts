import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { TextDocument, textType, type TextOp } from '../../protocol';
import { encodePublication, encodePublications, recordOf, withRecord } from '../broker/redis-publication';
import { newEpoch } from '../epoch';
import type { RedisClient, RedisConnections } from '../redis/redis-connection';
import { defineScript } from '../redis/scripts';
import { lengthChange } from './document-authority';
import {
  type CommitBase,
  type CommitPublication,
  type CommittedOp,
  type DocumentHead,
  type DocumentSnapshot,
  type DocumentStore,
  EntryRejectedError,
  type LastCommit,
  type RecoveryOrigin,
  type RecoveryRecord,
} from './document-store';
import { committedOpBytes, lastCommitBytes } from './history-bytes';
import { tooManyDocuments } from './memory-document-store';

/**
 * The shared documents in Redis, for relays that share one Redis or one Redis Cluster. Per document
 * of a session, under `<prefix>doc:{<session>}:<document>`, in the hash slot of every key and
 * channel of the session (its `{…}` tag), so that the commit script may publish on the document's
 * channel (`<prefix>doc:{<session>}\0<document>`) on Redis Cluster too; the session's list of
 * documents is `<prefix>docs:{<session>}`:
 *
 * - `…:meta`  hash: `e` incarnation, the document's epoch (random per create: a document dropped
 *   or lost and created again is another document to every cache and client), `rev` head revision,
 *   `len` length in UTF-16 code units, `srev` revision of the snapshot, `snap` the snapshot's text
 *   as JSON (JSON keeps any lone surrogate of an initial text, which UTF-8 would not), `o` the
 *   recovery origin as JSON if a rejoin recreated it, `orev` the oldest revision of the kept
 *   history (ops `orev + 1 .. rev` may be read), `hb` the bytes of those ops, `sb` the bytes of
 *   the dedupe records (`…:seen`).
 * - `…:ops`   stream: the committed ops, entry id `<rev>-0`, fields `o` op JSON, `u` user, `c` client,
 *   `s` seq, `b` the entry's bytes, and `x` the recovery record as JSON on a commit that merged a
 *   rejoining client's copy.
 * - `…:seen`  hash: `<user>\0<client id>` -> `<seq> <rev> <bytes>` of its last commit (resubmits
 *   are acked), and `…:seenq` sorted set: the same fields scored by that revision, so that the
 *   least recently committed client is found without a scan.
 *
 * Bytes are counted as the memory store counts them (`history-bytes.ts`: UTF-16 text, ids and a
 * fixed overhead per entry and component), by the relay, which passes them to the commit script:
 * Lua sees UTF-8 bytes, and one measure in both stores is what keeps them alike. The script stores
 * an entry's bytes with it (`b`), so that trimming subtracts exactly what was added.
 *
 * The kept history is what the memory store keeps: at most `historySize` ops and `historyMaxBytes`
 * of them, oldest dropped first (`orev` moves up); an op based before `orev` gets a resync. The
 * dedupe records get as much again, least recently committed dropped first (at least one stays).
 *
 * The head text is the snapshot plus the ops after it. The snapshot is rewritten by the relay that
 * commits every `snapshotInterval`-th op past it (it holds the new text anyway, see the cache), or
 * for a long text every (length / `SNAPSHOT_CHARS_PER_OP`)-th, or as soon as the kept history no
 * longer reaches back to it (`srev < orev`), in the commit script
 * itself, and the stream is trimmed (`MINID ~`, whole stream nodes: cheap, and a node holds at most
 * 4 KB or one larger entry) below `min(srev, orev)`: what a reader needs to rebuild the head, and
 * what a late op needs to be transformed. Ops older than `orev` but newer than the snapshot stay in
 * the stream (unreadable) until the next commit writes a snapshot.
 *
 * A commit is one script (relay/redis/lua/document-commit.lua) for a group of consecutive ops
 * (the authority's group commit): compare-and-set on (incarnation, revision), the dedupe check,
 * XADD, head and length, the clients' last commits, the snapshot if due, the idle expiry, and one
 * publication of them all (SPUBLISH in the broker's wire format, a batch). Publishing inside the
 * script makes the order of publications the order of revisions, whichever relay commits:
 * publishing after the script returned, two relays could publish revisions 5 and 6 the other way
 * round.
 *
 * Each relay keeps the head of recently used documents (a chunked `TextDocument`, LRU, with the
 * last ops and the clients' last commits it saw), keyed by (incarnation, revision), and builds
 * commits on it with no read (`commitBase`): ops are transformed, validated and applied locally,
 * and the script's compare-and-set finds out if the copy was behind, in which case its answer
 * carries what was missing (the ops since, or the dedupe records that make an op a resubmit), so
 * that the next try needs no read either. The copy is kept current without any read too: each
 * commit's publication opens with the commit's record (the ops as JSON, who committed them), which
 * every relay subscribed to the document (it has clients on it) applies to its copy when it
 * continues it (`onPublication`): by the time a client answers an edit it got, the relay it talks
 * to knows the revision that edit made. A reader (open, cursor, check) fetches only the ops
 * committed since its copy (`document-load.lua`). Nothing is read at start-up.
 *
 * Each commit also takes or renews the document's commit lease (document-commit.lua) and answers
 * with its holder: `commitHome` names another holder while this relay's last commit is recent, and
 * the authority forwards its edits there (commit-forwarding.ts) rather than race that relay here.
 *
 * Every write and `touch` sets the idle expiry (PEXPIRE) of all three keys; reads do not, so that
 * a read costs no write (nor an AOF fsync). The relay touches the documents its clients have open.
 */

/**
 * A snapshot costs its whole text (JSON, the write, Redis's copy, an AOF append), so a long text
 * gets one every (length / this)-th op rather than every `snapshotInterval`-th: at most about this
 * many characters written per op committed, whatever the length. Measured (bench:redis-floor,
 * one-op commits): on a 1 MB text, a snapshot every 100th op made a commit cost the store and
 * Redis 1.24-1.35x the CPU of one on a 10 KB text; this way 0.96-1.02x. A reader then applies
 * more ops to the snapshot, up to the kept history (`srev < orev` writes one at the latest),
 * which is cheap on a chunked text.
 */
const SNAPSHOT_CHARS_PER_OP = 1024;

/** Ops between two snapshots of a text of `length` code units. */
function snapshotEvery(interval: number, length: number): number {
  return Math.max(interval, Math.ceil(length / SNAPSHOT_CHARS_PER_OP));
}

type StreamEntry = [id: string, fields: string[]];
type LoadReply =
  | [epoch: string, rev: string, length: string, srev: string, mode: 'd' | 'f', snapshot: string, entries: StreamEntry[], orev: string]
  | null;

const Options = z.object({
  /** Committed ops kept per document for transforming late ops (DOCUMENT_HISTORY_SIZE). */
  historySize: z.int().min(1).default(1000),
  /** A document neither written nor touched for this long is dropped (DOCUMENT_IDLE_TIMEOUT_MS). */
  idleTimeoutMs: z.int().min(1).default(600_000),
  /** The committing relay rewrites the snapshot once the head is this many ops past it (more for a long text, `snapshotEvery`). */
  snapshotInterval: z.int().min(1).default(100),
  /** Prefix of every key; publications use it too, so it must be the broker's. */
  prefix: z.string().default('tandem:'),
  /** Head texts kept by this relay (least recently used go first). */
  cacheDocuments: z.int().min(0).default(256),
  /** ... and at most this many UTF-16 code units in all (default 32 M, about 64 MB). */
  cacheLength: z
    .int()
    .min(0)
    .default(32 * 1024 * 1024),
  /** Recent ops kept with each cached text, so that a late op's history is read without Redis. */
  cacheOps: z.int().min(0).default(200),
  /**
   * How long a relay that lost a commit race has the document's next commit to itself (see
   * document-commit.lua). Its next try comes at once; a turn that outlives it (the try had nothing
   * left to commit: its edits were resends) only holds the other relays back.
   */
  turnMs: z.int().min(1).default(25),
  /**
   * The commit lease (document-commit.lua): the relay that commits a document holds it this long
   * past its last commit, and the other relays forward their clients' edits to it
   * (commit-forwarding.ts) while their last commit of the document named it, for half as long.
   * 0: no lease, every relay commits for itself.
   */
  leaseMs: z.int().min(0).default(4000),
  /** This store's name in turns and leases: unique per process (the relay's id and a random part). */
  instance: z.string().min(1).optional(),
  /** Documents one session may have (DOCUMENT_MAX_PER_SESSION); 0: no bound. */
  maxPerSession: z.int().min(0).default(0),
  /** Bytes of recent ops kept with each cached text (`committedOpBytes`, DOCUMENT_HISTORY_MAX_BYTES). */
  cacheOpsBytes: z
    .int()
    .min(0)
    .default(8 * 1024 * 1024),
  /**
   * Bytes of committed ops kept per document (`committedOpBytes`, DOCUMENT_HISTORY_MAX_BYTES),
   * besides `historySize`; the oldest go first. The dedupe records get as much again.
   */
  historyMaxBytes: z
    .int()
    .min(0)
    .default(8 * 1024 * 1024),
});

export type RedisDocumentStoreOptions = z.input<typeof Options>;

/** A head text at (incarnation, revision), with the last ops that led to it. */
interface Cached {
  epoch: string;
  rev: number;
  /** The snapshot's revision as last seen: when the next one is due. */
  srev: number;
  /** The oldest revision of the kept history as last seen (ops `orev + 1 .. rev` may be read). */
  orev: number;
  text: TextDocument;
  /** Ops `rev - recent.length + 1 .. rev` (added with `pushRecent`, which counts their bytes). */
  recent: CommittedOp[];
  /** `committedOpBytes` of `recent`, kept as ops come and go: trimming costs the ops it drops, not all of them. */
  recentBytes: number;
  /**
   * Last commits (dedupe field -> seq, rev) seen by this copy: its commits, the ops it caught up
   * with and the records a failed commit answered with. Redis may know newer ones (a commit checks
   * those), never older: seqs only grow within an incarnation.
   */
  last: Map<string, LastCommit>;
}

/** How long a commit that yielded to another relay's turn waits for that relay's commit record before it tries again. */
const YIELD_WAIT_MS = 10;

/** An entry of a commit record: op, user, client id, seq, recovery record. */
type RecordEntry = [op: TextOp, userId: string, clientId: string, seq: number, recovery?: RecoveryRecord];

/** Last commits a cached copy keeps (the least recently committed go first). */
const MAX_KNOWN_COMMITS = 1024;

type CommitReply =
  [committed: 1, srev: number, orev: number, home: string] | [committed: 0, head: number, missing: StreamEntry[], records: string[]];

/** Documents whose commit lease holder a store remembers (a few dozen bytes each). */
const MAX_KNOWN_HOMES = 4096;
/** Lost commit races for a document within CONTENTION_WINDOW_MS that make it contended (`commitHome`). */
const CONTENDED_LOSSES = 3;
const CONTENTION_WINDOW_MS = 1000;

/** What a store knows of a document's commit lease and of its races for it (`commitHome`). */
interface Home {
  /** The lease holder its last commit here named (none with leases off). */
  holder?: string;
  /** When that commit was. */
  at: number;
  /** Races lost since `lossesSince` (a window of CONTENTION_WINDOW_MS). */
  losses: number;
  lossesSince: number;
  /** Forward while before this (CONTENDED_LOSSES lost in one window). */
  contendedUntil: number;
}

interface Keys {
  meta: string;
  ops: string;
  seen: string;
  turn: string;
  seenq: string;
}

export class RedisDocumentStore implements DocumentStore {
  private readonly options: z.output<typeof Options>;
  private readonly command: RedisClient;
  private readonly runCreate: (keys: readonly string[], args: readonly (string | number)[]) => Promise<number>;
  private readonly runLoad: (keys: readonly string[], args: readonly (string | number)[]) => Promise<LoadReply>;
  private readonly runCommit: (keys: readonly string[], args: readonly (string | number)[]) => Promise<CommitReply>;
  /** Insertion order is use order: the first entry is the least recently used. */
  private readonly cache = new Map<string, Cached>();
  private cachedLength = 0;
  /** Names this store in the document's turn and lease (unique per process, like a relay instance). */
  readonly instance: string;
  /** Per document, the lease holder its last commit here named, and how contended its commits here are (`commitHome`). */
  private readonly homes = new Map<string, Home>();
  private closing: Promise<void> | undefined;
  /** The most ops a failed commit's answer brings to catch a copy up (as many as a load would). */
  private readonly maxCatchUp: number;
  private readonly subscriber: RedisClient;
  /** Shard channel -> cache key of the documents this relay committed to with a publication (see `onPublication`). */
  private readonly channels = new Map<string, string>();
  /** Records that came for a document while this relay's commit to it was on its way (see `commit`). */
  private readonly held = new Map<string, string[]>();
  /**
   * Per document, the newest revision of its epoch this relay has seen committed (a copy of it
   * was remembered at that revision: its own commits, the records of others', reads), for
   * `seenPast`; a few dozen bytes each, the least recently raised dropped first.
   */
  private readonly seen = new Map<string, { epoch: string; rev: number }>();
  /** Commits that yielded to another relay's turn, waiting for its record (`advanced`). */
  private readonly waiters = new Map<string, Set<() => void>>();

  constructor(
    private readonly redis: RedisConnections,
    options: RedisDocumentStoreOptions = {},
  ) {
    this.options = Options.parse(options);
    this.instance = this.options.instance ?? randomUUID().slice(0, 8);
    redis.acquire();
    this.command = redis.command;
    this.runCreate = defineScript(this.command, 'tandemDocumentCreate');
    this.runLoad = defineScript(this.command, 'tandemDocumentLoad');
    this.runCommit = defineScript(this.command, 'tandemDocumentCommit');
    this.maxCatchUp = Math.max(1000, this.options.historySize);
    this.subscriber = redis.subscriber;
    this.subscriber.on('smessage', this.onPublication);
  }

  async create(sessionId: string, documentId: string, text: string, origin?: RecoveryOrigin): Promise<boolean> {
    return this.incarnate(sessionId, documentId, text, origin);
  }

  async fork(
    sessionId: string,
    documentId: string,
    from: DocumentSnapshot,
    origin: RecoveryOrigin,
    notice?: CommitPublication,
  ): Promise<boolean> {
    const published = notice && encodePublication(this.options.prefix, notice.channel, notice.message);
    return this.incarnate(sessionId, documentId, from.text, origin, [from.epoch, from.rev, ...(published ?? ['', ''])]);
  }

  /** A new incarnation at revision 0 (document-create.lua): of a document that does not exist, or instead of `replacing`'s. */
  private async incarnate(
    sessionId: string,
    documentId: string,
    text: string,
    origin: RecoveryOrigin | undefined,
    replacing: [epoch: string, rev: number, channel: string, payload: string] | [] = [],
  ): Promise<boolean> {
    const epoch = newEpoch();
    const keys = this.keysOf(sessionId, documentId);
    const { idleTimeoutMs, maxPerSession } = this.options;
    const args = [
      epoch,
      JSON.stringify(text),
      text.length,
      idleTimeoutMs,
      origin ? JSON.stringify(origin) : '',
      maxPerSession,
      Date.now(),
      documentId,
      ...replacing,
    ];
    const key = cacheKey(sessionId, documentId);
    // A fork's script may run even if its answer is lost: the copy of the replaced incarnation goes first.
    if (replacing.length > 0) this.forget(key);
    const created = await this.runCreate([keys.meta, keys.ops, keys.seen, this.sessionKey(sessionId), keys.seenq], args);
    if (created === 2) throw tooManyDocuments(maxPerSession);
    if (created !== 1) return false;
    this.remember(key, {
      epoch,
      rev: 0,
      srev: 0,
      orev: 0,
      text: new TextDocument(text),
      recent: [],
      recentBytes: 0,
      last: new Map(),
    });
    return true;
  }

  seenPast(sessionId: string, documentId: string, head: { epoch: string; rev: number }): number | undefined {
    const seen = this.seen.get(cacheKey(sessionId, documentId));
    return seen && seen.epoch === head.epoch && seen.rev > head.rev ? seen.rev : undefined;
  }

  async origin(sessionId: string, documentId: string, epoch: string): Promise<RecoveryOrigin | undefined> {
    const [stored, origin] = await this.command.hmget(this.keysOf(sessionId, documentId).meta, 'e', 'o');
    return stored === epoch && origin ? (JSON.parse(origin) as RecoveryOrigin) : undefined;
  }

  /** One small HMGET: neither the text nor the ops. */
  async head(sessionId: string, documentId: string): Promise<DocumentHead | undefined> {
    const [epoch, rev, length, orev] = await this.command.hmget(this.keysOf(sessionId, documentId).meta, 'e', 'rev', 'len', 'orev');
    const key = cacheKey(sessionId, documentId);
    if (epoch == null || rev == null || length == null) {
      this.forget(key);
      return undefined;
    }
    if (this.cache.get(key)?.epoch !== epoch) this.forget(key);
    const head = Number(rev);
    return { rev: head, oldestRev: this.oldestRev(head, orev), length: Number(length), epoch };
  }

  async snapshot(sessionId: string, documentId: string): Promise<DocumentSnapshot | undefined> {
    const doc = await this.load(sessionId, documentId);
    return doc && { rev: doc.rev, text: doc.text.toString(), epoch: doc.epoch };
  }

  async read(sessionId: string, documentId: string, fromRev: number): Promise<CommittedOp[] | undefined> {
    return (await this.since(sessionId, documentId, fromRev))?.ops;
  }

  /** One script round trip when the document is cached (the ops since); the ops from the cache. */
  async since(
    sessionId: string,
    documentId: string,
    fromRev: number,
  ): Promise<{ head: DocumentHead; ops: CommittedOp[] | undefined } | undefined> {
    const doc = await this.load(sessionId, documentId);
    if (!doc) return undefined;
    const head = this.headOf(doc);
    return { head, ops: await this.opsSince(sessionId, documentId, doc, fromRev) };
  }

  async append(sessionId: string, documentId: string, entry: CommittedOp, publication?: CommitPublication): Promise<boolean> {
    try {
      return await this.commit(sessionId, documentId, [entry], publication && [publication]);
    } catch (error) {
      throw error instanceof EntryRejectedError ? error.cause : error;
    }
  }

  /**
   * From the cached copy with no round trip when there is one (the hot path); it is behind only
   * if another relay committed since, which the next `commit` finds out and repairs in its one call.
   */
  async commitBase(sessionId: string, documentId: string, from: number, fresh = false): Promise<CommitBase | undefined> {
    const cached = fresh ? undefined : this.cache.get(cacheKey(sessionId, documentId));
    const doc = cached ?? (await this.load(sessionId, documentId));
    if (!doc) return undefined;
    const head = this.headOf(doc);
    const ops = await this.opsSince(sessionId, documentId, doc, from);
    const known = doc.last;
    return { head, ops, lastCommit: (userId, clientId) => known.get(dedupeField(userId, clientId)) };
  }

  async commit(
    sessionId: string,
    documentId: string,
    entries: readonly CommittedOp[],
    publications?: readonly CommitPublication[],
  ): Promise<boolean> {
    const first = entries[0];
    if (!first) return false;
    for (const [i, entry] of entries.entries())
      if (entry.rev !== first.rev + i) throw new RangeError(`entry ${i} has revision ${entry.rev}, not ${first.rev + i}`);
    const key = cacheKey(sessionId, documentId);
    let doc = this.cache.get(key);
    if (!doc || doc.rev < first.rev - 1) doc = await this.load(sessionId, documentId);
    if (!doc || doc.rev !== first.rev - 1) return false;
    // The text at first.rev - 1 of this incarnation is what Redis has too (revisions never change):
    // the ops are checked here, and the script checks that the head is still first.rev - 1. The text
    // is out of the cache while the script runs, so that nothing else catches it up meanwhile, and
    // stays out if the script fails: it may have run (a reply lost with the connection).
    this.forget(key);
    let applied = 0;
    try {
      for (; applied < entries.length; applied++) doc.text.apply(entries[applied]!.op); // throws the op's OtError before changing anything
    } catch (error) {
      undo(doc, entries, applied);
      this.remember(key, doc);
      throw new EntryRejectedError(applied, error);
    }
    const last = entries[entries.length - 1]!;
    // Also due once the kept history no longer reaches back to the snapshot: the ops in between
    // stay in the stream until then, outside the byte bound (see the header comment).
    const due = last.rev - doc.srev >= snapshotEvery(this.options.snapshotInterval, doc.text.length) || doc.srev < doc.orev;
    const channel = publications?.[0]?.channel;
    const args: Array<string | number> = [
      doc.epoch,
      first.rev - 1,
      entries.length,
      this.options.idleTimeoutMs,
      this.options.historySize,
      due ? JSON.stringify(doc.text.toString()) : '',
      '', // the shard channel and payload, below
      '',
      this.instance,
      this.options.turnMs,
      this.options.historyMaxBytes,
      entries.reduce((sum, e) => sum + lengthChange(e.op), 0),
      this.maxCatchUp,
      this.options.leaseMs,
    ];
    // The commit record (see `onPublication`): [incarnation, base revision, snapshot revision or
    // -1, then per entry [op, user, client id, seq, recovery record?]], the ops' JSON as is.
    let record = `[${JSON.stringify(doc.epoch)},${first.rev - 1},${due ? last.rev : -1}`;
    for (const e of entries) {
      const op = JSON.stringify(e.op);
      const recovery = e.recovery ? JSON.stringify(e.recovery) : '';
      const [user, client] = [JSON.stringify(e.userId), JSON.stringify(e.clientId)];
      record += `,[${op},${user},${client},${e.seq}${recovery && `,${recovery}`}]`;
      args.push(op, e.userId, e.clientId, e.seq, recovery, committedOpBytes(e), lastCommitBytes(e.userId, e.clientId));
    }
    if (channel !== undefined) {
      const [shard, payload] = encodePublications(
        this.options.prefix,
        channel,
        publications!.map((p) => p.message),
      );
      args[6] = shard;
      args[7] = withRecord(`${record}]`, payload);
      this.noteChannel(shard, key);
    }
    const keys = this.keysOf(sessionId, documentId);
    // Records of other relays' commits that arrive meanwhile wait, to be applied after the answer
    // (the publication of a commit made just before or after this one may well come first).
    this.held.set(key, []);
    let reply: CommitReply;
    let held: string[];
    try {
      reply = await this.runCommit([keys.meta, keys.ops, keys.seen, keys.turn, keys.seenq], args);
    } finally {
      held = this.held.get(key) ?? [];
      this.held.delete(key);
    }
    if (reply[0] !== 1) {
      const [, head, missing, records] = reply;
      if (head === -1) return false; // another incarnation: its copy is of no use
      // Back to first.rev - 1, still true of that revision; then what another relay committed since.
      undo(doc, entries, entries.length);
      const moved = head !== doc.rev;
      // Lost to another relay's commit or turn (not a resubmit's dedupe record).
      if (moved || records.length === 0) this.noteLostRace(key);
      if (moved && !this.catchUp(doc, missing, head)) return false; // too far behind: the next use reads
      for (let i = 0; i + 1 < records.length; i += 2) {
        const [seq, rev] = records[i + 1]!.split(' ').map(Number);
        noteLast(doc, records[i]!, { seq: seq!, rev: rev! });
      }
      this.rememberUnlessNewer(key, doc);
      const at = doc.rev;
      for (const record of held) this.applyRecord(key, record);
      // Neither: another relay has the turn. Its commit's record will move the copy on: trying
      // again before then would only yield again.
      if (!moved && records.length === 0 && doc.rev === at) await this.advanced(key, doc, YIELD_WAIT_MS);
      return false;
    }
    doc.rev = last.rev;
    doc.srev = reply[1];
    doc.orev = reply[2];
    const home = this.homeOf(key);
    if (reply[3]) home.holder = reply[3];
    home.at = Date.now();
    for (const e of entries) {
      pushRecent(doc, e);
      noteLast(doc, dedupeField(e.userId, e.clientId), { seq: e.seq, rev: e.rev });
    }
    this.trimRecent(doc);
    this.remember(key, doc);
    for (const record of held) this.applyRecord(key, record);
    return true;
  }

  commitHome(sessionId: string, documentId: string): string | undefined {
    const home = this.homes.get(cacheKey(sessionId, documentId));
    const now = Date.now();
    // Only while this relay keeps losing races for the document: at a few edits a second a race
    // is rare, and a forward (two more messages between relays) would cost more than the races
    // it saves. And only for half the lease: the holder may have stopped committing since (it
    // died, or its clients left) and its lease run out; this relay's next commit finds out.
    if (!home?.holder || home.holder === this.instance || now > home.contendedUntil || now - home.at > this.options.leaseMs / 2)
      return undefined;
    return home.holder;
  }

  committedAtHome(sessionId: string, documentId: string, holder: string, concurrent: boolean): void {
    const key = cacheKey(sessionId, documentId);
    const home = this.homes.get(key);
    if (home?.holder !== holder) return;
    home.at = Date.now();
    if (concurrent) this.noteLostRace(key);
  }

  /** The document's entry in `homes` (created if new, moved to the end: the least recently used go first). */
  private homeOf(key: string): Home {
    const home = this.homes.get(key) ?? { at: 0, losses: 0, lossesSince: 0, contendedUntil: 0 };
    this.homes.delete(key);
    this.homes.set(key, home);
    if (this.homes.size > MAX_KNOWN_HOMES) this.homes.delete(this.homes.keys().next().value!);
    return home;
  }

  /** A commit here lost a race for the document (another relay committed first): it is contended after a few in a second. */
  private noteLostRace(key: string): void {
    const home = this.homeOf(key);
    const now = Date.now();
    if (now - home.lossesSince > CONTENTION_WINDOW_MS) {
      home.lossesSince = now;
      home.losses = 0;
    }
    if (++home.losses >= CONTENDED_LOSSES) home.contendedUntil = now + this.options.leaseMs / 2;
  }

  async touch(sessionId: string, documentId: string): Promise<void> {
    const keys = this.keysOf(sessionId, documentId);
    const ttl = this.options.idleTimeoutMs;
    const multi = this.command.multi().pexpire(keys.meta, ttl).pexpire(keys.ops, ttl).pexpire(keys.seen, ttl).pexpire(keys.seenq, ttl);
    if (this.options.maxPerSession > 0)
      multi.zadd(this.sessionKey(sessionId), Date.now() + ttl, documentId).pexpire(this.sessionKey(sessionId), ttl);
    await multi.exec();
  }

  async lastCommit(sessionId: string, documentId: string, userId: string, clientId: string): Promise<LastCommit | undefined> {
    const value = await this.command.hget(this.keysOf(sessionId, documentId).seen, dedupeField(userId, clientId));
    if (value === null) return undefined;
    const [seq, rev] = value.split(' ').map(Number); // then the record's bytes, for the script
    return { seq: seq!, rev: rev! };
  }

  /** Forgets the cached texts and lets go of Redis (the documents stay in Redis). */
  close(): Promise<void> {
    return (this.closing ??= (async () => {
      this.subscriber.off('smessage', this.onPublication);
      this.cache.clear();
      this.cachedLength = 0;
      await this.redis.release();
    })());
  }

  /**
   * The document's head text, brought up to date: from the cache plus the ops since, or from the
   * snapshot plus the ops after it. Undefined if the document does not exist.
   */
  private async load(sessionId: string, documentId: string, fromSnapshot = false): Promise<Cached | undefined> {
    const key = cacheKey(sessionId, documentId);
    const cached = fromSnapshot ? undefined : this.cache.get(key);
    const keys = this.keysOf(sessionId, documentId);
    // Past the kept history the ops are gone anyway, and the script answers with the snapshot.
    const reply = await this.runLoad(
      [keys.meta, keys.ops],
      [cached?.epoch ?? '', cached?.rev ?? -1, Math.max(1000, this.options.historySize)],
    );
    if (!reply) {
      this.forget(key);
      return undefined;
    }
    const [epoch, revText, , srevText, mode, snapshot, entries, orevText] = reply;
    const rev = Number(revText);
    const srev = Number(srevText);
    let doc: Cached;
    if (mode === 'f') {
      doc = {
        epoch,
        rev: srev,
        srev,
        orev: 0,
        text: new TextDocument(JSON.parse(snapshot) as string),
        recent: [],
        recentBytes: 0,
        last: new Map(),
      };
    } else if (cached && this.cache.get(key) === cached && cached.rev === rev - entries.length) {
      doc = cached;
    } else {
      // The entry moved on or went while the ops were on their way (not with the authority's
      // per-document queue, but cheap to get right): start over from the snapshot.
      return this.load(sessionId, documentId, true);
    }
    this.forget(key);
    for (const entry of entries) {
      const op = toCommittedOp(entry);
      if (op.rev !== doc.rev + 1)
        throw new Error(`document "${documentId}": the stored history skips from revision ${doc.rev} to ${op.rev}`);
      doc.text.apply(op.op);
      doc.rev = op.rev;
      pushRecent(doc, op);
      noteLast(doc, dedupeField(op.userId, op.clientId), { seq: op.seq, rev: op.rev });
    }
    if (doc.rev !== rev) throw new Error(`document "${documentId}": the stored history ends at revision ${doc.rev}, the head is ${rev}`);
    doc.srev = Math.max(doc.srev, srev);
    doc.orev = this.oldestRev(rev, orevText);
    this.trimRecent(doc);
    this.remember(key, doc);
    return doc;
  }

  private headOf(doc: Cached): DocumentHead {
    const { rev } = doc;
    return { rev, oldestRev: Math.max(doc.orev, rev - this.options.historySize), length: doc.text.length, epoch: doc.epoch };
  }

  /** The ops after `from` up to the copy's head: from the cached ones, else from the stream. */
  private async opsSince(sessionId: string, documentId: string, doc: Cached, from: number): Promise<CommittedOp[] | undefined> {
    const { rev, recent } = doc;
    if (from > rev || from < Math.max(doc.orev, rev - this.options.historySize)) return undefined;
    if (from >= rev - recent.length) return recent.slice(recent.length - (rev - from));
    // Older than the cached ops: from the stream, up to the copy's head.
    const keys = this.keysOf(sessionId, documentId);
    const entries = (await this.command.xrange(keys.ops, `${from + 1}-0`, `${rev}-0`)) as StreamEntry[];
    const complete = entries.length === rev - from && entries[0]?.[0] === `${from + 1}-0`;
    return complete ? entries.map(toCommittedOp) : undefined;
  }

  /** Brings `doc` from its revision to `head` with the stream entries in between; false (and `doc` of no use) if they do not. */
  private catchUp(doc: Cached, entries: StreamEntry[], head: number): boolean {
    if (entries.length !== head - doc.rev) return false;
    try {
      for (const entry of entries) {
        const op = toCommittedOp(entry);
        if (op.rev !== doc.rev + 1) return false;
        doc.text.apply(op.op);
        doc.rev = op.rev;
        pushRecent(doc, op);
        noteLast(doc, dedupeField(op.userId, op.clientId), { seq: op.seq, rev: op.rev });
      }
    } catch {
      return false;
    }
    this.trimRecent(doc);
    return true;
  }

  /**
   * A publication on the subscriber connection (every relay's: this one's listens to the channels
   * of the documents its clients have open). A commit's opens with its record (`commit`): if it
   * continues this relay's copy of the document, the copy takes it, so that the copy is current
   * when the next edit, which the record's own edits may have prompted, comes in: no read and no
   * lost race for it. Anything else (a copy ahead of it, or behind by more, another incarnation)
   * is left for the next commit to find out, as for a publication that never came.
   */
  private readonly onPublication = (channel: string, payload: string): void => {
    if (payload.charCodeAt(0) !== 35 /* '#' */) return;
    const key = this.channels.get(channel);
    if (key === undefined) return;
    const record = recordOf(payload);
    if (record === undefined) return;
    const held = this.held.get(key);
    if (held) held.push(record);
    else this.applyRecord(key, record);
  };

  /** Applies a commit record (`commit` has its format) to the cached copy if it continues it. */
  private applyRecord(key: string, json: string): void {
    const doc = this.cache.get(key);
    if (!doc) return;
    let record: [epoch: string, base: number, srev: number, ...entries: RecordEntry[]];
    try {
      record = JSON.parse(json) as typeof record;
    } catch {
      return;
    }
    const [epoch, base, srev, ...entries] = record;
    if (epoch !== doc.epoch || base !== doc.rev || entries.length === 0) return;
    this.forget(key);
    try {
      for (const [op, userId, clientId, seq, recovery] of entries) {
        doc.text.apply(op);
        doc.rev++;
        pushRecent(doc, { rev: doc.rev, op, userId, clientId, seq, ...(recovery && { recovery }) });
        noteLast(doc, dedupeField(userId, clientId), { seq, rev: doc.rev });
      }
    } catch {
      return; // not what Redis has, then: the copy stays out
    }
    if (srev > doc.srev) doc.srev = srev;
    this.trimRecent(doc);
    this.remember(key, doc);
    const waiting = this.waiters.get(key);
    this.waiters.delete(key);
    for (const wake of waiting ?? []) wake();
  }

  /** Resolves once a commit record moved `doc` past its revision now, or after `ms`. */
  private advanced(key: string, doc: Cached, ms: number): Promise<void> {
    const rev = doc.rev;
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.get(key)?.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      if (doc.rev !== rev) return done();
      let waiting = this.waiters.get(key);
      if (!waiting) this.waiters.set(key, (waiting = new Set()));
      waiting.add(done);
    });
  }

  /** Bounded like the cache: the oldest entries go first. */
  private noteChannel(shard: string, key: string): void {
    if (this.channels.get(shard) === key) return;
    this.channels.delete(shard);
    this.channels.set(shard, key);
    if (this.channels.size > Math.max(16, 2 * this.options.cacheDocuments)) this.channels.delete(this.channels.keys().next().value!);
  }

  /** Keeps `doc` unless the cache has a later revision of the same incarnation (nothing here serializes other readers). */
  private rememberUnlessNewer(key: string, doc: Cached): void {
    const current = this.cache.get(key);
    if (current && current.epoch === doc.epoch && current.rev > doc.rev) return;
    this.remember(key, doc);
  }

  /** (Re)inserts as the most recently used entry, then evicts the least recently used over the bounds. */
  private remember(key: string, doc: Cached): void {
    this.raiseSeen(key, doc);
    this.forget(key);
    this.cache.set(key, doc);
    this.cachedLength += doc.text.length;
    for (const [oldest, entry] of this.cache) {
      if (this.cache.size <= this.options.cacheDocuments && this.cachedLength <= this.options.cacheLength) break;
      this.cache.delete(oldest);
      this.cachedLength -= entry.text.length;
    }
  }

  /** `seen` moves up to the copy's revision (or to the copy's, of another epoch). */
  private raiseSeen(key: string, doc: Cached): void {
    const seen = this.seen.get(key);
    if (seen && seen.epoch === doc.epoch && seen.rev >= doc.rev) return;
    this.seen.delete(key);
    this.seen.set(key, { epoch: doc.epoch, rev: doc.rev });
    if (this.seen.size > Math.max(64, 4 * this.options.cacheDocuments)) this.seen.delete(this.seen.keys().next().value!);
  }

  private forget(key: string): void {
    const entry = this.cache.get(key);
    if (!entry) return;
    this.cache.delete(key);
    this.cachedLength -= entry.text.length;
  }

  /** The kept history's oldest revision: `orev` as stored ('' or null: a document that predates it). */
  private oldestRev(rev: number, orev: string | null | undefined): number {
    return Math.max(orev ? Number(orev) : 0, rev - this.options.historySize, 0);
  }

  /** The session's documents with when each expires (see document-create.lua). */
  private sessionKey(sessionId: string): string {
    return `${this.options.prefix}docs:{${sessionId}}`;
  }

  /** Drops the oldest of the cached recent ops past the count and byte bounds. */
  private trimRecent(doc: Cached): void {
    const { cacheOps, cacheOpsBytes } = this.options;
    let drop = 0;
    while (drop < doc.recent.length && (doc.recent.length - drop > cacheOps || doc.recentBytes > cacheOpsBytes))
      doc.recentBytes -= committedOpBytes(doc.recent[drop++]!);
    if (drop > 0) doc.recent.splice(0, drop);
  }

  private keysOf(sessionId: string, documentId: string): Keys {
    // Not the broker's `<prefix>doc:{<session>}\0<document>` (the document channel's keys): a colon, not a NUL.
    const base = `${this.options.prefix}doc:{${sessionId}}:${documentId}`;
    return { meta: `${base}:meta`, ops: `${base}:ops`, seen: `${base}:seen`, turn: `${base}:turn`, seenq: `${base}:seenq` };
  }
}

const cacheKey = (sessionId: string, documentId: string) => `${sessionId}\u0000${documentId}`;

function pushRecent(doc: Cached, op: CommittedOp): void {
  doc.recent.push(op);
  doc.recentBytes += committedOpBytes(op);
}

function noteLast(doc: Cached, field: string, last: LastCommit): void {
  doc.last.delete(field);
  doc.last.set(field, last);
  if (doc.last.size > MAX_KNOWN_COMMITS) doc.last.delete(doc.last.keys().next().value!);
}

/** Takes `doc.text` back over the first `count` of `entries` (applied to it), last first. */
function undo(doc: Cached, entries: readonly CommittedOp[], count: number): void {
  for (let i = count - 1; i >= 0; i--) doc.text.apply(textType.invert(entries[i]!.op));
}
const dedupeField = (userId: string, clientId: string) => `${userId}\u0000${clientId}`;

function toCommittedOp([id, fields]: StreamEntry): CommittedOp {
  const value: Record<string, string> = {};
  for (let i = 0; i < fields.length; i += 2) value[fields[i]!] = fields[i + 1]!;
  return {
    rev: Number(id.slice(0, id.indexOf('-'))),
    op: JSON.parse(value.o ?? '[]') as TextOp,
    userId: value.u ?? '',
    clientId: value.c ?? '',
    seq: Number(value.s),
    ...(value.x !== undefined && { recovery: JSON.parse(value.x) as RecoveryRecord }),
  };
}
