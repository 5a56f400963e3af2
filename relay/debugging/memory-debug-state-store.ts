import {
  type Breakpoint,
  type BreakpointChange,
  type BreakpointPayload,
  ProtocolError,
  type StoppedPayload,
  type StoppedState,
} from '../../protocol';
import { type BreakpointLimits, breakpointJson, type DebugSnapshot, type DebugStateStore, utf8Bytes } from './debug-state-store';

interface SessionDebugState {
  rev: number;
  /** Breakpoint id -> its JSON (`breakpointJson`), in the order they were added. */
  breakpoints: Map<string, string>;
  bytes: number;
  stopped: StoppedState | null;
  expiresAt: number;
}

export interface MemoryDebugStateStoreOptions extends BreakpointLimits {
  /** A session's state is dropped after this long without a change or a touch. */
  idleTimeoutMs: number;
}

/** Single process; lost on restart (so are the connections that saw it: they get a fresh state). */
export class MemoryDebugStateStore implements DebugStateStore {
  private readonly sessions = new Map<string, SessionDebugState>();
  private sweptAt = Date.now();

  constructor(private readonly options: MemoryDebugStateStoreOptions) {}

  async applyBreakpoint(sessionId: string, { action, breakpoint }: BreakpointPayload): Promise<BreakpointChange | undefined> {
    const existing = this.live(sessionId);
    const old = existing?.breakpoints.get(breakpoint.id);
    if (action === 'remove') {
      if (old === undefined || !existing) return undefined;
      existing.breakpoints.delete(breakpoint.id);
      existing.bytes -= utf8Bytes(old);
      return { action, breakpoint: JSON.parse(old) as BreakpointChange['breakpoint'], rev: this.changed(existing) };
    }
    if (action === 'update' && old === undefined) return undefined;
    const json = breakpointJson(breakpoint);
    if (json === old) return undefined;
    const count = existing?.breakpoints.size ?? 0;
    if (old === undefined && count >= this.options.maxBreakpoints)
      throw new ProtocolError('TOO_MANY_BREAKPOINTS', undefined, 'payload.breakpoint');
    const bytes = (existing?.bytes ?? 0) - (old === undefined ? 0 : utf8Bytes(old)) + utf8Bytes(json);
    if (bytes > this.options.maxBreakpointBytes) throw new ProtocolError('BREAKPOINTS_TOO_LARGE', undefined, 'payload.breakpoint');
    const state = existing ?? this.create(sessionId);
    state.breakpoints.set(breakpoint.id, json);
    state.bytes = bytes;
    return { action, breakpoint: JSON.parse(json) as BreakpointChange['breakpoint'], rev: this.changed(state) };
  }

  async setStopped(sessionId: string, stopped: StoppedPayload): Promise<StoppedState> {
    const state = this.live(sessionId) ?? this.create(sessionId);
    const rev = this.changed(state);
    // A copy: what the caller goes on to do with its object is not the store's.
    state.stopped = { ...(JSON.parse(JSON.stringify(stopped)) as StoppedPayload), rev };
    return state.stopped;
  }

  async clearStopped(sessionId: string): Promise<number | undefined> {
    const state = this.live(sessionId);
    if (!state?.stopped) return undefined;
    state.stopped = null;
    return this.changed(state);
  }

  async read(sessionId: string): Promise<DebugSnapshot> {
    const state = this.live(sessionId);
    if (!state) return { rev: 0, breakpoints: [], stopped: null };
    return {
      rev: state.rev,
      breakpoints: [...state.breakpoints.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([, json]) => JSON.parse(json) as Breakpoint),
      stopped: state.stopped && (JSON.parse(JSON.stringify(state.stopped)) as StoppedState),
    };
  }

  async touch(sessionId: string): Promise<void> {
    const state = this.live(sessionId);
    if (state) state.expiresAt = Date.now() + this.options.idleTimeoutMs;
  }

  async delete(sessionId: string): Promise<void> {
    this.sessions.delete(sessionId);
  }

  async close(): Promise<void> {
    this.sessions.clear();
  }

  /** The session’s state unless it has expired (then it is dropped). */
  private live(sessionId: string): SessionDebugState | undefined {
    const state = this.sessions.get(sessionId);
    if (state && state.expiresAt <= Date.now()) {
      this.sessions.delete(sessionId);
      return undefined;
    }
    return state;
  }

  private create(sessionId: string): SessionDebugState {
    this.sweep();
    const state: SessionDebugState = { rev: 0, breakpoints: new Map(), bytes: 0, stopped: null, expiresAt: 0 };
    this.sessions.set(sessionId, state);
    return state;
  }

  /** The next revision; the state stays for another idle timeout. */
  private changed(state: SessionDebugState): number {
    state.expiresAt = Date.now() + this.options.idleTimeoutMs;
    return ++state.rev;
  }

  /** Drops expired sessions, at most once per idle timeout (so that creating many costs no scan each). */
  private sweep(): void {
    const now = Date.now();
    if (now - this.sweptAt < this.options.idleTimeoutMs) return;
    this.sweptAt = now;
    for (const [id, state] of this.sessions) if (state.expiresAt <= now) this.sessions.delete(id);
  }
}
