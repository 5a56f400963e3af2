import type { Handler } from '../routing/router';
import type { HandlerContext } from './context';
import { forwardToHost } from './workspace';

/**
 * The host's shared terminals: the relay routes and keeps nothing (the host keeps the scrollback).
 * Only the host sends what comes out of its shell (output, the list, closes, scrollback); only an
 * editor may send input, and it goes to the host's connection alone, named by its `sender`, for
 * the host to decide. Viewers never type (the router refuses their input with FORBIDDEN_ROLE).
 */
export function terminalSharedHandler(context: HandlerContext): Handler<'terminal.shared'> {
  return {
    roles: ['host'],
    handle: async (connection, { payload }) => {
      const audience = payload.requester === undefined ? { exclude: connection.id } : { connection: payload.requester };
      await context.publishFrom(connection, 'terminal.shared', payload, audience);
    },
  };
}

/** Live output, to everyone else in the session (no history: a late joiner asks the host). */
export function terminalOutputHandler(context: HandlerContext): Handler<'terminal.output'> {
  return {
    roles: ['host'],
    handle: async (connection, { payload }) => {
      await context.publishFrom(connection, 'terminal.output', payload, { exclude: connection.id });
    },
  };
}

export function terminalClosedHandler(context: HandlerContext): Handler<'terminal.closed'> {
  return {
    roles: ['host'],
    handle: async (connection, { payload }) => {
      await context.publishFrom(connection, 'terminal.closed', payload, { exclude: connection.id });
    },
  };
}

/** Any guest may ask what is shared and catch up (reads). */
export function terminalRequestHandler(context: HandlerContext): Handler<'terminal.request'> {
  return {
    handle: async (connection, { payload }) => {
      await forwardToHost(context, connection, 'terminal.request', { ...payload, requester: connection.id });
    },
  };
}

/** Only to the requester. */
export function terminalScrollbackHandler(context: HandlerContext): Handler<'terminal.scrollback'> {
  return {
    roles: ['host'],
    handle: async (connection, { payload }) => {
      await context.publishFrom(connection, 'terminal.scrollback', payload, { connection: payload.requester });
    },
  };
}

/** Editors only, to the host only; the host still decides (its grant, the sender's role as it knows it). */
export function terminalInputHandler(context: HandlerContext): Handler<'terminal.input'> {
  return {
    roles: ['editor'],
    handle: async (connection, { payload }) => {
      await forwardToHost(context, connection, 'terminal.input', { ...payload, sender: connection.id });
    },
  };
}
