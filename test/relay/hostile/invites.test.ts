import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import {
  type HttpResponse,
  jsonBody,
  openTestClient,
  refusedUpgrade,
  startTestRelay,
  type TestClient,
  type TestRelay,
} from '../../support/relay-fixture';
import { type RedisServer, startRedisServer } from '../../support/redis-server';
import {
  callApi,
  type CreatedSession,
  createApiSession,
  expectApiError,
  type HasHttpUrl,
  personalToken,
  redeemInvite,
} from '../../support/rest-api';
import { sleep } from '../../support/wait';

/**
 * Issue 11, item 12: an invite link that leaked let anyone in, as often as they liked, under any
 * name (control and bidi characters included). Invites may now limit their uses and need the
 * host's approval of each join; names are cleaned and bounded.
 */

interface Pending {
  status: string;
  session_id: string;
  request_id: string;
  request_token: string;
  poll_url: string;
  user_id: string;
  display_name: string;
  role: string;
  expires_at: string;
}

async function requestToJoin(relay: HasHttpUrl, invite: string, name?: string): Promise<Pending> {
  const response = await callApi(relay, 'POST', '/api/invites/redeem', { body: { invite, ...(name && { name }) } });
  assert.equal(response.status, 202, response.text);
  return jsonBody<Pending>(response);
}

const poll = (relay: HasHttpUrl, pending: Pending): Promise<HttpResponse> =>
  callApi(relay, 'GET', `/api/join-requests/${pending.request_id}`, { token: pending.request_token });

const decide = (relay: HasHttpUrl, session: CreatedSession, requestId: string, approve: boolean, token = session.host.token) =>
  callApi(relay, 'POST', `/api/sessions/${session.session_id}/join-requests/${requestId}`, { token, body: { approve } });

describe('invites with a use limit', () => {
  let relay: TestRelay;
  before(async () => {
    relay = await startTestRelay();
  });
  after(() => relay.stop());

  it('admits max_uses guests per link, then answers INVITE_USED_UP and mints nothing', async () => {
    const session = await createApiSession(relay, { invites: { max_uses: 2 } });
    assert.equal(session.invites.editor.max_uses, 2);
    await redeemInvite(relay, session.invites.editor.token);
    await redeemInvite(relay, session.invites.editor.token);
    const third = await callApi(relay, 'POST', '/api/invites/redeem', { body: { invite: session.invites.editor.token } });
    expectApiError(third, 410, 'INVITE_USED_UP');
    assert.equal(jsonBody(third).token, undefined);
    // Each link counts on its own.
    await redeemInvite(relay, session.invites.viewer.token);
  });

  it('refuses bad invite options', async () => {
    for (const invites of [{ max_uses: 0 }, { max_uses: 1.5 }, { approval: 'yes' }, { other: true }]) {
      expectApiError(
        await callApi(relay, 'POST', '/api/sessions', { token: personalToken('alice'), body: { invites } }),
        400,
        'VALIDATION_FAILED',
      );
    }
  });
});

describe('renewed invite links (a removed guest still holds the old one)', () => {
  let relay: TestRelay;
  before(async () => {
    relay = await startTestRelay();
  });
  after(() => relay.stop());

  const renew = (session: CreatedSession, token: string, body: unknown = {}) =>
    callApi(relay, 'POST', `/api/sessions/${session.session_id}/invites`, { token, body });

  it('the host removes a guest and renews the links: the old links are refused, the new ones admit, guests in stay', async () => {
    const session = await createApiSession(relay);
    const stays = await redeemInvite(relay, session.invites.editor.token, 'Stays');
    const removed = await redeemInvite(relay, session.invites.editor.token, 'Removed');
    const removal = await callApi(relay, 'DELETE', `/api/sessions/${session.session_id}/participants/${removed.user_id}`, {
      token: session.host.token,
    });
    assert.equal(removal.status, 200, removal.text);
    // The attack: the removed guest comes back as a new guest with the link they still have.
    await redeemInvite(relay, session.invites.editor.token, 'Back again');

    const renewed = await renew(session, session.host.token);
    assert.equal(renewed.status, 200, renewed.text);
    const { invites } = jsonBody<{ invites: CreatedSession['invites'] }>(renewed);
    for (const old of [session.invites.editor.token, session.invites.viewer.token]) {
      const refused = await callApi(relay, 'POST', '/api/invites/redeem', { body: { invite: old, name: 'Back again' } });
      expectApiError(refused, 410, 'INVITE_REVOKED');
      assert.equal(jsonBody(refused).token, undefined);
    }
    assert.equal((await redeemInvite(relay, invites.editor.token)).role, 'editor');
    assert.equal((await redeemInvite(relay, invites.viewer.token)).role, 'viewer');
    assert.match(invites.editor.link, /^vscode:\/\/tandem\.tandem\/join\?relay=/);
    // A guest already in is not touched; the removed one stays out.
    const inSession = await openTestClient(`${relay.url}?token=${stays.token}`);
    inSession.close();
    const refusedRemoved = await refusedUpgrade(`${relay.url}?token=${removed.token}`);
    assert.deepEqual([refusedRemoved.status, refusedRemoved.body.code], [403, 'PARTICIPANT_REMOVED']);

    // Renewed again: the links of the first renewal go too.
    const again = jsonBody<{ invites: CreatedSession['invites'] }>(await renew(session, session.host.token, { invites: { max_uses: 1 } }));
    expectApiError(await callApi(relay, 'POST', '/api/invites/redeem', { body: { invite: invites.editor.token } }), 410, 'INVITE_REVOKED');
    assert.equal(again.invites.editor.max_uses, 1);
    await redeemInvite(relay, again.invites.editor.token);
  });

  it('only the owner, the host or an admin renews; bad bodies and ended sessions are refused and change nothing', async () => {
    const session = await createApiSession(relay);
    const guest = await redeemInvite(relay, session.invites.editor.token);
    expectApiError(await renew(session, guest.token), 403, 'FORBIDDEN_ROLE');
    expectApiError(await renew(session, personalToken('mallory')), 403, 'FORBIDDEN_ROLE');
    for (const body of [{ invites: { max_uses: 0 } }, { other: 1 }, { invites: { approval: 'yes' } }])
      expectApiError(await renew(session, session.host.token, body), 400, 'VALIDATION_FAILED');
    // Nothing was renewed: the first links still work.
    await redeemInvite(relay, session.invites.viewer.token);
    assert.equal((await renew(session, personalToken('alice', 'Alice'))).status, 200, 'the owner');
    const ended = await callApi(relay, 'DELETE', `/api/sessions/${session.session_id}`, { token: session.host.token });
    assert.equal(ended.status, 200, ended.text);
    expectApiError(await renew(session, session.host.token), 410, 'SESSION_ENDED');
    expectApiError(
      await callApi(relay, 'POST', '/api/sessions/ses-unknown0000000000/invites', { token: session.host.token }),
      404,
      'SESSION_NOT_FOUND',
    );
  });
});

describe('invites that need the host’s approval', () => {
  let relay: TestRelay;
  let session: CreatedSession;
  let host: TestClient;
  before(async () => {
    relay = await startTestRelay();
    session = await createApiSession(relay, { invites: { approval: true, max_uses: 1 } });
    assert.equal(session.invites.editor.approval, true);
    host = await openTestClient(`${relay.url}?token=${session.host.token}`);
  });
  after(async () => {
    host.close();
    await relay.stop();
  });

  it('makes a guest wait as pending; the host is told, approves, and only then the guest gets a token that connects', async () => {
    const pending = await requestToJoin(relay, session.invites.editor.token, 'Bob');
    assert.equal(pending.status, 'pending');
    assert.equal(pending.display_name, 'Bob');
    assert.equal(pending.role, 'editor');
    assert.equal((pending as unknown as { token?: string }).token, undefined, 'no session token while pending');

    const told = await host.next('session.join_request', (frame) => frame.payload.request_id === pending.request_id);
    assert.deepEqual(told.payload, {
      request_id: pending.request_id,
      user_id: pending.user_id,
      display_name: 'Bob',
      role: 'editor',
      expires_at: pending.expires_at,
    });
    assert.equal(told.session_id, session.session_id);

    const waiting = await poll(relay, pending);
    assert.equal(waiting.status, 202, waiting.text);
    assert.equal(jsonBody(waiting).status, 'pending');
    const listed = await callApi(relay, 'GET', `/api/sessions/${session.session_id}/join-requests`, { token: session.host.token });
    assert.deepEqual(
      (jsonBody(listed).requests as Array<{ request_id: string }>).map((r) => r.request_id),
      [pending.request_id],
    );

    const approved = await decide(relay, session, pending.request_id, true);
    assert.equal(approved.status, 200, approved.text);
    assert.equal(jsonBody(approved).status, 'approved');

    const answer = await poll(relay, pending);
    assert.equal(answer.status, 200, answer.text);
    const admitted = jsonBody<{ status: string; token: string; user_id: string; display_name: string }>(answer);
    assert.equal(admitted.status, 'approved');
    assert.equal(admitted.user_id, pending.user_id);
    const guest = await openTestClient(`${relay.url}?token=${admitted.token}`);
    assert.equal((await guest.next('connect')).payload.user.display_name, 'Bob');
    guest.close();
  });

  it('lets no one but the host decide, nor anyone but the guest collect the answer', async () => {
    const pending = await requestToJoin(relay, session.invites.viewer.token, 'Eve');
    // Another guest of the session may not approve it; a made-up request token may not collect it.
    const bystander = await redeemInvite(relay, (await createApiSession(relay)).invites.editor.token);
    expectApiError(await decide(relay, session, pending.request_id, true, bystander.token), 403, 'FORBIDDEN_ROLE');
    const other = await requestToJoin(relay, session.invites.viewer.token, 'Other');
    expectApiError(
      await callApi(relay, 'GET', `/api/join-requests/${pending.request_id}`, { token: other.request_token }),
      401,
      'AUTH_TOKEN_INVALID',
    );
    expectApiError(
      await callApi(relay, 'GET', `/api/join-requests/${pending.request_id}`, { token: session.host.token }),
      401,
      'AUTH_TOKEN_INVALID',
    );
    assert.equal((await poll(relay, pending)).status, 202);
  });

  it('answers a denied guest JOIN_DENIED; the first decision stands', async () => {
    const pending = await requestToJoin(relay, session.invites.viewer.token, 'Mallory');
    assert.equal(jsonBody(await decide(relay, session, pending.request_id, false)).status, 'denied');
    assert.equal(jsonBody(await decide(relay, session, pending.request_id, true)).status, 'denied');
    expectApiError(await poll(relay, pending), 403, 'JOIN_DENIED');
  });

  it('uses up the invite on approval: past max_uses the host gets INVITE_USED_UP and the guest JOIN_DENIED', async () => {
    // The editor link (max_uses 1) was used by Bob above.
    const late = await requestToJoin(relay, session.invites.editor.token, 'Late');
    expectApiError(await decide(relay, session, late.request_id, true), 410, 'INVITE_USED_UP');
    expectApiError(await poll(relay, late), 403, 'JOIN_DENIED');
  });

  it('answers JOIN_REQUEST_EXPIRED for a request nobody has', async () => {
    expectApiError(await decide(relay, session, 'jr-made-up', true), 410, 'JOIN_REQUEST_EXPIRED');
  });
});

describe('a join request the host does not answer', () => {
  it('expires after JOIN_APPROVAL_TIMEOUT_MS with JOIN_REQUEST_EXPIRED, and cannot be approved afterwards', async () => {
    const relay = await startTestRelay({ JOIN_APPROVAL_TIMEOUT_MS: '1000' });
    try {
      const session = await createApiSession(relay, { invites: { approval: true } });
      const pending = await requestToJoin(relay, session.invites.editor.token, 'Patient');
      let answer = await poll(relay, pending);
      // Bounded: the request expires after one second; 40 polls a quarter second apart is ten.
      for (let i = 0; i < 40 && answer.status === 202; i++) {
        await sleep(250);
        answer = await poll(relay, pending);
      }
      expectApiError(answer, 410, 'JOIN_REQUEST_EXPIRED');
      expectApiError(await decide(relay, session, pending.request_id, true), 410, 'JOIN_REQUEST_EXPIRED');
    } finally {
      await relay.stop();
    }
  });
});

describe('display names from guests', () => {
  let relay: TestRelay;
  before(async () => {
    relay = await startTestRelay();
  });
  after(() => relay.stop());

  it('strips control and bidi characters, folds whitespace and bounds the length', async () => {
    const { invites } = await createApiSession(relay);
    const cases: Array<[string, string]> = [
      // A right-to-left override makes "Alice" read as "ecilA" (or the reverse) in every editor.
      ['\u202Eecila\u202C', 'ecila'],
      ['Bob\u0000\u0007 \u200Bthe\u2066 builder\u2069', 'Bob the builder'],
      ['line one\nline two\r\n\tthree', 'line one line two three'],
      ['\u202E\u2067\u0000', 'Guest'],
      ['x'.repeat(100), 'x'.repeat(64)],
      ['😀'.repeat(70), '😀'.repeat(64)],
    ];
    for (const [name, shown] of cases) {
      const redeemed = await redeemInvite(relay, invites.editor.token, name);
      assert.equal(redeemed.display_name, shown, JSON.stringify(name));
      const guest = await openTestClient(`${relay.url}?token=${redeemed.token}`);
      assert.equal((await guest.next('connect')).payload.user.display_name, shown);
      guest.close();
    }
  });
});

describe('approvals across relays on one Redis', () => {
  let redis: RedisServer;
  let a: TestRelay;
  let b: TestRelay;
  before(async () => {
    redis = await startRedisServer();
    a = await startTestRelay({ REDIS_URL: redis.url });
    b = await startTestRelay({ REDIS_URL: redis.url });
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
    await redis?.dispose();
  });
  afterEach((t) => redis.printLogIfFailed(t));

  it('a guest asks relay A, the host on relay B is told and approves there, the guest collects on A; uses are shared', async () => {
    const session = await createApiSession(a, { invites: { approval: true, max_uses: 1 } });
    const host = await openTestClient(`${b.url}?token=${session.host.token}`);
    try {
      const pending = await requestToJoin(a, session.invites.editor.token, 'Across');
      await host.next('session.join_request', (frame) => frame.payload.request_id === pending.request_id);
      const listed = await callApi(b, 'GET', `/api/sessions/${session.session_id}/join-requests`, { token: session.host.token });
      assert.equal((jsonBody(listed).requests as unknown[]).length, 1);
      assert.equal((await decide(b, session, pending.request_id, true)).status, 200);
      const answer = await poll(a, pending);
      assert.equal(answer.status, 200, answer.text);
      (await openTestClient(`${b.url}?token=${jsonBody<{ token: string }>(answer).token}`)).close();

      // The one use is gone on every relay.
      const second = await requestToJoin(b, session.invites.editor.token, 'Second');
      expectApiError(await decide(a, session, second.request_id, true), 410, 'INVITE_USED_UP');
      expectApiError(await poll(b, second), 403, 'JOIN_DENIED');

      // An ended session's pending requests are answered SESSION_ENDED.
      const third = await requestToJoin(a, session.invites.viewer.token, 'Third');
      assert.equal((await callApi(b, 'DELETE', `/api/sessions/${session.session_id}`, { token: session.host.token })).status, 200);
      expectApiError(await poll(a, third), 410, 'SESSION_ENDED');
      assert.equal((await refusedUpgrade(`${a.url}?token=${session.host.token}`)).status, 410);
    } finally {
      host.close();
    }
  });
});
