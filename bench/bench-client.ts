import { io } from 'socket.io-client';
import WebSocket, { type ClientOptions } from 'ws';
import { createNodeWsTransport, type NodeWsConstructor, RelayClient, relayUrl } from '../protocol/client';
import type { Driver } from './ipc';
import { WireReceiver } from './wire-receiver';

/**
 * One load-generator connection, behind a small interface so the driver can be switched:
 * `typed` is the protocol's RelayClient in raw mode (`parse: false`, frames as text through
 * `onRawFrame`), `raw` is a bare `ws` socket handing over Buffers, `wire` a receive-only socket
 * that counts frames in place (it cannot send). For the Socket.IO baseline, `sio-wire` is that
 * receiver plus Engine.IO's handshake and pongs, and `sio` is socket.io-client itself. None
 * validates UTF-8 (socket.io-client parses), or reconnects: the load generator only counts what arrives.
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
  if (driver === 'sio') return openSocketIo(target, hooks);
  if (driver === 'sio-wire') return openSocketIoWire(target, hooks);
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

/** Socket.IO's endpoint on the server whose bench URL is `ws://host:port/ws`. */
function socketIoOrigin(url: string): string {
  return new URL(url).origin.replace(/^ws/, 'http');
}

// Engine.IO packet types (the first character of a frame) and Socket.IO's EVENT, as bytes.
const EIO_OPEN = 0x30; // '0'
const EIO_PING = 0x32; // '2'
const EIO_MESSAGE = 0x34; // '4'
const SIO_EVENT = 0x32; // '2'

/**
 * The `wire` receiver on a Socket.IO server: it joins the default namespace (`40`) once the
 * server's open packet arrives, answers pings (`2` -> `3`, or the server drops it after 45 s),
 * and hands on only EVENT messages (`42[...]`), the first of which is the server's hello.
 * A frame that did not arrive in one read is handed on uninspected: only messages are that big.
 */
function openSocketIoWire({ url, token, session }: BenchClientTarget, hooks: BenchClientHooks): BenchClient {
  const query = `EIO=4&transport=websocket&token=${encodeURIComponent(token)}&session=${encodeURIComponent(session)}`;
  const endpoint = `${socketIoOrigin(url).replace(/^http/, 'ws')}/socket.io/?${query}`;
  const receiver: WireReceiver = new WireReceiver(endpoint, {
    open: hooks.open,
    frame: (data, start, end) => {
      if (data === undefined) return hooks.frame(undefined, start, end);
      const type = data[start];
      if (type === EIO_MESSAGE) {
        if (data[start + 1] === SIO_EVENT) hooks.frame(data, start, end);
      } else if (type === EIO_OPEN) receiver.sendText('40');
      else if (type === EIO_PING) receiver.sendText('3');
    },
    closed: hooks.closed,
  });
  return { send: () => false, close: () => receiver.close() };
}

/**
 * socket.io-client over the websocket transport only (no long-polling upgrade), no reconnection.
 * Frames are taken from the engine's packets (the EVENT text as received, `2[...]`) so the load
 * generator reads them as it does the others; socket.io-client decodes them too, as an app's would.
 * `send` takes the relay's frame and emits its payload as the `chat.message` event.
 */
function openSocketIo({ url, token, session }: BenchClientTarget, hooks: BenchClientHooks): BenchClient {
  const socket = io(socketIoOrigin(url), {
    transports: ['websocket'],
    query: { token, session },
    reconnection: false,
    forceNew: true,
    timeout: 30_000,
  });
  let ended = false;
  const end = (reason: string) => {
    if (ended) return;
    ended = true;
    hooks.closed(reason);
  };
  socket.io.on('open', () => {
    hooks.open();
    socket.io.engine.on('packet', (packet) => {
      if (packet.type === 'message' && typeof packet.data === 'string' && packet.data.charCodeAt(0) === SIO_EVENT)
        hooks.frame(packet.data, 0, packet.data.length);
    });
  });
  socket.on('connect_error', (error) => end(`connect_error ${error.message}`));
  socket.on('disconnect', (reason) => end(`disconnect ${reason}`));
  return {
    send: (text) => {
      if (!socket.connected) return false;
      socket.emit('chat.message', (JSON.parse(text) as { payload: unknown }).payload);
      return true;
    },
    close: () => socket.disconnect(),
  };
}
