import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import {
  closeCodes,
  type DisconnectReason,
  encodeServerFrame,
  type ErrorPayload,
  type Participant,
  type Role,
  type ServerEventType,
  type ServerPayload,
  SYSTEM_USER_ID,
} from '../../protocol';
import type { Principal } from '../auth/tokens';
import type { RelayStats } from '../stats';
import { batchWritesThisTick } from './write-batcher';

/** How long a connection being closed for misbehaviour may take to say goodbye. */
const CLOSE_GRACE_MS = 2000;

const disconnectCloseCodes: Record<DisconnectReason, number> = {
  shutdown: closeCodes.GOING_AWAY,
  slow_consumer: closeCodes.SLOW_CONSUMER,
  heartbeat_timeout: closeCodes.HEARTBEAT_TIMEOUT,
  frame_too_large: closeCodes.MESSAGE_TOO_BIG,
  server_error: closeCodes.INTERNAL_ERROR,
  session_ended: closeCodes.SESSION_ENDED,
  removed: closeCodes.REMOVED,
};

/**
 * Inbound bytes one connection may have handled before it lets the other connections' frames in
 * (`shareTurn`): about one large frame, a few milliseconds of parsing and validation.
 */
const TURN_BYTES = 64 * 1024;

/** Buffers are sent as text frames: they hold a serialized JSON envelope. */
const TEXT_FRAME = { binary: false } as const;

export interface ConnectionLimits {
  maxBufferedBytes: number;
  /** The relay's frame limit (inbound); what it sends in pieces stays within it too. */
  maxFrameBytes: number;
  maxMessagesPerSecond: number;
}

/**
 * One client socket and what the relay knows of it. Kept small (no per-connection closures or
 * timers): a relay holds tens of thousands of these.
 */
export class Connection {
  lastSeen = Date.now();
  /** The documents of the session this connection opened (it gets their edits and cursors). */
  readonly openDocuments = new Set<string>();
  /**
   * The session log's position when this connection was admitted, and whether it resumed from
   * an earlier one (events up to `offset` reached it then, or never will).
   */
  sessionLog: { epoch: string; offset: number; resumed: boolean } | undefined;
  /**
   * The role the relay enforces: the token's, until the session says otherwise (the host made
   * this guest an editor or a viewer: at admission, or live through the hub).
   */
  role: Role;
  /** Token bucket for inbound messages. */
  private tokens: number;
  private refilledAt = Date.now();
  /** Inbound bytes handled since this connection last gave way (`shareTurn`). */
  private turnBytes = 0;

  constructor(
    readonly id: string,
    readonly socket: WebSocket,
    /** The TCP stream under `socket`, the one the upgrade arrived on. */
    private readonly stream: Duplex,
    readonly principal: Principal,
    readonly sessionId: string,
    private readonly limits: ConnectionLimits,
    private readonly onSlowConsumer: (connection: Connection) => void,
    /** Counts what is sent to this connection alone (`connect`, `error`, ...) in `/ws/stats`. */
    private readonly stats?: Pick<RelayStats, 'countOut'>,
  ) {
    this.tokens = limits.maxMessagesPerSecond;
    this.role = principal.role;
  }

  get userId(): string {
    return this.principal.userId;
  }

  get participant(): Participant {
    return {
      user_id: this.principal.userId,
      display_name: this.principal.displayName,
      role: this.role,
      connection_id: this.id,
    };
  }

  /** Bytes queued for this peer, and the most it may have queued before it is a slow consumer. */
  get bufferedAmount(): number {
    return this.socket.bufferedAmount;
  }

  get maxBufferedBytes(): number {
    return this.limits.maxBufferedBytes;
  }

  get maxFrameBytes(): number {
    return this.limits.maxFrameBytes;
  }

  get isOpen(): boolean {
    return this.socket.readyState === 1;
  }

  /** Takes one token; false when the connection is over its message rate. */
  allowMessage(now: number): boolean {
    const rate = this.limits.maxMessagesPerSecond;
    this.tokens = Math.min(rate, this.tokens + ((now - this.refilledAt) * rate) / 1000);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /**
   * Counts an inbound frame; past `TURN_BYTES`, stops reading this socket until the event loop
   * has gone round once. The kernel hands over a busy socket's data in large reads (up to 32
   * of 64 KiB per turn), all parsed and validated before any other socket is looked at: one
   * client streaming large frames would otherwise hold everyone else's frames for that long.
   */
  shareTurn(bytes: number): void {
    this.turnBytes += bytes;
    if (this.turnBytes < TURN_BYTES || this.socket.isPaused) return;
    this.socket.pause();
    setImmediate(() => {
      this.turnBytes = 0;
      if (this.socket.readyState === 1) this.socket.resume();
    });
  }

  /**
   * Sends an already serialized frame. A peer that lets its outbound buffer grow past the limit
   * is closed as a slow consumer instead, so it never holds back anyone else.
   */
  sendRaw(data: string | Buffer): boolean {
    const socket = this.socket;
    if (socket.readyState !== 1) return false;
    if (socket.bufferedAmount + data.length > this.limits.maxBufferedBytes) {
      this.onSlowConsumer(this);
      return false;
    }
    batchWritesThisTick(this.stream);
    socket.send(data, TEXT_FRAME);
    return true;
  }

  /** Sends a relay event addressed to this connection only. */
  send<E extends ServerEventType>(eventType: E, payload: ServerPayload<E>): boolean {
    const sent = this.sendRaw(encodeServerFrame(eventType, payload, { userId: SYSTEM_USER_ID, sessionId: this.sessionId }));
    if (sent) this.stats?.countOut(eventType);
    return sent;
  }

  sendError(error: ErrorPayload): boolean {
    return this.send('error', error);
  }

  /** Says why, then closes; a peer that does not complete the close handshake is cut off. */
  disconnect(reason: DisconnectReason, message: string, reconnect: boolean): void {
    const socket = this.socket;
    if (socket.readyState !== 1) return;
    // Sent past the buffer check: a slow consumer is already over its limit. If it is not
    // reading at all, this and the close frame wait behind its backlog and are lost when the
    // grace period cuts it off; a peer that resumes within the grace period gets both.
    socket.send(encodeServerFrame('disconnect', { reason, message, reconnect }, { userId: SYSTEM_USER_ID, sessionId: this.sessionId }));
    this.stats?.countOut('disconnect');
    socket.close(disconnectCloseCodes[reason], reason);
    setTimeout(() => socket.terminate(), CLOSE_GRACE_MS).unref();
  }
}
