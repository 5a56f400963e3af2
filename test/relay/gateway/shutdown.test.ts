import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { closeCodes } from '../../../protocol';
import { refusedUpgrade, startTestRelay, type TestClient } from '../../support/relay-fixture';
import { holdRequest, upgradeRequestHead } from '../../support/socket-helpers';
import { within } from '../../support/wait';

/** Asserts the client was told `disconnect` (shutdown) as its last frame, then closed with 1001. */
async function assertShutdownGoodbye(client: TestClient, who: string): Promise<void> {
  const closed = await within(client.closed, 5000, `${who} to be closed`);
  assert.equal(closed.code, closeCodes.GOING_AWAY, `${who} is closed with 1001`);
  const last = client.frames.at(-1);
  assert.equal(last?.event_type, 'disconnect', `${who}'s last frame is disconnect`);
  assert.deepEqual(last.event_type === 'disconnect' && { reason: last.payload.reason, reconnect: last.payload.reconnect }, {
    reason: 'shutdown',
    reconnect: true,
  });
}

// These tests call the relay's own `stop()` (`relay.relay.stop()`) with the clients still
// connected; `TestRelay.stop()` in `finally` only cleans up.
describe('graceful shutdown (in process)', () => {
  it('tells every client `disconnect` (reason shutdown), closes them with 1001, and resolves stop()', async () => {
    const relay = await startTestRelay();
    try {
      const alice = await relay.connect('alice', { sessions: ['s1'] });
      const bob = await relay.connect('bob', { sessions: ['s1'] });
      const carol = await relay.connect('carol', { sessions: ['s2'] });

      await within(relay.relay.stop(), 5000, 'stop() to resolve');
      await assertShutdownGoodbye(alice, 'alice');
      await assertShutdownGoodbye(bob, 'bob');
      await assertShutdownGoodbye(carol, 'carol');
    } finally {
      await relay.stop();
    }
  });

  it('refuses new connections while draining: 503 on an open HTTP connection, no listener for new ones', async () => {
    const relay = await startTestRelay({ SHUTDOWN_TIMEOUT_MS: '1500' });
    let held: Awaited<ReturnType<typeof holdRequest>> | undefined;
    try {
      // An upgrade started before the shutdown and finished during it.
      held = await holdRequest(relay.relay.port, upgradeRequestHead(`${relay.url}?token=${relay.token({ user: 'late' })}`));

      const { stopped } = await relay.beginDrain();
      const refusal = await held.complete();
      assert.equal(refusal.status, 503);
      assert.deepEqual(JSON.parse(refusal.text), { code: 'TOO_MANY_CONNECTIONS', message: 'the relay is shutting down' });
      await assert.rejects(refusedUpgrade(relay.url), { code: 'ECONNREFUSED' }, 'the listening socket is closed');
      await within(stopped, 5000, 'stop() to resolve');
    } finally {
      held?.destroy();
      await relay.stop();
    }
  });

  it('cuts off a client that does not close within SHUTDOWN_TIMEOUT_MS, and stop() still resolves', async () => {
    const relay = await startTestRelay({ SHUTDOWN_TIMEOUT_MS: '300' });
    try {
      const stuck = await relay.connect('bob');
      stuck.socket.pause();
      const started = Date.now();
      await within(relay.relay.stop(), 5000, 'stop() to resolve');
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 250, `stop() waited for the drain (${elapsed} ms)`);
      stuck.socket.resume();
      // Once it reads again, the client finds the goodbye the relay wrote before cutting it off.
      const closed = await within(stuck.closed, 3000, 'the stuck client to see the end');
      assert.ok(closed.code === closeCodes.GOING_AWAY || closed.code === 1006, `closed or cut off, got ${closed.code}`);
      assert.equal(stuck.of('disconnect')[0]?.payload.reason, 'shutdown');
    } finally {
      await relay.stop();
    }
  });
});
