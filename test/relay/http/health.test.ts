import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { httpRequest, jsonBody, startTestRelay, type TestRelay } from '../../support/relay-fixture';
import { holdRequest } from '../../support/socket-helpers';

interface Check {
  status: string;
  connections?: number;
  kind?: string;
  detail?: string;
}
interface Health {
  status: string;
  relay_id: string;
  uptime_s: number;
  checks: { websocket: Check; redis: Check; broker: Check };
}

describe('health endpoints', () => {
  let relay: TestRelay;
  before(async () => {
    relay = await startTestRelay({ RELAY_ID: 'relay-health' });
    await relay.connect('alice');
  });
  after(() => relay.stop());

  it('GET /health answers 200 with the websocket, redis and broker checks', async () => {
    const response = await httpRequest(`${relay.httpUrl}/health`);
    assert.equal(response.status, 200);
    assert.match(response.headers['content-type'] ?? '', /^application\/json/);
    const health = jsonBody<Health>(response);
    assert.equal(health.status, 'ok');
    assert.equal(health.relay_id, 'relay-health');
    assert.equal(typeof health.uptime_s, 'number');
    assert.deepEqual(health.checks.websocket, { status: 'up', connections: 1 });
    assert.equal(health.checks.redis.status, 'not_configured');
    assert.equal(health.checks.broker.status, 'up');
    assert.equal(health.checks.broker.kind, 'memory');
  });

  it('GET /health/redis says not_configured when REDIS_URL is unset', async () => {
    const response = await httpRequest(`${relay.httpUrl}/health/redis`);
    assert.equal(response.status, 200);
    const body = jsonBody<Check>(response);
    assert.equal(body.status, 'not_configured');
    assert.match(body.detail ?? '', /REDIS_URL/);
  });

  it('GET /health/websocket says up, with the number of connections', async () => {
    const response = await httpRequest(`${relay.httpUrl}/health/websocket`);
    assert.equal(response.status, 200);
    assert.deepEqual(jsonBody(response), { status: 'up', connections: 1 });
  });

  it('ignores a query string on the path', async () => {
    assert.equal((await httpRequest(`${relay.httpUrl}/health?probe=k8s`)).status, 200);
  });
});

describe('health while draining', () => {
  /** Requests started before `stop()` and finished while the relay drains. */
  const held = (relay: TestRelay, path: string) =>
    holdRequest(relay.relay.port, [`GET ${path} HTTP/1.1`, `Host: 127.0.0.1:${relay.relay.port}`, 'Connection: close'].join('\r\n'));

  it('answers 503 on /health (status unavailable) and /health/websocket (down) during the drain', async () => {
    const relay = await startTestRelay({ SHUTDOWN_TIMEOUT_MS: '1500' });
    const requests: Array<Awaited<ReturnType<typeof holdRequest>>> = [];
    try {
      const overall = await held(relay, '/health');
      const websocket = await held(relay, '/health/websocket');
      requests.push(overall, websocket);

      const { stopped } = await relay.beginDrain();
      const overallResponse = await overall.complete();
      assert.equal(overallResponse.status, 503);
      const health = jsonBody<Health>(overallResponse);
      assert.equal(health.status, 'unavailable');
      assert.equal(health.checks.websocket.status, 'down');
      assert.equal(health.checks.websocket.detail, 'shutting down');
      assert.equal(health.checks.broker.status, 'up', 'only the websocket check fails');

      const websocketResponse = await websocket.complete();
      assert.equal(websocketResponse.status, 503);
      assert.equal(jsonBody<Check>(websocketResponse).status, 'down');
      await stopped;
    } finally {
      for (const request of requests) request.destroy();
      await relay.stop();
    }
  });
});
