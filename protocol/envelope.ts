import { z } from 'zod';
import { SessionId, Timestamp, UserId } from './schemas/common';

/** Longest event name we accept before even looking it up. */
const EventTypeName = z.string().min(1).max(64);

/**
 * What a client sends (the seed's message format). `user_id` and `session_id` may be present
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

/** What the relay sends: the seed's format with every field filled in. */
export const OutboundEnvelope = z.strictObject({
  event_type: EventTypeName,
  payload: z.unknown(),
  timestamp: Timestamp,
  session_id: SessionId.optional(),
  /** The user the event comes from; `system` for the relay's own events. */
  user_id: UserId,
});
export type OutboundEnvelope = z.infer<typeof OutboundEnvelope>;

export const SYSTEM_USER_ID = 'system';
