import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { closeCodes } from '../../../protocol';
import {
  holdRequest,
  refusedUpgrade,
  startTestRelay,
  type TestClient,
  type TestRelay,
  within,
} from '../../support/relay-fixture';

/** The head of a WebSocket upgrade request for `/ws`, as `ws` would send it. */
function upgradeHead(relay: TestRelay, token: string): string {
  return [
    `GET /ws?token=${token} HTTP/1.1`,
    `Host: 127.0.0.1:${relay.relay.port}`,
    'Connection: Upgrade',
    'Upgrade: websocket',
    'Sec-WebSocket-Version: 13',
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
  ].join('\r\n');
}

/** Asserts the client was told `disconnect` (shutdown) as its last frame, then closed with 1001. */
async function assertShutdownGoodbye(client: TestClient, who: string): Promise<void> {
  const closed = await within(client.closed, 5000, `${who} to be closed`);
  assert.equal(closed.code, closeCodes.GOING_AWAY, `${who} is closed with 1001`);
  const last = client.frames.at(-1);
  assert.equal(last?.event_type, 'disconnect', `${who}'s last frame is disconnect`);
  assert.deepEqual(
    last.event_type === 'disconnect' && { reason: last.payload.reason, reconnect: last.payload.reconnect },
    { reason: 'shutdown', reconnect: true },
  );
}

describe('graceful shutdown (in process)', () => {
  it('tells every client `disconnect` (reason shutdown), closes them with 1001, and resolves stop()', async () => {
    const relay = await startTestRelay();
    try {
      const alice = await relay.connect('alice', { sessions: ['s1'] });
      const bob = await relay.connect('bob', { sessions: ['s1'] });
      const carol = await relay.connect('carol', { sessions: ['s2'] });

      await within(relay.stop(), 5000, 'stop() to resolve');
      await assertShutdownGoodbye(alice, 'alice');
      await assertShutdownGoodbye(bob, 'bob');
      await assertShutdownGoodbye(carol, 'carol');
    } finally {
      await relay.stop();
    }
  });

  it('refuses new connections while draining: 503 on an open HTTP connection, no listener for new ones', async () => {
    const relay = await startTestRelay({ SHUTDOWN_TIMEOUT_MS: '1500' });
    let stuck: TestClient | undefined;
    let held: Awaited<ReturnType<typeof holdRequest>> | undefined;
    try {
      const watcher = await relay.connect('alice');
      // A client that stops reading never answers the close, which keeps the relay draining.
      stuck = await relay.connect('bob');
      stuck.socket.pause();
      // An upgrade started before the shutdown and finished during it.
      held = await holdRequest(relay.relay.port, upgradeHead(relay, relay.token({ user: 'late' })));

      const stopping = relay.stop();
      await watcher.next('disconnect'); // the drain has begun
      const refusal = await held.complete();
      assert.equal(refusal.status, 503);
      assert.deepEqual(JSON.parse(refusal.text), { code: 'TOO_MANY_CONNECTIONS', message: 'the relay is shutting down' });
      await assert.rejects(refusedUpgrade(relay.url), { code: 'ECONNREFUSED' }, 'the listening socket is closed');
      await within(stopping, 5000, 'stop() to resolve');
    } finally {
      held?.destroy();
      stuck?.socket.terminate();
      await relay.stop();
    }
  });

  it('cuts off a client that does not close within SHUTDOWN_TIMEOUT_MS, and stop() still resolves', async () => {
    const relay = await startTestRelay({ SHUTDOWN_TIMEOUT_MS: '300' });
    let stuck: TestClient | undefined;
    try {
      stuck = await relay.connect('bob');
      stuck.socket.pause();
      const started = Date.now();
      await within(relay.stop(), 5000, 'stop() to resolve');
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 250, `stop() waited for the drain (${elapsed} ms)`);
      stuck.socket.resume();
      // Once it reads again, the client finds the goodbye the relay wrote before cutting it off.
      const closed = await within(stuck.closed, 3000, 'the stuck client to see the end');
      assert.ok(closed.code === closeCodes.GOING_AWAY || closed.code === 1006, `closed or cut off, got ${closed.code}`);
      assert.equal(stuck.of('disconnect')[0]?.payload.reason, 'shutdown');
    } finally {
      stuck?.socket.terminate();
      await relay.stop();
    }
  });
});
