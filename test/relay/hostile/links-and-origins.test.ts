import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openTestClient, refusedUpgrade, startTestRelay, type TestRelay } from '../../support/relay-fixture';
import { callApi, createApiSession, expectApiError, personalToken } from '../../support/rest-api';

/**
 * Issue 11, items 11 and 13: invite links built from whatever `Host` a request names (an
 * attacker's request yields links that send guests, and their invites, to the attacker), the
 * relay's figures open to anyone in production, and browser pages of any origin opening sockets.
 */

describe('links: the Host header cannot choose where invites point', () => {
  let relay: TestRelay;
  before(async () => {
    relay = await startTestRelay({ ALLOWED_HOSTS: '127.0.0.1,relay.example.com:8443' });
  });
  after(() => relay.stop());

  it('refuses to make links for a host not in ALLOWED_HOSTS (HOST_NOT_ALLOWED), and creates nothing', async () => {
    for (const host of ['evil.example', 'relay.example.com', 'relay.example.com:9999']) {
      const response = await callApi(relay, 'POST', '/api/sessions', { token: personalToken('alice'), body: {}, headers: { Host: host } });
      expectApiError(response, 400, 'HOST_NOT_ALLOWED');
    }
    const forwarded = await callApi(relay, 'POST', '/api/sessions', {
      token: personalToken('alice'),
      body: {},
      headers: { 'X-Forwarded-Host': 'evil.example' },
    });
    assert.equal(forwarded.status, 201, 'X-Forwarded-Host is ignored without TRUST_PROXY');
  });

  it('makes links for an allowed host (any port for a bare name, the listed port otherwise)', async () => {
    const local = await createApiSession(relay);
    assert.equal(new URL(local.invites.editor.link).searchParams.get('relay'), relay.httpUrl);
    const named = await callApi(relay, 'POST', '/api/sessions', {
      token: personalToken('alice'),
      body: {},
      headers: { Host: 'Relay.Example.com:8443' },
    });
    assert.equal(named.status, 201, named.text);
    assert.equal((JSON.parse(named.text) as { relay_url: string }).relay_url, 'http://Relay.Example.com:8443');
  });

  it('uses PUBLIC_URL whatever the Host says', async () => {
    const fixed = await startTestRelay({ PUBLIC_URL: 'https://relay.example.com' });
    try {
      const response = await callApi(fixed, 'POST', '/api/sessions', {
        token: personalToken('alice'),
        body: {},
        headers: { Host: 'evil.example' },
      });
      assert.equal(response.status, 201, response.text);
      const created = JSON.parse(response.text) as { relay_url: string; ws_url: string; invites: { editor: { link: string } } };
      assert.equal(created.relay_url, 'https://relay.example.com');
      assert.equal(created.ws_url, 'wss://relay.example.com/ws');
      assert.equal(new URL(created.invites.editor.link).searchParams.get('relay'), 'https://relay.example.com');
    } finally {
      await fixed.stop();
    }
  });

  it('will not start in production without PUBLIC_URL or ALLOWED_HOSTS', async () => {
    await assert.rejects(startTestRelay({ NODE_ENV: 'production' }), {
      name: 'ConfigError',
      message: /PUBLIC_URL \(or ALLOWED_HOSTS\) is required when NODE_ENV=production/,
    });
  });
});

describe('production: /ws/stats and the metrics document are for operators', () => {
  let relay: TestRelay;
  before(async () => {
    relay = await startTestRelay({ NODE_ENV: 'production', PUBLIC_URL: 'https://relay.example.com' });
  });
  after(() => relay.stop());

  it('answers 401 without a token, 403 to a participant, 200 to an admin', async () => {
    expectApiError(await callApi(relay, 'GET', '/ws/stats'), 401, 'AUTH_TOKEN_MISSING');
    expectApiError(await callApi(relay, 'GET', '/ws/stats', { token: relay.token({ user: 'host', role: 'host' }) }), 403, 'FORBIDDEN_ROLE');
    const admin = relay.token({ user: 'ops', role: 'host', admin: true, sessions: ['ops'] });
    const stats = await callApi(relay, 'GET', '/ws/stats', { token: admin });
    assert.equal(stats.status, 200, stats.text);
    assert.equal(typeof (JSON.parse(stats.text) as { connections: unknown }).connections, 'number');
    // The metrics document is behind the same gate.
    expectApiError(await callApi(relay, 'GET', '/api/metrics'), 401, 'AUTH_TOKEN_MISSING');
    // Health stays open for load balancers.
    assert.equal((await callApi(relay, 'GET', '/health')).status, 200);
  });
});

describe('ALLOWED_ORIGINS: browser pages of other origins cannot open a socket', () => {
  let relay: TestRelay;
  before(async () => {
    relay = await startTestRelay({ ALLOWED_ORIGINS: 'https://app.example.com' });
  });
  after(() => relay.stop());

  it('refuses an upgrade from another origin with 403 ORIGIN_FORBIDDEN, even with a valid token', async () => {
    const refused = await refusedUpgrade(`${relay.url}?token=${relay.token({ user: 'victim' })}`, { origin: 'https://evil.example' });
    assert.equal(refused.status, 403);
    assert.equal(refused.body.code, 'ORIGIN_FORBIDDEN');
  });

  it('admits the listed origin, and clients that send no Origin (editors, CLIs)', async () => {
    (await openTestClient(`${relay.url}?token=${relay.token({ user: 'web' })}`, { origin: 'https://app.example.com' })).close();
    (await openTestClient(`${relay.url}?token=${relay.token({ user: 'editor' })}`)).close();
  });

  it('is off by default: any origin connects', async () => {
    const open = await startTestRelay();
    try {
      (await openTestClient(`${open.url}?token=${open.token({ user: 'web' })}`, { origin: 'https://anywhere.example' })).close();
    } finally {
      await open.stop();
    }
  });
});
