import type { Broker, BrokerMessage, Disposable, Publication, PublishOptions, StreamPosition } from '../broker/broker';
import type { CommitPublication } from '../documents/document-store';
import type { Connection } from '../gateway/connection';
import type { RelayStats } from '../stats';

/** Routing on top of the broker: who gets a publication. */
export interface Audience {
  /** Only these users' connections (a direct message, or a notice to one user). */
  users?: readonly string[];
  /** Not this connection (usually the sender); it gets the message's `echo` instead, if any. */
  exclude?: string;
  /** Only this connection, on whichever relay holds it (an answer to its request). */
  connection?: string;
}

export type HubMessage = Omit<BrokerMessage, 'exclude' | 'users' | 'connection'>;

/** The local connections of one broker channel, and this relay's one subscription to it. */
interface Topic {
  connections: Set<Connection>;
  subscription: Promise<Disposable>;
  /** Connections opening the document: its publications wait here until they have the snapshot. */
  held?: Map<Connection, Publication[]>;
}

const sessionChannel = (sessionId: string) => `session:${sessionId}`;
// Session ids cannot hold a NUL, so the channel name is unambiguous whatever the document path.
const documentChannel = (sessionId: string, documentId: string) => `doc:${sessionId}\u0000${documentId}`;
const EVERYONE = 'everyone';

/** An internal publication on a session channel: every relay closes its connections of the session. */
export const SESSION_ENDED_CONTROL = 'session.ended';

/**
 * This relay's connections, grouped by session and by open document. Every publication goes
 * through the broker (so other relays see it) and comes back here once per relay, where it is
 * fanned out to the local sockets of its channel: the frame is serialized once, whatever the
 * number of recipients. A session channel reaches everyone in the session; a document channel
 * only those who opened the document (edits and cursors are of no use to anyone else).
 */
export class Hub {
  private readonly topics = new Map<string, Topic>();
  private readonly sessionIds = new Set<string>();
  readonly connections = new Set<Connection>();
  private everyoneSubscription: Promise<Disposable> | undefined;
  private sessionEnded: (connections: Connection[]) => void = () => {};

  constructor(
    private readonly broker: Broker,
    private readonly stats: RelayStats,
  ) {}

  async start(): Promise<void> {
    this.everyoneSubscription = this.broker.subscribe(EVERYONE, (publication) => this.deliver(this.connections, publication));
    await this.everyoneSubscription;
  }

  get sessionCount(): number {
    return this.sessionIds.size;
  }

  /** Called with this relay's connections of a session that has just ended. */
  onSessionEnded(listener: (connections: Connection[]) => void): void {
    this.sessionEnded = listener;
  }

  /** Adds a connection; resolves once its session's publications reach this relay. */
  async add(connection: Connection): Promise<void> {
    this.connections.add(connection);
    this.sessionIds.add(connection.sessionId);
    await this.join(sessionChannel(connection.sessionId), connection).subscription;
  }

  remove(connection: Connection): void {
    this.connections.delete(connection);
    for (const documentId of connection.openDocuments) this.leaveDocument(connection, documentId);
    this.leave(sessionChannel(connection.sessionId), connection);
    if (!this.topics.has(sessionChannel(connection.sessionId))) this.sessionIds.delete(connection.sessionId);
  }

  /**
   * The connection gets the document's edits and cursors from now on (once subscribed: await
   * it), but held back until `documentReady`: the snapshot it is about to get is read after the
   * subscription, and a commit that another relay publishes in between must not reach the client
   * before it (it would be lost: the client has no document yet, or skips ahead of its catch-up).
   * Held publications at or below the snapshot's revision are duplicates the client skips.
   */
  joinDocument(connection: Connection, documentId: string): Promise<void> {
    connection.openDocuments.add(documentId);
    const topic = this.join(documentChannel(connection.sessionId, documentId), connection);
    topic.held ??= new Map();
    if (!topic.held.has(connection)) topic.held.set(connection, []);
    return topic.subscription.then(() => undefined);
  }

  /** The connection has its snapshot: what was held for it is sent, in order, and nothing is held any more. */
  documentReady(connection: Connection, documentId: string): void {
    const topic = this.topics.get(documentChannel(connection.sessionId, documentId));
    const held = topic?.held?.get(connection);
    if (!topic || !held) return;
    topic.held!.delete(connection);
    if (topic.held!.size === 0) delete topic.held;
    for (const publication of held) this.deliver([connection], publication);
  }

  leaveDocument(connection: Connection, documentId: string): void {
    connection.openDocuments.delete(documentId);
    const channel = documentChannel(connection.sessionId, documentId);
    const topic = this.topics.get(channel);
    if (topic?.held?.delete(connection) && topic.held.size === 0) delete topic.held;
    this.leave(channel, connection);
  }

  /** The (session, document) pairs some local connection has open. */
  *openDocuments(): Iterable<{ sessionId: string; documentId: string }> {
    const seen = new Set<string>();
    for (const connection of this.connections) {
      for (const documentId of connection.openDocuments) {
        const key = documentChannel(connection.sessionId, documentId);
        if (seen.has(key)) continue;
        seen.add(key);
        yield { sessionId: connection.sessionId, documentId };
      }
    }
  }

  toSession(sessionId: string, message: HubMessage, audience: Audience = {}, options?: PublishOptions): Promise<StreamPosition> {
    return this.broker.publish(sessionChannel(sessionId), { ...message, ...audience }, options);
  }

  /** To the connections that opened the document, on every relay. */
  toDocument(sessionId: string, documentId: string, message: HubMessage, audience: Audience = {}): Promise<StreamPosition> {
    return this.broker.publish(documentChannel(sessionId, documentId), { ...message, ...audience });
  }

  /**
   * What `toDocument` would publish, for a document store to publish itself as part of a commit
   * (see `DocumentStore.append`): the order of the commits is then the order of the publications.
   */
  documentPublication(sessionId: string, documentId: string, message: HubMessage, audience: Audience = {}): CommitPublication {
    return { channel: documentChannel(sessionId, documentId), message: { ...message, ...audience } };
  }

  toEveryone(message: HubMessage, audience: Audience = {}): Promise<StreamPosition> {
    return this.broker.publish(EVERYONE, { ...message, ...audience });
  }

  /** This relay's connections that have some document open (they rejoin to catch up on commits). */
  documentConnections(): Connection[] {
    return [...this.connections].filter((connection) => connection.openDocuments.size > 0);
  }

  private join(channel: string, connection: Connection): Topic {
    let topic = this.topics.get(channel);
    if (!topic) {
      const created: Topic = {
        connections: new Set(),
        subscription: this.broker.subscribe(channel, (publication) => this.deliverToTopic(created, publication)),
      };
      topic = created;
      this.topics.set(channel, topic);
    }
    topic.connections.add(connection);
    return topic;
  }

  private leave(channel: string, connection: Connection): void {
    const topic = this.topics.get(channel);
    if (!topic || !topic.connections.delete(connection) || topic.connections.size > 0) return;
    this.topics.delete(channel);
    void topic.subscription.then((subscription) => subscription.dispose());
  }

  private deliverToTopic(topic: Topic, publication: Publication): void {
    const held = topic.held;
    if (!held) return this.deliver(topic.connections, publication);
    const now: Connection[] = [];
    for (const connection of topic.connections) {
      const waiting = held.get(connection);
      if (waiting) waiting.push(publication);
      else now.push(connection);
    }
    this.deliver(now, publication);
  }

  private deliver(connections: Iterable<Connection>, publication: Publication): void {
    if (publication.eventType === SESSION_ENDED_CONTROL) return this.sessionEnded([...connections]);
    const { exclude, users, echo, connection: only } = publication;
    // Encoded once here rather than once per socket inside `ws`.
    const data = Buffer.from(publication.data);
    let delivered = 0;
    for (const connection of connections) {
      if (connection.id === exclude) {
        if (echo && connection.sendRaw(echo.data)) this.stats.countOut(echo.eventType);
        continue;
      }
      if (users && !users.includes(connection.userId)) continue;
      if (only !== undefined && connection.id !== only) continue;
      if (connection.sendRaw(data)) delivered++;
    }
    if (delivered > 0) this.stats.countOut(publication.eventType, delivered);
  }

  async close(): Promise<void> {
    const subscriptions = [...this.topics.values()].map((t) => t.subscription);
    if (this.everyoneSubscription) subscriptions.push(this.everyoneSubscription);
    this.topics.clear();
    this.sessionIds.clear();
    // A subscription that never came through (Redis down at the time) has nothing to dispose.
    for (const subscription of subscriptions) await subscription.then((s) => s.dispose(), () => undefined);
  }
}
