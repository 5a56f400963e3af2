import { z } from 'zod';
import { SessionId, Timestamp, UserId } from './schemas/common';

/** Longest event name we accept before even looking it up. */
const EventTypeName = z.string().min(1).max(64);

/**
 * What a client sends (the wire format every client speaks). `user_id` and `session_id` may be present
 * but the relay overwrites them with what the token proves; `timestamp` is optional because
 * the relay stamps its own time on everything it forwards.
 */
export const InboundEnvelope = z.strictObject({
  event_type: EventTypeName,
  payload: z.unknown(),
  timestamp: Timestamp.optional(),
  session_id: SessionId.optional(),
  user_id: z.string().max(128).optional(),
});
export type InboundEnvelope = z.infer<typeof InboundEnvelope>;

/** What the relay sends: the same format with every field filled in. */
export const OutboundEnvelope = z.strictObject({
  event_type: EventTypeName,
  payload: z.unknown(),
  timestamp: Timestamp,
  session_id: SessionId.optional(),
  /** The user the event comes from; `system` for the relay's own events. */
  user_id: UserId,
  /**
   * The event's position in the session log (chat, notifications, breakpoints, joins and
   * leaves): present on events the log keeps. A client remembers the last one it saw and passes
   * it when reconnecting (`since_offset`, with the `connect` event's `session_log.epoch`) to get
   * exactly what it missed.
   */
  offset: z.number().int().positive().optional(),
});
export type OutboundEnvelope = z.infer<typeof OutboundEnvelope>;

export const SYSTEM_USER_ID = 'system';
