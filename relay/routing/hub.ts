import { frameWithOffset, type Role } from '../../protocol';
import { type Availability, alwaysAvailable } from '../broker/availability';
import type { Broker, BrokerMessage, Disposable, Publication, PublishOptions, PublishResult, StreamPosition } from '../broker/broker';
import type { CommitPublication } from '../documents/document-store';
import type { Connection } from '../gateway/connection';
import { roomFor } from '../gateway/paced-send';
import type { RelayStats } from '../stats';

/** Routing on top of the broker: who gets a publication. */
export interface Audience {
  /** Only these users' connections (a direct message, or a notice to one user). */
  users?: readonly string[];
  /** Not this connection (usually the sender); it gets the message's `echo` instead, if any. */
  exclude?: string;
  /** Only this connection, on whichever relay holds it (an answer to its request). */
  connection?: string;
  /** Only connections with one of these roles (a guest's frame for the host). */
  roles?: readonly Role[];
}

export type HubMessage = Omit<BrokerMessage, 'exclude' | 'users' | 'connection' | 'roles'>;

/**
 * Told of each echo that reaches this relay on a topic it subscribes to, with the connection it
 * is for, whether or not that connection is still here: an edit committed for `connectionId`
 * (commit-forwarding.ts learns so of the edits it forwarded).
 */
export type EchoListener = (connectionId: string, echo: NonNullable<BrokerMessage['echo']>) => void;

/** The local connections of one broker channel, and this relay's one subscription to it. */
interface Topic {
  connections: Set<Connection>;
  subscription: Promise<Disposable>;
  /**
   * Connections being admitted (session channel: until they have `connect` and what they missed)
   * or opening a document (until they have its snapshot): publications wait here for them.
   */
  held?: Map<Connection, Publication[]>;
}

/** What a connection gets of the session log when it is admitted (see `openSessionLog`). */
export interface SessionLogStart {
  /** The log's position when it was read: later publications reach the connection live. */
  position: StreamPosition;
  /** Only when the connection asked to resume: whether the log still had everything after its position. */
  recovered?: boolean;
  /** The publications it missed that it may see, oldest first (empty unless recovered). */
  replay: Publication[];
}

/** History is read this many publications at a time (a channel keeps 1000 by default). */
const REPLAY_PAGE = 500;
/** How many of the latest events a late joiner gets when the log no longer has the session's start. */
const HISTORY_TAIL = 500;
/** A position no log has: reading "since" it only answers where the log stands. */
const NOWHERE: StreamPosition = { offset: 0, epoch: '' };

// Both tagged with the session id (`{…}`, see `Broker`): on Redis Cluster a session's channels and
// keys share one hash slot. Session ids hold neither braces nor a NUL, so the names are unambiguous
// whatever the document path.
const sessionChannel = (sessionId: string) => `session:{${sessionId}}`;
const documentChannel = (sessionId: string, documentId: string) => `doc:{${sessionId}}\u0000${documentId}`;
const EVERYONE = 'everyone';

/** An internal publication on a session channel: every relay closes its connections of the session. */
export const SESSION_ENDED_CONTROL = 'session.ended';
/** Internal, to one user of a session (`users`): every relay closes that user's connections (the host removed them). */
export const PARTICIPANT_REMOVED_CONTROL = 'participant.removed';
/** Internal, to one user of a session (`users`), the new role as its data: every relay enforces it on that user's connections. */
export const PARTICIPANT_ROLE_CONTROL = 'participant.role';

/**
 * Internal, on a document channel, published with a fork of the document (`DocumentStore.fork`):
 * every relay closes its connections of the document but the one whose rejoin forked it (`exclude`),
 * so that each rejoins and its copy is merged.
 */
export const DOCUMENT_FORKED_CONTROL = 'document.forked';

/** What a participant control publication asks of the connections it reaches. */
export type ParticipantControl = { kind: 'removed' } | { kind: 'role'; role: 'editor' | 'viewer' };

const isControl = (eventType: string) =>
  eventType === SESSION_ENDED_CONTROL ||
  eventType === PARTICIPANT_REMOVED_CONTROL ||
  eventType === PARTICIPANT_ROLE_CONTROL ||
  eventType === DOCUMENT_FORKED_CONTROL;

/**
 * This relay's connections, grouped by session and by open document. Every publication goes
 * through the broker (so other relays see it) and comes back here once per relay, where it is
 * fanned out to the local sockets of its channel: the frame is serialized once, whatever the
 * number of recipients. A session channel reaches everyone in the session; a document channel
 * only those who opened the document (edits and cursors are of no use to anyone else).
 *
 * The session channel is also the session log: publications kept in its history reach clients
 * with their `offset` (spliced into the frame once per publication), and a connection admitted
 * with a position it saw before gets what it missed, then the live ones, with no gap and nothing
 * twice: it subscribes first, holds what arrives, reads the history, sends that, and releases
 * only the held publications past what the history covered.
 */
export class Hub {
  private readonly topics = new Map<string, Topic>();
  private readonly sessionIds = new Set<string>();
  readonly connections = new Set<Connection>();
  private everyoneSubscription: Promise<Disposable> | undefined;
  private sessionEnded: (connections: Connection[]) => void = () => {};
  private participantControl: (control: ParticipantControl, connections: Connection[]) => void = () => {};
  private documentForked: (connections: Connection[]) => void = () => {};

  constructor(
    private readonly broker: Broker,
    readonly stats: RelayStats,
    /** Whether the broker can be reached now (see `toSessionEphemeral`). */
    readonly availability: Availability = alwaysAvailable,
    private readonly onEcho?: EchoListener,
  ) {}

  async start(): Promise<void> {
    this.everyoneSubscription = this.broker.subscribe(EVERYONE, (publication) => this.deliver(this.connections, publication));
    await this.everyoneSubscription;
  }

  get sessionCount(): number {
    return this.sessionIds.size;
  }

  /** The documents some connection of this relay has open (one per session and document). */
  get openDocumentCount(): number {
    let count = 0;
    for (const channel of this.topics.keys()) if (channel.startsWith('doc:')) count++;
    return count;
  }

  /** The sessions this relay has connections of. */
  get localSessionIds(): Iterable<string> {
    return this.sessionIds.values();
  }

  /** Called with this relay's connections of a session that has just ended. */
  onSessionEnded(listener: (connections: Connection[]) => void): void {
    this.sessionEnded = listener;
  }

  /** Called with this relay's connections of a user that the host removed, or whose role changed. */
  onParticipantControl(listener: (control: ParticipantControl, connections: Connection[]) => void): void {
    this.participantControl = listener;
  }

  /**
   * Adds a connection; resolves once its session's publications reach this relay. They are held
   * for it until `sessionReady`, so that they come after `connect` and the events it missed.
   */
  async add(connection: Connection): Promise<void> {
    this.connections.add(connection);
    this.sessionIds.add(connection.sessionId);
    const topic = this.join(sessionChannel(connection.sessionId), connection);
    topic.held ??= new Map();
    if (!topic.held.has(connection)) topic.held.set(connection, []);
    await topic.subscription;
  }

  /**
   * Reads the session log for a connection that `add` subscribed: where it stands and, with
   * `since` (the last position the client saw), the publications after it. Read after
   * subscribing, so that everything past `position` arrives live (and is held meanwhile).
   */
  async openSessionLog(connection: Connection, since?: StreamPosition): Promise<SessionLogStart> {
    const channel = sessionChannel(connection.sessionId);
    if (!since) return { position: (await this.broker.history(channel, NOWHERE, 0)).position, replay: [] };
    let page = await this.broker.history(channel, since.epoch === '' ? await this.historyStart(channel) : since, REPLAY_PAGE);
    const { position } = page;
    const replay: Publication[] = [];
    let last = since.offset;
    for (;;) {
      if (!page.recovered || page.position.epoch !== position.epoch) return { position, recovered: false, replay: [] };
      for (const publication of page.publications) {
        if (publication.offset > position.offset) break;
        last = publication.offset;
        if (visibleTo(connection, publication)) replay.push(publication);
      }
      if (last >= position.offset) return { position, recovered: true, replay };
      // A page that ends short of the position it reported: the history moved under us.
      if (page.publications.length === 0) return { position, recovered: false, replay: [] };
      page = await this.broker.history(channel, { offset: last, epoch: position.epoch }, REPLAY_PAGE);
    }
  }

  /**
   * Where a first connection that asks for the session so far (`since_offset=0` alone) starts: the
   * log's beginning if it still has it, else its last HISTORY_TAIL events if it has those.
   */
  private async historyStart(channel: string): Promise<StreamPosition> {
    const { position } = await this.broker.history(channel, NOWHERE, 0);
    const start = { offset: 0, epoch: position.epoch };
    if ((await this.broker.history(channel, start, 0)).recovered) return start;
    return { offset: Math.max(0, position.offset - HISTORY_TAIL), epoch: position.epoch };
  }

  /**
   * The connection has its `connect`: sends what it missed (paced to its reading, so a long
   * replay is not mistaken for a slow consumer), then the publications held for it that came
   * after `start.position`, and from then on everything as it arrives.
   */
  async sessionReady(connection: Connection, start: SessionLogStart): Promise<void> {
    for (const publication of start.replay) {
      await roomFor(connection, publication.data.length);
      if (!connection.isOpen) return;
      this.deliver([connection], publication);
    }
    // Looked up now: the connection may have left (and its topic gone) during the replay.
    const topic = this.topics.get(sessionChannel(connection.sessionId));
    const held = topic?.held?.get(connection);
    if (!topic?.held || !held) return;
    topic.held.delete(connection);
    if (topic.held.size === 0) delete topic.held;
    for (const publication of held) {
      // At or below the position: in the replay (or from before the connection, if it did not resume).
      if (publication.offset === 0 || publication.offset > start.position.offset) this.deliver([connection], publication);
    }
  }

  remove(connection: Connection): void {
    this.connections.delete(connection);
    for (const documentId of connection.openDocuments) this.leaveDocument(connection, documentId);
    this.leave(sessionChannel(connection.sessionId), connection);
    if (!this.topics.has(sessionChannel(connection.sessionId))) this.sessionIds.delete(connection.sessionId);
  }

  /** Called with this relay's connections of a document that forked (`DOCUMENT_FORKED_CONTROL`). */
  onDocumentForked(listener: (connections: Connection[]) => void): void {
    this.documentForked = listener;
  }

  /** The notice a fork of the document publishes (`DOCUMENT_FORKED_CONTROL`): all but `exclude` rejoin. */
  documentForkNotice(sessionId: string, documentId: string, exclude: string): CommitPublication {
    return this.documentPublication(sessionId, documentId, { eventType: DOCUMENT_FORKED_CONTROL, data: '' }, { exclude });
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

  toSession(sessionId: string, message: HubMessage, audience: Audience = {}, options?: PublishOptions): Promise<PublishResult> {
    return this.broker.publish(sessionChannel(sessionId), { ...message, ...audience }, options);
  }

  /**
   * To this relay's connections of the session only, straight to their sockets: nothing goes
   * through the broker (which may be unreachable), so nothing is logged and no other relay sees
   * it. Connections still being admitted get it after their `connect`, as with any publication.
   */
  toLocalSession(sessionId: string, message: HubMessage, audience: Audience = {}): void {
    const topic = this.topics.get(sessionChannel(sessionId));
    if (topic) this.deliverToTopic(topic, { ...message, ...audience, offset: 0 });
  }

  /**
   * For ephemeral events that no log or state depends on (cursors): through the broker, or,
   * while it cannot be reached, to this relay's connections of the session (`toLocalSession`):
   * the participants here keep seeing each other, and those elsewhere only miss updates that
   * the next one replaces. Never for logged or stateful events (chat, edits): delivered here
   * only, they would be missing from the log and from the other relays for good.
   */
  async toSessionEphemeral(sessionId: string, message: HubMessage, audience: Audience = {}): Promise<void> {
    if (this.availability.available) {
      try {
        await this.toSession(sessionId, message, audience);
        return;
      } catch (error) {
        if (!this.availability.isUnavailableError(error)) throw error;
      }
    }
    this.toLocalSession(sessionId, message, audience);
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
    if (topic?.held?.delete(connection) && topic.held.size === 0) delete topic.held;
    if (!topic || !topic.connections.delete(connection) || topic.connections.size > 0) return;
    this.topics.delete(channel);
    void topic.subscription.then((subscription) => subscription.dispose());
  }

  private deliverToTopic(topic: Topic, publication: Publication): void {
    if (publication.echo && publication.exclude !== undefined) this.onEcho?.(publication.exclude, publication.echo);
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
    if (publication.eventType === DOCUMENT_FORKED_CONTROL)
      return this.documentForked([...connections].filter((connection) => connection.id !== publication.exclude));
    if (publication.eventType === PARTICIPANT_REMOVED_CONTROL || publication.eventType === PARTICIPANT_ROLE_CONTROL) {
      const reached = [...connections].filter((connection) => addressedTo(connection, publication));
      if (publication.eventType === PARTICIPANT_REMOVED_CONTROL) return this.participantControl({ kind: 'removed' }, reached);
      const role = publication.data;
      if (role === 'editor' || role === 'viewer') this.participantControl({ kind: 'role', role }, reached);
      return;
    }
    const timings = this.stats.timings;
    const started = timings.enabled ? performance.now() : 0;
    const { exclude, echo, offset } = publication;
    // Encoded once here rather than once per socket inside `ws`.
    const data = Buffer.from(offset > 0 ? frameWithOffset(publication.data, offset) : publication.data);
    let delivered = 0;
    for (const connection of connections) {
      if (connection.id === exclude) {
        if (echo && connection.sendRaw(offset > 0 ? frameWithOffset(echo.data, offset) : echo.data)) this.stats.countOut(echo.eventType);
        continue;
      }
      if (!addressedTo(connection, publication)) continue;
      if (connection.sendRaw(data)) delivered++;
    }
    if (delivered > 0) this.stats.countOut(publication.eventType, delivered);
    if (timings.enabled) timings.fanOut((performance.now() - started) / 1000);
  }

  async close(): Promise<void> {
    const subscriptions = [...this.topics.values()].map((t) => t.subscription);
    if (this.everyoneSubscription) subscriptions.push(this.everyoneSubscription);
    this.topics.clear();
    this.sessionIds.clear();
    // A subscription that never came through (Redis down at the time) has nothing to dispose.
    for (const subscription of subscriptions)
      await subscription.then(
        (s) => s.dispose(),
        () => undefined,
      );
  }
}

/** Whether the publication's `users`, `roles` and `connection` audience takes in this connection. */
function addressedTo(connection: Connection, publication: Publication): boolean {
  if (publication.users && !publication.users.includes(connection.userId)) return false;
  if (publication.roles && !publication.roles.includes(connection.role)) return false;
  return publication.connection === undefined || publication.connection === connection.id;
}

/** Whether the connection is in the publication's audience (for a replay, where it was not yet). */
function visibleTo(connection: Connection, publication: Publication): boolean {
  if (isControl(publication.eventType) || publication.exclude === connection.id) return false;
  return addressedTo(connection, publication);
}
