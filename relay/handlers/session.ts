import type { Handler } from '../routing/router';
import type { HandlerContext } from './context';

/**
 * Focus (Live Share's "summon"): the host asks everyone to follow them. Only the host may (the
 * router checks the role); the others get the host's connection to follow. Not logged: a late
 * joiner is not summoned by a request made before they came.
 */
export function focusHandler(context: HandlerContext): Handler<'session.focus'> {
  return {
    roles: ['host'],
    handle: async (connection) => {
      const { userId, displayName } = connection.principal;
      await context.publishFrom(
        connection,
        'session.focus',
        { user_id: userId, display_name: displayName, connection_id: connection.id },
        { exclude: connection.id },
      );
    },
  };
}
