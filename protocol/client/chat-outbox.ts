import type { ServerFrame } from '../codec';
import { ChatMessageIn } from '../schemas/chat';

/** A chat message the relay has not shown back yet: its id is always set. */
export type PendingChat = ChatMessageIn & { client_message_id: string };

/** How many chat messages may wait for their echo before `sendChat` refuses more. */
export const DEFAULT_MAX_PENDING_CHAT = 1000;

/**
 * The chat messages the client sent that it has not seen come back, kept across connections.
 *
 * A chat message counts as logged once the client sees it (its own user, its
 * `client_message_id`). Those not seen are sent again after a reconnect, once the missed events
 * have arrived: one that had been logged came back among them, so only the others are resent,
 * and the relay dedupes by (user, id) for the case where a resend races its original.
 */
export class ChatOutbox {
  private userId: string | undefined;
  /** Insertion order is send order, which resends keep. */
  private readonly pending = new Map<string, { message: PendingChat; sentOn: number }>();
  private idCounter = 0;

  constructor(private readonly maxPending: number) {}

  get pendingChat(): PendingChat[] {
    return [...this.pending.values()].map((entry) => ({ ...entry.message }));
  }

  /** A `connect` arrived: the client is `userId` (its echoes carry that user). */
  connected(userId: string | undefined): void {
    this.userId = userId;
  }

  /** Every parsed frame, before listeners see it: this user's chat message is logged. */
  received(frame: ServerFrame): void {
    if (frame.event_type === 'chat.message' && frame.user_id === this.userId) {
      const id: unknown = frame.payload.client_message_id;
      if (typeof id === 'string') this.pending.delete(id);
    }
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

  /**
   * The relay refused one of our messages (an `error` naming its `client_message_id`: rate
   * limited, too long...): it is dropped, not resent with the next connection, and returned so
   * that the app can show why (and send it again if the user asks). Not so for
   * `BROKER_UNAVAILABLE` (the relay lost Redis for a while): the relay asks for the message again
   * once it is back, so it stays pending and goes out with the next connection, as if unsent.
   */
  refused(frame: ServerFrame): PendingChat | undefined {
    if (frame.event_type !== 'error') return undefined;
    const { event_type: eventType, client_message_id: id, code } = frame.payload;
    if (id === undefined || (eventType !== undefined && eventType !== 'chat.message')) return undefined;
    if (code === 'BROKER_UNAVAILABLE') return undefined;
    const entry = this.pending.get(id);
    if (!entry) return undefined;
    this.pending.delete(id);
    return entry.message;
  }

  /** Drops pending messages (the app gave up on them). */
  forgetPendingChat(): void {
    this.pending.clear();
  }

  /** Unique enough per user without a crypto API (`protocol/` assumes none): time, counter, randomness. */
  private newId(): string {
    return `c${Date.now().toString(36)}${(++this.idCounter).toString(36)}${Math.random().toString(36).slice(2, 10)}`;
  }
}
