/**
 * ioredis's own connector (TCP or TLS) with one addition: every socket it opens keeps an 'error'
 * listener for its whole life. ioredis listens with `once`, which is enough for TCP; a TLS socket
 * can report a second error after the first (a certificate the relay refused, then the server's
 * alert when the socket is ended mid-handshake), and an unheard 'error' would end the process.
 * ioredis still sees the first error of each socket, as before.
 */
import type { StandaloneConnectionOptions } from 'ioredis';
import type { ErrorEmitter } from 'ioredis/built/connectors/AbstractConnector';
import StandaloneConnector from 'ioredis/built/connectors/StandaloneConnector';
import type { NetStream } from 'ioredis/built/types';

export class GuardedConnector extends StandaloneConnector {
  /** ioredis hands a connector the connection's options untyped (`ConnectorConstructor`). */
  constructor(options: unknown) {
    super(options as StandaloneConnectionOptions);
  }

  override async connect(emitError: ErrorEmitter): Promise<NetStream> {
    const stream = await super.connect(emitError);
    stream.on('error', () => undefined);
    return stream;
  }
}
