import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import {
  clientFrame,
  jsonBody,
  openDocument,
  openTestClient,
  refusedUpgrade,
  samplePayloads,
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
  type Redeemed,
  redeemInvite,
} from '../../support/rest-api';

/**
 * Issue 17, item 5: the host in charge. The host (or the owner, or an admin) removes a guest, whose
 * connections close and whose token stops working on every relay, and makes an editor a viewer and
 * back, which the relay enforces on live connections and after a reconnect whatever the token says.
 * A guest can do none of it; item 6: only the host asks everyone to follow them.
 */

const remove = (relay: HasHttpUrl, session: CreatedSession, userId: string, token = session.host.token) =>
  callApi(relay, 'DELETE', `/api/sessions/${session.session_id}/participants/${encodeURIComponent(userId)}`, { token });

const changeRole = (relay: HasHttpUrl, session: CreatedSession, userId: string, role: unknown, token = session.host.token) =>
  callApi(relay, 'PATCH', `/api/sessions/${session.session_id}/participants/${encodeURIComponent(userId)}`, { token, body: { role } });

const connectAs = (relay: TestRelay, token: string) => openTestClient(`${relay.url}?token=${token}`);

/** The edit the relay answers: its ack, or the error refusing it. */
async function tryEdit(client: TestClient, rev: number, seq: number): Promise<'ack' | string> {
  const acks = client.of('collaboration.ack').length;
  const errors = client.of('error').length;
  client.send(clientFrame('collaboration.edit', samplePayloads.edit({ rev, seq, client_id: `c-${seq}` })));
  await client.until(() => client.of('collaboration.ack').length > acks || client.of('error').length > errors, 'the edit’s answer');
  return client.of('collaboration.ack').length > acks ? 'ack' : client.of('error').at(-1)!.payload.code;
}

describe('the host removes a guest', () => {
  let relay: TestRelay;
  let session: CreatedSession;
  let host: TestClient;
  before(async () => {
    relay = await startTestRelay();
    session = await createApiSession(relay);
    host = await connectAs(relay, session.host.token);
  });
  after(async () => {
    host.close();
    await relay.stop();
  });

  it('closes every connection of the guest with `removed`, tells the others they left, and refuses the token afterwards', async () => {
    const guest = await redeemInvite(relay, session.invites.editor.token, 'Mallory');
    const windowA = await connectAs(relay, guest.token);
    const windowB = await connectAs(relay, guest.token);
    const bystander = await connectAs(relay, (await redeemInvite(relay, session.invites.viewer.token, 'Bob')).token);

    const removed = await remove(relay, session, guest.user_id);
    assert.equal(removed.status, 200, removed.text);
    assert.deepEqual(jsonBody(removed), { session_id: session.session_id, user_id: guest.user_id, removed: true });

    for (const window of [windowA, windowB]) {
      const said = await window.next('disconnect');
      assert.deepEqual(said.payload, { reason: 'removed', message: 'the host removed you from the session', reconnect: false });
      assert.equal((await window.closed).code, 4011);
    }
    await host.until(() => host.of('session.left').filter((f) => f.payload.user_id === guest.user_id).length === 2, 'both departures');
    await bystander.until(() => bystander.of('session.left').some((f) => f.payload.user_id === guest.user_id), 'the departure');

    const refusal = await refusedUpgrade(`${relay.url}?token=${guest.token}`);
    assert.equal(refusal.status, 403);
    assert.equal(refusal.body.code, 'PARTICIPANT_REMOVED');
    // Nor does the token read the session over REST.
    expectApiError(await callApi(relay, 'GET', `/api/sessions/${session.session_id}`, { token: guest.token }), 403, 'PARTICIPANT_REMOVED');
    // Removing again changes nothing and is no error; no role brings the guest back.
    assert.equal((await remove(relay, session, guest.user_id)).status, 200);
    expectApiError(await changeRole(relay, session, guest.user_id, 'editor'), 403, 'PARTICIPANT_REMOVED');
    assert.equal((await refusedUpgrade(`${relay.url}?token=${guest.token}`)).body.code, 'PARTICIPANT_REMOVED');
    // The others stay.
    assert.equal(bystander.socket.readyState, bystander.socket.OPEN);
    bystander.close();
  });

  it('lets the owner’s personal token and an admin do it too; a guest, another host and a stranger get FORBIDDEN_ROLE', async () => {
    const target = await redeemInvite(relay, session.invites.editor.token, 'Target');
    const guest = await redeemInvite(relay, session.invites.editor.token, 'Guest');
    const otherHost = (await createApiSession(relay, {}, personalToken('carol', 'Carol'))).host.token;
    for (const token of [guest.token, otherHost, personalToken('mallory')]) {
      expectApiError(await remove(relay, session, target.user_id, token), 403, 'FORBIDDEN_ROLE');
      expectApiError(await changeRole(relay, session, target.user_id, 'viewer', token), 403, 'FORBIDDEN_ROLE');
    }
    expectApiError(await remove(relay, session, target.user_id, 'not-a-token'), 401, 'AUTH_TOKEN_INVALID');
    // The target is untouched by all that.
    (await connectAs(relay, target.token)).close();
    assert.equal((await remove(relay, session, target.user_id, personalToken('alice'))).status, 200);
    assert.equal((await refusedUpgrade(`${relay.url}?token=${target.token}`)).body.code, 'PARTICIPANT_REMOVED');
    // An admin may too (an operator stepping in).
    const other = await redeemInvite(relay, session.invites.viewer.token, 'Other');
    const admin = relay.token({ user: 'ops', admin: true, sessions: ['elsewhere'] });
    assert.equal((await changeRole(relay, session, other.user_id, 'editor', admin)).status, 200);
    assert.equal((await remove(relay, session, other.user_id, admin)).status, 200);
  });

  it('refuses to remove the host or change their role, and malformed requests, each with a clear error', async () => {
    expectApiError(await remove(relay, session, session.host.user_id), 403, 'FORBIDDEN_ROLE');
    expectApiError(await changeRole(relay, session, session.host.user_id, 'viewer'), 403, 'FORBIDDEN_ROLE');
    const guest = await redeemInvite(relay, session.invites.editor.token);
    for (const role of ['host', 'admin', '', 1, null]) {
      const refused = await changeRole(relay, session, guest.user_id, role);
      expectApiError(refused, 400, 'VALIDATION_FAILED');
      assert.equal(jsonBody(refused).path, 'role', refused.text);
    }
    expectApiError(
      await callApi(relay, 'PATCH', `/api/sessions/${session.session_id}/participants/${guest.user_id}`, {
        token: session.host.token,
        body: { role: 'viewer', admin: true },
      }),
      400,
      'VALIDATION_FAILED',
    );
    const badId = await callApi(relay, 'DELETE', `/api/sessions/${session.session_id}/participants/a%20b`, { token: session.host.token });
    expectApiError(badId, 400, 'VALIDATION_FAILED');
    assert.equal(jsonBody(badId).path, 'path');
    expectApiError(await remove(relay, { ...session, session_id: 'ses-nope' }, guest.user_id), 404, 'SESSION_NOT_FOUND');
    // Nothing happened to the guest.
    (await connectAs(relay, guest.token)).close();
  });
});

describe('the host changes a guest’s role', () => {
  let relay: TestRelay;
  let session: CreatedSession;
  let host: TestClient;
  let guest: Redeemed;
  before(async () => {
    relay = await startTestRelay();
    session = await createApiSession(relay);
    host = await connectAs(relay, session.host.token);
    await openDocument(host, 'src/main.ts', 'hello');
    guest = await redeemInvite(relay, session.invites.editor.token, 'Bob');
  });
  after(async () => {
    host.close();
    await relay.stop();
  });

  it('makes a live editor a viewer: their next edit and write are refused, everyone is told; and back', async () => {
    const live = await connectAs(relay, guest.token);
    const snapshot = await openDocument(live, 'src/main.ts');
    let rev = snapshot.rev;
    assert.equal(await tryEdit(live, rev++, 0), 'ack');

    const changed = await changeRole(relay, session, guest.user_id, 'viewer');
    assert.equal(changed.status, 200, changed.text);
    assert.deepEqual(jsonBody(changed), { session_id: session.session_id, user_id: guest.user_id, role: 'viewer', display_name: 'Bob' });
    for (const client of [host, live]) {
      const told = await client.next('session.role_changed', (f) => f.payload.role === 'viewer');
      assert.deepEqual(told.payload, { user_id: guest.user_id, role: 'viewer', display_name: 'Bob' });
    }
    // The event comes after the relay enforces it: no frame sent from here on passes.
    assert.equal(await tryEdit(live, rev, 1), 'FORBIDDEN_ROLE');
    const errors = live.of('error').length;
    live.send(
      clientFrame('workspace.request', {
        request_id: 'w-1',
        op: 'writeFile',
        path: 'a.txt',
        content: 'eA==',
        chunk: 0,
        done: true,
        create: true,
        overwrite: true,
      }),
    );
    await live.until(() => live.of('error').length > errors, 'the write refused');
    assert.equal(live.of('error').at(-1)!.payload.code, 'FORBIDDEN_ROLE');
    // The session's list says so too.
    const listed = jsonBody<{ participants: Array<{ user_id: string; role: string }> }>(
      await callApi(relay, 'GET', `/api/sessions/${session.session_id}`, { token: session.host.token }),
    );
    assert.deepEqual(
      listed.participants.filter((p) => p.user_id === guest.user_id).map((p) => p.role),
      ['viewer'],
    );

    assert.equal((await changeRole(relay, session, guest.user_id, 'editor')).status, 200);
    await live.next('session.role_changed', (f) => f.payload.role === 'editor');
    assert.equal(await tryEdit(live, rev, 2), 'ack');
    live.close();
  });

  it('keeps the session’s role over the token’s on a reconnect, and for a late joiner’s list', async () => {
    assert.equal((await changeRole(relay, session, guest.user_id, 'viewer')).status, 200);
    // The token still says editor; the session says viewer.
    const again = await connectAs(relay, guest.token);
    const connected = (await again.next('connect')).payload;
    assert.equal(connected.user.role, 'viewer');
    const snapshot = await openDocument(again, 'src/main.ts');
    assert.equal(await tryEdit(again, snapshot.rev, 10), 'FORBIDDEN_ROLE');
    const late = await connectAs(relay, (await redeemInvite(relay, session.invites.viewer.token, 'Late')).token);
    const seen = (await late.next('connect')).payload.participants.find((p) => p.user_id === guest.user_id);
    assert.equal(seen?.role, 'viewer');
    late.close();
    again.close();
  });
});

describe('focus participants', () => {
  let relay: TestRelay;
  let session: CreatedSession;
  before(async () => {
    relay = await startTestRelay();
    session = await createApiSession(relay);
  });
  after(() => relay.stop());

  it('sends the host’s request to follow them to everyone else; a guest’s is refused and reaches no one', async () => {
    const host = await connectAs(relay, session.host.token);
    const editor = await connectAs(relay, (await redeemInvite(relay, session.invites.editor.token, 'Ed')).token);
    const viewer = await connectAs(relay, (await redeemInvite(relay, session.invites.viewer.token, 'Vi')).token);

    editor.send(clientFrame('session.focus', {}));
    const refused = await editor.next('error');
    assert.equal(refused.payload.code, 'FORBIDDEN_ROLE');
    assert.equal(refused.payload.event_type, 'session.focus');

    host.send(clientFrame('session.focus', {}));
    const hostConnection = (await host.next('connect')).payload.connection_id;
    for (const guest of [editor, viewer]) {
      const focus = await guest.next('session.focus');
      assert.deepEqual(focus.payload, { user_id: session.host.user_id, display_name: 'Alice', connection_id: hostConnection });
      assert.equal(focus.user_id, session.host.user_id);
    }
    // One request each: the guest's never went out. And the host is not asked to follow itself.
    assert.equal(editor.of('session.focus').length + viewer.of('session.focus').length, 2);
    host.send(clientFrame('system.ping', { nonce: 'after' }));
    await host.next('system.pong', (f) => f.payload.nonce === 'after');
    assert.equal(host.of('session.focus').length, 0);

    host.send(clientFrame('session.focus', { user_id: 'someone' } as never));
    assert.equal((await host.next('error')).payload.code, 'VALIDATION_FAILED');
    for (const client of [host, editor, viewer]) client.close();
  });
});

describe('removal and roles across relays on one Redis', () => {
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

  it('a role changed through relay A is enforced on relay B; a guest removed through A is cut off on B and refused by both', async () => {
    const session = await createApiSession(a);
    const host = await connectAs(a, session.host.token);
    await openDocument(host, 'src/main.ts', 'hello');
    const guest = await redeemInvite(a, session.invites.editor.token, 'Roamer');
    const onB = await connectAs(b, guest.token);
    const snapshot = await openDocument(onB, 'src/main.ts');
    assert.equal(await tryEdit(onB, snapshot.rev, 0), 'ack');

    assert.equal((await changeRole(a, session, guest.user_id, 'viewer')).status, 200);
    await onB.next('session.role_changed', (f) => f.payload.user_id === guest.user_id);
    assert.equal(await tryEdit(onB, snapshot.rev + 1, 1), 'FORBIDDEN_ROLE');
    // A reconnect to relay A reads the session's role too.
    const onA = await connectAs(a, guest.token);
    assert.equal((await onA.next('connect')).payload.user.role, 'viewer');

    assert.equal((await remove(a, session, guest.user_id)).status, 200);
    for (const client of [onA, onB]) {
      assert.equal((await client.next('disconnect')).payload.reason, 'removed');
      assert.equal((await client.closed).code, 4011);
    }
    for (const relay of [a, b]) assert.equal((await refusedUpgrade(`${relay.url}?token=${guest.token}`)).body.code, 'PARTICIPANT_REMOVED');
    host.close();
  });
});
