/**
 * What the relay client needs from a WebSocket implementation, and no more. `protocol/` runs in
 * Node, browsers and the extension host, so it never imports one: the caller injects it through
 * an adapter (`createNodeWsTransport`, `createBrowserTransport`) or its own factory.
 */

/** The HTTP answer when the relay refused the upgrade (only runtimes that expose it: Node `ws`). */
export interface HandshakeRejection {
  status: number;
  /** The response body, truncated by the adapter; the relay sends `{"code","message"}` JSON. */
  body: string;
}

export interface TransportCloseInfo {
  /** The WebSocket close code; 1006 when the connection was never established or just dropped. */
  code: number;
  reason: string;
  /** Set when the upgrade was answered with an HTTP status instead of 101. */
  rejection?: HandshakeRejection;
}

/**
 * Callbacks a transport makes. `close` comes exactly once per transport, last, also when the
 * connection never opened; `error` may come before it and is informational only.
 */
export interface TransportListener {
  open(): void;
  /** A text frame. Binary frames are not part of the protocol: adapters drop them. */
  message(text: string): void;
  close(info: TransportCloseInfo): void;
  error(error: Error): void;
}

export interface Transport {
  /** Throws when the socket is not open; the client only sends while open. */
  send(text: string): void;
  /** Closing handshake: polite, but may take long if the peer is gone. */
  close(code?: number, reason?: string): void;
  /** Drops the connection at once, where the runtime allows it (browsers do not). */
  terminate?(): void;
  /** Bytes queued but not yet sent, for callers that want backpressure. */
  readonly bufferedAmount: number;
}

/** Opens one connection to `url`; the client calls it again for every reconnect. */
export type TransportFactory = (url: string, listener: TransportListener) => Transport;

/** RFC 6455: "closed abnormally", reported when there was no close frame. */
export const ABNORMAL_CLOSURE = 1006;
