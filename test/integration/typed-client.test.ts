import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import jwt from 'jsonwebtoken';
import WebSocket from 'ws';
import { createNodeWsTransport, type RelayAuthError, RelayClient, type RelayClientState } from '../../protocol';
import { fetchStats, startTestRelay, TEST_SECRET, type TestRelay } from '../support/relay-fixture';
import { sleep, waitUntil, within } from '../support/wait';

const transport = createNodeWsTransport(WebSocket);

/** The typed client against the real relay: the path every product client takes. */
describe('typed client against the relay', () => {
  const relays: TestRelay[] = [];
  const clients: RelayClient[] = [];
  const client = (relay: TestRelay, token: string, extra: Partial<ConstructorParameters<typeof RelayClient>[0]> = {}) => {
    const c = new RelayClient({ url: relay.url, token, transport, backoff: { baseDelayMs: 20, maxDelayMs: 100 }, ...extra });
    clients.push(c);
    return c;
  };
  after(async () => {
    for (const c of clients) c.dispose();
    for (const relay of relays) await relay.stop();
  });

  it('connects, learns who is there, and exchanges typed chat messages', async () => {
    const relay = await startTestRelay();
    relays.push(relay);
    const alice = client(relay, relay.token({ user: 'alice', name: 'Alice' }));
    const bob = client(relay, relay.token({ user: 'bob' }));
    const aliceConnected = new Promise((resolve) => alice.onConnected(resolve));
    alice.connect();
    await within(aliceConnected, 3000, 'alice connected');
    const bobConnected = new Promise<{ participants: unknown[] }>((resolve) => bob.onConnected(resolve));
    bob.connect();
    const welcome = await within(bobConnected, 3000, 'bob connected');
    assert.equal(welcome.participants.length, 2);

    const received = new Promise<{ content: string; user: string }>((resolve) =>
      bob.on('chat.message', (payload, frame) => resolve({ content: payload.content, user: frame.user_id })),
    );
    assert.equal(alice.send('chat.message', { content: 'typed hello' }), true);
    assert.deepEqual(await within(received, 3000, 'chat at bob'), { content: 'typed hello', user: 'alice' });
  });

  it('stops with a clear auth error on an expired token instead of retrying', async () => {
    const relay = await startTestRelay();
    relays.push(relay);
    const expired = jwt.sign({ sub: 'carol', sessions: ['s1'], role: 'editor', exp: Math.floor(Date.now() / 1000) - 60 }, TEST_SECRET);
    const carol = client(relay, expired);
    const states: RelayClientState[] = [];
    carol.onStateChange((state) => states.push(state));
    const authError = new Promise<RelayAuthError>((resolve) => carol.onAuthError(resolve));
    carol.connect();
    const error = await within(authError, 3000, 'auth error');
    assert.equal(error.code, 'AUTH_TOKEN_EXPIRED');
    assert.equal(carol.state, 'closed');
    // Several backoff ceilings later, still exactly one attempt reached the relay.
    await sleep(400);
    assert.equal((await fetchStats(relay)).connections_refused, 1);
    assert.ok(!states.includes('reconnecting'), `states: ${states.join(' -> ')}`);
  });

  it('reconnects by itself when its relay restarts, and is told why it was dropped', async () => {
    const first = await startTestRelay();
    const port = String(first.relay.port);
    const dave = client(first, first.token({ user: 'dave' }));
    const relayIds: string[] = [];
    dave.onConnected((payload) => relayIds.push(payload.relay_id));
    const reasons: string[] = [];
    dave.onDisconnected((info) => reasons.push(info.serverDisconnect?.reason ?? info.cause));
    dave.connect();
    await waitUntil(() => relayIds.length === 1, 'first connect');
    await first.stop();
    await waitUntil(() => dave.state === 'reconnecting' || dave.state === 'connecting', 'client notices the shutdown');
    const second = await startTestRelay({ WS_PORT: port });
    relays.push(second);
    await waitUntil(() => relayIds.length === 2, 'reconnected to the new relay', 5000);
    assert.equal(relayIds[1], second.relay.relayId);
    assert.notEqual(relayIds[0], relayIds[1]);
    assert.equal(reasons[0], 'shutdown');
    assert.equal(dave.state, 'open');
  });
});
