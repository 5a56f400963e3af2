import { randomUUID } from 'node:crypto';
import { TextDocument } from '../../protocol';
import type { Broker } from '../broker/broker';
import type { CommitPublication, CommittedOp, DocumentHead, DocumentSnapshot, DocumentStore, LastCommit, RecoveryOrigin } from './document-store';

interface StoredDocument {
  epoch: string;
  origin: RecoveryOrigin | undefined;
  text: TextDocument;
  rev: number;
  /** The last `historySize` committed ops, oldest first: `history[i].rev === rev - history.length + 1 + i`. */
  history: CommittedOp[];
  lastCommits: Map<string, LastCommit>;
  usedAt: number;
}

export interface MemoryDocumentStoreOptions {
  /** Committed ops kept per document (default 1000). */
  historySize?: number;
  /** A document neither used nor touched for this long is dropped (default 10 minutes). */
  idleTimeoutMs?: number;
  /** Publishes the commits' publications (`append`); needed only if publications are passed. */
  broker?: Pick<Broker, 'publish'>;
}

const key = (sessionId: string, documentId: string) => `${sessionId}\u0000${documentId}`;
/** A document's epoch: random, so that one created again after a restart is told apart (64 bits). */
export const newEpoch = () => randomUUID().replaceAll('-', '').slice(0, 16);
const clientKey = (userId: string, clientId: string) => `${userId}\u0000${clientId}`;

/** The embedded default: documents live in this process, until idle or the relay stops. */
export class MemoryDocumentStore implements DocumentStore {
  private readonly documents = new Map<string, StoredDocument>();
  private readonly historySize: number;
  private readonly idleTimeoutMs: number;
  private readonly sweeper: NodeJS.Timeout;
  private readonly broker: Pick<Broker, 'publish'> | undefined;

  constructor({ historySize = 1000, idleTimeoutMs = 600_000, broker }: MemoryDocumentStoreOptions = {}) {
    if (!(Number.isSafeInteger(historySize) && historySize >= 1)) throw new RangeError(`historySize must be a positive integer, got ${historySize}`);
    if (!(idleTimeoutMs > 0)) throw new RangeError(`idleTimeoutMs must be positive, got ${idleTimeoutMs}`);
    this.historySize = historySize;
    this.idleTimeoutMs = idleTimeoutMs;
    this.broker = broker;
    this.sweeper = setInterval(() => this.dropIdle(), Math.max(100, idleTimeoutMs / 4)).unref();
  }

  async create(sessionId: string, documentId: string, text: string, origin?: RecoveryOrigin): Promise<boolean> {
    const k = key(sessionId, documentId);
    if (this.documents.has(k)) return false;
    const epoch = newEpoch();
    this.documents.set(k, { epoch, origin, text: new TextDocument(text), rev: 0, history: [], lastCommits: new Map(), usedAt: Date.now() });
    return true;
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

  async since(sessionId: string, documentId: string, fromRev: number): Promise<{ head: DocumentHead; ops: CommittedOp[] | undefined } | undefined> {
    const head = await this.head(sessionId, documentId);
    return head && { head, ops: await this.read(sessionId, documentId, fromRev) };
  }

  /**
   * One process, one relay: its `DocumentAuthority` serializes the commits of a document, so
   * publishing right after the commit keeps the publications in revision order. A failed publish
   * (not with the MemoryBroker) leaves the commit in place; a resend is acked as a duplicate.
   */
  async append(sessionId: string, documentId: string, entry: CommittedOp, publication?: CommitPublication): Promise<boolean> {
    if (publication && !this.broker) throw new Error('MemoryDocumentStore: a publication needs the `broker` option');
    const doc = this.use(sessionId, documentId);
    if (!doc || entry.rev !== doc.rev + 1) return false;
    const client = clientKey(entry.userId, entry.clientId);
    const last = doc.lastCommits.get(client);
    if (last && entry.seq <= last.seq) return false;
    doc.text.apply(entry.op); // throws before changing anything if the op does not apply
    doc.rev = entry.rev;
    doc.history.push(entry);
    if (doc.history.length > this.historySize) doc.history.splice(0, doc.history.length - this.historySize);
    doc.lastCommits.set(client, { seq: entry.seq, rev: entry.rev });
    if (publication) await this.broker!.publish(publication.channel, publication.message);
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
  }

  private use(sessionId: string, documentId: string): StoredDocument | undefined {
    const doc = this.documents.get(key(sessionId, documentId));
    if (doc) doc.usedAt = Date.now();
    return doc;
  }

  private dropIdle(): void {
    const before = Date.now() - this.idleTimeoutMs;
    for (const [k, doc] of this.documents) if (doc.usedAt < before) this.documents.delete(k);
  }
}
