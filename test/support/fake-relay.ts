/**
 * Small `ws` servers that play the relay for the typed client's tests, the frames they send, and
 * helpers to watch a `RelayClient`. Everything opened here stays open until `closeAll()`: run it
 * in `afterEach`.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import {
  createNodeWsTransport,
  type DisconnectInfo,
  type Disposable,
  RelayClient,
  type RelayClientOptions,
  type RelayClientState,
} from '../../protocol/client/index';
import type { ConnectPayload, DisconnectPayload } from '../../protocol/schemas/system';

const cleanups: Array<() => unknown> = [];

/** Closes every fake relay and client opened since the last call, newest first. */
export async function closeAll(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
}

export interface FakeRelayBehaviour {
  /** Refuse upgrade number `n` (1-based) with this HTTP answer; undefined accepts it. */
  refuse?: (n: number) => { status: number; body: string } | undefined;
  /** What to do with accepted connection number `n`; default: send a `connect` event. */
  onConnection?: (socket: WebSocket, n: number) => void;
}

export interface FakeRelay {
  url: string;
  /** The request URL of every upgrade attempt, refused or not. */
  upgrades: string[];
  /** Every frame the relay received, parsed. */
  received: Array<{ event_type: string; payload: Record<string, unknown>; timestamp: string }>;
  sockets: WebSocket[];
}

export async function startFakeRelay(behaviour: FakeRelayBehaviour = {}): Promise<FakeRelay> {
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ noServer: true });
  const relay: FakeRelay = { url: '', upgrades: [], received: [], sockets: [] };
  server.on('upgrade', (req, socket: Socket, head) => {
    relay.upgrades.push(req.url ?? '');
    // The client may hang up while a refusal is still being written: not the relay's crash.
    socket.on('error', () => undefined);
    const refusal = behaviour.refuse?.(relay.upgrades.length);
    if (refusal) {
      const reason = http.STATUS_CODES[refusal.status] ?? 'Refused';
      socket.end(
        `HTTP/1.1 ${refusal.status} ${reason}\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${Buffer.byteLength(refusal.body)}\r\nConnection: close\r\n\r\n${refusal.body}`,
      );
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      relay.sockets.push(ws);
      ws.on('message', (data, isBinary) => {
        if (!isBinary) relay.received.push(JSON.parse(data.toString()));
      });
      (behaviour.onConnection ?? ((s) => s.send(connectFrame())))(ws, relay.sockets.length);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  relay.url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws`;
  cleanups.push(async () => {
    for (const ws of relay.sockets) ws.terminate();
    wss.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return relay;
}

/** A frame as the relay sends it, from `system` in s1. */
export function frame(event_type: string, payload: unknown): string {
  return JSON.stringify({ event_type, payload, timestamp: new Date().toISOString(), session_id: 's1', user_id: 'system' });
}

function connectPayload(heartbeatIntervalMs = 30_000): ConnectPayload {
  const user = { user_id: 'alice', display_name: 'Alice', role: 'host' as const, connection_id: 'c1' };
  return {
    connection_id: 'c1',
    relay_id: 'relay-1',
    server_time: new Date().toISOString(),
    heartbeat_interval_ms: heartbeatIntervalMs,
    session_id: 's1',
    user,
    participants: [user],
    limits: { max_frame_bytes: 65_536, max_messages_per_second: 50 },
  };
}

export function connectFrame(heartbeatIntervalMs?: number): string {
  return frame('connect', connectPayload(heartbeatIntervalMs));
}

export function disconnectFrame(payload: DisconnectPayload): string {
  return frame('disconnect', payload);
}

export function chatFrame(content: unknown): string {
  return frame('chat.message', { content, message_id: 'm1', display_name: 'Bob' });
}

/** A `RelayClient` with a test token, a short backoff and a node `ws` transport; `closeAll` disposes it. */
export function createClient(options: Partial<RelayClientOptions> & Pick<RelayClientOptions, 'url'>): RelayClient {
  const transport = options.transport ?? createNodeWsTransport(WebSocket, { handshakeTimeoutMs: 2000 });
  let finished = false;
  const relayClient = new RelayClient({
    token: 'test-token',
    backoff: { baseDelayMs: 10, maxDelayMs: 50 },
    ...options,
    // Should a broken close() leave a retry behind, it ends here instead of keeping the file alive.
    transport: (url, listener) => {
      if (finished) throw new Error('test is over');
      return transport(url, listener);
    },
  });
  cleanups.push(() => {
    finished = true;
    relayClient.dispose();
  });
  return relayClient;
}

/** The next value a listener gets, or a rejection after `ms`. */
export function nextEvent<T>(subscribe: (listener: (value: T) => void) => Disposable, ms = 2000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      subscription.dispose();
      reject(new Error(`nothing within ${ms} ms`));
    }, ms);
    const subscription = subscribe((value) => {
      clearTimeout(timer);
      subscription.dispose();
      resolve(value);
    });
  });
}

export function recordStates(relayClient: RelayClient): RelayClientState[] {
  const states: RelayClientState[] = [];
  relayClient.onStateChange((state) => states.push(state));
  return states;
}

export function recordDisconnects(relayClient: RelayClient): DisconnectInfo[] {
  const infos: DisconnectInfo[] = [];
  relayClient.onDisconnected((info) => infos.push(info));
  return infos;
}
