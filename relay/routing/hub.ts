import type { Broker, BrokerMessage, Disposable, Publication, PublishOptions, StreamPosition } from '../broker/broker';
import type { Connection } from '../gateway/connection';
import type { RelayStats } from '../stats';

/** Routing on top of the broker: who gets a publication. */
export interface Audience {
  /** Only these users' connections (a direct message, or a notice to one user). */
  users?: readonly string[];
  /** Not this connection (usually the sender). */
  exclude?: string;
}

interface LocalSession {
  connections: Set<Connection>;
  subscription: Promise<Disposable>;
}

const sessionChannel = (sessionId: string) => `session:${sessionId}`;
const EVERYONE = 'everyone';

/**
 * This relay's connections, grouped by session. Every publication goes through the broker (so
 * other relays see it) and comes back here once per relay, where it is fanned out to the local
 * sockets of its session: the frame is serialized once, whatever the number of recipients.
 */
export class Hub {
  private readonly sessions = new Map<string, LocalSession>();
  readonly connections = new Set<Connection>();
  private everyoneSubscription: Promise<Disposable> | undefined;

  constructor(
    private readonly broker: Broker,
    private readonly stats: RelayStats,
  ) {}

  async start(): Promise<void> {
    this.everyoneSubscription = this.broker.subscribe(EVERYONE, (publication) => this.deliver(this.connections, publication));
    await this.everyoneSubscription;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Adds a connection; resolves once its session's publications reach this relay. */
  async add(connection: Connection): Promise<void> {
    this.connections.add(connection);
    let session = this.sessions.get(connection.sessionId);
    if (!session) {
      const connections = new Set<Connection>();
      const subscription = this.broker.subscribe(sessionChannel(connection.sessionId), (publication) =>
        this.deliver(connections, publication),
      );
      session = { connections, subscription };
      this.sessions.set(connection.sessionId, session);
    }
    session.connections.add(connection);
    await session.subscription;
  }

  remove(connection: Connection): void {
    this.connections.delete(connection);
    const session = this.sessions.get(connection.sessionId);
    if (!session || !session.connections.delete(connection) || session.connections.size > 0) return;
    this.sessions.delete(connection.sessionId);
    void session.subscription.then((subscription) => subscription.dispose());
  }

  toSession(sessionId: string, message: Omit<BrokerMessage, 'exclude' | 'users'>, audience: Audience = {}, options?: PublishOptions): Promise<StreamPosition> {
    return this.broker.publish(sessionChannel(sessionId), { ...message, ...audience }, options);
  }

  toEveryone(message: Omit<BrokerMessage, 'exclude' | 'users'>, audience: Audience = {}): Promise<StreamPosition> {
    return this.broker.publish(EVERYONE, { ...message, ...audience });
  }

  private deliver(connections: Iterable<Connection>, publication: Publication): void {
    const { exclude, users } = publication;
    // Encoded once here rather than once per socket inside `ws`.
    const data = Buffer.from(publication.data);
    let delivered = 0;
    for (const connection of connections) {
      if (connection.id === exclude) continue;
      if (users && !users.includes(connection.userId)) continue;
      if (connection.sendRaw(data)) delivered++;
    }
    if (delivered > 0) this.stats.countOut(publication.eventType, delivered);
  }

  async close(): Promise<void> {
    const subscriptions = [...this.sessions.values()].map((s) => s.subscription);
    if (this.everyoneSubscription) subscriptions.push(this.everyoneSubscription);
    this.sessions.clear();
    for (const subscription of subscriptions) (await subscription).dispose();
  }
}
