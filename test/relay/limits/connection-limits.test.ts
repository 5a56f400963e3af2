import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fetchStats, refusedUpgrade, startTestRelay } from '../../support/relay-fixture';
import { waitUntil } from '../../support/wait';

describe('connection limits', () => {
  it('refuses the (n+1)th upgrade from one address within a minute with 429 CONNECTION_RATE_LIMITED', async () => {
    const PER_MINUTE = 3;
    const relay = await startTestRelay({ WS_MAX_CONNECTIONS_PER_IP_PER_MINUTE: String(PER_MINUTE), SHUTDOWN_TIMEOUT_MS: '1000' });
    try {
      for (let i = 0; i < PER_MINUTE; i++) await relay.connect(`user-${i}`);
      const [first, second] = relay.clients;

      const refused = await refusedUpgrade(`${relay.url}?token=${relay.token({ user: 'one-too-many' })}`);
      assert.equal(refused.status, 429);
      assert.equal(refused.body.code, 'CONNECTION_RATE_LIMITED');
      assert.equal(typeof refused.body.message, 'string');

      // Closing a connection does not give the address its attempt back: the limit counts
      // new connections, not open ones.
      relay.clients.at(-1)!.close();
      await waitUntil(async () => (await fetchStats(relay)).connections === PER_MINUTE - 1, 'the relay to forget the closed connection');
      const again = await refusedUpgrade(`${relay.url}?token=${relay.token({ user: 'still-too-many' })}`);
      assert.equal(again.status, 429);
      assert.equal(again.body.code, 'CONNECTION_RATE_LIMITED');

      // The admitted connections were not disturbed.
      first!.send({ event_type: 'chat.message', payload: { content: 'fine', client_message_id: 'fine' } });
      await second!.next('chat.message', (f) => f.payload.client_message_id === 'fine');

      const stats = await fetchStats(relay);
      assert.equal(stats.errors.CONNECTION_RATE_LIMITED, 2);
      assert.equal(stats.connections_refused, 2);
      assert.equal(stats.connections, PER_MINUTE - 1);
    } finally {
      await relay.stop();
    }
  });

  it('refuses the (n+1)th connection to a full relay with 503 TOO_MANY_CONNECTIONS, and admits one once a slot frees', async () => {
    const MAX = 3;
    const relay = await startTestRelay({ WS_MAX_CONNECTIONS: String(MAX), SHUTDOWN_TIMEOUT_MS: '1000' });
    try {
      for (let i = 0; i < MAX; i++) await relay.connect(`user-${i}`);
      const [leaving, staying] = relay.clients;

      const refused = await refusedUpgrade(`${relay.url}?token=${relay.token({ user: 'late' })}`);
      assert.equal(refused.status, 503);
      assert.equal(refused.body.code, 'TOO_MANY_CONNECTIONS');
      // A refusal takes no slot: still full, still refused.
      const refusedAgain = await refusedUpgrade(`${relay.url}?token=${relay.token({ user: 'later' })}`);
      assert.equal(refusedAgain.status, 503);

      const leavingId = leaving!.of('connect')[0]!.payload.connection_id;
      leaving!.close();
      await staying!.next('session.left', (f) => f.payload.connection_id === leavingId);

      const admitted = await relay.connect('late');
      assert.equal(admitted.of('connect')[0]!.payload.user.user_id, 'late');
      admitted.send({ event_type: 'chat.message', payload: { content: 'made it', client_message_id: 'made-it' } });
      await staying!.next('chat.message', (f) => f.payload.client_message_id === 'made-it');

      // Full again.
      const full = await refusedUpgrade(`${relay.url}?token=${relay.token({ user: 'latest' })}`);
      assert.equal(full.status, 503);
      assert.equal(full.body.code, 'TOO_MANY_CONNECTIONS');
      const stats = await fetchStats(relay);
      assert.equal(stats.connections, MAX);
      assert.equal(stats.errors.TOO_MANY_CONNECTIONS, 3);
    } finally {
      await relay.stop();
    }
  });
});
