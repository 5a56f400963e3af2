import WebSocket from 'ws';
import { createNodeWsTransport, RelayClient } from '../../protocol/client';
import { monotonicMs } from '../clock';
import type { FromReconnectLoadgen, ReconnectClient, ToReconnectLoadgen } from './reconnect-ipc';

/**
 * The reconnect measurement's clients: a process of its own, driven over IPC by
 * `run-scaleout.ts`. Each is the protocol's RelayClient configured as the extension configures it
 * (default backoff: full jitter, 500 ms base; validated frames; heartbeat from the relay), so the
 * figure is what users would see, backoff included. They connect through nginx, which spreads
 * them over the relays and sends a reconnect to a live one.
 */

interface Tracked {
  client: RelayClient;
  relayId: string | undefined;
  /** Monotonic ms of the first close after `arm`, and of the `connect` that followed it. */
  lostAt?: number;
  backAt?: number;
  attempts: number;
}

const transport = createNodeWsTransport(WebSocket, { handshakeTimeoutMs: 10_000 });
const tracked: Tracked[] = [];
let armed = false;
let lastLossAt = 0;

const send = (message: FromReconnectLoadgen) => process.send?.(message);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

function connect(url: string, clients: ReconnectClient[], concurrency: number, timeoutMs: number): Promise<void> {
  const started = monotonicMs();
  let next = 0;
  let opened = 0;
  let failed = 0;
  let firstError: string | undefined;
  return new Promise((resolve) => {
    const timer = setTimeout(finish, timeoutMs);
    function finish(): void {
      clearTimeout(timer);
      const perRelay: Record<string, number> = {};
      for (const t of tracked) if (t.relayId) perRelay[t.relayId] = (perRelay[t.relayId] ?? 0) + 1;
      send({
        type: 'connected',
        clients: opened,
        failed: clients.length - opened,
        firstError,
        elapsedMs: monotonicMs() - started,
        perRelay,
      });
      resolve();
    }
    function settled(): void {
      if (opened + failed === clients.length) finish();
      else if (next < clients.length) open(clients[next++]!);
    }
    function open({ token, session }: ReconnectClient): void {
      const client = new RelayClient({ url, token, session, transport });
      const t: Tracked = { client, relayId: undefined, attempts: 0 };
      tracked.push(t);
      let first = true;
      client.onConnected((payload) => {
        t.relayId = payload.relay_id;
        if (armed && t.lostAt !== undefined && t.backAt === undefined) t.backAt = monotonicMs();
        if (first) {
          first = false;
          opened++;
          settled();
        }
      });
      client.onStateChange((state, previous) => {
        if (state === 'connecting' && armed && t.lostAt !== undefined) t.attempts++;
        if (previous === 'open' && armed && t.lostAt === undefined) {
          t.lostAt = lastLossAt = monotonicMs();
        }
        // Before the first connect, a failure is final: the bench wants every client in.
        if (first && state === 'reconnecting') {
          first = false;
          failed++;
          firstError ??= 'an attempt to connect failed';
          client.close();
          settled();
        }
      });
      client.onDisconnected((info) => {
        if (first) firstError ??= `${info.cause} ${info.code} ${info.reason}`;
      });
      client.connect();
    }
    for (; next < Math.min(concurrency, clients.length); next++) open(clients[next]!);
    if (clients.length === 0) finish();
  });
}

async function collect(killedAt: number, settleMs: number, timeoutMs: number): Promise<void> {
  const deadline = monotonicMs() + timeoutMs;
  for (;;) {
    const lost = tracked.filter((t) => t.lostAt !== undefined);
    const allBack = lost.length > 0 && lost.every((t) => t.backAt !== undefined);
    if ((allBack && monotonicMs() - lastLossAt >= settleMs) || monotonicMs() > deadline) break;
    await sleep(10);
  }
  const lost = tracked.filter((t) => t.lostAt !== undefined);
  const back = lost.filter((t) => t.backAt !== undefined);
  const backPerRelay: Record<string, number> = {};
  for (const t of back) backPerRelay[t.relayId ?? '?'] = (backPerRelay[t.relayId ?? '?'] ?? 0) + 1;
  send({
    type: 'collected',
    lost: lost.length,
    back: back.length,
    closedAfterMs: back.map((t) => t.lostAt! - killedAt),
    reconnectedAfterMs: back.map((t) => t.backAt! - killedAt),
    attempts: back.map((t) => t.attempts),
    backPerRelay,
  });
}

process.on('message', (message: ToReconnectLoadgen) => {
  const handle = async (): Promise<void> => {
    switch (message.type) {
      case 'connect':
        return connect(message.url, message.clients, message.concurrency, message.timeoutMs);
      case 'arm':
        armed = true;
        return void send({ type: 'armed' });
      case 'collect':
        return collect(message.killedAt, message.settleMs, message.timeoutMs);
      case 'exit':
        for (const t of tracked) t.client.close();
        process.exit(0);
    }
  };
  handle().catch((error: unknown) => {
    send({ type: 'fatal', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    process.exit(1);
  });
});

process.on('disconnect', () => process.exit(0));
