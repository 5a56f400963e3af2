import type { ClientEventType, ClientFrame, Role } from '../../protocol';
import { ProtocolError } from '../../protocol';
import type { Connection } from '../gateway/connection';

type FrameOf<E extends ClientEventType> = Extract<ClientFrame, { event_type: E }>;

export interface Handler<E extends ClientEventType> {
  /** Roles allowed to send this event; absent = everyone in the session. */
  roles?: readonly Role[];
  handle(connection: Connection, frame: FrameOf<E>): void | Promise<void>;
}

export type HandlerTable = { [E in ClientEventType]: Handler<E> };

/**
 * Routes a validated frame to the handler of its event type, after the checks every event
 * shares: the session named in the frame is the connection's, and the role may send it.
 * The table is complete by type: adding a client event to the catalog without a handler
 * does not compile.
 */
export class Router {
  constructor(private readonly handlers: HandlerTable) {}

  async dispatch(connection: Connection, frame: ClientFrame): Promise<void> {
    if (frame.session_id !== undefined && frame.session_id !== connection.sessionId) {
      throw new ProtocolError('SESSION_FORBIDDEN', `this connection belongs to session "${connection.sessionId}"`, 'session_id');
    }
    const handler = this.handlers[frame.event_type] as Handler<ClientEventType>;
    if (handler.roles && !handler.roles.includes(connection.role)) {
      throw new ProtocolError('FORBIDDEN_ROLE', `a ${connection.role} cannot send ${frame.event_type}`, 'event_type');
    }
    await handler.handle(connection, frame as FrameOf<ClientEventType>);
  }
}
