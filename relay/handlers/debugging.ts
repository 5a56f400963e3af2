import { encodeServerFrame, ProtocolError } from '../../protocol';
import type { Debugging } from '../debugging/debugging';
import type { Handler } from '../routing/router';
import type { HandlerContext } from './context';

/**
 * Shared breakpoints change everyone's debug session, so viewers may not set them. The relay keeps
 * the set (relay/debugging) and broadcasts each change as applied, with its revision.
 */
export function breakpointHandler(debugging: Debugging): Handler<'debugging.breakpoint'> {
  return {
    roles: ['host', 'editor'],
    handle: (connection, { payload }) => debugging.breakpoint(connection, payload),
  };
}

/** The host's debugger, as its extension reports it: only the host has one. */
export function stoppedHandler(debugging: Debugging): Handler<'debugging.stopped'> {
  return { roles: ['host'], handle: (connection, { payload }) => debugging.stopped(connection, payload) };
}

export function continuedHandler(debugging: Debugging): Handler<'debugging.continued'> {
  return { roles: ['host'], handle: (connection, { payload }) => debugging.continued(connection, payload) };
}

/**
 * An editor's request to continue, step or pause: to the host's connection(s) only (as a
 * `workspace.request` is), whose extension decides whether guests may, and answers with
 * `debugging.control_result`. Viewers may only watch.
 */
export function controlHandler(context: HandlerContext): Handler<'debugging.control'> {
  return {
    roles: ['editor'],
    handle: async (connection, { payload }) => {
      const hosts = (await context.presence.list(connection.sessionId)).filter(
        (p) => p.role === 'host' && p.connection_id !== connection.id,
      );
      if (hosts.length === 0) {
        throw new ProtocolError('HOST_NOT_CONNECTED', 'the session’s host is not connected', undefined, payload.request_id);
      }
      const data = encodeServerFrame(
        'debugging.control',
        { ...payload, requester: connection.id },
        { userId: connection.userId, sessionId: connection.sessionId },
      );
      await Promise.all(
        hosts.map((host) =>
          context.hub.toSession(connection.sessionId, { eventType: 'debugging.control', data }, { connection: host.connection_id }),
        ),
      );
    },
  };
}

/** The host's answer, to the requester only. */
export function controlResultHandler(context: HandlerContext): Handler<'debugging.control_result'> {
  return {
    roles: ['host'],
    handle: async (connection, { payload }) => {
      await context.publishFrom(connection, 'debugging.control_result', payload, { connection: payload.requester });
    },
  };
}
