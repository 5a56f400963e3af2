import { z } from 'zod';
import { ErrorCode } from '../errors';
import { ConnectionId, DocumentId, Epoch, Identifier, Participant, SessionId, Timestamp } from './common';

/**
 * Where the session log stood when the connection was admitted. Events the log keeps carry an
 * `offset`; `epoch` names the log's lifetime (it changes when the relay's storage lost history).
 */
export const SessionLogPosition = z.strictObject({
  epoch: Epoch,
  /** The log's last offset at admission: live events from here on have higher offsets. */
  offset: z.number().int().nonnegative(),
  /**
   * Only when the client asked to resume (`since_offset` and `since_epoch`): true when the events
   * it missed follow this `connect` (exactly those, in order, each with its offset), false when
   * the log no longer has them (another epoch, or too far behind): resync from snapshots.
   */
  recovered: z.boolean().optional(),
  /** With `recovered: true`: how many missed events follow before live ones. */
  missed: z.number().int().nonnegative().optional(),
});
export type SessionLogPosition = z.infer<typeof SessionLogPosition>;

export const ConnectPayload = z.strictObject({
  connection_id: ConnectionId,
  relay_id: z.string().min(1),
  server_time: Timestamp,
  heartbeat_interval_ms: z.number().int().positive(),
  session_id: SessionId,
  user: Participant,
  /** Everyone in the session at the time of connecting, this connection included. */
  participants: z.array(Participant),
  limits: z.strictObject({
    max_frame_bytes: z.number().int().positive(),
    max_messages_per_second: z.number().int().positive(),
  }),
  /** The session log's position (absent from relays that keep no log). */
  session_log: SessionLogPosition.optional(),
});
export type ConnectPayload = z.infer<typeof ConnectPayload>;

export const DisconnectReason = z.enum([
  'shutdown',
  'slow_consumer',
  'heartbeat_timeout',
  'frame_too_large',
  'server_error',
  'session_ended',
  'removed',
]);
export type DisconnectReason = z.infer<typeof DisconnectReason>;

export const DisconnectPayload = z.strictObject({
  reason: DisconnectReason,
  message: z.string(),
  /** Whether reconnecting (to this or another relay) is expected to work. */
  reconnect: z.boolean(),
});
export type DisconnectPayload = z.infer<typeof DisconnectPayload>;

export const ErrorPayload = z.strictObject({
  code: ErrorCode,
  message: z.string(),
  /** Dotted path of the offending field, for validation failures (`payload.content`). */
  path: z.string().optional(),
  /** The event type of the frame that caused the error, when it could be read. */
  event_type: z.string().max(128).optional(),
  /** The `request_id` of the refused frame, for events that carry one (`workspace.request`, `ai.request`, `ai.cancel`). */
  request_id: Identifier.optional(),
  /** The `client_message_id` of a refused `chat.message`, when it had one and could be read. */
  client_message_id: Identifier.optional(),
  /**
   * Of a refused `collaboration.edit` that could be read: its `document` and `seq`, so that the
   * client knows which op was not applied (it undoes it, or sends it again, as the `code` says).
   * Of a refused `collaboration.open`: its `document` (a host learns which file is not shared).
   */
  document: DocumentId.optional(),
  seq: z.number().int().nonnegative().optional(),
});
export type ErrorPayload = z.infer<typeof ErrorPayload>;

export const NotificationPayload = z.strictObject({
  level: z.enum(['info', 'warning', 'error']),
  message: z.string().min(1).max(2000),
  code: z.string().max(64).optional(),
});
export type NotificationPayload = z.infer<typeof NotificationPayload>;

export const PingPayload = z.strictObject({ nonce: z.string().max(64).optional() });
export const PongPayload = z.strictObject({
  nonce: z.string().max(64).optional(),
  server_time: Timestamp,
});
