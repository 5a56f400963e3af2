import type { Handler } from '../routing/router';
import type { HandlerContext } from './context';

/**
 * Chat goes to the whole session, sender included, so every participant (the sender too) sees
 * one order. With `to` it is a direct message: only the recipient's and sender's connections.
 */
export function chatMessageHandler(context: HandlerContext): Handler<'chat.message'> {
  return {
    handle: async (connection, { payload }) => {
      const message = { ...payload, message_id: context.nextMessageId(), display_name: connection.principal.displayName };
      const audience = payload.to ? { users: [payload.to, connection.userId] } : {};
      await context.publishFrom(connection, 'chat.message', message, audience, { history: true });
    },
  };
}
