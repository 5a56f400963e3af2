import { z } from 'zod';
import { DisplayName, Identifier, UserId } from './common';

export const MAX_CHAT_CHARS = 10_000;

/** What a client sends. `to` makes it a direct message to one user of the session. */
export const ChatMessageIn = z.strictObject({
  content: z.string().min(1).max(MAX_CHAT_CHARS),
  to: UserId.optional(),
  /**
   * The client's own id for the message, echoed back so it can match its optimistic copy. The
   * relay logs a message once per (user, id) within its dedupe window, so a client that is not
   * sure its message arrived (the connection dropped) resends it with the same id.
   */
  client_message_id: Identifier.optional(),
});
export type ChatMessageIn = z.infer<typeof ChatMessageIn>;

/** What every recipient gets: the relay adds a unique id and the sender's display name. */
export const ChatMessageOut = ChatMessageIn.extend({
  message_id: z.string().min(1),
  display_name: DisplayName,
});
export type ChatMessageOut = z.infer<typeof ChatMessageOut>;
