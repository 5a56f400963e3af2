import { ProtocolError } from '../../protocol';
import type { Handler } from '../routing/router';

/** Answers the client's application-level liveness probe on the same connection. */
export function pingHandler(): Handler<'system.ping'> {
  return {
    handle: (connection, { payload }) => {
      connection.send('system.pong', { ...payload, server_time: new Date().toISOString() });
    },
  };
}

/**
 * The live metrics are an operator's: a session's connection (whatever its role, an admin token's
 * included) is refused; operators connect with an operator token (relay/streams/operator-feed.ts).
 */
export function operatorOnlyHandler<E extends 'operator.subscribe' | 'operator.unsubscribe'>(): Handler<E> {
  return {
    handle: () => {
      throw new ProtocolError(
        'OPERATOR_ONLY',
        'only an operator connection may subscribe to the live metrics: connect with a token from `relay token --operator`',
      );
    },
  };
}
