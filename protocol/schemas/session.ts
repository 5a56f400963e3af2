import { z } from 'zod';
import { ConnectionId, DisplayName, Timestamp, UserId } from './common';

/** A join request's id: random, URL-safe. */
export const JoinRequestId = z.string().regex(/^[\w-]{1,64}$/u, 'must be 1-64 letters, digits, _ or -');

/**
 * To the session's host only: a guest redeemed an invite that needs approval and waits. The
 * host answers with `POST /api/sessions/<session>/join-requests/<request_id>` `{approve}`
 * before `expires_at`; after that the guest gets JOIN_REQUEST_EXPIRED.
 */
export const JoinRequestPayload = z.strictObject({
  request_id: JoinRequestId,
  /** The guest id the session token will carry if approved. */
  user_id: UserId,
  display_name: DisplayName,
  role: z.enum(['editor', 'viewer']),
  expires_at: Timestamp,
});
export type JoinRequestPayload = z.infer<typeof JoinRequestPayload>;

/** The roles a host may give a guest during the session (the host's own never changes). */
export const GuestRole = z.enum(['editor', 'viewer']);
export type GuestRole = z.infer<typeof GuestRole>;

/**
 * To everyone in the session: the host changed a guest's role. The relay enforces it from this
 * event on (on the guest's live connections and on every later one, whatever its token says).
 */
export const RoleChangedPayload = z.strictObject({
  user_id: UserId,
  role: GuestRole,
  /** The guest's name, when the relay knows it (the guest is connected). */
  display_name: DisplayName.optional(),
});
export type RoleChangedPayload = z.infer<typeof RoleChangedPayload>;

/** From the host: ask everyone to follow the host (Live Share's "summon"). Nothing to say but that. */
export const FocusRequest = z.strictObject({});
export type FocusRequest = z.infer<typeof FocusRequest>;

/** To everyone but the host: follow this connection of the host (unless the guest opted out). */
export const FocusPayload = z.strictObject({
  user_id: UserId,
  display_name: DisplayName,
  connection_id: ConnectionId,
});
export type FocusPayload = z.infer<typeof FocusPayload>;
