import type { ServerFrame } from '../codec';
import { ChatMessageIn } from '../schemas/chat';
import type { SessionLogPosition } from '../schemas/system';
import type { ResumePosition } from './url';

/** A chat message the relay has not shown back yet: its id is always set. */
export type PendingChat = ChatMessageIn & { client_message_id: string };

/** How many chat messages may wait for their echo before `sendChat` refuses more. */
export const DEFAULT_MAX_PENDING_CHAT = 1000;

/**
 * The client's side of the session log, kept across connections: the last position it saw
 * (sent as `since_offset`/`since_epoch` on every reconnect), how many missed events are still
 * to come on this connection, and the chat messages it sent that it has not seen come back.
 *
 * A chat message counts as logged once the client sees it (its own user, its
 * `client_message_id`). Those not seen are sent again after a reconnect, once the missed events
 * have arrived: one that had been logged came back among them, so only the others are resent,
 * and the relay dedupes by (user, id) for the case where a resend races its original.
 */
export class SessionLogState {
  private position: ResumePosition | undefined;
  /** Missed events still to come on this connection; live ones follow them. */
  private replayLeft = 0;
  private replayTarget = 0;
  private caughtUp = false;
  private userId: string | undefined;
  /** Insertion order is send order, which resends keep. */
  private readonly pending = new Map<string, { message: PendingChat; sentOn: number }>();
  private idCounter = 0;

  constructor(
    initial: ResumePosition | undefined,
    private readonly maxPending: number,
  ) {
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

  get pendingChat(): PendingChat[] {
    return [...this.pending.values()].map((entry) => ({ ...entry.message }));
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
  connected(log: SessionLogPosition | undefined, userId: string | undefined, asked: ResumePosition | undefined): { lost: boolean } {
    this.userId = userId;
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
    if (frame.event_type === 'chat.message' && frame.user_id === this.userId) {
      const id: unknown = frame.payload.client_message_id;
      if (typeof id === 'string') this.pending.delete(id);
    }
    const offset: unknown = (frame as { offset?: unknown }).offset;
    if (typeof offset !== 'number' || !this.position) return false;
    this.position.offset = offset;
    if (this.caughtUp || --this.replayLeft > 0) return false;
    this.finishReplay();
    return true;
  }

  /** Adds a message (with an id made up if it has none) and returns it. Throws when invalid or full. */
  add(message: ChatMessageIn): PendingChat {
    const parsed = ChatMessageIn.safeParse(message);
    if (!parsed.success) throw new TypeError(`chat.message: ${parsed.error.issues[0]?.message ?? 'invalid payload'}`);
    const id = parsed.data.client_message_id ?? this.newId();
    const known = this.pending.get(id);
    if (known) return known.message;
    if (this.pending.size >= this.maxPending) throw new RangeError(`${this.maxPending} chat messages are waiting for the relay already`);
    const pending: PendingChat = { ...parsed.data, client_message_id: id };
    this.pending.set(id, { message: pending, sentOn: -1 });
    return pending;
  }

  /** The pending messages not yet sent on connection `generation`, marked as sent on it. */
  takeUnsent(generation: number): PendingChat[] {
    const out: PendingChat[] = [];
    for (const entry of this.pending.values()) {
      if (entry.sentOn === generation) continue;
      entry.sentOn = generation;
      out.push(entry.message);
    }
    return out;
  }

  /** Drops pending messages (the app gave up on them). */
  forgetPendingChat(): void {
    this.pending.clear();
  }

  private finishReplay(): void {
    if (this.position) this.position.offset = Math.max(this.position.offset, this.replayTarget);
    this.caughtUp = true;
  }

  /** Unique enough per user without a crypto API (`protocol/` assumes none): time, counter, randomness. */
  private newId(): string {
    return `c${Date.now().toString(36)}${(++this.idCounter).toString(36)}${Math.random().toString(36).slice(2, 10)}`;
  }
}
