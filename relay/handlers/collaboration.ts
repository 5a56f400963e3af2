import type { Handler } from '../routing/router';
import type { HandlerContext } from './context';

/**
 * Edits are relayed to the rest of the session as they come. The OT authority (revisions,
 * transform, acks) replaces this handler; the role check and the wire stay.
 */
export function editHandler(context: HandlerContext): Handler<'collaboration.edit'> {
  return {
    roles: ['host', 'editor'],
    handle: async (connection, { payload }) => {
      await context.publishFrom(connection, 'collaboration.edit', payload, { exclude: connection.id });
    },
  };
}

/** Cursors are ephemeral: no history, not echoed. Viewers have cursors too. */
export function cursorHandler(context: HandlerContext): Handler<'collaboration.cursor'> {
  return {
    handle: async (connection, { payload }) => {
      await context.publishFrom(connection, 'collaboration.cursor', payload, { exclude: connection.id });
    },
  };
}
