import WebSocket, { type ClientOptions } from 'ws';
import { createNodeWsTransport, type NodeWsConstructor, RelayClient, relayUrl } from '../../protocol/client';
import type { Driver } from './ipc';
import { WireReceiver } from './wire-receiver';

/**
 * One load-generator connection, behind a small interface so the driver can be switched:
 * `typed` is the protocol's RelayClient in raw mode (`parse: false`, frames as text through
 * `onRawFrame`), `raw` is a bare `ws` socket handing over Buffers, `wire` a receive-only socket
 * that counts frames in place (it cannot send). None validates UTF-8, parses a frame or
 * reconnects: the load generator only counts what arrives.
 */
export interface BenchClient {
  send(text: string): boolean;
  close(): void;
}

export interface BenchClientHooks {
  open(): void;
  /** One message: `data[start, end)`; no data when it did not arrive in one piece (`wire`). */
  frame(data: string | Buffer | undefined, start: number, end: number): void;
  /** Exactly once, also when the connection never opened. */
  closed(reason: string): void;
}

export interface BenchClientTarget {
  url: string;
  token: string;
  session: string;
}

/** `ws` with UTF-8 validation off (the relay's frames are trusted), for the typed client's adapter. */
class UncheckedWebSocket extends WebSocket {
  constructor(url: string, options?: ClientOptions) {
    super(url, { ...options, skipUTF8Validation: true });
  }
}

const typedTransport = createNodeWsTransport(UncheckedWebSocket as unknown as NodeWsConstructor, { handshakeTimeoutMs: 30_000 });

export function openBenchClient(driver: Driver, target: BenchClientTarget, hooks: BenchClientHooks): BenchClient {
  if (driver === 'typed') return openTyped(target, hooks);
  if (driver === 'raw') return openRaw(target, hooks);
  const receiver = new WireReceiver(relayUrl(target.url, target.token, target.session), hooks);
  return { send: () => false, close: () => receiver.close() };
}

function openTyped({ url, token, session }: BenchClientTarget, hooks: BenchClientHooks): BenchClient {
  const client = new RelayClient({
    url,
    token,
    session,
    transport: typedTransport,
    parse: false,
    reconnect: false,
    heartbeatIntervalMs: false,
    connectTimeoutMs: 30_000,
  });
  let ended = false;
  client.onStateChange((state) => {
    if (state === 'open') hooks.open();
  });
  client.onDisconnected((info) => {
    if (ended) return;
    ended = true;
    hooks.closed(info.rejection ? `HTTP ${info.rejection.status} ${info.rejection.body}` : `${info.cause} ${info.code} ${info.reason}`);
  });
  client.onRawFrame((text) => hooks.frame(text, 0, text.length));
  client.connect();
  return { send: (text) => client.sendRaw(text), close: () => client.close() };
}

function openRaw({ url, token, session }: BenchClientTarget, hooks: BenchClientHooks): BenchClient {
  const socket = new WebSocket(relayUrl(url, token, session), {
    perMessageDeflate: false,
    skipUTF8Validation: true,
    handshakeTimeout: 30_000,
  });
  let ended = false;
  let lastError = '';
  socket.on('open', hooks.open);
  socket.on('message', (data: Buffer) => hooks.frame(data, 0, data.length));
  socket.on('error', (error) => (lastError = error.message));
  socket.on('close', (code, reason) => {
    if (ended) return;
    ended = true;
    hooks.closed(`${code} ${reason.toString()} ${lastError}`.trim());
  });
  return {
    send: (text) => {
      if (socket.readyState !== WebSocket.OPEN) return false;
      socket.send(text);
      return true;
    },
    close: () => socket.terminate(),
  };
}
