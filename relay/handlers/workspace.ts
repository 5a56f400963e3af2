import { encodeServerFrame, ProtocolError, READ_ONLY_WORKSPACE_OPS, type ServerPayload } from '../../protocol';
import type { Connection } from '../gateway/connection';
import type { Handler } from '../routing/router';
import type { HandlerContext } from './context';

/**
 * The host's shared folder: the relay only routes, it never sees a file system. A guest's request
 * goes to the session's host connection (on whichever relay holds it) with the requester's
 * connection id added, and the host's answer goes back to that one connection. Roles are checked
 * here, not only in the extensions: a viewer's write never reaches the host.
 */
export function workspaceRequestHandler(context: HandlerContext): Handler<'workspace.request'> {
  return {
    handle: async (connection, { payload }) => {
      if (connection.role === 'viewer' && !READ_ONLY_WORKSPACE_OPS.includes(payload.op)) {
        throw new ProtocolError('FORBIDDEN_ROLE', `a viewer cannot ${payload.op} in the shared folder`, 'payload.op', payload.request_id);
      }
      await forwardToHost(context, connection, 'workspace.request', { ...payload, requester: connection.id });
    },
  };
}

/** Frames a guest sends the session's host. */
type HostBound =
  | 'workspace.request'
  | 'language.request'
  | 'terminal.request'
  | 'terminal.input'
  | 'debugging.control'
  | 'tunnel.open'
  | 'tunnel.data'
  | 'tunnel.ack'
  | 'tunnel.close';

/**
 * A guest's request to the session's host connection (on whichever relay holds it), with the
 * asking connection named in `requester` so that the answer can go back there alone. Answered
 * `HOST_NOT_CONNECTED` when the session's presence lists no host connection.
 */
export async function forwardToHost<E extends HostBound>(
  context: HandlerContext,
  connection: Connection,
  eventType: E,
  payload: ServerPayload<E>,
  /** Named in the error when no host is connected (the request's id, a tunnel's stream id). */
  requestId: string | undefined = (payload as { request_id?: string }).request_id,
): Promise<void> {
  const hosts = (await context.presence.list(connection.sessionId)).filter((p) => p.role === 'host' && p.connection_id !== connection.id);
  if (hosts.length === 0) throw new ProtocolError('HOST_NOT_CONNECTED', undefined, undefined, requestId);
  await streamToHost(context, connection, eventType, payload);
}

/**
 * `forwardToHost` without the presence read, for the frames of a stream the host has opened
 * (tunnel data, credit, close): they come by the hundred a second, and one presence read each
 * would cost the session's store a round trip per frame. One publication, which every relay
 * delivers to its host connections of the session (normally one; while a host reconnects its
 * old connection may linger a moment: it is dead, and the live one gets it too). With no host
 * connected it reaches no one, as the stream is gone anyway.
 */
export async function streamToHost<E extends HostBound>(
  context: HandlerContext,
  connection: Connection,
  eventType: E,
  payload: ServerPayload<E>,
): Promise<void> {
  const data = encodeServerFrame(eventType, payload, { userId: connection.userId, sessionId: connection.sessionId });
  await context.hub.toSession(connection.sessionId, { eventType, data }, { roles: ['host'], exclude: connection.id });
}

/**
 * Only to the requester: the answer (file contents among them) is nobody else's business. A
 * `requester` outside the session reaches no one, since the publication stays in the session.
 */
export function workspaceResponseHandler(context: HandlerContext): Handler<'workspace.response'> {
  return {
    roles: ['host'],
    handle: async (connection, { payload }) => {
      await context.publishFrom(connection, 'workspace.response', payload, { connection: payload.requester });
    },
  };
}

/** The host's file changes, to everyone else in the session (no history: a returning guest re-reads). */
export function workspaceChangedHandler(context: HandlerContext): Handler<'workspace.changed'> {
  return {
    roles: ['host'],
    handle: async (connection, { payload }) => {
      await context.publishFrom(connection, 'workspace.changed', payload, { exclude: connection.id });
    },
  };
}
