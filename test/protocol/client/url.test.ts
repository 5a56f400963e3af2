import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { authErrorFromRejection, RelayAuthError } from '../../../protocol/client/auth-error';
import { relayUrl } from '../../../protocol/client/url';

describe('relayUrl', () => {
  it('puts the token and the session in the query, encoded', () => {
    assert.equal(relayUrl('ws://h:8001/ws', 'a.b.c'), 'ws://h:8001/ws?token=a.b.c');
    assert.equal(relayUrl('wss://h/tandem/ws', 't+/=', 'team/s 1'), 'wss://h/tandem/ws?token=t%2B%2F%3D&session=team%2Fs%201');
    assert.equal(relayUrl('ws://h/ws?v=1', 't'), 'ws://h/ws?v=1&token=t');
  });

  it('adds /ws to a bare origin and turns http(s) into ws(s)', () => {
    assert.equal(relayUrl('ws://127.0.0.1:8001', 't'), 'ws://127.0.0.1:8001/ws?token=t');
    assert.equal(relayUrl('http://localhost:8001/', 't'), 'ws://localhost:8001/ws?token=t');
    assert.equal(relayUrl('https://relay.example', 't'), 'wss://relay.example/ws?token=t');
  });

  it('refuses other schemes', () => {
    assert.throws(() => relayUrl('localhost:8001', 't'), TypeError);
    assert.throws(() => relayUrl('ftp://h', 't'), TypeError);
  });
});

describe('authErrorFromRejection', () => {
  it('takes the code and message from the relay body', () => {
    const error = authErrorFromRejection({ status: 401, body: '{"code":"AUTH_TOKEN_EXPIRED","message":"token expired at 12:00"}' });
    assert.ok(error instanceof RelayAuthError);
    assert.ok(error instanceof Error);
    assert.equal(error.code, 'AUTH_TOKEN_EXPIRED');
    assert.equal(error.message, 'token expired at 12:00');
    assert.equal(error.status, 401);
    assert.equal(error.name, 'RelayAuthError');
  });

  it('falls back on the status when the body says nothing usable', () => {
    assert.equal(authErrorFromRejection({ status: 401, body: '<html>nginx</html>' })?.code, 'AUTH_TOKEN_INVALID');
    assert.equal(authErrorFromRejection({ status: 401, body: '{"code":"NOT_A_CODE"}' })?.code, 'AUTH_TOKEN_INVALID');
    assert.equal(authErrorFromRejection({ status: 403, body: '' })?.code, 'SESSION_FORBIDDEN');
    assert.equal(authErrorFromRejection({ status: 400, body: 'null' })?.code, 'SESSION_REQUIRED');
    assert.match(authErrorFromRejection({ status: 403, body: '' })?.message ?? '', /does not allow this session/u);
  });

  it('stops on a session that is gone (ended, or lost with a relay restarted without Redis), whatever the status', () => {
    assert.equal(authErrorFromRejection({ status: 404, body: '{"code":"SESSION_NOT_FOUND","message":"gone"}' })?.code, 'SESSION_NOT_FOUND');
    assert.equal(authErrorFromRejection({ status: 410, body: '{"code":"SESSION_ENDED"}' })?.code, 'SESSION_ENDED');
    assert.equal(authErrorFromRejection({ status: 404, body: '<html>not found</html>' }), undefined, 'a proxy page stays retryable');
  });

  it('leaves retryable statuses alone', () => {
    for (const status of [429, 500, 502, 503, 404, 0]) {
      assert.equal(authErrorFromRejection({ status, body: '{"code":"TOO_MANY_CONNECTIONS","message":"full"}' }), undefined, String(status));
    }
  });
});
