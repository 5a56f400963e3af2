import { ABNORMAL_CLOSURE, type TransportFactory } from './transport';

/**
 * Adapter for a standard (WHATWG) `WebSocket`: browsers, webviews, Electron renderers, Deno,
 * Node >= 22's global. A browser never shows the HTTP status of a refused upgrade, so a bad
 * token looks like any failed connection: the client keeps retrying with backoff. Where the
 * status matters (the extension host, scripts) use `createNodeWsTransport`.
 */

/** The events this adapter reads, in the shape the DOM and `ws` both give them. */
interface WebSocketLikeEvents {
  open: unknown;
  message: { readonly data: unknown };
  close: { readonly code: number; readonly reason: string };
  error: unknown;
}

/** The part of the standard `WebSocket` the adapter uses. */
export interface WebSocketLike {
  readonly bufferedAmount: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener<K extends keyof WebSocketLikeEvents>(type: K, listener: (event: WebSocketLikeEvents[K]) => void): void;
}

export type WebSocketLikeConstructor = new (url: string) => WebSocketLike;

export function createBrowserTransport(WebSocketCtor: WebSocketLikeConstructor): TransportFactory {
  return (url, listener) => {
    const socket = new WebSocketCtor(url);
    let closed = false;
    socket.addEventListener('open', () => listener.open());
    socket.addEventListener('message', (event) => {
      // Binary frames arrive as Blob or ArrayBuffer; they are not part of the protocol.
      if (typeof event.data === 'string') listener.message(event.data);
    });
    // The DOM's error event carries no detail by design (it would leak cross-origin information).
    socket.addEventListener('error', () => listener.error(new Error('WebSocket error')));
    socket.addEventListener('close', (event) => {
      if (closed) return;
      closed = true;
      listener.close({ code: event.code || ABNORMAL_CLOSURE, reason: event.reason });
    });
    return {
      send: (text) => socket.send(text),
      // Browsers allow only 1000 and 3000-4999 here and throw otherwise.
      close: (code, reason) => socket.close(code, reason),
      get bufferedAmount() {
        return socket.bufferedAmount;
      },
    };
  };
}
