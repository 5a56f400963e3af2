import type { Breakpoint, BreakpointChange, BreakpointPayload, StoppedPayload, StoppedState } from '../../protocol';

/** What one session's debugging state may hold (DEBUG_MAX_BREAKPOINTS, DEBUG_MAX_BREAKPOINT_BYTES). */
export interface BreakpointLimits {
  maxBreakpoints: number;
  /** Of the breakpoints' JSON in UTF-8 (`breakpointBytes`), all of a session's together. */
  maxBreakpointBytes: number;
}

/** A session's debugging state as one read sees it. */
export interface DebugSnapshot {
  /** The revision of the last change (0: nothing was ever changed, or it was dropped). */
  rev: number;
  breakpoints: Breakpoint[];
  stopped: StoppedState | null;
}

/**
 * Where each session's breakpoints and the host's stopped state live: in memory by default, in
 * Redis when relays share one. Every change is applied atomically and gets the session's next
 * revision (one counter for breakpoints and the stopped state), so whichever relay applies two
 * changes, every reader sees one order, and the events that carry the revision can be ordered by
 * the clients. A session's state is dropped with `delete` (the session ended) or after the store's
 * idle timeout without a change or a `touch` (nobody is connected).
 */
export interface DebugStateStore {
  /**
   * Applies a breakpoint change: `add` sets it, `update` replaces it if it exists, `remove` removes
   * it. The change as applied (for `remove`, the breakpoint as it was) with its revision, or
   * undefined when nothing changed (updating or removing one that is not there, setting it to what
   * it is). Throws the ProtocolError TOO_MANY_BREAKPOINTS or BREAKPOINTS_TOO_LARGE past the limits;
   * nothing changes then.
   */
  applyBreakpoint(sessionId: string, change: BreakpointPayload): Promise<BreakpointChange | undefined>;
  /** Sets where the host is stopped (replacing what was); the state with its revision. */
  setStopped(sessionId: string, stopped: StoppedPayload): Promise<StoppedState>;
  /** Clears the stopped state; its revision, or undefined if there was none (nothing changed). */
  clearStopped(sessionId: string): Promise<number | undefined>;
  read(sessionId: string): Promise<DebugSnapshot>;
  /** Someone is connected to the session: keep its state for another idle timeout. */
  touch(sessionId: string): Promise<void>;
  /** The session ended: its state goes. */
  delete(sessionId: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * How a breakpoint is stored and measured against DEBUG_MAX_BREAKPOINT_BYTES: its JSON with the keys
 * in one order (so that setting it to what it is compares equal), counted in UTF-8 bytes.
 */
export function breakpointJson(b: Breakpoint): string {
  return JSON.stringify({
    id: b.id,
    document: b.document,
    line: b.line,
    ...(b.column !== undefined && { column: b.column }),
    enabled: b.enabled,
    ...(b.condition !== undefined && { condition: b.condition }),
    ...(b.hit_condition !== undefined && { hit_condition: b.hit_condition }),
    ...(b.log_message !== undefined && { log_message: b.log_message }),
  });
}

/** UTF-8 bytes, as Lua's `#` counts them (JSON.stringify escapes lone surrogates, so none reach here). */
export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}
