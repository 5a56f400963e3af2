import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { MetricsAggregates } from '../../../protocol';
import { mintOperatorToken } from '../../../relay/auth/tokens';
import { type RedisServer, startRedisServer } from '../../support/redis-server';
import { jsonBody, startTestRelay, TEST_SECRET, type TestRelay } from '../../support/relay-fixture';
import { callApi } from '../../support/rest-api';
import { waitUntil } from '../../support/wait';

// Needs /usr/bin/redis-server: the test's own, on a free port.
describe('the data streams across two relays on one Redis', () => {
  let redis: RedisServer;
  let a: TestRelay;
  let b: TestRelay;
  const operator = mintOperatorToken(TEST_SECRET, { user: 'ops', ttl: '5m' });
  const settings = (id: string) => ({
    RELAY_ID: id,
    REDIS_URL: redis.url,
    METRICS_SAMPLE_INTERVAL_MS: '100',
    METRICS_PUBLISH_INTERVAL_MS: '100',
    STREAM_POLL_INTERVAL_MS: '20',
  });
  const metricsOf = async (relay: TestRelay) =>
    MetricsAggregates.parse(jsonBody(await callApi(relay, 'GET', '/api/metrics', { token: operator })));

  before(async () => {
    redis = await startRedisServer();
    a = await startTestRelay(settings('relay-a'));
    b = await startTestRelay(settings('relay-b'));
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
    await redis?.dispose();
  });
  afterEach((t) => redis.printLogIfFailed(t));

  it('either relay serves the cluster-wide aggregates, with both relays’ samples and redis latency', async () => {
    await a.connect('alice');
    await b.connect('bob');
    await b.connect('carol');
    for (const relay of [a, b]) {
      let metrics: MetricsAggregates | undefined;
      await waitUntil(
        async () => {
          metrics = await metricsOf(relay);
          return metrics.cluster.relays === 2 && metrics.cluster.connections === 3;
        },
        `${relay.config.relayId}'s aggregates to include both relays`,
        5000,
        50,
      );
      assert.deepEqual(
        metrics!.relays.map(({ relay_id, connections }) => ({ relay_id, connections })),
        [
          { relay_id: 'relay-a', connections: 1 },
          { relay_id: 'relay-b', connections: 2 },
        ],
      );
      assert.notEqual(metrics!.cluster.redis_latency_ms.p50, null);
    }
  });

  it('feedback posted to one relay is counted once, whichever relay answers', async () => {
    const before = (await metricsOf(a)).feedback.count;
    const posted = await callApi(b, 'POST', '/api/feedback', {
      token: b.token({ user: 'dora' }),
      body: { rating: 4, about: { kind: 'product' } },
    });
    assert.equal(posted.status, 202, posted.text);
    await waitUntil(async () => (await metricsOf(a)).feedback.count === before + 1, 'relay a to count it', 5000, 50);
    await waitUntil(async () => (await metricsOf(b)).feedback.count === before + 1, 'relay b to count it', 5000, 50);
    const client = new Redis(redis.url);
    try {
      assert.equal(await client.xlen('tandem:stream:feedback'), before + 1);
      // Both relays' consumers are in the group, and nothing is left pending.
      const [pending] = (await client.xpending('tandem:stream:feedback', 'tandem-processor')) as [number];
      assert.equal(pending, 0);
    } finally {
      client.disconnect();
    }
  });
});
