import type { Handler } from '../routing/router';
import type { HandlerContext } from './context';

/**
 * Joins a document of the session and answers with its snapshot. A host or editor creates it
 * (with `text`) if it is new; a viewer can only join an existing one. A client rejoining with the
 * revision it has first gets the ops it missed, if the history since is still kept.
 */
export function openHandler(context: HandlerContext): Handler<'collaboration.open'> {
  return {
    handle: async (connection, { payload }) => {
      const request = {
        document: payload.document,
        text: payload.text,
        mayCreate: connection.principal.role !== 'viewer',
        rev: payload.rev,
        clientId: payload.client_id,
      };
      await context.documents.open(connection.sessionId, connection.userId, request, ({ missed, snapshot }) => {
        for (const edit of missed) connection.send('collaboration.edit', edit);
        connection.send('collaboration.snapshot', snapshot);
      });
    },
  };
}

/**
 * An op goes through the document authority: committed, it is published to the rest of the
 * session with its revision, then acked to its sender, both in the document's commit order (the
 * publication first: the sender must see every earlier revision before its ack). An op based on
 * a revision older than the kept history gets a resync instead.
 */
export function editHandler(context: HandlerContext): Handler<'collaboration.edit'> {
  return {
    roles: ['host', 'editor'],
    handle: async (connection, { payload }) => {
      await context.documents.commit(connection.sessionId, connection.userId, payload, async (result) => {
        if (result.kind === 'resync') {
          connection.send('collaboration.resync', result.resync);
          return;
        }
        if (result.committed) await context.publishFrom(connection, 'collaboration.edit', result.committed, { exclude: connection.id });
        connection.send('collaboration.ack', result.ack);
      });
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
