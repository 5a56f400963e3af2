import * as vscode from 'vscode';
import {
  type BreakpointChange,
  type ClientEventType,
  type ClientPayload,
  DebugStateTracker,
  type DebugControlOut,
  type DebugControlResult,
  type ErrorPayload,
  type RelayClient,
  type ServerFrame,
} from '../../protocol';
import type { SessionController } from '../session/session-controller';

/**
 * How long after `connect` a `debugging.state` may still come. The relay sends it (when the session
 * has any debugging state) before anything else it sends the connection, so any other frame ends
 * the wait too; this bound is for a connection that gets nothing else.
 */
const STATE_WAIT_MS = 1500;

/** A breakpoint change the relay applied, and who made it. */
export interface AppliedBreakpoint {
  readonly change: BreakpointChange;
  readonly userId: string;
}

/**
 * The session's debugging events, in one place: the relay's state kept by a `DebugStateTracker`
 * (stale changes dropped by revision, reset on every connect), and what the host and the guests
 * say to each other. `onDidSettle` fires once per connection, when it is known whether the relay
 * had a state for the session (`debugging.state`) or had none.
 */
export class DebugChannel implements vscode.Disposable {
  readonly tracker = new DebugStateTracker();
  private client: RelayClient | undefined;
  private clientSubscriptions: Array<{ dispose(): void }> = [];
  private readonly subscriptions: vscode.Disposable[] = [];
  private waiting: NodeJS.Timeout | undefined;
  private awaitingState = false;
  private readonly settled = new vscode.EventEmitter<{ hadState: boolean }>();
  readonly onDidSettle = this.settled.event;
  private readonly breakpointChanged = new vscode.EventEmitter<AppliedBreakpoint>();
  /** A breakpoint change newer than what we had (our own included: the relay sends it back). */
  readonly onDidChangeBreakpoint = this.breakpointChanged.event;
  private readonly stoppedChanged = new vscode.EventEmitter<void>();
  /** Where the host is stopped changed (`tracker.stopped`), or we left. */
  readonly onDidChangeStopped = this.stoppedChanged.event;
  private readonly controlled = new vscode.EventEmitter<DebugControlOut>();
  /** Host: a guest asks to continue, step or pause. */
  readonly onDidRequestControl = this.controlled.event;
  private readonly controlAnswered = new vscode.EventEmitter<DebugControlResult>();
  /** Guest: the host's answer to one of our control requests. */
  readonly onDidAnswerControl = this.controlAnswered.event;
  private readonly refused = new vscode.EventEmitter<ErrorPayload>();
  /** An `error` of one of our debugging frames. */
  readonly onDidRefuse = this.refused.event;
  private readonly connected = new vscode.EventEmitter<void>();
  /** Every (re)connection. */
  readonly onDidConnect = this.connected.event;

  constructor(private readonly session: SessionController) {
    this.subscriptions.push(
      session.onDidConnect(() => this.onConnected()),
      session.onDidChange(() => {
        if (session.isActive) return;
        this.unsubscribe();
        const wasStopped = this.tracker.stopped !== null;
        this.tracker.reset();
        if (wasStopped) this.stoppedChanged.fire();
      }),
    );
  }

  get role(): 'host' | 'editor' | 'viewer' | undefined {
    return this.session.isActive ? this.session.info?.role : undefined;
  }

  get userId(): string | undefined {
    return this.session.info?.userId;
  }

  get sessionId(): string | undefined {
    return this.session.isActive ? this.session.info?.sessionId : undefined;
  }

  /** Whether the state after the last connect is known (see `onDidSettle`). */
  get isSettled(): boolean {
    return this.client !== undefined && !this.awaitingState && this.client.state === 'open';
  }

  /** Sends on the current connection; false when there is none (the caller keeps what it must resend). */
  send<E extends ClientEventType>(eventType: E, payload: ClientPayload<E>): boolean {
    return this.client?.state === 'open' ? this.client.send(eventType, payload) : false;
  }

  private onConnected(): void {
    const client = this.session.client;
    if (!client) return;
    if (client !== this.client) {
      this.unsubscribe();
      this.client = client;
      this.clientSubscriptions = [client.onFrame((frame) => this.onFrame(frame))];
    }
    const wasStopped = this.tracker.stopped !== null;
    this.tracker.reset();
    if (wasStopped) this.stoppedChanged.fire();
    this.awaitingState = true;
    clearTimeout(this.waiting);
    this.waiting = setTimeout(() => this.settle(false), STATE_WAIT_MS);
    this.connected.fire();
  }

  private settle(hadState: boolean): void {
    if (!this.awaitingState) return;
    this.awaitingState = false;
    clearTimeout(this.waiting);
    this.settled.fire({ hadState });
    if (hadState && this.tracker.stopped) this.stoppedChanged.fire();
  }

  private onFrame(frame: ServerFrame): void {
    if (frame.event_type === 'connect') return;
    if (frame.event_type === 'debugging.state') {
      this.tracker.applyState(frame.payload);
      return this.settle(true);
    }
    this.settle(false);
    switch (frame.event_type) {
      case 'debugging.breakpoint':
        if (this.tracker.applyBreakpoint(frame.payload)) this.breakpointChanged.fire({ change: frame.payload, userId: frame.user_id });
        return;
      case 'debugging.stopped':
        if (this.tracker.applyStopped(frame.payload)) this.stoppedChanged.fire();
        return;
      case 'debugging.continued':
        if (this.tracker.applyContinued(frame.payload)) this.stoppedChanged.fire();
        return;
      case 'debugging.control':
        this.controlled.fire(frame.payload);
        return;
      case 'debugging.control_result':
        this.controlAnswered.fire(frame.payload);
        return;
      case 'error':
        if (frame.payload.event_type?.startsWith('debugging.')) this.refused.fire(frame.payload);
        return;
      default:
        return;
    }
  }

  private unsubscribe(): void {
    for (const subscription of this.clientSubscriptions.splice(0)) subscription.dispose();
    this.client = undefined;
    this.awaitingState = false;
    clearTimeout(this.waiting);
  }

  dispose(): void {
    this.unsubscribe();
    for (const subscription of this.subscriptions) subscription.dispose();
    for (const emitter of [
      this.settled,
      this.breakpointChanged,
      this.stoppedChanged,
      this.controlled,
      this.controlAnswered,
      this.refused,
      this.connected,
    ])
      emitter.dispose();
  }
}
