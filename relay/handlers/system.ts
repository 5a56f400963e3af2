import type { Handler } from '../routing/router';

/** Answers the client's application-level liveness probe on the same connection. */
export function pingHandler(): Handler<'system.ping'> {
  return {
    handle: (connection, { payload }) => {
      connection.send('system.pong', { ...payload, server_time: new Date().toISOString() });
    },
  };
}
