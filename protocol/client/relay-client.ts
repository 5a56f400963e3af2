import { decodeServerFrame, encodeClientFrame, type ServerFrame } from '../codec';
import { closeCodes, ProtocolError } from '../errors';
import type { ClientEventType, ClientPayload, ServerEventType, ServerPayload } from '../events';
import type { ChatMessageIn } from '../schemas/chat';
import type { ConnectPayload, DisconnectPayload } from '../schemas/system';
import { authErrorFromRejection, type RelayAuthError } from './auth-error';
import { Backoff, type BackoffOptions, defaultBackoff } from './backoff';
import { ChatOutbox, DEFAULT_MAX_PENDING_CHAT, type PendingChat } from './chat-outbox';
import { type Disposable, Emitter } from './emitter';
import { Heartbeat } from './heartbeat';
import { SessionLogState } from './session-log';
import { PieceAssembler } from './snapshot-pieces';
import type { HandshakeRejection, Transport, TransportCloseInfo, TransportFactory, TransportListener } from './transport';
import { type ResumePosition, relayUrl } from './url';

/**
 * `closed`: not connected and not trying (the initial state too; `connect()` leaves it).
 * `connecting`: an attempt is under way. `open`: the relay's `connect` event arrived (with
 * `parse: false`, the socket opened). `reconnecting`: waiting out a backoff delay.
 */
export type RelayClientState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** The frame of one event type. */
export type ServerFrameOf<E extends ServerEventType> = Extract<ServerFrame, { event_type: E }>;

export type DisconnectCause =
  /** The socket closed: by the relay, the network, or a refused upgrade the runtime hides. */
  | 'transport-closed'
  /** The relay answered the upgrade with an HTTP status (see `rejection`). */
  | 'handshake-rejected'
  /** Nothing arrived for an interval, nor for another one after a `system.ping`. */
  | 'heartbeat-timeout'
  /** The relay's `connect` event did not arrive within `connectTimeoutMs`. */
  | 'connect-timeout'
  /** `close()` or `dispose()`. */
  | 'client-closed'
  /** The token provider or the transport factory threw: a bug or bad config, no retry. */
  | 'start-failed';

export interface DisconnectInfo {
  cause: DisconnectCause;
  code: number;
  reason: string;
  /** Whether this connection had reached `open`. */
  wasOpen: boolean;
  rejection?: HandshakeRejection;
  /** What the relay announced before closing. */
  serverDisconnect?: DisconnectPayload;
  /** The last error the transport reported during this connection, or what `start-failed` threw. */
  error?: Error;
  /** Absent: no further attempt. `attempt` counts retries since the last connection that opened. */
  retry?: { attempt: number; delayMs: number };
}

export interface RelayClientOptions {
  /** The relay's WebSocket endpoint, e.g. `ws://localhost:8001/ws` (a bare origin gets `/ws`). */
  url: string;
  /** The JWT, or a function asked before every attempt so a reconnect uses a fresh token. */
  token: string | (() => string);
  /** For tokens that allow several sessions (`?session=`). */
  session?: string;
  transport: TransportFactory;
  /** `false`: JSON.parse only, no schema check (trusts the relay; for load generators). */
  validateInbound?: boolean;
  /**
   * `false`: parse nothing; only `onRawFrame` sees frames. Then `open` means the socket opened,
   * `onConnected` never fires, a `disconnect` event is not seen (nor its `reconnect: false`), and
   * there is an app-level heartbeat only if `heartbeatIntervalMs` is given.
   */
  parse?: boolean;
  /** Default true. */
  reconnect?: boolean;
  /** Reconnect delays; `random` is injectable for tests. Defaults: 500 ms base, 30 s cap. */
  backoff?: Partial<BackoffOptions>;
  /** An attempt that has not reached `open` after this long is abandoned. Default 10 s. */
  connectTimeoutMs?: number;
  /** Overrides the relay's announced `heartbeat_interval_ms`; `false` turns the check off. */
  heartbeatIntervalMs?: number | false;
  /** Where errors thrown by listeners go. Default: rethrown asynchronously. */
  onListenerError?: (error: unknown) => void;
  /** A session log position to resume from on the first connection (one the app kept, see `sessionLogPosition`). */
  resumeFrom?: ResumePosition;
  /** How many chat messages may wait for their echo before `sendChat` refuses more. Default 1000. */
  maxPendingChat?: number;
  /**
   * On the first connection (without `resumeFrom`): ask for what the session log keeps of the
   * session so far (chat, joins, notices, AI questions), as missed events before live ones. A late
   * joiner's chat history. If the log no longer holds the session's start, the relay sends its most
   * recent part it can (see the README), or nothing.
   */
  replayHistory?: boolean;
}

/** A chat message the relay refused (see `onChatRefused`). */
export interface ChatRefusal {
  message: PendingChat;
  code: string;
  reason: string;
}

/** "From the start of whatever the log keeps": the epoch is unknown before the first connection. */
const LOG_START: ResumePosition = { epoch: '', offset: 0 };

/** The session log lost what the client missed (see `onSessionLogLost`). */
export interface SessionLogLost {
  /** The position the client asked to resume from. */
  since: ResumePosition;
  /** The log's position now: the client is in step from here on. */
  position: ResumePosition;
}

type ClientEvents = {
  state: [state: RelayClientState, previous: RelayClientState];
  connected: [payload: ConnectPayload];
  disconnected: [info: DisconnectInfo];
  authError: [error: RelayAuthError];
  protocolError: [error: ProtocolError, eventType: string | undefined];
  raw: [text: string];
  frame: [frame: ServerFrame];
  sessionLogLost: [info: SessionLogLost];
  chatRefused: [refusal: ChatRefusal];
};

type AttemptEnd = Pick<DisconnectInfo, 'cause' | 'code' | 'reason' | 'rejection' | 'error'>;

/**
 * A typed connection to the relay: typed send and receive from the event catalog, app-level
 * heartbeat, reconnect with capped exponential backoff and full jitter, and a clean stop when
 * the relay refuses the token. It does not queue: `send` returns false unless `open`; the one
 * exception is chat, whose messages wait until the relay has shown them back (`sendChat`).
 *
 * Session log: the client remembers the position of the last logged event it saw and resumes
 * from it on every reconnect, so it gets exactly the chat, notifications, joins and leaves it
 * missed, before live ones; `onSessionLogLost` says when the relay could not. (Breakpoints and
 * the debug location are state: `debugging.state` after `connect`, see `DebugStateTracker`.)
 */
export class RelayClient implements Disposable {
  private readonly events: Emitter<ClientEvents>;
  private readonly wire: Emitter<Record<string, [payload: unknown, frame: ServerFrame]>>;
  private readonly backoff: Backoff;
  private readonly parse: boolean;
  private readonly validate: boolean;
  private readonly connectTimeoutMs: number;

  private currentState: RelayClientState = 'closed';
  /** Bumped on every state change, so code that emitted can tell whether a listener moved on. */
  private stateEpoch = 0;
  /** Bumped when an attempt ends, so callbacks of an abandoned transport are ignored. */
  private generation = 0;
  private transport: Transport | undefined;
  private reachedOpen = false;
  private lastError: Error | undefined;
  private serverDisconnect: DisconnectPayload | undefined;
  private heartbeat: Heartbeat | undefined;
  /** Snapshots and resyncs sent in pieces: listeners of those events get them whole. */
  private readonly pieces = new PieceAssembler();
  private connectTimer: ReturnType<typeof setTimeout> | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private pingCount = 0;
  private connectPayload: ConnectPayload | undefined;
  private readonly log: SessionLogState;
  /** Chat sent but not seen back yet: resent on every connection until it is. */
  private readonly outbox: ChatOutbox;
  /** The position the current attempt asked to resume from. */
  private resumedFrom: ResumePosition | undefined;

  constructor(private readonly options: RelayClientOptions) {
    if (typeof options.url !== 'string' || options.url === '') throw new TypeError('RelayClient: `url` is required');
    if (typeof options.transport !== 'function') throw new TypeError('RelayClient: `transport` must be a transport factory');
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    if (!(this.connectTimeoutMs > 0)) throw new RangeError(`RelayClient: connectTimeoutMs must be > 0, got ${this.connectTimeoutMs}`);
    const heartbeat = options.heartbeatIntervalMs;
    if (heartbeat !== undefined && heartbeat !== false && !(heartbeat > 0)) {
      throw new RangeError(`RelayClient: heartbeatIntervalMs must be > 0 or false, got ${heartbeat}`);
    }
    this.backoff = new Backoff({ ...defaultBackoff, ...options.backoff });
    this.parse = options.parse ?? true;
    this.validate = options.validateInbound ?? true;
    this.events = new Emitter(options.onListenerError);
    this.wire = new Emitter(options.onListenerError);
    const maxPendingChat = options.maxPendingChat ?? DEFAULT_MAX_PENDING_CHAT;
    if (!(Number.isInteger(maxPendingChat) && maxPendingChat > 0))
      throw new RangeError(`RelayClient: maxPendingChat must be a positive integer, got ${maxPendingChat}`);
    this.log = new SessionLogState(options.resumeFrom);
    this.outbox = new ChatOutbox(maxPendingChat);
  }

  get state(): RelayClientState {
    return this.currentState;
  }

  /** The relay's `connect` payload of the current connection (session, user, participants). */
  get connection(): ConnectPayload | undefined {
    return this.connectPayload;
  }

  /**
   * The session log position of the last logged event this client saw (or of its admission):
   * what the next reconnect resumes from. Keep it to resume after a restart (`resumeFrom`).
   */
  get sessionLogPosition(): ResumePosition | undefined {
    return this.log.resumeFrom;
  }

  /** Chat messages sent but not yet seen back from the relay, in send order (resent after a reconnect). */
  get pendingChat(): PendingChat[] {
    return this.outbox.pendingChat;
  }

  /** Bytes the transport has queued but not sent: back off sending when this grows. */
  get bufferedAmount(): number {
    return this.transport?.bufferedAmount ?? 0;
  }

  /** Starts connecting (from `closed`), or retries at once (from `reconnecting`). */
  connect(): void {
    if (this.currentState === 'closed') this.backoff.reset();
    else if (this.currentState !== 'reconnecting') return;
    this.clearRetryTimer();
    if (this.setState('connecting')) this.startAttempt();
  }

  /** Stops everything: the connection, the timers, any further attempt. `connect()` restarts. */
  close(): void {
    this.clearRetryTimer();
    if (this.transport) this.endAttempt({ cause: 'client-closed', code: closeCodes.NORMAL, reason: 'client closed' }, 'close');
    else this.setState('closed');
  }

  /** `close()`, and drops every listener. */
  dispose(): void {
    this.close();
    this.events.clear();
    this.wire.clear();
  }

  /**
   * Sends one event in the protocol's envelope. False when not `open` or the transport refused it;
   * nothing is queued (resending is the caller's business, e.g. the OT client's).
   */
  send<E extends ClientEventType>(eventType: E, payload: ClientPayload<E>): boolean {
    if (this.currentState !== 'open') return false;
    if (eventType === 'chat.message' && this.parse) {
      try {
        this.sendChat(payload as ChatMessageIn);
        return true;
      } catch {
        return false;
      }
    }
    return this.sendFrame(eventType, payload);
  }

  /**
   * Sends a chat message, now or (while not connected, or still receiving what it missed) as
   * soon as it can, and again after every reconnect until the relay shows it back: none is lost
   * to a dropped connection, and the relay logs each once. Gives it a `client_message_id` if it
   * has none, and returns it. Throws a TypeError for an invalid message, a RangeError when
   * `maxPendingChat` messages are waiting already. A message the relay refuses (an `error` with its
   * `client_message_id`, e.g. RATE_LIMITED) is no longer pending: `onChatRefused` says why; sending
   * it again with the same id is the app's choice (a Retry).
   * `send('chat.message', ...)` does the same while `open` (and returns false instead of throwing).
   */
  sendChat(message: ChatMessageIn): string {
    if (!this.parse) throw new Error('RelayClient: sendChat needs parse: true (it must see its messages come back)');
    const pending = this.outbox.add(message);
    this.flushChat();
    return pending.client_message_id;
  }

  /** Forgets the chat messages still waiting for the relay: they will not be resent. */
  forgetPendingChat(): void {
    this.outbox.forgetPendingChat();
  }

  /** Sends a frame serialized by the caller (load generators reuse one). Unchecked. */
  sendRaw(text: string): boolean {
    if (this.currentState !== 'open' || !this.transport) return false;
    try {
      this.transport.send(text);
      return true;
    } catch {
      return false;
    }
  }

  /** Every frame of one event type, validated (unless `validateInbound: false`). */
  on<E extends ServerEventType>(eventType: E, listener: (payload: ServerPayload<E>, frame: ServerFrameOf<E>) => void): Disposable {
    return this.wire.on(eventType, listener as (payload: unknown, frame: ServerFrame) => void);
  }

  /** Every parsed frame, whatever its type. */
  onFrame(listener: (frame: ServerFrame) => void): Disposable {
    return this.events.on('frame', listener);
  }

  /** Every text frame as it arrived, before (or, with `parse: false`, without) parsing. */
  onRawFrame(listener: (text: string) => void): Disposable {
    return this.events.on('raw', listener);
  }

  onStateChange(listener: (state: RelayClientState, previous: RelayClientState) => void): Disposable {
    return this.events.on('state', listener);
  }

  /** The relay's `connect` event arrived: the connection is usable. */
  onConnected(listener: (payload: ConnectPayload) => void): Disposable {
    return this.events.on('connected', listener);
  }

  /** An attempt or connection ended; `info.retry` says whether and when the next one starts. */
  onDisconnected(listener: (info: DisconnectInfo) => void): Disposable {
    return this.events.on('disconnected', listener);
  }

  /** The relay refused the token or session; the client has stopped (state `closed`). */
  onAuthError(listener: (error: RelayAuthError) => void): Disposable {
    return this.events.on('authError', listener);
  }

  /** An inbound frame failed to parse or validate; it was dropped. */
  onProtocolError(listener: (error: ProtocolError, eventType: string | undefined) => void): Disposable {
    return this.events.on('protocolError', listener);
  }

  /** The relay refused a chat message of ours; it is no longer pending (see `sendChat`). */
  onChatRefused(listener: (refusal: ChatRefusal) => void): Disposable {
    return this.events.on('chatRefused', listener);
  }

  /**
   * The session log lost what this client missed while away (the relay's storage restarted, or
   * the client was too far behind): chat and notifications of that time are gone, and documents
   * should be re-opened from their snapshots (a rejoin with the revision held does that).
   */
  onSessionLogLost(listener: (info: SessionLogLost) => void): Disposable {
    return this.events.on('sessionLogLost', listener);
  }

  private sendFrame<E extends ClientEventType>(eventType: E, payload: ClientPayload<E>): boolean {
    return this.sendRaw(encodeClientFrame(eventType, payload));
  }

  /** Sends the pending chat not yet sent on this connection, once it has caught up with the log. */
  private flushChat(): void {
    if (this.currentState !== 'open' || !this.log.isCaughtUp) return;
    for (const message of this.outbox.takeUnsent(this.generation)) {
      if (!this.sendFrame('chat.message', message)) return;
    }
  }

  /** Returns false if a listener changed the state again while this change was announced. */
  private setState(next: RelayClientState): boolean {
    if (next === this.currentState) return true;
    const previous = this.currentState;
    this.currentState = next;
    const epoch = ++this.stateEpoch;
    this.events.emit('state', next, previous);
    return epoch === this.stateEpoch;
  }

  private startAttempt(): void {
    const generation = ++this.generation;
    this.reachedOpen = false;
    this.pieces.clear();
    this.lastError = undefined;
    this.serverDisconnect = undefined;
    this.connectPayload = undefined;
    const listener: TransportListener = {
      open: () => {
        if (generation === this.generation && !this.parse) this.becomeOpen(undefined);
      },
      message: (text) => {
        if (generation === this.generation) this.receive(text);
      },
      error: (error) => {
        if (generation === this.generation) this.lastError = error;
      },
      close: (info) => {
        if (generation === this.generation) this.onTransportClose(info);
      },
    };
    let transport: Transport;
    try {
      const token = typeof this.options.token === 'function' ? this.options.token() : this.options.token;
      // Without parsing, the client cannot follow the log, so it never asks to resume.
      this.resumedFrom = this.parse ? (this.log.resumeFrom ?? (this.options.replayHistory ? LOG_START : undefined)) : undefined;
      transport = this.options.transport(relayUrl(this.options.url, token, this.options.session, this.resumedFrom), listener);
    } catch (thrown) {
      const error = thrown instanceof Error ? thrown : new Error(String(thrown));
      this.endAttempt({ cause: 'start-failed', code: closeCodes.NORMAL, reason: error.message, error }, 'none');
      return;
    }
    // A transport may report its failure before returning; that attempt is over already.
    if (generation !== this.generation) return;
    this.transport = transport;
    if (this.reachedOpen) return;
    this.connectTimer = setTimeout(() => {
      this.endAttempt(
        { cause: 'connect-timeout', code: closeCodes.HEARTBEAT_TIMEOUT, reason: 'the relay did not answer in time' },
        'terminate',
      );
    }, this.connectTimeoutMs);
  }

  private receive(text: string): void {
    // A listener may close the client; a frame of a connection it has left is not delivered on.
    const generation = this.generation;
    this.heartbeat?.received();
    this.events.emit('raw', text);
    if (!this.parse || generation !== this.generation) return;
    const frame = this.validate ? this.decode(text) : this.parseUnchecked(text);
    if (!frame) return;
    let caughtUp = false;
    if (frame.event_type === 'connect' && !this.reachedOpen) {
      this.becomeOpen(frame.payload);
      if (generation !== this.generation) return;
    } else {
      if (frame.event_type === 'disconnect') this.serverDisconnect = frame.payload;
      this.outbox.received(frame);
      caughtUp = this.log.received(frame);
    }
    const refused = this.outbox.refused(frame);
    this.events.emit('frame', frame);
    if (refused && frame.event_type === 'error' && generation === this.generation)
      this.events.emit('chatRefused', { message: refused, code: frame.payload.code, reason: frame.payload.message });
    const payload = this.whole(frame);
    if (payload !== undefined && generation === this.generation) this.wire.emit(frame.event_type, payload, frame);
    // After listeners saw the last missed event: a resend comes after what the app was shown.
    if (caughtUp && generation === this.generation) this.flushChat();
  }

  /** The frame's payload, or undefined while it is a piece of a snapshot or resync still being received. */
  private whole(frame: ServerFrame): unknown {
    if (frame.event_type === 'collaboration.snapshot' || frame.event_type === 'collaboration.resync')
      return this.pieces.accept(frame.event_type, frame.payload);
    return frame.payload;
  }

  private decode(text: string): ServerFrame | undefined {
    const decoded = decodeServerFrame(text);
    if (decoded.ok) return decoded.frame;
    this.events.emit('protocolError', decoded.error, decoded.eventType);
    return undefined;
  }

  /** `validateInbound: false`: trust the payload, but not that the text is an envelope at all. */
  private parseUnchecked(text: string): ServerFrame | undefined {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      this.events.emit('protocolError', new ProtocolError('BAD_JSON'), undefined);
      return undefined;
    }
    if (typeof value === 'object' && value !== null && typeof (value as { event_type?: unknown }).event_type === 'string') {
      return value as ServerFrame;
    }
    this.events.emit('protocolError', new ProtocolError('VALIDATION_FAILED', 'event_type: expected a string', 'event_type'), undefined);
    return undefined;
  }

  private becomeOpen(payload: ConnectPayload | undefined): void {
    this.clearConnectTimer();
    this.reachedOpen = true;
    this.connectPayload = payload;
    this.backoff.reset();
    const intervalMs = this.heartbeatInterval(payload);
    if (intervalMs !== undefined) {
      this.heartbeat = new Heartbeat(intervalMs, {
        ping: () => this.send('system.ping', { nonce: String(++this.pingCount) }),
        dead: () =>
          this.endAttempt(
            { cause: 'heartbeat-timeout', code: closeCodes.HEARTBEAT_TIMEOUT, reason: 'the relay stopped answering' },
            'terminate',
          ),
      });
      this.heartbeat.start();
    }
    let lost: SessionLogLost | undefined;
    if (payload) {
      const since = this.resumedFrom;
      // Checked: with `validateInbound: false` the payload is unchecked.
      const position = typeof payload.session_log === 'object' && payload.session_log !== null ? payload.session_log : undefined;
      this.outbox.connected(payload.user?.user_id);
      // A first connection that asked for the history has lost nothing if the log no longer has it.
      if (this.log.connected(position, since).lost && since && since !== LOG_START) lost = { since, position: this.log.resumeFrom! };
    }
    if (!this.setState('open') || !payload) return;
    const generation = this.generation;
    this.events.emit('connected', payload);
    if (lost && generation === this.generation) this.events.emit('sessionLogLost', lost);
    if (generation === this.generation) this.flushChat();
  }

  private heartbeatInterval(payload: ConnectPayload | undefined): number | undefined {
    const override = this.options.heartbeatIntervalMs;
    if (override === false) return undefined;
    if (override !== undefined) return override;
    // Checked even when validated: with `validateInbound: false` the payload is unchecked.
    const announced: unknown = payload?.heartbeat_interval_ms;
    return typeof announced === 'number' && announced > 0 && Number.isFinite(announced) ? announced : undefined;
  }

  private onTransportClose(info: TransportCloseInfo): void {
    const cause = info.rejection ? 'handshake-rejected' : 'transport-closed';
    this.endAttempt({ cause, code: info.code, reason: info.reason, rejection: info.rejection, error: this.lastError }, 'none');
  }

  /**
   * Ends the current attempt and decides what comes next. The transport is abandoned, not
   * awaited: a closing handshake with a dead relay could take as long as the OS allows.
   */
  private endAttempt(end: AttemptEnd, closeTransport: 'none' | 'close' | 'terminate'): void {
    const { transport, reachedOpen: wasOpen, serverDisconnect } = this;
    this.generation += 1;
    this.transport = undefined;
    this.reachedOpen = false;
    this.connectPayload = undefined;
    this.log.disconnected();
    this.clearConnectTimer();
    this.heartbeat?.stop();
    this.heartbeat = undefined;
    if (transport && closeTransport !== 'none') {
      try {
        if (closeTransport === 'terminate' && transport.terminate) transport.terminate();
        else transport.close(end.code, end.reason);
      } catch {
        // Already closed, or a code this runtime refuses: either way the socket is left behind.
      }
    }

    const authError = end.rejection ? authErrorFromRejection(end.rejection) : undefined;
    const retry =
      !authError &&
      end.cause !== 'client-closed' &&
      end.cause !== 'start-failed' &&
      this.options.reconnect !== false &&
      serverDisconnect?.reconnect !== false;
    const info: DisconnectInfo = { ...end, wasOpen };
    if (!info.error) delete info.error;
    if (!info.rejection) delete info.rejection;
    if (serverDisconnect) info.serverDisconnect = serverDisconnect;
    if (retry) {
      const delayMs = this.backoff.next();
      info.retry = { attempt: this.backoff.attempt, delayMs };
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        if (this.setState('connecting')) this.startAttempt();
      }, delayMs);
    }
    // State first, so listeners of the other events read the state that follows from them.
    this.setState(retry ? 'reconnecting' : 'closed');
    this.events.emit('disconnected', info);
    if (authError) this.events.emit('authError', authError);
  }

  private clearConnectTimer(): void {
    if (this.connectTimer !== undefined) clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
  }

  private clearRetryTimer(): void {
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }
}
