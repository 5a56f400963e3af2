import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { type ClientFrame, decodeClientFrame, encodeServerFrame, type ErrorPayload, ProtocolError } from '../../protocol';
import { claimsOperator, type OperatorPrincipal, verifyOperatorToken, verifyToken } from '../auth/tokens';
import type { RelayConfig } from '../config/config';
import type { Logger } from '../log';
import type { Availability } from '../broker/availability';
import type { StreamPosition } from '../broker/broker';
import type { PresenceStore } from '../broker/presence';
import type { Hub, SessionLogStart } from '../routing/hub';
import type { SessionDirectory } from '../sessions/session-directory';
import type { Participants } from '../sessions/participants';
import type { Router } from '../routing/router';
import type { RelayStats } from '../stats';
import { Connection } from './connection';
import { ConnectionRateLimiter } from './connection-rate';
import { refusedFrameIds } from './refused-frame-ids';
import { assertOriginAllowed, chooseSession, clientAddress, readResumePosition, readToken, refusalStatus, refuseUpgrade } from './upgrade';

/**
 * Frames above the configured limit are answered with FRAME_TOO_LARGE and dropped while the
 * connection stays; only frames above this multiple are cut off by `ws` (close 1009), so a
 * too-large paste does not cost anyone their session, and memory stays bounded.
 */
const HARD_FRAME_LIMIT_FACTOR = 4;

const connectionOf = new WeakMap<WebSocket, Connection>();

const REMOVED_MESSAGE = 'the host removed you from the session';
const FORKED_MESSAGE = 'the store lost a document’s last revisions (a Redis failover); reconnect and rejoin it with your copy';

export interface GatewayDeps {
  config: RelayConfig;
  secret: string;
  relayId: string;
  hub: Hub;
  router: Router;
  presence: PresenceStore;
  /** Refuses tokens of a session that has ended. */
  sessions: Pick<SessionDirectory, 'assertLive'>;
  /** What the session says of a guest (removed, or another role than its token's). */
  participants: Pick<Participants, 'standing'>;
  /** Whether the broker can be reached: frames that failed for want of it get BROKER_UNAVAILABLE. */
  availability: Availability;
  stats: RelayStats;
  log: Logger;
  /** What else happens when a connection is admitted (after its `connect`) or has left (after its presence went). */
  lifecycle?: ConnectionLifecycle;
  /** Where connections with an operator token go (no session: the live metrics, relay/streams/operator-feed.ts). */
  operators?: OperatorConnections;
}

export interface OperatorConnections {
  readonly full: boolean;
  accept(ws: WebSocket, operator: OperatorPrincipal): void;
  /** The heartbeat: pings each operator connection, or cuts one silent since `deadline` (ms). */
  sweep(deadline: number): void;
  close(): void;
}

/** State kept per session beside the log (debugging: relay/debugging) that a connection gets after `connect`. */
export interface ConnectionLifecycle {
  /** Sends what the connection needs before the events it missed and the live ones. */
  admitted(connection: Connection): Promise<void>;
  departed(connection: Connection): Promise<void>;
}

/** The WebSocket side of the relay: upgrade and auth, limits, heartbeat, frames in, shutdown. */
export class Gateway {
  private readonly wss: WebSocketServer;
  private readonly connectionRate: ConnectionRateLimiter;
  /** Refused tokens per address: apart from `connectionRate`, so bad tokens cannot use up a NAT's budget. */
  private readonly authFailures: ConnectionRateLimiter;
  private heartbeat: NodeJS.Timeout | undefined;
  /** When the last two sweeps ran (each pinged everyone). */
  private sweptAt: [number, number] = [0, 0];
  private connectionCounter = 0;
  private draining = false;
  /** Listeners shared by every socket (`this` is the socket): no closures per connection. */
  private readonly onMessage: (this: WebSocket, data: Buffer, isBinary: boolean) => void;
  private readonly onClose: (this: WebSocket) => void;
  private readonly onSlowConsumer = (connection: Connection) => this.closeSlowConsumer(connection);

  constructor(private readonly deps: GatewayDeps) {
    const { limits } = deps.config;
    const handleMessage = this.handleMessage.bind(this);
    const forget = this.forget.bind(this);
    this.onMessage = function (this: WebSocket, data: Buffer, isBinary: boolean) {
      const connection = connectionOf.get(this);
      if (connection) handleMessage(connection, data, isBinary);
    };
    this.onClose = function (this: WebSocket) {
      const connection = connectionOf.get(this);
      if (connection) void forget(connection);
    };
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      maxPayload: limits.maxFrameBytes * HARD_FRAME_LIMIT_FACTOR,
      perMessageDeflate: false,
    });
    this.connectionRate = new ConnectionRateLimiter(limits.maxConnectionsPerIpPerMinute);
    this.authFailures = new ConnectionRateLimiter(deps.config.maxAuthFailuresPerIpPerMinute);
  }

  get connectionCount(): number {
    return this.deps.hub.connections.size;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  attach(server: Server): void {
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => void this.onUpgrade(request, socket, head));
    this.deps.hub.onSessionEnded((connections) => {
      for (const connection of connections) connection.disconnect('session_ended', 'the host ended the session', false);
    });
    this.deps.hub.onDocumentForked((connections) => {
      for (const connection of connections) connection.disconnect('server_error', FORKED_MESSAGE, true);
    });
    this.deps.hub.onParticipantControl((control, connections) => {
      for (const connection of connections) {
        if (control.kind === 'removed') connection.disconnect('removed', REMOVED_MESSAGE, false);
        else void this.changeRole(connection, control.role);
      }
    });
    const interval = this.deps.config.heartbeatIntervalMs;
    this.heartbeat = setInterval(() => this.sweep(), interval);
    this.heartbeat.unref();
  }

  private async onUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    const { config, stats, log } = this.deps;
    try {
      const url = new URL(request.url ?? '/', 'http://relay');
      if (url.pathname !== '/ws') throw new ProtocolError('NOT_FOUND', 'WebSocket endpoint is /ws');
      if (this.draining) throw new ProtocolError('TOO_MANY_CONNECTIONS', 'the relay is shutting down');
      if (this.connectionCount >= config.limits.maxConnections) throw new ProtocolError('TOO_MANY_CONNECTIONS');
      assertOriginAllowed(request, config.allowedOrigins);
      const address = clientAddress(request, config.trustProxy);
      const token = readToken(request, url);
      const { operators } = this.deps;
      if (operators && claimsOperator(token)) {
        const operator = this.authenticate(() => verifyOperatorToken(this.deps.secret, token), address);
        if (!this.connectionRate.allow(address)) throw new ProtocolError('CONNECTION_RATE_LIMITED');
        if (operators.full) throw new ProtocolError('TOO_MANY_CONNECTIONS', 'as many operators are connected as the relay allows');
        this.wss.handleUpgrade(request, socket, head, (ws) => operators.accept(ws, operator));
        return;
      }
      const principal = this.authenticate(() => verifyToken(this.deps.secret, token), address);
      // Only valid tokens count here: users behind one NAT keep connecting while someone there
      // sprays bad tokens (those count in `authFailures`).
      if (!this.connectionRate.allow(address)) throw new ProtocolError('CONNECTION_RATE_LIMITED');
      const sessionId = chooseSession(principal, url.searchParams.get('session'));
      const since = readResumePosition(url);
      // After the token checks, so that a bad token is refused for good rather than "later".
      if (!this.deps.availability.available) throw new ProtocolError('BROKER_UNAVAILABLE');
      await this.deps.sessions.assertLive(sessionId, principal.recordRequired);
      if ((await this.standingOf(principal, sessionId)) === 'removed') throw new ProtocolError('PARTICIPANT_REMOVED');
      if (socket.destroyed) return;
      this.wss.handleUpgrade(request, socket, head, (ws) => {
        const id = `${this.deps.relayId}.${(++this.connectionCounter).toString(36)}`;
        const connection = new Connection(id, ws, socket, principal, sessionId, config.limits, this.onSlowConsumer, this.deps.stats);
        void this.accept(connection, address, since);
      });
    } catch (error) {
      const refusal = error instanceof ProtocolError ? error : new ProtocolError('INTERNAL');
      stats.countRefusedUpgrade(refusalStatus(refusal));
      stats.countError(refusal.code);
      // The URL is never logged: its query string carries the token.
      log.info({ code: refusal.code, address: request.socket.remoteAddress }, 'connection refused');
      if (!(error instanceof ProtocolError)) log.error({ err: error }, 'upgrade failed');
      refuseUpgrade(socket, refusal);
    }
  }

  /**
   * The token's principal. A refused token counts against the address's failure budget; past
   * it, the refusal is LOGIN_RATE_LIMITED (429) instead of the AUTH_* code, so a token sprayer
   * learns nothing more, while valid tokens from the same address still get in.
   */
  private authenticate<P>(verify: () => P, address: string): P {
    try {
      return verify();
    } catch (error) {
      if (error instanceof ProtocolError && !this.authFailures.allow(address)) {
        throw new ProtocolError('LOGIN_RATE_LIMITED');
      }
      throw error;
    }
  }

  /**
   * Admits a connection: subscribed to its session (live publications held for it), presence,
   * the session log read (from `since` when it resumes), `connect`, what it missed, the held
   * live publications, and its arrival announced. Nothing reaches it before `connect`.
   */
  private async accept(connection: Connection, address: string, since: StreamPosition | undefined): Promise<void> {
    const { hub, presence, stats, log, config, relayId } = this.deps;
    const ws = connection.socket;
    connectionOf.set(ws, connection);
    ws.on('message', this.onMessage);
    ws.on('pong', onPong);
    ws.on('error', onSocketError);
    ws.once('close', this.onClose);
    stats.connectionsTotal++;
    log.debug({ connection: connection.id, user: connection.userId, session: connection.sessionId, address }, 'connected');
    // How far the admission got: past `connect`, the client is in the session; past `ready`, it
    // has its replay and live events.
    let admitted: 'not-yet' | 'connected' | 'ready' = 'not-yet';
    let sessionLog: SessionLogStart | undefined;
    try {
      await hub.add(connection);
      // Read again once subscribed: a removal or a role change since the upgrade's check reaches
      // this connection either here or live through the hub, never neither.
      const standing = await this.standingOf(connection.principal, connection.sessionId);
      if (standing === 'removed') return connection.disconnect('removed', REMOVED_MESSAGE, false);
      if (standing) connection.role = standing;
      sessionLog = await hub.openSessionLog(connection, since);
      await presence.add(connection.sessionId, connection.participant);
      // Closed while being admitted: its departure may have been handled before this arrival.
      if (!connection.isOpen) return await presence.remove(connection.sessionId, connection.id);
      const participants = await presence.list(connection.sessionId);
      connection.sessionLog = { ...sessionLog.position, resumed: sessionLog.recovered === true };
      connection.send('connect', {
        connection_id: connection.id,
        relay_id: relayId,
        server_time: new Date().toISOString(),
        heartbeat_interval_ms: config.heartbeatIntervalMs,
        session_id: connection.sessionId,
        user: connection.participant,
        participants,
        limits: { max_frame_bytes: config.limits.maxFrameBytes, max_messages_per_second: config.limits.maxMessagesPerSecond },
        session_log: {
          epoch: sessionLog.position.epoch,
          offset: sessionLog.position.offset,
          ...(sessionLog.recovered !== undefined && { recovered: sessionLog.recovered, missed: sessionLog.replay.length }),
        },
      });
      admitted = 'connected';
      if (since)
        log.debug(
          { connection: connection.id, since, recovered: sessionLog.recovered, missed: sessionLog.replay.length },
          'resuming the session log',
        );
      await this.deps.lifecycle?.admitted(connection);
      await hub.sessionReady(connection, sessionLog);
      admitted = 'ready';
      await this.publishPresence(connection, 'session.joined');
    } catch (error) {
      // Redis lost after `connect`: the client stays, as every client already connected does
      // (the outage notice reaches it, cursors flow here). What is missing (the debugging state,
      // its arrival announced) comes with the reconnect that everyone is asked for once Redis is
      // back. Closed now, it would retry into refusals (503) until then.
      if (admitted !== 'not-yet' && this.deps.availability.isUnavailableError(error)) {
        log.debug({ err: error, connection: connection.id }, 'admitted during a Redis outage: completed at the reconnect after it');
        if (admitted === 'connected') await hub.sessionReady(connection, sessionLog!);
        return;
      }
      log.error({ err: error, connection: connection.id }, 'could not admit connection');
      connection.disconnect('server_error', 'the relay could not admit the connection', true);
    }
  }

  /**
   * What the session says of a guest whose token the sessions API minted (only those can be
   * removed or given another role: the others' sessions have no record); nothing for a host.
   */
  private async standingOf(principal: Connection['principal'], sessionId: string) {
    if (!principal.recordRequired || principal.role === 'host') return undefined;
    return this.deps.participants.standing(sessionId, principal.userId);
  }

  /** The host changed this guest's role: enforced from the next frame on, and shown in presence. */
  private async changeRole(connection: Connection, role: 'editor' | 'viewer'): Promise<void> {
    connection.role = role;
    if (!connection.isOpen) return;
    try {
      await this.deps.presence.add(connection.sessionId, connection.participant);
      // Closed meanwhile: its departure may have removed the entry before this wrote it again.
      if (!connection.isOpen) await this.deps.presence.remove(connection.sessionId, connection.id);
    } catch (error) {
      this.deps.log.warn({ err: error, connection: connection.id }, 'could not update the presence of a changed role');
    }
  }

  private handleMessage(connection: Connection, data: Buffer, isBinary: boolean): void {
    const { limits } = this.deps.config;
    const now = Date.now();
    connection.lastSeen = now;
    connection.shareTurn(data.length);
    const readable = !isBinary && data.length <= limits.maxFrameBytes;
    if (!connection.allowMessage(now))
      return this.refuse(connection, new ProtocolError('RATE_LIMITED'), undefined, readable ? data : undefined);
    if (isBinary) return this.refuse(connection, new ProtocolError('BINARY_NOT_SUPPORTED'));
    if (data.length > limits.maxFrameBytes) {
      return this.refuse(connection, new ProtocolError('FRAME_TOO_LARGE', `frames are limited to ${limits.maxFrameBytes} bytes`));
    }
    const decoded = decodeClientFrame(data.toString());
    if (!decoded.ok) return this.refuse(connection, decoded.error, decoded.eventType, data);
    this.deps.stats.countIn(decoded.frame.event_type);
    this.deps.router.dispatch(connection, decoded.frame).catch((error: unknown) => {
      const { frame } = decoded;
      const eventType = frame.event_type;
      if (error instanceof ProtocolError) return this.refuse(connection, error, eventType, frame);
      // Redis unreachable is no bug: the client is told to send it again later, and the outage
      // itself is logged once (relay.ts), not once per frame.
      if (this.deps.availability.isUnavailableError(error)) {
        this.deps.log.debug({ err: error, connection: connection.id, event: eventType }, 'frame failed: the broker is unreachable');
        return this.refuse(connection, new ProtocolError('BROKER_UNAVAILABLE'), eventType, frame);
      }
      this.deps.log.error({ err: error, connection: connection.id, event: eventType }, 'handler failed');
      this.refuse(connection, new ProtocolError('INTERNAL'), eventType, frame);
    });
  }

  /**
   * Answers a refused frame with an `error`. `frame` (its text when it is within the frame limit,
   * or its decoded form) names what was refused: its `request_id` or `client_message_id`.
   */
  private refuse(connection: Connection, error: ProtocolError, eventType?: string, frame?: Buffer | ClientFrame): void {
    this.deps.stats.countError(error.code);
    this.deps.log.debug({ connection: connection.id, code: error.code, path: error.path }, 'frame refused');
    const ids = frame === undefined ? {} : refusedFrameIds(Buffer.isBuffer(frame) ? frame.toString() : frame);
    const payload: ErrorPayload = { code: error.code, message: error.message };
    if (error.path) payload.path = error.path;
    eventType ??= ids.eventType;
    if (eventType) payload.event_type = eventType;
    const requestId = error.requestId ?? ids.requestId;
    if (requestId) payload.request_id = requestId;
    if (ids.clientMessageId) payload.client_message_id = ids.clientMessageId;
    if (ids.document !== undefined) payload.document = ids.document;
    if (ids.seq !== undefined) payload.seq = ids.seq;
    connection.sendError(payload);
  }

  private closeSlowConsumer(connection: Connection): void {
    this.deps.stats.countError('SLOW_CONSUMER');
    this.deps.log.warn({ connection: connection.id, user: connection.userId }, 'closing slow consumer');
    connection.disconnect('slow_consumer', `outbound buffer over ${this.deps.config.limits.maxBufferedBytes} bytes`, true);
  }

  private async forget(connection: Connection): Promise<void> {
    const { hub, presence, log } = this.deps;
    hub.remove(connection);
    log.debug({ connection: connection.id }, 'disconnected');
    try {
      await presence.remove(connection.sessionId, connection.id);
      if (!this.draining) await this.publishPresence(connection, 'session.left');
      if (!this.draining) await this.deps.lifecycle?.departed(connection);
    } catch (error) {
      log.warn({ err: error, connection: connection.id }, 'could not publish departure');
    }
  }

  private publishPresence(connection: Connection, eventType: 'session.joined' | 'session.left') {
    return this.deps.hub.toSession(
      connection.sessionId,
      { eventType, data: serverFrameFor(connection, eventType) },
      { exclude: connection.id },
      { history: true },
    );
  }

  /**
   * Pings everyone; closes whoever stayed silent for two intervals and through the last two
   * pings. The second condition keeps a relay whose own event loop stalled (a long GC, a starved
   * CPU) from blaming its peers: their pongs wait unread until after this timer has run.
   */
  private sweep(): void {
    const now = Date.now();
    const deadline = Math.min(now - 2 * this.deps.config.heartbeatIntervalMs, this.sweptAt[0]);
    this.sweptAt = [this.sweptAt[1], now];
    this.deps.operators?.sweep(deadline);
    for (const connection of this.deps.hub.connections) {
      const ws = connection.socket;
      if (ws.readyState !== WebSocket.OPEN) continue;
      if (connection.lastSeen < deadline) {
        this.deps.log.info({ connection: connection.id }, 'closing silent peer');
        connection.disconnect('heartbeat_timeout', 'no answer to pings for two heartbeat intervals', true);
        ws.terminate();
      } else {
        ws.ping();
      }
    }
  }

  /** Stops accepting, tells everyone, waits for them to go (bounded), then cuts the rest. */
  async shutdown(timeoutMs: number): Promise<void> {
    this.draining = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    const connections = [...this.deps.hub.connections];
    const closed = connections.map(
      (connection) =>
        new Promise<void>((resolve) => {
          if (connection.socket.readyState === WebSocket.CLOSED) return resolve();
          connection.socket.once('close', () => resolve());
        }),
    );
    for (const connection of connections) connection.disconnect('shutdown', 'the relay is shutting down', true);
    this.deps.operators?.close();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([Promise.all(closed), timeout]);
    clearTimeout(timer);
    for (const connection of connections) connection.socket.terminate();
    this.wss.close();
  }
}

function serverFrameFor(connection: Connection, eventType: 'session.joined' | 'session.left'): string {
  return encodeServerFrame(eventType, connection.participant, { userId: connection.userId, sessionId: connection.sessionId });
}

function onPong(this: WebSocket): void {
  const connection = connectionOf.get(this);
  if (connection) connection.lastSeen = Date.now();
}

function onSocketError(this: WebSocket): void {
  // Socket errors end in 'close', where the connection is cleaned up; nothing to add here.
}
