import type { ServerFrame } from '../codec';
import type { SessionLogPosition } from '../schemas/system';
import type { ResumePosition } from './url';

/**
 * The client's side of the session log, kept across connections: the last position it saw
 * (sent as `since_offset`/`since_epoch` on every reconnect), and how many missed events are still
 * to come on this connection (chat waiting for its echo, see `ChatOutbox`, goes out after them).
 */
export class SessionLogState {
  private position: ResumePosition | undefined;
  /** Missed events still to come on this connection; live ones follow them. */
  private replayLeft = 0;
  private replayTarget = 0;
  private caughtUp = false;

  constructor(initial: ResumePosition | undefined) {
    if (initial) this.position = { ...initial };
  }

  /** Where a reconnect resumes from; undefined before the first `connect` with a log. */
  get resumeFrom(): ResumePosition | undefined {
    return this.position && { ...this.position };
  }

  /** Whether chat may go out now: connected and every missed event delivered. */
  get isCaughtUp(): boolean {
    return this.caughtUp;
  }

  /** The connection ended: nothing goes out until the next one has caught up. */
  disconnected(): void {
    this.caughtUp = false;
    this.replayLeft = 0;
  }

  /**
   * A `connect` arrived. `asked` is the position this attempt resumed from. Returns whether the
   * log lost what the client missed (it must resync), and whether it has caught up already.
   */
  connected(log: SessionLogPosition | undefined, asked: ResumePosition | undefined): { lost: boolean } {
    if (!log) {
      // A relay that keeps no log: nothing to resume, nothing to wait for.
      this.position = undefined;
      this.caughtUp = true;
      return { lost: false };
    }
    if (asked && log.recovered === true) {
      this.position = { epoch: log.epoch, offset: asked.offset };
      this.replayTarget = log.offset;
      this.replayLeft = log.missed ?? 0;
      if (this.replayLeft === 0) this.finishReplay();
      return { lost: false };
    }
    this.position = { epoch: log.epoch, offset: log.offset };
    this.caughtUp = true;
    return { lost: asked !== undefined };
  }

  /**
   * Every parsed frame, before listeners see it. Returns true when it was the last missed event
   * (time to resend chat). Offsets are taken as they come, not as a maximum: a log whose storage
   * was reset restarts at 1 in a new epoch, and the next resume then learns it was lost.
   */
  received(frame: ServerFrame): boolean {
    const offset: unknown = (frame as { offset?: unknown }).offset;
    if (typeof offset !== 'number' || !this.position) return false;
    this.position.offset = offset;
    if (this.caughtUp || --this.replayLeft > 0) return false;
    this.finishReplay();
    return true;
  }

  private finishReplay(): void {
    if (this.position) this.position.offset = Math.max(this.position.offset, this.replayTarget);
    this.caughtUp = true;
  }
}
