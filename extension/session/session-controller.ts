import * as vscode from 'vscode';
import WebSocket from 'ws';
import {
  authErrorFromRejection,
  type ConnectPayload,
  createNodeWsTransport,
  type DisconnectInfo,
  type NotificationPayload,
  type Participant,
  RelayClient,
  type Role,
  type RoleChangedPayload,
} from '../../protocol';
import type { Log } from '../log';
import type { InviteLink } from './invite-link';
import { isPending, waitForApproval } from './join-approval';
import { type CreatedSession, type PendingJoin, relayApi } from './relay-api';

/**
 * `idle`: no session. `connecting`: first connection under way. `live`: connected.
 * `reconnecting`: the connection dropped; retrying by itself. `ended`: the host ended it, the
 * token stopped working, or we left (`endReason` says which).
 */
export type SessionState = 'idle' | 'connecting' | 'live' | 'reconnecting' | 'ended';

export interface SessionInfo {
  sessionId: string;
  name?: string;
  role: Role;
  userId: string;
  displayName: string;
  /** The relay's http(s) URL (REST). */
  relayUrl: string;
  wsUrl: string;
  /** The session token this connection uses. */
  token: string;
  /** For a host: the invite links. */
  invites?: CreatedSession['invites'];
}

/** What happened in the session, for notifications and the chat (only news: not what a resume replays). */
export type SessionEvent =
  | { kind: 'joined'; participant: Participant }
  | { kind: 'left'; participant: Participant }
  | { kind: 'ended'; reason: string }
  /** The host changed someone's role (`self`: this window's user). */
  | { kind: 'role-changed'; change: RoleChangedPayload; self: boolean }
  | { kind: 'connection-lost' }
  | { kind: 'connection-back' };

const LATENCY_PROBE_MS = 5000;
const REMOVED = 'the host removed you from the session';
const nodeTransport = createNodeWsTransport(WebSocket);

/**
 * One Tandem session of this window, host or guest: creating or joining it over REST, the
 * WebSocket connection (reconnecting by itself), participants, round-trip latency. What travels
 * in the session (documents, cursors, files) hangs off `client` and `onDidConnect`.
 */
export class SessionController implements vscode.Disposable {
  private currentState: SessionState = 'idle';
  private current: SessionInfo | undefined;
  private relay: RelayClient | undefined;
  private readonly people = new Map<string, Participant>();
  private latency: number | undefined;
  private ended: string | undefined;
  private probe: NodeJS.Timeout | undefined;
  private probeNonce: { nonce: string; sentAt: number } | undefined;
  private wasLive = false;
  /** When the current connection began, by the relay's clock (ms). */
  private connectedAt: number | undefined;
  private degradedRelay = false;
  private pending: PendingJoin | undefined;
  private readonly subscriptions: Array<{ dispose(): void }> = [];

  private readonly changed = new vscode.EventEmitter<void>();
  /** State, participants or latency changed. */
  readonly onDidChange = this.changed.event;
  private readonly connected = new vscode.EventEmitter<ConnectPayload>();
  /** Every (re)connection, once the relay has admitted it: rejoin documents here. */
  readonly onDidConnect = this.connected.event;
  private readonly announced = new vscode.EventEmitter<string>();
  /** Someone joined or left; the session ended. Human-readable. */
  readonly onDidAnnounce = this.announced.event;
  private readonly notified = new vscode.EventEmitter<NotificationPayload>();
  /** A `system.notification` from the relay (not those a resume or a late join replays). */
  readonly onDidNotify = this.notified.event;
  private readonly happened = new vscode.EventEmitter<SessionEvent>();
  /** Joins, leaves (of others), the end, the connection lost and back: structured, for notifications and the chat. */
  readonly onDidHappen = this.happened.event;

  constructor(private readonly log: Log) {}

  get state(): SessionState {
    return this.currentState;
  }
  get info(): SessionInfo | undefined {
    return this.current;
  }
  get client(): RelayClient | undefined {
    return this.relay;
  }
  get participants(): Participant[] {
    return [...this.people.values()];
  }
  get latencyMs(): number | undefined {
    return this.latency;
  }
  /**
   * The relay said it lost Redis (`BROKER_UNAVAILABLE` notice) and has not said it is back: chat
   * and edits are held until it is; cursors still reach those on the same relay.
   */
  get relayDegraded(): boolean {
    return this.degradedRelay;
  }
  /** While Join Session waits for the host to admit this window's user (an invite with `approval`). */
  get pendingJoin(): PendingJoin | undefined {
    return this.pending;
  }
  /** Why the session ended, once `ended`. */
  get endReason(): string | undefined {
    return this.ended;
  }
  get isActive(): boolean {
    return this.currentState !== 'idle' && this.currentState !== 'ended';
  }

  /** Creates a session on the relay (the personal token may host) and connects as its host. */
  async host(
    relayUrl: string,
    personalToken: string,
    options: { name?: string; ttlHours: number; requireApproval?: boolean },
  ): Promise<SessionInfo> {
    this.assertIdle();
    const created = await relayApi.createSession(relayUrl, personalToken, {
      ...(options.name && { name: options.name.slice(0, 200) }),
      ttl_s: Math.round(options.ttlHours * 3600),
      // Both links then make each guest wait for the host's Admit (tandem.requireApproval).
      ...(options.requireApproval && { invites: { approval: true } }),
    });
    this.log.info(`created session ${created.session_id} on ${created.relay_url}`);
    return this.start({
      sessionId: created.session_id,
      ...(created.name !== undefined && { name: created.name }),
      role: 'host',
      userId: created.host.user_id,
      displayName: created.host.display_name,
      relayUrl: created.relay_url,
      wsUrl: created.ws_url,
      token: created.host.token,
      invites: created.invites,
    });
  }

  /**
   * Redeems an invite and connects as a guest. With an invite that needs the host's approval, it
   * first waits for the host (`onWaiting` says so): undefined if `signal` aborts meanwhile; a
   * denial or a request that expired rejects (JOIN_DENIED, JOIN_REQUEST_EXPIRED) and starts nothing.
   */
  async join(
    link: InviteLink,
    displayName: string | undefined,
    waiting: { signal?: AbortSignal; onWaiting?: (pending: PendingJoin) => void } = {},
  ): Promise<SessionInfo | undefined> {
    this.assertIdle();
    const answer = await relayApi.redeemInvite(link.relayUrl, link.invite, displayName);
    let redeemed;
    if (isPending(answer)) {
      this.log.info(`waiting for the host of ${answer.session_id} to admit ${answer.user_id} (request ${answer.request_id})`);
      this.setPending(answer);
      waiting.onWaiting?.(answer);
      try {
        redeemed = await waitForApproval(link.relayUrl, answer, waiting.signal ?? new AbortController().signal);
      } finally {
        this.setPending(undefined);
      }
      if (!redeemed) return void this.log.info('stopped waiting for the host');
      this.assertIdle();
    } else {
      redeemed = answer;
    }
    this.log.info(`joined session ${redeemed.session_id} as ${redeemed.role} (${redeemed.user_id})`);
    return this.start({
      sessionId: redeemed.session_id,
      role: redeemed.role,
      userId: redeemed.user_id,
      displayName: redeemed.display_name,
      relayUrl: link.relayUrl,
      wsUrl: redeemed.ws_url,
      token: redeemed.token,
    });
  }

  /**
   * Connects again to a session this window was in before VS Code restarted its extensions (as it
   * does when a guest's shared folder is added to the workspace), with the token kept then.
   */
  resume(info: SessionInfo): SessionInfo {
    this.assertIdle();
    this.log.info(`resuming session ${info.sessionId} as ${info.role}`);
    return this.start(info);
  }

  /** Reconnecting: tries again now rather than after the backoff delay. */
  reconnect(): void {
    if (this.currentState === 'reconnecting' || this.currentState === 'connecting') this.relay?.connect();
  }

  /** Host: ends the session for everyone (the relay revokes its invites), then disconnects. */
  async end(): Promise<void> {
    const info = this.current;
    if (!info || info.role !== 'host') throw new Error('only the host can end the session');
    if (this.currentState !== 'ended') await relayApi.endSession(info.relayUrl, info.sessionId, info.token);
    this.stop('you ended the session');
  }

  /** Guest (or a host that wants to stay out): disconnects; the session goes on without us. */
  leave(): void {
    this.stop('you left the session');
  }

  /**
   * Resolves once the session is live (at once if it is); rejects if it ends first or does not
   * get there within `timeoutMs` (it keeps trying in the background then).
   */
  whenLive(timeoutMs = 20_000): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const check = () => {
        if (this.currentState === 'live') return done(() => resolve());
        if (this.currentState === 'ended' || this.currentState === 'idle')
          return done(() => reject(new Error(this.ended ?? 'the session ended')));
      };
      const timer = setTimeout(
        () => done(() => reject(new Error(`not connected after ${timeoutMs / 1000} s; still trying (see Tandem: Show Log)`))),
        timeoutMs,
      );
      const subscription = this.changed.event(check);
      const done = (settle: () => void) => {
        clearTimeout(timer);
        subscription.dispose();
        settle();
      };
      check();
    });
  }

  /** Back to `idle` after `ended`, so that a new session can start. */
  reset(): void {
    if (this.isActive) return;
    this.current = undefined;
    this.ended = undefined;
    this.setState('idle');
  }

  private setPending(pending: PendingJoin | undefined): void {
    this.pending = pending;
    this.changed.fire();
  }

  private assertIdle(): void {
    if (this.isActive) throw new Error(`already in session ${this.current?.sessionId ?? ''}: end or leave it first`);
    this.reset();
  }

  private start(info: SessionInfo): SessionInfo {
    this.current = info;
    this.people.clear();
    this.wasLive = false;
    this.latency = undefined;
    const client = new RelayClient({
      url: info.wsUrl,
      token: info.token,
      // Named in the URL too (the token names it already): a proxy with session affinity keys on it.
      session: info.sessionId,
      transport: nodeTransport,
      // A late joiner sees the session's chat so far: what the session log keeps (see the README).
      replayHistory: true,
      onListenerError: (error) => this.log.error('a session listener failed', error),
    });
    this.relay = client;
    this.subscriptions.push(
      client.onStateChange((state) => this.onClientState(state)),
      client.onConnected((payload) => this.onConnected(payload)),
      client.onDisconnected((disconnect) => this.onDisconnected(disconnect)),
      client.onAuthError((error) =>
        this.finish(error.code === 'PARTICIPANT_REMOVED' ? REMOVED : `the relay refused the session token: ${error.message}`),
      ),
      client.on('session.role_changed', (change, frame) => this.onRoleChanged(change, this.isNews(frame.timestamp))),
      client.on('session.joined', (participant, frame) => {
        this.people.set(participant.connection_id, participant);
        this.log.info(`${participant.display_name} (${participant.user_id}, ${participant.connection_id}) joined`);
        if (this.isNews(frame.timestamp) && participant.connection_id !== this.relay?.connection?.connection_id) {
          this.announced.fire(`${participant.display_name} joined the session (${participant.role})`);
          this.happened.fire({ kind: 'joined', participant });
        }
        this.changed.fire();
      }),
      client.on('session.left', (participant, frame) => {
        this.people.delete(participant.connection_id);
        this.log.info(`${participant.display_name} (${participant.user_id}, ${participant.connection_id}) left`);
        if (this.isNews(frame.timestamp)) {
          this.announced.fire(`${participant.display_name} left the session`);
          this.happened.fire({ kind: 'left', participant });
        }
        this.changed.fire();
      }),
      // The relay's own notices (an operator's announcement, Redis lost and back): shown as they come.
      client.on('system.notification', (notice, frame) => {
        this.log.info(`relay notice (${notice.level}${notice.code ? `, ${notice.code}` : ''}): ${notice.message}`);
        if (notice.code === 'BROKER_UNAVAILABLE' || notice.code === 'BROKER_RESTORED') {
          this.degradedRelay = notice.code === 'BROKER_UNAVAILABLE';
          this.changed.fire();
        }
        if (this.isNews(frame.timestamp)) this.notified.fire(notice);
      }),
      client.on('system.pong', (pong) => {
        if (!this.probeNonce || pong.nonce !== this.probeNonce.nonce) return;
        this.latency = Date.now() - this.probeNonce.sentAt;
        this.probeNonce = undefined;
        this.changed.fire();
      }),
    );
    this.setState('connecting');
    client.connect();
    return info;
  }

  /**
   * Whether an event from the session log happened after this connection began (by the relay's
   * clock): one replayed on resume (what was missed while away) updates the participants but is
   * not announced again as news.
   */
  private isNews(timestamp: string): boolean {
    return this.connectedAt === undefined || !(Date.parse(timestamp) < this.connectedAt);
  }

  private onClientState(state: RelayClient['state']): void {
    if (state === 'open') {
      if (this.currentState === 'reconnecting') this.happened.fire({ kind: 'connection-back' });
      this.wasLive = true;
      this.setState('live');
      this.startProbe();
    } else if (state === 'connecting' || state === 'reconnecting') {
      if (this.currentState === 'live') {
        this.log.warn('connection lost; reconnecting');
        this.happened.fire({ kind: 'connection-lost' });
      }
      this.stopProbe();
      this.setState(this.wasLive ? 'reconnecting' : 'connecting');
    }
  }

  /** Everyone's view of the guest follows; this window's own role follows too (the shared folder turns read-only or writable). */
  private onRoleChanged(change: RoleChangedPayload, news: boolean): void {
    for (const [id, participant] of this.people)
      if (participant.user_id === change.user_id) this.people.set(id, { ...participant, role: change.role });
    const self = change.user_id === this.current?.userId;
    this.log.info(`${change.display_name ?? change.user_id} is ${change.role === 'editor' ? 'an editor' : 'a viewer'} now`);
    if (self) this.setRole(change.role);
    if (news) this.happened.fire({ kind: 'role-changed', change, self });
    this.changed.fire();
  }

  /** The relay's word on this window's role (a change, or the role the session gave since the token was made). */
  private setRole(role: Role): void {
    if (!this.current || this.current.role === role) return;
    this.current = { ...this.current, role };
    void vscode.commands.executeCommand('setContext', 'tandem.role', role);
  }

  private onConnected(payload: ConnectPayload): void {
    this.connectedAt = Date.parse(payload.server_time);
    this.setRole(payload.user.role);
    this.degradedRelay = false;
    this.people.clear();
    for (const participant of payload.participants) this.people.set(participant.connection_id, participant);
    this.log.info(`connected to ${payload.relay_id} as ${payload.connection_id}; ${payload.participants.length} in the session`);
    this.changed.fire();
    this.connected.fire(payload);
  }

  private onDisconnected(info: DisconnectInfo): void {
    const said = info.serverDisconnect;
    if (said?.reason === 'session_ended') return this.finish('the host ended the session');
    if (said?.reason === 'removed') return this.finish(REMOVED);
    // A final refusal of the upgrade is followed by `authError`, which carries the relay's reason.
    if (info.rejection && authErrorFromRejection(info.rejection)) return;
    if (!info.retry && info.cause !== 'client-closed') this.finish(said ? `disconnected: ${said.message}` : `disconnected (${info.cause})`);
  }

  private finish(reason: string): void {
    if (!this.isActive) return;
    this.announced.fire(reason.charAt(0).toUpperCase() + reason.slice(1));
    this.happened.fire({ kind: 'ended', reason });
    this.stop(reason);
  }

  private stop(reason: string): void {
    this.stopProbe();
    for (const subscription of this.subscriptions.splice(0)) subscription.dispose();
    this.relay?.dispose();
    this.relay = undefined;
    this.people.clear();
    this.latency = undefined;
    this.ended = reason;
    this.log.info(`session ended: ${reason}`);
    this.setState('ended');
  }

  private startProbe(): void {
    this.stopProbe();
    const send = () => {
      const nonce = Math.random().toString(36).slice(2, 10);
      if (this.relay?.send('system.ping', { nonce })) this.probeNonce = { nonce, sentAt: Date.now() };
    };
    send();
    this.probe = setInterval(send, LATENCY_PROBE_MS);
  }

  private stopProbe(): void {
    if (this.probe) clearInterval(this.probe);
    this.probe = undefined;
    this.probeNonce = undefined;
  }

  private setState(state: SessionState): void {
    if (this.currentState === state) return;
    this.currentState = state;
    void vscode.commands.executeCommand('setContext', 'tandem.state', state);
    void vscode.commands.executeCommand('setContext', 'tandem.role', this.current?.role ?? 'none');
    this.changed.fire();
  }

  dispose(): void {
    if (this.isActive) this.stop('VS Code is closing the window');
    this.changed.dispose();
    this.connected.dispose();
    this.announced.dispose();
    this.notified.dispose();
    this.happened.dispose();
  }
}
