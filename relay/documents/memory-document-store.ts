import { ProtocolError, TextDocument, textType } from '../../protocol';
import type { Broker } from '../broker/broker';
import { newEpoch } from '../epoch';
import {
  type CommitBase,
  type CommitPublication,
  type CommittedOp,
  EntryRejectedError,
  type DocumentHead,
  type DocumentSnapshot,
  type DocumentStore,
  type LastCommit,
  type RecoveryOrigin,
} from './document-store';
import { committedOpBytes, lastCommitBytes } from './history-bytes';

interface StoredDocument {
  epoch: string;
  origin: RecoveryOrigin | undefined;
  text: TextDocument;
  rev: number;
  /** The last `historySize` committed ops, oldest first: `history[i].rev === rev - history.length + 1 + i`. */
  history: CommittedOp[];
  /** `committedOpBytes` of `history`, all together. */
  historyBytes: number;
  /** Least recently committed first (an update moves a client to the end). */
  lastCommits: Map<string, LastCommit>;
  /** `lastCommitBytes` of `lastCommits`, all together. */
  lastCommitsBytes: number;
  usedAt: number;
}

export interface MemoryDocumentStoreOptions {
  /** Committed ops kept per document (default 1000). */
  historySize?: number;
  /** A document neither used nor touched for this long is dropped (default 10 minutes). */
  idleTimeoutMs?: number;
  /** Publishes the commits' publications (`append`); needed only if publications are passed. */
  broker?: Pick<Broker, 'publish'>;
  /**
   * Bytes of committed ops kept per document (`committedOpBytes`), besides `historySize`; the
   * oldest go first. The dedupe records (one per user and client id) get as much again.
   */
  historyMaxBytes?: number;
  /** Documents one session may have; `create` throws TOO_MANY_DOCUMENTS past it. */
  maxPerSession?: number;
}

const key = (sessionId: string, documentId: string) => `${sessionId}\u0000${documentId}`;
const clientKey = (userId: string, clientId: string) => `${userId}\u0000${clientId}`;

/** The embedded default: documents live in this process, until idle or the relay stops. */
export class MemoryDocumentStore implements DocumentStore {
  private readonly documents = new Map<string, StoredDocument>();
  private readonly historySize: number;
  private readonly idleTimeoutMs: number;
  private readonly sweeper: NodeJS.Timeout;
  private readonly broker: Pick<Broker, 'publish'> | undefined;
  private readonly historyMaxBytes: number;
  private readonly maxPerSession: number;
  /** How many documents each session has. */
  private readonly perSession = new Map<string, number>();

  constructor({
    historySize = 1000,
    idleTimeoutMs = 600_000,
    broker,
    historyMaxBytes = 8 * 1024 * 1024,
    maxPerSession = Infinity,
  }: MemoryDocumentStoreOptions = {}) {
    if (!(Number.isSafeInteger(historySize) && historySize >= 1))
      throw new RangeError(`historySize must be a positive integer, got ${historySize}`);
    if (!(idleTimeoutMs > 0)) throw new RangeError(`idleTimeoutMs must be positive, got ${idleTimeoutMs}`);
    this.historySize = historySize;
    this.idleTimeoutMs = idleTimeoutMs;
    this.broker = broker;
    this.historyMaxBytes = historyMaxBytes;
    this.maxPerSession = maxPerSession;
    this.sweeper = setInterval(() => this.dropIdle(), Math.max(100, idleTimeoutMs / 4)).unref();
  }

  async create(sessionId: string, documentId: string, text: string, origin?: RecoveryOrigin): Promise<boolean> {
    const k = key(sessionId, documentId);
    if (this.documents.has(k)) return false;
    const count = this.perSession.get(sessionId) ?? 0;
    if (count >= this.maxPerSession) throw tooManyDocuments(this.maxPerSession);
    const epoch = newEpoch();
    this.documents.set(k, {
      epoch,
      origin,
      text: new TextDocument(text),
      rev: 0,
      history: [],
      historyBytes: 0,
      lastCommits: new Map(),
      lastCommitsBytes: 0,
      usedAt: Date.now(),
    });
    this.perSession.set(sessionId, count + 1);
    return true;
  }

  /** Nothing is ever lost in one process; a client may still say so (the authority decides whether to believe it). */
  async fork(
    sessionId: string,
    documentId: string,
    from: DocumentSnapshot,
    origin: RecoveryOrigin,
    notice?: CommitPublication,
  ): Promise<boolean> {
    if (notice && !this.broker) throw new Error('MemoryDocumentStore: a publication needs the `broker` option');
    const doc = this.use(sessionId, documentId);
    if (!doc || doc.epoch !== from.epoch || doc.rev !== from.rev) return false;
    Object.assign(doc, {
      epoch: newEpoch(),
      origin,
      text: new TextDocument(from.text),
      rev: 0,
      history: [],
      historyBytes: 0,
      lastCommits: new Map(),
      lastCommitsBytes: 0,
    } satisfies Omit<StoredDocument, 'usedAt'>);
    if (notice) await this.broker!.publish(notice.channel, notice.message);
    return true;
  }

  /** Nothing committed is lost while the process runs. */
  seenPast(): undefined {
    return undefined;
  }

  async origin(sessionId: string, documentId: string, epoch: string): Promise<RecoveryOrigin | undefined> {
    const doc = this.use(sessionId, documentId);
    return doc?.epoch === epoch ? doc.origin : undefined;
  }

  async head(sessionId: string, documentId: string): Promise<DocumentHead | undefined> {
    const doc = this.use(sessionId, documentId);
    return doc && { rev: doc.rev, oldestRev: doc.rev - doc.history.length, length: doc.text.length, epoch: doc.epoch };
  }

  async snapshot(sessionId: string, documentId: string): Promise<DocumentSnapshot | undefined> {
    const doc = this.use(sessionId, documentId);
    return doc && { rev: doc.rev, text: doc.text.toString(), epoch: doc.epoch };
  }

  async read(sessionId: string, documentId: string, fromRev: number): Promise<CommittedOp[] | undefined> {
    const doc = this.use(sessionId, documentId);
    if (!doc) return undefined;
    const oldest = doc.rev - doc.history.length;
    if (fromRev < oldest || fromRev > doc.rev) return undefined;
    return doc.history.slice(fromRev - oldest);
  }

  async since(
    sessionId: string,
    documentId: string,
    fromRev: number,
  ): Promise<{ head: DocumentHead; ops: CommittedOp[] | undefined } | undefined> {
    const head = await this.head(sessionId, documentId);
    return head && { head, ops: await this.read(sessionId, documentId, fromRev) };
  }

  /**
   * One process, one relay: its `DocumentAuthority` serializes the commits of a document, so
   * publishing right after the commit keeps the publications in revision order. A failed publish
   * (not with the MemoryBroker) leaves the commit in place; a resend is acked as a duplicate.
   */
  async append(sessionId: string, documentId: string, entry: CommittedOp, publication?: CommitPublication): Promise<boolean> {
    try {
      return await this.commit(sessionId, documentId, [entry], publication && [publication]);
    } catch (error) {
      throw error instanceof EntryRejectedError ? error.cause : error;
    }
  }

  /** Nothing to round-trip: the document itself. */
  async commitBase(sessionId: string, documentId: string, from: number): Promise<CommitBase | undefined> {
    const doc = this.use(sessionId, documentId);
    if (!doc) return undefined;
    const oldest = doc.rev - doc.history.length;
    return {
      head: { rev: doc.rev, oldestRev: oldest, length: doc.text.length, epoch: doc.epoch },
      ops: from < oldest || from > doc.rev ? undefined : doc.history.slice(from - oldest),
      lastCommit: (userId, clientId) => doc.lastCommits.get(clientKey(userId, clientId)),
    };
  }

  async commit(
    sessionId: string,
    documentId: string,
    entries: readonly CommittedOp[],
    publications?: readonly CommitPublication[],
  ): Promise<boolean> {
    if (publications?.length && !this.broker) throw new Error('MemoryDocumentStore: a publication needs the `broker` option');
    const doc = this.use(sessionId, documentId);
    if (!doc || entries[0]?.rev !== doc.rev + 1) return false;
    const group = new Map<string, number>();
    for (const [i, entry] of entries.entries()) {
      if (entry.rev !== doc.rev + 1 + i) throw new RangeError(`entry ${i} has revision ${entry.rev}, not ${doc.rev + 1 + i}`);
      const client = clientKey(entry.userId, entry.clientId);
      const last = group.get(client) ?? doc.lastCommits.get(client)?.seq;
      if (last !== undefined && entry.seq <= last) return false;
      group.set(client, entry.seq);
    }
    let applied = 0;
    try {
      for (; applied < entries.length; applied++) doc.text.apply(entries[applied]!.op); // throws before changing anything
    } catch (error) {
      for (let i = applied - 1; i >= 0; i--) doc.text.apply(textType.invert(entries[i]!.op));
      throw new EntryRejectedError(applied, error);
    }
    for (const entry of entries) {
      doc.rev = entry.rev;
      doc.history.push(entry);
      doc.historyBytes += committedOpBytes(entry);
      this.remember(doc, clientKey(entry.userId, entry.clientId), entry);
    }
    // By count, then by bytes (an op older than the kept history gets a resync).
    let drop = Math.max(0, doc.history.length - this.historySize);
    let bytes = doc.historyBytes;
    for (let i = 0; i < drop; i++) bytes -= committedOpBytes(doc.history[i]!);
    while (drop < doc.history.length && bytes > this.historyMaxBytes) bytes -= committedOpBytes(doc.history[drop++]!);
    if (drop > 0) doc.history.splice(0, drop);
    doc.historyBytes = bytes;
    for (const publication of publications ?? []) await this.broker!.publish(publication.channel, publication.message);
    return true;
  }

  async touch(sessionId: string, documentId: string): Promise<void> {
    this.use(sessionId, documentId);
  }

  async lastCommit(sessionId: string, documentId: string, userId: string, clientId: string): Promise<LastCommit | undefined> {
    return this.use(sessionId, documentId)?.lastCommits.get(clientKey(userId, clientId));
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.documents.clear();
    this.perSession.clear();
  }

  /**
   * Records the client's last commit, for acking a resend. A client id per edit would grow this
   * without end: past the byte bound the least recently committed clients are forgotten (one of
   * them resending an op that old would get a resync, as its base is older than the history).
   */
  private remember(doc: StoredDocument, client: string, entry: CommittedOp): void {
    if (!doc.lastCommits.delete(client)) doc.lastCommitsBytes += lastCommitBytes(entry.userId, entry.clientId);
    doc.lastCommits.set(client, { seq: entry.seq, rev: entry.rev });
    for (const [oldest] of doc.lastCommits) {
      if (doc.lastCommitsBytes <= this.historyMaxBytes || doc.lastCommits.size <= 1) break;
      doc.lastCommits.delete(oldest);
      const [userId = '', clientId = ''] = oldest.split('\u0000');
      doc.lastCommitsBytes -= lastCommitBytes(userId, clientId);
    }
  }

  private use(sessionId: string, documentId: string): StoredDocument | undefined {
    const doc = this.documents.get(key(sessionId, documentId));
    if (doc) doc.usedAt = Date.now();
    return doc;
  }

  private dropIdle(): void {
    const before = Date.now() - this.idleTimeoutMs;
    for (const [k, doc] of this.documents) {
      if (doc.usedAt >= before) continue;
      this.documents.delete(k);
      const sessionId = k.slice(0, k.indexOf('\u0000'));
      const left = (this.perSession.get(sessionId) ?? 1) - 1;
      if (left > 0) this.perSession.set(sessionId, left);
      else this.perSession.delete(sessionId);
    }
  }
}

export function tooManyDocuments(max: number): ProtocolError {
  return new ProtocolError('TOO_MANY_DOCUMENTS', `a session may have ${max} documents; this one has as many`, 'payload.document');
}
