import type { Handler } from '../routing/router';
import type { HandlerContext } from './context';

/** Shared breakpoints change everyone's debug session, so viewers may not set them. */
export function breakpointHandler(context: HandlerContext): Handler<'debugging.breakpoint'> {
  return {
    roles: ['host', 'editor'],
    handle: async (connection, { payload }) => {
      await context.publishFrom(connection, 'debugging.breakpoint', payload, { exclude: connection.id }, { history: true });
    },
  };
}
