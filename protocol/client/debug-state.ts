import type { Breakpoint, BreakpointChange, ContinuedChange, DebugStatePayload, StoppedState } from '../schemas/debugging';

/**
 * A client's copy of its session's debugging state, kept right whatever order the relays deliver
 * changes in (see protocol/schemas/debugging.ts): every change carries the revision the relay gave
 * it, and one that is not newer than what this copy has seen of the same thing is stale.
 *
 * Feed it every `connect` (`reset`), `debugging.state`, `debugging.breakpoint`, `debugging.stopped`
 * and `debugging.continued`; each returns whether anything changed. Memory: one number per
 * breakpoint id seen during one connection (removed ones included, so a stale add stays stale).
 */
export class DebugStateTracker {
  private readonly current = new Map<string, Breakpoint>();
  /** The last revision applied per breakpoint id, removals included. */
  private readonly revs = new Map<string, number>();
  /** Everything up to this revision came with the last `debugging.state`. */
  private base = 0;
  private stoppedRev = 0;
  private stoppedState: StoppedState | null = null;

  get breakpoints(): Breakpoint[] {
    return [...this.current.values()];
  }

  get stopped(): StoppedState | null {
    return this.stoppedState;
  }

  /** On `connect`: nothing is known until the relay says otherwise (no `debugging.state`: nothing to know). */
  reset(): void {
    this.current.clear();
    this.revs.clear();
    this.base = 0;
    this.stoppedRev = 0;
    this.stoppedState = null;
  }

  /** `debugging.state`: replaces everything. */
  applyState(state: DebugStatePayload): boolean {
    this.reset();
    this.base = state.rev;
    this.stoppedRev = state.rev;
    for (const breakpoint of state.breakpoints) this.current.set(breakpoint.id, breakpoint);
    this.stoppedState = state.stopped;
    return true;
  }

  /** `debugging.breakpoint` from the relay. */
  applyBreakpoint(change: BreakpointChange): boolean {
    const { id } = change.breakpoint;
    if (change.rev <= Math.max(this.base, this.revs.get(id) ?? 0)) return false;
    this.revs.set(id, change.rev);
    if (change.action === 'remove') return this.current.delete(id);
    this.current.set(id, change.breakpoint);
    return true;
  }

  /** `debugging.stopped` from the relay. */
  applyStopped(stopped: StoppedState): boolean {
    if (stopped.rev <= this.stoppedRev) return false;
    this.stoppedRev = stopped.rev;
    this.stoppedState = stopped;
    return true;
  }

  /** `debugging.continued` from the relay. */
  applyContinued(change: ContinuedChange): boolean {
    if (change.rev <= this.stoppedRev) return false;
    this.stoppedRev = change.rev;
    const was = this.stoppedState !== null;
    this.stoppedState = null;
    return was;
  }
}
