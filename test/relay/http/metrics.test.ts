import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MetricsAggregates } from '../../../protocol';
import { mintOperatorToken } from '../../../relay/auth/tokens';
import { clientFrame, jsonBody, samplePayloads, startTestRelay, TEST_SECRET, type TestRelay } from '../../support/relay-fixture';
import { callApi, expectApiError, personalToken } from '../../support/rest-api';
import { waitUntil } from '../../support/wait';

describe('GET /api/metrics', () => {
  let relay: TestRelay;
  const operator = mintOperatorToken(TEST_SECRET, { user: 'ops', ttl: '5m' });
  before(async () => {
    relay = await startTestRelay({
      RELAY_ID: 'relay-metrics',
      METRICS_SAMPLE_INTERVAL_MS: '100',
      METRICS_PUBLISH_INTERVAL_MS: '100',
      STREAM_POLL_INTERVAL_MS: '20',
    });
  });
  after(() => relay.stop());

  it('answers an operator with the live aggregates: this relay’s samples and the cluster’s', async () => {
    const alice = await relay.connect('alice');
    alice.send(clientFrame('chat.message', samplePayloads.chat('hello')));
    await alice.next('chat.message');
    let body: MetricsAggregates | undefined;
    await waitUntil(
      async () => {
        const response = await callApi(relay, 'GET', '/api/metrics', { token: operator });
        assert.equal(response.status, 200, response.text);
        body = MetricsAggregates.parse(jsonBody(response));
        return (body.cluster.messages_in['chat.message'] ?? 0) >= 1 && body.cluster.connections === 1;
      },
      'a sample with the chat message to be aggregated',
      5000,
      50,
    );
    assert.equal(body!.relay_id, 'relay-metrics');
    assert.equal(body!.cluster.relays, 1);
    assert.deepEqual(
      body!.relays.map((relay) => relay.relay_id),
      ['relay-metrics'],
    );
    assert.equal(body!.relays[0]!.sessions, 1);
    assert.ok(body!.cluster.messages_in_per_s > 0);
    assert.equal(body!.cluster.redis_latency_ms.p50, null, 'no Redis');
    assert.ok(body!.cluster.memory_rss_bytes > 0);
  });

  it('an admin session token is an operator too', async () => {
    const admin = relay.token({ user: 'ops', role: 'host', admin: true, sessions: ['ops'] });
    assert.equal((await callApi(relay, 'GET', '/api/metrics', { token: admin })).status, 200);
  });

  it('refuses everyone else: 401 without a valid token, 403 OPERATOR_ONLY for a participant or a personal token', async () => {
    expectApiError(await callApi(relay, 'GET', '/api/metrics'), 401, 'AUTH_TOKEN_MISSING');
    expectApiError(await callApi(relay, 'GET', '/api/metrics', { token: 'nonsense' }), 401, 'AUTH_TOKEN_INVALID');
    expectApiError(await callApi(relay, 'GET', '/api/metrics', { token: relay.token({ user: 'h', role: 'host' }) }), 403, 'OPERATOR_ONLY');
    expectApiError(await callApi(relay, 'GET', '/api/metrics', { token: personalToken('p') }), 403, 'OPERATOR_ONLY');
    const forged = mintOperatorToken('another-secret-0123456789abcdef', { user: 'ops', ttl: '5m' });
    expectApiError(await callApi(relay, 'GET', '/api/metrics', { token: forged }), 401, 'AUTH_TOKEN_INVALID');
  });
});
