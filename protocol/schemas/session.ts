import { z } from 'zod';
import { DisplayName, Timestamp, UserId } from './common';

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
