import { z } from 'zod';

/** Identifiers chosen by people or tools: printable, bounded, no control characters. */
export const Identifier = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[\w.:@\-/+=]+$/u, 'must be 1-128 characters of letters, digits and . : @ - / + = _');

export const SessionId = Identifier;
export const UserId = Identifier;
export const ConnectionId = z.string().min(1).max(64);

/** ISO 8601 date-time; an offset is optional so Python's naive `isoformat()` is accepted. */
export const Timestamp = z.iso.datetime({ offset: true, local: true });

export const Role = z.enum(['host', 'editor', 'viewer']);
export type Role = z.infer<typeof Role>;

export const DisplayName = z.string().min(1).max(100);

/** Someone connected to a session (one entry per connection: a user may have several). */
export const Participant = z.strictObject({
  user_id: UserId,
  display_name: DisplayName,
  role: Role,
  connection_id: ConnectionId,
});
export type Participant = z.infer<typeof Participant>;

/**
 * Names one lifetime of something the relay keeps (a session log, a document): a new random
 * token each time it is created again, so a client can tell that what it knew was lost. Short
 * tokens the relay makes (hex today), bounded so that a URL stays small.
 */
export const Epoch = z.string().regex(/^[\w-]{1,64}$/u, 'must be 1-64 letters, digits, _ or -');

/** A document inside a session: a workspace-relative path with `/` separators. */
export const DocumentId = z.string().min(1).max(1024);
