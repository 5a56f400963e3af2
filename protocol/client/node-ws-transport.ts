import { ABNORMAL_CLOSURE, type HandshakeRejection, type TransportFactory } from './transport';

/**
 * Adapter for the Node `ws` package. Typed structurally so `protocol/` never imports `ws`:
 * the caller passes the constructor (`createNodeWsTransport(WebSocket)`). Unlike a browser,
 * `ws` shows the HTTP answer of a refused upgrade, which lets the client tell a bad token
 * (stop) from an overloaded relay (retry).
 */

/** `Buffer` and friends: all the adapter does with data is turn it into text. */
interface Stringable {
  toString(): string;
}

/** The `http.IncomingMessage` of a refused upgrade: a readable stream with a status. */
export interface NodeIncomingMessageLike {
  readonly statusCode?: number;
  setEncoding(encoding: 'utf8'): unknown;
  on(event: 'data', listener: (chunk: Stringable & { readonly length: number }) => void): unknown;
  on(event: 'end' | 'close', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

export interface NodeWsLike {
  readonly bufferedAmount: number;
  binaryType: string;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  on(event: 'open', listener: () => void): unknown;
  on(event: 'message', listener: (data: Stringable, isBinary: boolean) => void): unknown;
  on(event: 'close', listener: (code: number, reason: Stringable) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'unexpected-response', listener: (request: unknown, response: NodeIncomingMessageLike) => void): unknown;
}

/** The options of `ws`'s client this adapter passes through. */
export interface NodeWsClientOptions {
  handshakeTimeout?: number;
  maxPayload?: number;
  perMessageDeflate?: boolean;
}

export type NodeWsConstructor = new (url: string, options?: NodeWsClientOptions) => NodeWsLike;

export interface NodeWsTransportOptions {
  /** Fail the handshake after this long (`ws` has no limit by default). Default 10 s. */
  handshakeTimeoutMs?: number;
  /** Largest inbound message `ws` accepts, in bytes (`ws` default: 100 MiB). */
  maxPayload?: number;
  /** At most this much of a refusal's body is kept. Default 4096 characters. */
  maxRejectionBodyChars?: number;
  /** Give up reading a refusal's body after this long. Default 2 s. */
  rejectionBodyTimeoutMs?: number;
}

export function createNodeWsTransport(WebSocketCtor: NodeWsConstructor, options: NodeWsTransportOptions = {}): TransportFactory {
  const maxBodyChars = options.maxRejectionBodyChars ?? 4096;
  const bodyTimeoutMs = options.rejectionBodyTimeoutMs ?? 2000;
  const clientOptions: NodeWsClientOptions = {
    handshakeTimeout: options.handshakeTimeoutMs ?? 10_000,
    // Frames are small JSON; compression costs CPU on both ends for little gain.
    perMessageDeflate: false,
  };
  if (options.maxPayload !== undefined) clientOptions.maxPayload = options.maxPayload;

  return (url, listener) => {
    const socket = new WebSocketCtor(url, clientOptions);
    // One Buffer per message (not fragments or ArrayBuffers), so `toString()` is UTF-8 text.
    socket.binaryType = 'nodebuffer';
    let rejection: HandshakeRejection | undefined;
    let closed = false;

    socket.on('open', () => listener.open());
    socket.on('message', (data, isBinary) => {
      if (!isBinary) listener.message(data.toString());
    });
    // `ws` throws an 'error' nobody listens to, so this listener stays for the socket's life.
    socket.on('error', (error) => {
      // After a refusal, the "closed before the connection was established" that our own
      // terminate() causes is noise: the rejection says what happened.
      if (!rejection) listener.error(error);
    });
    socket.on('close', (code, reason) => {
      if (closed) return;
      closed = true;
      listener.close({ code: code || ABNORMAL_CLOSURE, reason: reason.toString(), ...(rejection && { rejection }) });
    });
    // With a listener here `ws` leaves the refused request to us: read the body, then end it.
    socket.on('unexpected-response', (_request, response) => {
      const status = response.statusCode ?? 0;
      let body = '';
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        rejection = { status, body };
        socket.terminate();
      };
      const timer = setTimeout(finish, bodyTimeoutMs);
      // Strings decoded across chunk boundaries, not Buffers cut inside a UTF-8 sequence.
      response.setEncoding('utf8');
      response.on('data', (chunk) => {
        if (done) return;
        body += chunk.toString();
        if (body.length >= maxBodyChars) {
          body = body.slice(0, maxBodyChars);
          finish();
        }
      });
      response.on('end', finish);
      response.on('close', finish);
      response.on('error', finish);
    });

    return {
      send: (text) => socket.send(text),
      close: (code, reason) => socket.close(code, reason),
      terminate: () => socket.terminate(),
      get bufferedAmount() {
        return socket.bufferedAmount;
      },
    };
  };
}
