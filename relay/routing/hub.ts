import type { Broker, BrokerMessage, Disposable, Publication, PublishOptions, StreamPosition } from '../broker/broker';
import type { Connection } from '../gateway/connection';
import type { RelayStats } from '../stats';

/** Routing on top of the broker: who gets a publication. */
export interface Audience {
  /** Only these users' connections (a direct message, or a notice to one user). */
  users?: readonly string[];
  /** Not this connection (usually the sender); it gets the message's `echo` instead, if any. */
  exclude?: string;
}

export type HubMessage = Omit<BrokerMessage, 'exclude' | 'users'>;

/** The local connections of one broker channel, and this relay's one subscription to it. */
interface Topic {
  connections: Set<Connection>;
  subscription: Promise<Disposable>;
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
    await this.join(sessionChannel(connection.sessionId), connection);
  }

  remove(connection: Connection): void {
    this.connections.delete(connection);
    for (const documentId of connection.openDocuments) this.leaveDocument(connection, documentId);
    this.leave(sessionChannel(connection.sessionId), connection);
    if (!this.topics.has(sessionChannel(connection.sessionId))) this.sessionIds.delete(connection.sessionId);
  }

  /** The connection gets the document's edits and cursors from now on (once subscribed: await it). */
  joinDocument(connection: Connection, documentId: string): Promise<void> {
    connection.openDocuments.add(documentId);
    return this.join(documentChannel(connection.sessionId, documentId), connection);
  }

  leaveDocument(connection: Connection, documentId: string): void {
    connection.openDocuments.delete(documentId);
    this.leave(documentChannel(connection.sessionId, documentId), connection);
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

  toEveryone(message: HubMessage, audience: Audience = {}): Promise<StreamPosition> {
    return this.broker.publish(EVERYONE, { ...message, ...audience });
  }

  private join(channel: string, connection: Connection): Promise<void> {
    let topic = this.topics.get(channel);
    if (!topic) {
      const connections = new Set<Connection>();
      const subscription = this.broker.subscribe(channel, (publication) => this.deliver(connections, publication));
      topic = { connections, subscription };
      this.topics.set(channel, topic);
    }
    topic.connections.add(connection);
    return topic.subscription.then(() => undefined);
  }

  private leave(channel: string, connection: Connection): void {
    const topic = this.topics.get(channel);
    if (!topic || !topic.connections.delete(connection) || topic.connections.size > 0) return;
    this.topics.delete(channel);
    void topic.subscription.then((subscription) => subscription.dispose());
  }

  private deliver(connections: Iterable<Connection>, publication: Publication): void {
    if (publication.eventType === SESSION_ENDED_CONTROL) return this.sessionEnded([...connections]);
    const { exclude, users, echo } = publication;
    // Encoded once here rather than once per socket inside `ws`.
    const data = Buffer.from(publication.data);
    let delivered = 0;
    for (const connection of connections) {
      if (connection.id === exclude) {
        if (echo && connection.sendRaw(echo.data)) this.stats.countOut(echo.eventType);
        continue;
      }
      if (users && !users.includes(connection.userId)) continue;
      if (connection.sendRaw(data)) delivered++;
    }
    if (delivered > 0) this.stats.countOut(publication.eventType, delivered);
  }

  async close(): Promise<void> {
    const subscriptions = [...this.topics.values()].map((t) => t.subscription);
    if (this.everyoneSubscription) subscriptions.push(this.everyoneSubscription);
    this.topics.clear();
    this.sessionIds.clear();
    for (const subscription of subscriptions) (await subscription).dispose();
  }
}
