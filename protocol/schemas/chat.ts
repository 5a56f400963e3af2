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

/**
 * Someone is writing a message: `typing: true`, repeated every few seconds while they type, and
 * `false` when they clear the input. Ephemeral: never logged, not replayed, dropped when the relay
 * cannot reach Redis; a recipient forgets it after a few seconds without a repeat, and at once
 * when that person's message arrives.
 */
export const ChatTypingIn = z.strictObject({ typing: z.boolean() });
export type ChatTypingIn = z.infer<typeof ChatTypingIn>;

/** What the others get: the relay adds the sender's display name. */
export const ChatTypingOut = ChatTypingIn.extend({ display_name: DisplayName });
export type ChatTypingOut = z.infer<typeof ChatTypingOut>;

/** What every recipient gets: the relay adds a unique id and the sender's display name. */
export const ChatMessageOut = ChatMessageIn.extend({
  message_id: z.string().min(1),
  display_name: DisplayName,
});
export type ChatMessageOut = z.infer<typeof ChatMessageOut>;
