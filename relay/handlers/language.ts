import type { Handler } from '../routing/router';
import type { HandlerContext } from './context';
import { forwardToHost } from './workspace';

/**
 * The host's language features, routed as the shared folder's requests are: the relay never
 * answers them itself. Every op is a read, so viewers may ask too; the zod schema already refused
 * a path that could name something outside the folder, and the host checks what it shares.
 */
export function languageRequestHandler(context: HandlerContext): Handler<'language.request'> {
  return {
    handle: async (connection, { payload }) => {
      await forwardToHost(context, connection, 'language.request', { ...payload, requester: connection.id });
    },
  };
}

/** Only to the requester: the answer quotes the host's files. */
export function languageResponseHandler(context: HandlerContext): Handler<'language.response'> {
  return {
    roles: ['host'],
    handle: async (connection, { payload }) => {
      await context.publishFrom(connection, 'language.response', payload, { connection: payload.requester });
    },
  };
}

/** The host's problems in shared files, to everyone else (no history: a returning guest asks for them all). */
export function languageDiagnosticsHandler(context: HandlerContext): Handler<'language.diagnostics'> {
  return {
    roles: ['host'],
    handle: async (connection, { payload }) => {
      await context.publishFrom(connection, 'language.diagnostics', payload, { exclude: connection.id });
    },
  };
}
