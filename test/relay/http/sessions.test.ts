import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mintInvite, mintPersonalToken } from '../../../relay/auth/tokens';
import {
  type HttpResponse,
  jsonBody,
  openTestClient,
  refusedUpgrade,
  startTestRelay,
  TEST_SECRET,
  type TestRelay,
} from '../../support/relay-fixture';
import {
  callApi,
  type CreatedSession,
  createApiSession,
  expectApiError,
  personalToken,
  type Redeemed,
  redeemInvite,
} from '../../support/rest-api';

const personal = (user: string, name?: string) => personalToken(user, name);

/** `callApi` with the token and body in place. */
function call(
  relay: TestRelay,
  method: string,
  path: string,
  token?: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<HttpResponse> {
  return callApi(relay, method, path, { token, body, headers });
}

const expectError = expectApiError;

function createSession(relay: TestRelay, token = personal('alice', 'Alice'), body: unknown = { name: 'pairing' }): Promise<CreatedSession> {
  return createApiSession(relay, body, token);
}

function redeem(relay: TestRelay, invite: string, name?: string): Promise<Redeemed> {
  return redeemInvite(relay, invite, name || undefined);
}

const connectWith = (relay: TestRelay, token: string) => openTestClient(`${relay.url}?token=${token}`);

describe('sessions and invites over REST', () => {
  let relay: TestRelay;
  before(async () => {
    relay = await startTestRelay();
  });
  after(() => relay.stop());

  it('creates a session for a personal token: a host token and editor and viewer invite links', async () => {
    const session = await createSession(relay);
    assert.match(session.session_id, /^ses-[a-z2-9]{12}$/);
    assert.equal(session.name, 'pairing');
    assert.deepEqual(session.owner, { user_id: 'alice', display_name: 'Alice' });
    assert.equal(session.relay_url, relay.httpUrl);
    assert.equal(session.ws_url, relay.url);
    const hours = (Date.parse(session.expires_at) - Date.now()) / 3_600_000;
    assert.ok(hours > 11.9 && hours <= 12, `expires in about 12 h by default, not ${hours}`);
    for (const role of ['editor', 'viewer'] as const) {
      const link = new URL(session.invites[role].link);
      assert.equal(link.protocol, 'vscode:');
      assert.equal(link.host, 'tandem.tandem');
      assert.equal(link.pathname, '/join');
      assert.equal(link.searchParams.get('relay'), relay.httpUrl);
      assert.equal(link.searchParams.get('invite'), session.invites[role].token);
    }
    const host = await connectWith(relay, session.host.token);
    const connected = (await host.next('connect')).payload;
    assert.equal(connected.session_id, session.session_id);
    assert.equal(connected.user.role, 'host');
    assert.equal(connected.user.user_id, 'alice');
    host.close();
  });

  it('redeems invites for session tokens with the invite’s role and a fresh guest id each', async () => {
    const session = await createSession(relay, personal('alice'), { ttl_s: 600 });
    const bob = await redeem(relay, session.invites.editor.token, 'Bob');
    const vic = await redeem(relay, session.invites.viewer.token);
    const bob2 = await redeem(relay, session.invites.editor.token, 'Bob');
    assert.equal(bob.session_id, session.session_id);
    assert.equal(bob.role, 'editor');
    assert.equal(bob.display_name, 'Bob');
    assert.equal(vic.role, 'viewer');
    assert.equal(vic.display_name, 'Guest');
    assert.match(bob.user_id, /^guest-[0-9a-f]{12}$/);
    assert.notEqual(bob.user_id, bob2.user_id);
    assert.equal(bob.ws_url, relay.url);
    const client = await connectWith(relay, bob.token);
    const connected = (await client.next('connect')).payload;
    assert.deepEqual([connected.user.role, connected.user.display_name, connected.session_id], ['editor', 'Bob', session.session_id]);
    client.close();
  });

  it('refuses bad tokens, bodies and invites with a clear error and creates nothing', async () => {
    const aliceSessionToken = relay.token({ user: 'alice', role: 'host' });
    expectError(await call(relay, 'POST', '/api/sessions'), 401, 'AUTH_TOKEN_MISSING');
    const notPersonal = await call(relay, 'POST', '/api/sessions', aliceSessionToken, {});
    expectError(notPersonal, 401, 'AUTH_TOKEN_INVALID');
    assert.match(jsonBody(notPersonal).message as string, /personal token/);
    expectError(await call(relay, 'POST', '/api/sessions', 'not.a.jwt', {}), 401, 'AUTH_TOKEN_INVALID');
    expectError(
      await call(relay, 'POST', '/api/sessions', mintPersonalToken('another-secret-0123456789', { user: 'mallory', ttl: '1h' }), {}),
      401,
      'AUTH_TOKEN_INVALID',
    );
    expectError(await call(relay, 'POST', '/api/sessions', personal('alice'), { ttl_s: 30 * 24 * 3600 }), 400, 'VALIDATION_FAILED');
    expectError(await call(relay, 'POST', '/api/sessions', personal('alice'), { name: 'x', admin: true }), 400, 'VALIDATION_FAILED');
    expectError(await call(relay, 'POST', '/api/sessions', personal('alice'), '{"name":'), 400, 'BAD_JSON');

    expectError(await call(relay, 'POST', '/api/invites/redeem', undefined, {}), 400, 'VALIDATION_FAILED');
    expectError(await call(relay, 'POST', '/api/invites/redeem', undefined, { invite: 'garbage' }), 401, 'AUTH_TOKEN_INVALID');
    expectError(await call(relay, 'POST', '/api/invites/redeem', undefined, { invite: personal('alice') }), 401, 'AUTH_TOKEN_INVALID');
    expectError(await call(relay, 'POST', '/api/invites/redeem', undefined, { invite: aliceSessionToken }), 401, 'AUTH_TOKEN_INVALID');
    const session = await createSession(relay);
    const expired = mintInvite(TEST_SECRET, {
      sessionId: session.session_id,
      role: 'editor',
      expiresAt: Math.floor(Date.now() / 1000) - 10,
    });
    const refused = await call(relay, 'POST', '/api/invites/redeem', undefined, { invite: expired });
    expectError(refused, 401, 'AUTH_TOKEN_EXPIRED');
    assert.match(jsonBody(refused).message as string, /invite has expired/);
    const unknown = mintInvite(TEST_SECRET, { sessionId: 'ses-never-made', role: 'editor', expiresAt: Math.floor(Date.now() / 1000) + 60 });
    expectError(await call(relay, 'POST', '/api/invites/redeem', undefined, { invite: unknown }), 404, 'SESSION_NOT_FOUND');
    // An invite or a personal token is not a session token.
    assert.equal((await refusedUpgrade(`${relay.url}?token=${session.invites.editor.token}`)).body.code, 'AUTH_TOKEN_INVALID');
    assert.equal((await refusedUpgrade(`${relay.url}?token=${personal('alice')}`)).body.code, 'AUTH_TOKEN_INVALID');
  });

  it('shows a session to its participants and owner, and to nobody else', async () => {
    const session = await createSession(relay);
    const host = await connectWith(relay, session.host.token);
    await host.next('connect');
    const asParticipant = await call(relay, 'GET', `/api/sessions/${session.session_id}`, session.host.token);
    assert.equal(asParticipant.status, 200, asParticipant.text);
    const body = jsonBody<{ session_id: string; participants: Array<{ user_id: string; role: string }> }>(asParticipant);
    assert.equal(body.session_id, session.session_id);
    assert.deepEqual(
      body.participants.map((p) => [p.user_id, p.role]),
      [['alice', 'host']],
    );
    assert.equal((await call(relay, 'GET', `/api/sessions/${session.session_id}`, personal('alice'))).status, 200);
    expectError(await call(relay, 'GET', `/api/sessions/${session.session_id}`, personal('mallory')), 403, 'FORBIDDEN_ROLE');
    expectError(
      await call(relay, 'GET', `/api/sessions/${session.session_id}`, relay.token({ user: 'otto', sessions: ['s2'] })),
      403,
      'FORBIDDEN_ROLE',
    );
    expectError(await call(relay, 'GET', '/api/sessions/ses-unknown', personal('alice')), 404, 'SESSION_NOT_FOUND');
    expectError(await call(relay, 'GET', '/api/sessions/%00bad', personal('alice')), 404, 'SESSION_NOT_FOUND');
    host.close();
  });

  it('ends a session: its connections are closed with session_ended, its invites and tokens stop working', async () => {
    const session = await createSession(relay);
    const guest = await redeem(relay, session.invites.editor.token, 'Bob');
    const host = await connectWith(relay, session.host.token);
    const bob = await connectWith(relay, guest.token);
    await host.next('connect');
    await bob.next('connect');
    // Only the owner, the session's host or an admin may end it.
    expectError(await call(relay, 'DELETE', `/api/sessions/${session.session_id}`, personal('mallory')), 403, 'FORBIDDEN_ROLE');
    expectError(await call(relay, 'DELETE', `/api/sessions/${session.session_id}`, guest.token), 403, 'FORBIDDEN_ROLE');
    expectError(await call(relay, 'DELETE', `/api/sessions/${session.session_id}`), 401, 'AUTH_TOKEN_MISSING');

    const ended = await call(relay, 'DELETE', `/api/sessions/${session.session_id}`, personal('alice'));
    assert.equal(ended.status, 200, ended.text);
    assert.ok(jsonBody<{ ended_at?: string }>(ended).ended_at);
    for (const client of [host, bob]) {
      const disconnect = (await client.next('disconnect')).payload;
      assert.deepEqual([disconnect.reason, disconnect.reconnect], ['session_ended', false]);
      assert.equal((await client.closed).code, 4010);
    }
    const again = await refusedUpgrade(`${relay.url}?token=${session.host.token}`);
    assert.deepEqual([again.status, again.body.code], [410, 'SESSION_ENDED']);
    expectError(
      await call(relay, 'POST', '/api/invites/redeem', undefined, { invite: session.invites.viewer.token }),
      410,
      'SESSION_ENDED',
    );
    expectError(await call(relay, 'DELETE', `/api/sessions/${session.session_id}`, session.host.token), 410, 'SESSION_ENDED');
    // Other sessions are untouched.
    const other = await connectWith(relay, relay.token({ user: 'carol' }));
    assert.equal((await other.next('connect')).payload.session_id, 's1');
    other.close();
  });
});

describe('invite links behind a proxy', () => {
  it('carry PUBLIC_URL when it is set', async () => {
    const relay = await startTestRelay({ PUBLIC_URL: 'https://relay.example.com/' });
    try {
      const session = await createSession(relay);
      assert.equal(session.relay_url, 'https://relay.example.com');
      assert.equal(session.ws_url, 'wss://relay.example.com/ws');
      assert.equal(new URL(session.invites.editor.link).searchParams.get('relay'), 'https://relay.example.com');
    } finally {
      await relay.stop();
    }
  });

  it('carry the forwarded origin only when TRUST_PROXY is set', async () => {
    const forwarded = { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'pair.example.org' };
    for (const [trust, expected] of [
      ['true', 'https://pair.example.org'],
      ['false', undefined],
    ] as const) {
      const relay = await startTestRelay({ TRUST_PROXY: trust });
      try {
        const response = await call(relay, 'POST', '/api/sessions', personal('alice'), {}, forwarded);
        assert.equal(jsonBody<CreatedSession>(response).relay_url, expected ?? relay.httpUrl);
      } finally {
        await relay.stop();
      }
    }
  });
});
