import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { mintToken } from '../../../relay/auth/tokens';
import { jsonBody, postNotification, startTestRelay, type TestClient, type TestRelay } from '../../support/relay-fixture';

describe('POST /api/notifications: who may send what', () => {
  let relay: TestRelay;
  let listener: TestClient;
  /** A host of s1: allowed to notify s1, used for the marker. */
  let host: string;
  beforeEach(async () => {
    relay = await startTestRelay();
    listener = await relay.connect('alice');
    host = relay.token({ user: 'hank', role: 'host', sessions: ['s1'] });
  });
  afterEach(() => relay.stop());
  /** After a refusal: a host's notification arrives, and nothing arrived before it. */
  async function assertNothingDelivered(): Promise<void> {
    assert.equal((await postNotification(relay, host, { level: 'info', message: 'marker', session_id: 's1' })).status, 202);
    await listener.next('system.notification', (f) => f.payload.message === 'marker');
    assert.deepEqual(
      listener.of('system.notification').map((f) => f.payload.message),
      ['marker'],
    );
  }

  it('answers 202 to a host notifying their own session', async () => {
    const response = await postNotification(relay, host, { level: 'info', message: 'hello s1', session_id: 's1' });
    assert.equal(response.status, 202);
    assert.deepEqual(jsonBody(response), { delivered_to: 'session s1' });
    assert.equal((await listener.next('system.notification')).payload.message, 'hello s1');
  });

  it('refuses an editor with 403 FORBIDDEN_ROLE', async () => {
    const editor = relay.token({ user: 'eve', role: 'editor', sessions: ['s1'] });
    const response = await postNotification(relay, editor, { level: 'info', message: 'from an editor', session_id: 's1' });
    assert.equal(response.status, 403);
    assert.equal(jsonBody(response).code, 'FORBIDDEN_ROLE');
    await assertNothingDelivered();
  });

  it('refuses a host notifying a session their token does not allow with 403', async () => {
    const otherHost = relay.token({ user: 'olga', role: 'host', sessions: ['s2'] });
    const response = await postNotification(relay, otherHost, { level: 'info', message: 'not my session', session_id: 's1' });
    assert.equal(response.status, 403);
    assert.equal(jsonBody(response).code, 'FORBIDDEN_ROLE');
    await assertNothingDelivered();
  });

  it('refuses a (non-admin) host notifying every session with 403', async () => {
    const response = await postNotification(relay, host, { level: 'info', message: 'everyone!' });
    assert.equal(response.status, 403);
    assert.equal(jsonBody(response).code, 'FORBIDDEN_ROLE');
    await assertNothingDelivered();
  });

  it('refuses a request without a token with 401 AUTH_TOKEN_MISSING', async () => {
    const response = await postNotification(relay, undefined, { level: 'info', message: 'anonymous', session_id: 's1' });
    assert.equal(response.status, 401);
    assert.equal(jsonBody(response).code, 'AUTH_TOKEN_MISSING');
    await assertNothingDelivered();
  });

  it('refuses a token signed with another secret with 401 AUTH_TOKEN_INVALID', async () => {
    const forged = mintToken('another-secret-0123456789abcdef', { user: 'ops', sessions: ['s1'], role: 'host', admin: true, ttl: '5m' });
    const response = await postNotification(relay, forged, { level: 'info', message: 'forged', session_id: 's1' });
    assert.equal(response.status, 401);
    assert.equal(jsonBody(response).code, 'AUTH_TOKEN_INVALID');
    await assertNothingDelivered();
  });

  const badBodies: Array<{ name: string; body: unknown; code: string; path?: string }> = [
    { name: 'a body that is not JSON', body: 'level=info', code: 'BAD_JSON' },
    { name: 'a missing message', body: { level: 'info', session_id: 's1' }, code: 'VALIDATION_FAILED', path: 'message' },
    { name: 'an unknown level', body: { level: 'debug', message: 'm', session_id: 's1' }, code: 'VALIDATION_FAILED', path: 'level' },
    {
      name: 'a malformed session id',
      body: { level: 'info', message: 'm', session_id: 'has spaces' },
      code: 'VALIDATION_FAILED',
      path: 'session_id',
    },
    { name: 'an array instead of an object', body: [], code: 'VALIDATION_FAILED' },
  ];
  for (const bad of badBodies) {
    it(`refuses ${bad.name} with 400 ${bad.code}`, async () => {
      const response = await postNotification(relay, host, bad.body);
      assert.equal(response.status, 400);
      const body = jsonBody(response);
      assert.equal(body.code, bad.code);
      assert.equal(typeof body.message, 'string');
      if (bad.path) assert.equal(body.path, bad.path);
      await assertNothingDelivered();
    });
  }
});
