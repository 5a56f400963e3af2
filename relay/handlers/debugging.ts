import { forwardToHost } from './workspace';
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
      await forwardToHost(context, connection, 'debugging.control', { ...payload, requester: connection.id });
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
