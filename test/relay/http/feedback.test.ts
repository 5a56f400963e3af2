import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { MetricsAggregates } from '../../../protocol';
import { mintOperatorToken } from '../../../relay/auth/tokens';
import { jsonBody, startTestRelay, TEST_SECRET, type TestRelay } from '../../support/relay-fixture';
import { callApi, expectApiError, personalToken } from '../../support/rest-api';
import { waitUntil } from '../../support/wait';

const FAST_STREAMS = { METRICS_SAMPLE_INTERVAL_MS: '100', METRICS_PUBLISH_INTERVAL_MS: '100', STREAM_POLL_INTERVAL_MS: '20' };

describe('POST /api/feedback', () => {
  let relay: TestRelay;
  const operator = mintOperatorToken(TEST_SECRET, { user: 'ops', ttl: '5m' });
  before(async () => {
    relay = await startTestRelay({
      ...FAST_STREAMS,
      API_MAX_REQUESTS_PER_USER_PER_MINUTE: '1000',
      API_MAX_REQUESTS_PER_IP_PER_MINUTE: '1000',
    });
  });
  after(() => relay.stop());

  it('accepts a rating with a comment about an AI answer (202, the entry id), and the aggregates count it', async () => {
    const token = relay.token({ user: 'alice', sessions: ['s1'] });
    const accepted = await callApi(relay, 'POST', '/api/feedback', {
      token,
      body: { rating: 5, comment: 'spot on', about: { kind: 'ai_answer', session_id: 's1', request_id: 'q-1' } },
    });
    assert.equal(accepted.status, 202, accepted.text);
    assert.match(jsonBody<{ id: string }>(accepted).id, /^\d+-\d+$/);
    const thumbs = await callApi(relay, 'POST', '/api/feedback', {
      token: personalToken('bob'),
      body: { rating: 'down', about: { kind: 'product' } },
    });
    assert.equal(thumbs.status, 202, thumbs.text);
    const stars = await callApi(relay, 'POST', '/api/feedback', {
      token,
      body: { rating: 3, about: { kind: 'session', session_id: 's1' } },
    });
    assert.equal(stars.status, 202, stars.text);
    let feedback: MetricsAggregates['feedback'] | undefined;
    await waitUntil(
      async () => {
        feedback = jsonBody<MetricsAggregates>(await callApi(relay, 'GET', '/api/metrics', { token: operator })).feedback;
        return feedback.count === 3;
      },
      'the feedback to reach the aggregates',
      5000,
      50,
    );
    assert.deepEqual(feedback, {
      count: 3,
      rated: 2,
      average_rating: 4,
      up: 0,
      down: 1,
      with_comment: 1,
      by_subject: { ai_answer: 1, product: 1, session: 1 },
    });
  });

  it('answers bad input with 400 VALIDATION_FAILED and the field path', async () => {
    const token = relay.token({ user: 'alice' });
    const cases: Array<[unknown, string]> = [
      [{ rating: 6, about: { kind: 'product' } }, 'rating'],
      [{ rating: 'meh', about: { kind: 'product' } }, 'rating'],
      [{ rating: 4, comment: 'x'.repeat(2001), about: { kind: 'product' } }, 'comment'],
      [{ rating: 4, about: { kind: 'ai_answer', session_id: 's1' } }, 'about.request_id'],
      [{ rating: 4, about: { kind: 'planet' } }, 'about.kind'],
      [{ rating: 4 }, 'about'],
    ];
    for (const [body, path] of cases) {
      const response = await callApi(relay, 'POST', '/api/feedback', { token, body });
      expectApiError(response, 400, 'VALIDATION_FAILED');
      assert.equal(jsonBody(response).path, path, JSON.stringify(body));
    }
  });

  it('needs a token (401), and a session token only speaks of its own sessions (403)', async () => {
    const body = { rating: 'up', about: { kind: 'product' } };
    expectApiError(await callApi(relay, 'POST', '/api/feedback', { body }), 401, 'AUTH_TOKEN_MISSING');
    expectApiError(await callApi(relay, 'POST', '/api/feedback', { token: 'nonsense', body }), 401, 'AUTH_TOKEN_INVALID');
    const token = relay.token({ user: 'alice', sessions: ['s1'] });
    expectApiError(
      await callApi(relay, 'POST', '/api/feedback', { token, body: { rating: 2, about: { kind: 'session', session_id: 's2' } } }),
      403,
      'SESSION_FORBIDDEN',
    );
  });
});

describe('POST /api/feedback: rate limits', () => {
  let relay: TestRelay;
  before(async () => {
    relay = await startTestRelay({ API_MAX_REQUESTS_PER_USER_PER_MINUTE: '2', API_MAX_REQUESTS_PER_IP_PER_MINUTE: '5' });
  });
  after(() => relay.stop());

  it('limits per user, then per address: 429 API_RATE_LIMITED with Retry-After', async () => {
    const body = { rating: 'up', about: { kind: 'product' } };
    const alice = relay.token({ user: 'alice' });
    for (let i = 0; i < 2; i++) assert.equal((await callApi(relay, 'POST', '/api/feedback', { token: alice, body })).status, 202);
    const limited = await callApi(relay, 'POST', '/api/feedback', { token: alice, body });
    expectApiError(limited, 429, 'API_RATE_LIMITED');
    assert.equal(limited.headers['retry-after'], '60');
    const bob = relay.token({ user: 'bob' });
    assert.equal((await callApi(relay, 'POST', '/api/feedback', { token: bob, body })).status, 202, 'another user still may');
    assert.equal((await callApi(relay, 'POST', '/api/feedback', { token: bob, body })).status, 202);
    // Five from this address so far: the sixth is over the address's budget, whoever sends it.
    expectApiError(await callApi(relay, 'POST', '/api/feedback', { token: relay.token({ user: 'carol' }), body }), 429, 'API_RATE_LIMITED');
  });
});
