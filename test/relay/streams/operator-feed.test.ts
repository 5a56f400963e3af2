import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { mintOperatorToken } from '../../../relay/auth/tokens';
import {
  clientFrame,
  refusedUpgrade,
  samplePayloads,
  startTestRelay,
  TEST_SECRET,
  TestClient,
  type TestRelay,
} from '../../support/relay-fixture';

async function openOperator(relay: TestRelay, token: string): Promise<TestClient> {
  const client = new TestClient(new WebSocket(`${relay.url}?token=${token}`));
  await new Promise<void>((resolve, reject) => {
    client.socket.once('open', () => resolve());
    client.socket.once('error', reject);
  });
  return client;
}

describe('the operator live subscription', () => {
  let relay: TestRelay;
  const operatorToken = mintOperatorToken(TEST_SECRET, { user: 'ops', ttl: '5m' });
  before(async () => {
    relay = await startTestRelay({ RELAY_ID: 'relay-ops', METRICS_SAMPLE_INTERVAL_MS: '100', METRICS_PUBLISH_INTERVAL_MS: '100' });
  });
  after(() => relay.stop());

  it('an operator connects without a session, subscribes and gets operator.metrics pushed, again and again', async () => {
    const operator = await openOperator(relay, operatorToken);
    operator.send(clientFrame('operator.subscribe', {}));
    const first = await operator.next('operator.metrics');
    assert.equal(first.payload.relay_id, 'relay-ops');
    assert.equal(first.session_id, undefined);
    await operator.until(() => operator.of('operator.metrics').length >= 3, 'more pushes');
    // The samples show up in the pushes.
    await operator.until(() => operator.of('operator.metrics').some((frame) => frame.payload.relays.length === 1), 'a sample in a push');
    operator.send(clientFrame('system.ping', {}));
    await operator.next('system.pong');
    operator.send(clientFrame('chat.message', samplePayloads.chat('hi')));
    const refused = await operator.next('error');
    assert.equal(refused.payload.code, 'FORBIDDEN_ROLE');
    operator.send(clientFrame('operator.unsubscribe', {}));
    operator.close();
    await operator.closed;
  });

  it('a participant may not subscribe: OPERATOR_ONLY, and no metrics', async () => {
    const admin = await relay.connect('boss', { role: 'host', admin: true });
    admin.send(clientFrame('operator.subscribe', {}));
    const error = await admin.next('error');
    assert.equal(error.payload.code, 'OPERATOR_ONLY');
    assert.equal(error.payload.event_type, 'operator.subscribe');
    // A round trip later, still nothing pushed to it.
    admin.send(clientFrame('chat.message', samplePayloads.chat('after')));
    await admin.next('chat.message');
    assert.equal(admin.of('operator.metrics').length, 0);
  });

  it('refuses a forged operator token at the upgrade', async () => {
    const forged = mintOperatorToken('another-secret-0123456789abcdef', { user: 'ops', ttl: '5m' });
    const refusal = await refusedUpgrade(`${relay.url}?token=${forged}`);
    assert.equal(refusal.status, 401);
    assert.equal(refusal.body.code, 'AUTH_TOKEN_INVALID');
  });

  it('cuts off an operator connection that stops answering pings, and keeps one that answers', async () => {
    const heartbeatRelay = await startTestRelay({ WS_HEARTBEAT_INTERVAL_MS: '100' });
    try {
      // `autoPong: false`: reads the relay's pings, never answers them, sends nothing.
      const silent = new TestClient(new WebSocket(`${heartbeatRelay.url}?token=${operatorToken}`, { autoPong: false }));
      await new Promise<void>((resolve) => silent.socket.once('open', () => resolve()));
      const healthy = await openOperator(heartbeatRelay, operatorToken);
      const said = await silent.next('disconnect', () => true, 10_000);
      assert.equal(said.payload.reason, 'heartbeat_timeout');
      assert.equal((await silent.closed).code, 1006, 'terminated');
      assert.equal(healthy.socket.readyState, WebSocket.OPEN, 'the one that answers stays');
      healthy.close();
      await healthy.closed;
    } finally {
      await heartbeatRelay.stop();
    }
  });
});
