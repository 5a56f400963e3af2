import { type ChatMessageOut, type ChatTypingOut, encodeServerFrame } from '../../protocol';
import type { Publication } from '../broker/broker';
import type { Connection } from '../gateway/connection';
import type { Handler } from '../routing/router';
import type { HandlerContext } from './context';

/**
 * Chat goes to the whole session, sender included, so every participant (the sender too) sees
 * one order; seeing its own message come back is how a sender knows it was logged. With `to` it
 * is a direct message: only the recipient's and sender's connections.
 *
 * A message with a `client_message_id` is logged once per (user, id) within the broker's dedupe
 * window: a client that resends what it never saw come back (its connection dropped) cannot
 * make a duplicate. The check and the publish are one atomic step in the broker.
 */
export function chatMessageHandler(context: HandlerContext): Handler<'chat.message'> {
  return {
    handle: async (connection, { payload }) => {
      const message: ChatMessageOut = { ...payload, message_id: context.nextMessageId(), display_name: connection.principal.displayName };
      const audience = payload.to ? { users: [payload.to, connection.userId] } : {};
      const data = encodeServerFrame('chat.message', message, { userId: connection.userId, sessionId: connection.sessionId });
      const id = payload.client_message_id;
      const result = await context.hub.toSession(connection.sessionId, { eventType: 'chat.message', data }, audience, {
        history: true,
        ...(id !== undefined && { idempotencyKey: chatKey(connection.userId, id) }),
      });
      if (result.duplicate && !willSee(connection, result.offset, result.epoch)) {
        await echoToSender(context, connection, result.duplicate.original?.data ?? data);
      }
    },
  };
}

/**
 * A repeat of the same typing signal within this long is not passed on: clients repeat it every
 * few seconds while someone types, and a client that sends it on every keystroke costs the
 * others nothing more (its frames still count against its message rate).
 */
export const TYPING_REPEAT_MS = 1000;

/**
 * "… is typing": to the others in the session, ephemeral (never logged: a late joiner must not
 * see someone typing who stopped long ago), through Redis to the other relays while it is up and
 * on this relay alone while it is not (it is a hint, not a message).
 */
export function chatTypingHandler(context: HandlerContext): Handler<'chat.typing'> {
  const lastPassedOn = new WeakMap<Connection, { typing: boolean; at: number }>();
  return {
    handle: async (connection, { payload }) => {
      const now = Date.now();
      const last = lastPassedOn.get(connection);
      if (last && last.typing === payload.typing && now - last.at < TYPING_REPEAT_MS) return;
      lastPassedOn.set(connection, { typing: payload.typing, at: now });
      const typing: ChatTypingOut = { typing: payload.typing, display_name: connection.principal.displayName };
      const data = encodeServerFrame('chat.typing', typing, { userId: connection.userId, sessionId: connection.sessionId });
      await context.hub.toSessionEphemeral(connection.sessionId, { eventType: 'chat.typing', data }, { exclude: connection.id });
    },
  };
}

/** Unambiguous whatever the characters of the ids (an Identifier may hold `:`). */
function chatKey(userId: string, clientMessageId: string): string {
  return `chat:${userId.length}:${userId}:${clientMessageId}`;
}

/**
 * Whether the sender of a resent message sees (or saw) the logged original anyway: it came after
 * the connection's admission (it arrives live), or the connection resumed from a position before
 * it (it was among the missed events). Otherwise (a fresh connection, or one whose history was
 * lost) the sender would never learn that its message was logged, and would resend it forever.
 */
function willSee(connection: Connection, offset: number, epoch: string): boolean {
  const log = connection.sessionLog;
  if (!log || log.epoch !== epoch) return false;
  return offset > log.offset || log.resumed;
}

/**
 * The original (or, once the history dropped it, this resend's frame) to the sender's connection
 * only, through the session channel so that it keeps its place among the live publications. It
 * is not a log publication (no offset): the others have it already.
 */
function echoToSender(context: HandlerContext, connection: Connection, data: Publication['data']) {
  return context.hub.toSession(connection.sessionId, { eventType: 'chat.message', data }, { connection: connection.id });
}
