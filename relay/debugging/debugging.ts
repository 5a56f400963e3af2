import {
  type BreakpointPayload,
  type ContinuedChange,
  type ContinuedPayload,
  encodeServerFrame,
  ProtocolError,
  type StoppedPayload,
  SYSTEM_USER_ID,
} from '../../protocol';
import type { PresenceStore } from '../broker/presence';
import type { Connection } from '../gateway/connection';
import { roomFor } from '../gateway/paced-send';
import type { Logger } from '../log';
import type { Hub } from '../routing/hub';
import type { DebugStateStore } from './debug-state-store';
import { utf8Bytes } from './debug-state-store';

export interface DebuggingOptions {
  /** DEBUG_MAX_STATE_BYTES: the stopped state's JSON in UTF-8. */
  maxStateBytes: number;
  /** DEBUG_IDLE_TIMEOUT_MS: the sessions connected here are touched well within it. */
  idleTimeoutMs: number;
}

/**
 * Debugging together, on the relay: the session's breakpoints and the host's stopped state kept in
 * a `DebugStateStore`, changes broadcast with the revision the store gave them, the whole state
 * sent to each connection right after its `connect` (`admitted`), the stopped state cleared when
 * the host's last connection leaves (`departed`) and everything deleted when the session ends.
 *
 * Breakpoint lines are not moved here when someone edits above them: a breakpoint names no
 * revision of its document (which may not even be shared, or may have been dropped while idle),
 * and VS Code moves breakpoints by its own rules (a deleted line's breakpoint, a line joined to
 * another). Each editor moves its breakpoints with its text as the edits arrive, and the host's
 * extension reports a move with `update` (only the host, so that one move is one change).
 */
export class Debugging {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly store: DebugStateStore,
    private readonly hub: Hub,
    private readonly presence: PresenceStore,
    private readonly options: DebuggingOptions,
    private readonly log?: Pick<Logger, 'warn'>,
  ) {}

  /** Keeps the state of the sessions connected here from expiring (as open documents are touched). */
  start(): void {
    this.timer = setInterval(
      () => {
        if (!this.hub.availability.available) return;
        for (const sessionId of [...this.hub.localSessionIds]) {
          this.store
            .touch(sessionId)
            .catch((error: unknown) => this.log?.warn({ err: error, session: sessionId }, 'could not keep debugging state'));
        }
      },
      Math.max(100, this.options.idleTimeoutMs / 4),
    );
    this.timer.unref();
  }

  dispose(): void {
    clearInterval(this.timer);
  }

  /** A host's or editor's change to the breakpoints: applied, then to the whole session (sender included). */
  async breakpoint(connection: Connection, payload: BreakpointPayload): Promise<void> {
    const change = await this.store.applyBreakpoint(connection.sessionId, payload);
    if (!change) return;
    const data = encodeServerFrame('debugging.breakpoint', change, { userId: connection.userId, sessionId: connection.sessionId });
    await this.hub.toSession(connection.sessionId, { eventType: 'debugging.breakpoint', data });
  }

  /** The host stopped: kept, and to everyone else. */
  async stopped(connection: Connection, payload: StoppedPayload): Promise<void> {
    const bytes = utf8Bytes(JSON.stringify(payload));
    if (bytes > this.options.maxStateBytes) {
      throw new ProtocolError(
        'DEBUG_STATE_TOO_LARGE',
        `the stopped state is ${bytes} bytes; the relay keeps at most ${this.options.maxStateBytes} (DEBUG_MAX_STATE_BYTES)`,
        'payload',
      );
    }
    const state = await this.store.setStopped(connection.sessionId, payload);
    const data = encodeServerFrame('debugging.stopped', state, { userId: connection.userId, sessionId: connection.sessionId });
    await this.hub.toSession(connection.sessionId, { eventType: 'debugging.stopped', data }, { exclude: connection.id });
  }

  /** The host runs again (or stopped debugging): cleared, and to everyone else if it was stopped. */
  async continued(connection: Connection, payload: ContinuedPayload): Promise<void> {
    const rev = await this.store.clearStopped(connection.sessionId);
    if (rev === undefined) return;
    await this.publishContinued(connection.sessionId, connection.userId, { ...payload, rev }, connection.id);
  }

  /**
   * Right after `connect` (before what the connection missed and the live events held for it): the
   * whole state, if the session has any. Read after the connection subscribed, so no change falls
   * between this and the live events; one that is in both is ignored by its revision. A stopped
   * state whose host is gone (its relay crashed, so it never left) is cleared first.
   */
  async admitted(connection: Connection): Promise<void> {
    const sessionId = connection.sessionId;
    let snapshot = await this.store.read(sessionId);
    if (snapshot.rev === 0) return;
    if (snapshot.stopped && !(await this.hostConnected(sessionId))) {
      const rev = await this.store.clearStopped(sessionId);
      if (rev !== undefined) await this.publishContinued(sessionId, SYSTEM_USER_ID, { reason: 'host_left', rev }, connection.id);
      // Read again: what changed meanwhile must be in the state, or its event would look stale.
      snapshot = await this.store.read(sessionId);
    }
    await roomFor(connection, utf8Bytes(JSON.stringify(snapshot)));
    if (connection.isOpen) connection.send('debugging.state', snapshot);
  }

  /** A connection left (its presence is gone): the last of the host's clears the stopped state. */
  async departed(connection: Connection): Promise<void> {
    if (connection.role !== 'host' || (await this.hostConnected(connection.sessionId))) return;
    const rev = await this.store.clearStopped(connection.sessionId);
    if (rev !== undefined) await this.publishContinued(connection.sessionId, connection.userId, { reason: 'host_left', rev });
  }

  /** The session ended: its state goes with it. */
  async ended(sessionId: string): Promise<void> {
    await this.store.delete(sessionId);
  }

  private async hostConnected(sessionId: string): Promise<boolean> {
    return (await this.presence.list(sessionId)).some((participant) => participant.role === 'host');
  }

  private async publishContinued(sessionId: string, userId: string, change: ContinuedChange, exclude?: string): Promise<void> {
    const data = encodeServerFrame('debugging.continued', change, { userId, sessionId });
    await this.hub.toSession(sessionId, { eventType: 'debugging.continued', data }, exclude === undefined ? {} : { exclude });
  }
}
