import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { closeCodes } from '../../../protocol';
import { fetchStats, startTestRelay, TestClient, type TestRelay } from '../../support/relay-fixture';
import { waitUntil, within } from '../../support/wait';

const HEARTBEAT_MS = 100; // the smallest interval the config allows

/** Counts the pings a socket receives; `until(n)` resolves once `n` have arrived. */
function pingCounter(socket: WebSocket) {
  let pings = 0;
  let waiters: Array<{ count: number; resolve: () => void }> = [];
  socket.on('ping', () => {
    pings++;
    waiters = waiters.filter((w) => (pings >= w.count ? (w.resolve(), false) : true));
  });
  return {
    get count() {
      return pings;
    },
    until(count: number): Promise<void> {
      return pings >= count ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ count, resolve }));
    },
  };
}

describe('heartbeat', () => {
  let relay: TestRelay;
  let silent: TestClient;
  let healthy: TestClient;
  let healthyPings: ReturnType<typeof pingCounter>;
  let silentPings: ReturnType<typeof pingCounter>;
  const opened: TestClient[] = [];
  before(async () => {
    relay = await startTestRelay({ WS_HEARTBEAT_INTERVAL_MS: String(HEARTBEAT_MS) });
    // `autoPong: false`: this client reads the relay's pings but never answers, and sends nothing.
    silent = new TestClient(new WebSocket(`${relay.url}?token=${relay.token({ user: 'ghost' })}`, { autoPong: false }));
    opened.push(silent);
    silentPings = pingCounter(silent.socket); // counting from the start: a ping may share a packet with `connect`
    // This one sends nothing either, but its `ws` answers pings as every client library does.
    healthy = new TestClient(new WebSocket(`${relay.url}?token=${relay.token({ user: 'alice' })}`));
    opened.push(healthy);
    healthyPings = pingCounter(healthy.socket);
    await Promise.all([silent.next('connect'), healthy.next('connect')]);
  });
  after(async () => {
    for (const client of opened) client.socket.terminate();
    await relay.stop();
  });

  it('announces the heartbeat interval in `connect`', async () => {
    assert.equal((await healthy.next('connect')).payload.heartbeat_interval_ms, HEARTBEAT_MS);
  });

  it('closes a peer that stops answering pings', async () => {
    // Silent for two intervals, then closed: 20 intervals is ample even on a loaded machine.
    const closed = await within(silent.closed, 20 * HEARTBEAT_MS, 'the relay to close the silent peer');
    assert.ok(silentPings.count >= 1, 'the silent peer was pinged before being closed');
    if (closed.code === closeCodes.HEARTBEAT_TIMEOUT) {
      // The close frame came, so the `disconnect` written before it came too.
      assert.equal(closed.reason, 'heartbeat_timeout');
      assert.equal(silent.of('disconnect')[0]?.payload.reason, 'heartbeat_timeout');
    } else {
      assert.equal(closed.code, 1006, `closed with 4000 (heartbeat timeout) or cut off (1006), got ${closed.code}`);
    }
    await waitUntil(async () => (await fetchStats(relay)).connections === 1, 'the relay to forget the silent peer');
  });

  it('keeps a peer that answers pings connected over the same period and beyond', async () => {
    // Ten more pings answered: five times the two-interval deadline.
    await within(healthyPings.until(healthyPings.count + 10), 50 * HEARTBEAT_MS, 'ten more pings to the healthy peer');
    assert.equal(healthy.socket.readyState, healthy.socket.OPEN, 'the answering peer is still connected');
    assert.deepEqual(healthy.of('disconnect'), []);
    const stats = await fetchStats(relay);
    assert.equal(stats.connections, 1, 'only the healthy peer is left');
    assert.equal(stats.connections_total, 2);
  });

  it('does not blame an answering peer for the relay’s own stalled event loop', async () => {
    // The relay shares this process: block it for five intervals, as a long GC or a starved CPU would.
    const stalledUntil = Date.now() + 5 * HEARTBEAT_MS;
    while (Date.now() < stalledUntil) {
      // busy: no timers, no I/O
    }
    await within(healthyPings.until(healthyPings.count + 5), 50 * HEARTBEAT_MS, 'five more pings to the healthy peer');
    assert.equal(healthy.socket.readyState, healthy.socket.OPEN, 'the answering peer is still connected');
    assert.deepEqual(healthy.of('disconnect'), []);
    assert.equal((await fetchStats(relay)).connections, 1);
  });
});
