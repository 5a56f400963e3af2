import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { findBinary } from '../../../relay/cli/cluster/processes';
import { metricFamilies, parseSamples, promtoolCheckMetrics, sampleValue } from '../../support/prometheus-text';
import { clientFrame, httpRequest, openDocument, samplePayloads, startTestRelay, type TestRelay } from '../../support/relay-fixture';

async function scrape(relay: TestRelay, headers: Record<string, string> = {}) {
  const response = await httpRequest(`${relay.httpUrl}/metrics`, { headers });
  assert.equal(response.status, 200, response.text);
  return { text: response.text, samples: parseSamples(response.text), contentType: response.headers['content-type'] };
}

describe('GET /metrics (Prometheus text format)', () => {
  let relay: TestRelay;

  before(async () => {
    relay = await startTestRelay({ RELAY_ID: 'metrics-relay' });
  });
  after(() => relay.stop());

  it('exposes the relay’s gauges and the process defaults, every series labelled with the relay id', async () => {
    const { text, samples, contentType } = await scrape(relay);
    assert.match(String(contentType), /^text\/plain; version=0\.0\.4/);
    const families = metricFamilies(text);
    for (const [name, type] of [
      ['tandem_connections', 'gauge'],
      ['tandem_sessions', 'gauge'],
      ['tandem_open_documents', 'gauge'],
      ['tandem_messages_received_total', 'counter'],
      ['tandem_messages_sent_total', 'counter'],
      ['tandem_errors_total', 'counter'],
      ['tandem_edit_ack_seconds', 'histogram'],
      ['tandem_broadcast_fanout_seconds', 'histogram'],
      ['tandem_http_request_duration_seconds', 'histogram'],
      ['nodejs_eventloop_lag_seconds', 'gauge'],
      ['process_cpu_seconds_total', 'counter'],
    ])
      assert.equal(families.get(name!), type, name);
    // No Redis configured: no Redis availability series to alert on.
    assert.equal(families.has('tandem_redis_up'), false);
    assert.ok(samples.every((s) => s.labels.relay_id === 'metrics-relay'));
  });

  it('counts connections, frames by event type, edits and their acks, errors by code, refused upgrades by status', async () => {
    const alice = await relay.connect('alice', { role: 'host' });
    const bob = await relay.connect('bob');
    await openDocument(alice, 'src/a.ts', 'hello');
    alice.send(clientFrame('chat.message', samplePayloads.chat('hi')));
    await bob.next('chat.message');
    alice.send(clientFrame('collaboration.edit', samplePayloads.edit({ document: 'src/a.ts', op: ['x'] })));
    await alice.next('collaboration.ack');
    alice.send(clientFrame('collaboration.edit', samplePayloads.edit({ document: 'src/not-open.ts' })));
    await alice.next('error');
    const refused = await httpRequest(`${relay.httpUrl}/ws`, {
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
      },
    });
    assert.equal(refused.status, 401);

    const { samples } = await scrape(relay);
    assert.equal(sampleValue(samples, 'tandem_connections'), 2);
    assert.equal(sampleValue(samples, 'tandem_sessions'), 1);
    assert.equal(sampleValue(samples, 'tandem_open_documents'), 1);
    assert.ok(sampleValue(samples, 'tandem_connections_total')! >= 2);
    assert.equal(sampleValue(samples, 'tandem_messages_received_total', { event_type: 'chat.message' }), 1);
    assert.equal(sampleValue(samples, 'tandem_messages_received_total', { event_type: 'collaboration.edit' }), 2);
    // The chat reached both (the sender too), the edit's ack its sender.
    assert.equal(sampleValue(samples, 'tandem_messages_sent_total', { event_type: 'chat.message' }), 2);
    assert.equal(sampleValue(samples, 'tandem_messages_sent_total', { event_type: 'collaboration.ack' }), 1);
    assert.equal(sampleValue(samples, 'tandem_errors_total', { code: 'DOCUMENT_NOT_OPEN' }), 1);
    assert.equal(sampleValue(samples, 'tandem_errors_total', { code: 'AUTH_TOKEN_MISSING' }), 1);
    assert.equal(sampleValue(samples, 'tandem_upgrades_refused_total', { status: '401' }), 1);
    assert.equal(sampleValue(samples, 'tandem_edit_ack_seconds_count'), 1);
    assert.ok(sampleValue(samples, 'tandem_broadcast_fanout_seconds_count')! >= 2);
  });

  it('labels REST latency by route template, never by the ids in the path', async () => {
    await httpRequest(`${relay.httpUrl}/api/sessions/some-secret-session-id`);
    await httpRequest(`${relay.httpUrl}/no/such/path/${'x'.repeat(40)}`);
    await httpRequest(`${relay.httpUrl}/api/operator/sessions/another-secret-session-id`, { method: 'DELETE' });
    await httpRequest(`${relay.httpUrl}/dashboard/app.js`);
    const { text, samples } = await scrape(relay);
    assert.doesNotMatch(text, /some-secret-session-id|another-secret-session-id|xxxxxxxx/);
    // Each request counted under its template (every route has zeroed series from the start).
    const counted = (route: string) =>
      samples
        .filter((s) => s.name === 'tandem_http_request_duration_seconds_count' && s.labels.route === route)
        .reduce((sum, s) => sum + s.value, 0);
    for (const route of ['/api/sessions/:id', '/api/operator/sessions/:id', '/dashboard/*', 'other']) assert.ok(counted(route) >= 1, route);
  });

  it('has label values only from closed lists: no user, session or document id', async () => {
    const { samples } = await scrape(relay);
    const values = new Set(
      samples.flatMap((s) =>
        Object.entries(s.labels)
          .filter(([k]) => k !== 'relay_id')
          .map(([, v]) => v),
      ),
    );
    for (const id of ['alice', 'bob', 's1', 'src/a.ts', 'editor-1']) assert.equal(values.has(id), false, id);
    assert.ok(samples.length < 2000, `${samples.length} samples`);
  });

  it('passes promtool check metrics', async () => {
    const { text } = await scrape(relay);
    const result = promtoolCheckMetrics(findBinary('promtool', undefined, ''), text);
    assert.equal(result.status, 0, result.output);
  });
});

describe('who may read /metrics', () => {
  it('with METRICS_TOKEN: only a request bearing it', async () => {
    const relay = await startTestRelay({ METRICS_TOKEN: 'metrics-token-0123456789' });
    try {
      const none = await httpRequest(`${relay.httpUrl}/metrics`);
      assert.equal(none.status, 401);
      assert.match(String(none.headers['www-authenticate']), /^Bearer/);
      const wrong = await httpRequest(`${relay.httpUrl}/metrics`, { headers: { Authorization: 'Bearer metrics-token-0123456780' } });
      assert.equal(wrong.status, 401);
      await scrape(relay, { Authorization: 'Bearer metrics-token-0123456789' });
    } finally {
      await relay.stop();
    }
  });

  it('with METRICS_ENABLED=false: nobody (404), and the hot paths time nothing', async () => {
    const relay = await startTestRelay({ METRICS_ENABLED: 'false' });
    try {
      const alice = await relay.connect('alice');
      alice.send(clientFrame('chat.message', samplePayloads.chat('hi')));
      await alice.next('chat.message');
      assert.equal((await httpRequest(`${relay.httpUrl}/metrics`)).status, 404);
    } finally {
      await relay.stop();
    }
  });
});

describe('feedback and AI answers', () => {
  it('recordFeedback counts by rating and averages the numeric ones', async () => {
    const { RelayMetrics } = await import('../../../relay/metrics/relay-metrics');
    const { RelayStats } = await import('../../../relay/stats');
    const metrics = new RelayMetrics({
      relayId: 'r',
      stats: new RelayStats(),
      gauges: { connections: () => 0, sessions: () => 0, openDocuments: () => 0 },
      aiModel: 'm1',
    });
    metrics.recordFeedback(4);
    metrics.recordFeedback('up');
    metrics.recordFeedback('down');
    metrics.recordAnswer({ model: 'm1', outcome: 'completed', total_ms: 1200, time_to_first_token_ms: 300, tokens_in: 50, tokens_out: 20 });
    metrics.recordAnswer({
      model: 'someone-elses',
      outcome: 'weird',
      total_ms: 10,
      time_to_first_token_ms: null,
      tokens_in: 0,
      tokens_out: 0,
    });
    const samples = parseSamples((await metrics.exposition()).text);
    assert.equal(sampleValue(samples, 'tandem_feedback_total', { rating: '4' }), 1);
    assert.equal(sampleValue(samples, 'tandem_feedback_total', { rating: 'up' }), 1);
    assert.equal(sampleValue(samples, 'tandem_feedback_rating_sum'), 10);
    assert.equal(sampleValue(samples, 'tandem_feedback_rating_count'), 3);
    assert.equal(sampleValue(samples, 'tandem_ai_requests_total', { model: 'm1', outcome: 'completed' }), 1);
    assert.equal(sampleValue(samples, 'tandem_ai_requests_total', { model: 'other', outcome: 'other' }), 1);
    assert.equal(sampleValue(samples, 'tandem_ai_tokens_total', { model: 'm1', direction: 'out' }), 20);
    assert.equal(sampleValue(samples, 'tandem_ai_time_to_first_token_seconds_sum', { model: 'm1' }), 0.3);
  });
});
