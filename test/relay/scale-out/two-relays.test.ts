import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { mintPersonalToken } from '../../../relay/auth/tokens';
import { OtPeer, prng, randomEdit } from '../../support/ot-peer';
import { type RedisServer, startRedisServer } from '../../support/redis-server';
import {
  clientFrame,
  httpRequest,
  type HttpResponse,
  jsonBody,
  openDocument,
  openTestClient,
  postNotification,
  refusedUpgrade,
  startTestRelay,
  TEST_SECRET,
  type TestRelay,
} from '../../support/relay-fixture';
import { sleep, waitUntil } from '../../support/wait';

// Needs /usr/bin/redis-server: the test's own, on a free port.
/**
 * Two relays in this process on one Redis, as behind Nginx without stickiness: whichever relay a
 * client reaches, it is in the same session as everyone else.
 */
describe('two relays on one Redis act as one', () => {
  let redis: RedisServer;
  let a: TestRelay;
  let b: TestRelay;
  let sessionCounter = 0;
  const freshSession = () => `two-${process.pid}-${++sessionCounter}`;
  const settings = (id: string) => ({
    RELAY_ID: id,
    WS_MAX_MESSAGES_PER_SECOND: '100000',
    WS_MAX_CONNECTIONS_PER_IP_PER_MINUTE: '1000000',
  });

  before(async () => {
    redis = await startRedisServer();
    a = await startTestRelay({ ...settings('relay-a'), REDIS_URL: redis.url });
    b = await startTestRelay({ ...settings('relay-b'), REDIS_URL: redis.url });
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
    await redis?.dispose();
  });
  afterEach((t) => redis.printLogIfFailed(t));

  it('reports Redis up, with its latency, on /health and /health/redis', async () => {
    for (const relay of [a, b]) {
      const health = await httpRequest(`${relay.httpUrl}/health`);
      assert.equal(health.status, 200, health.text);
      const body = jsonBody<{ checks: { redis: { status: string; latency_ms?: number }; broker: { kind: string } } }>(health);
      assert.equal(body.checks.redis.status, 'up');
      assert.equal(body.checks.broker.kind, 'redis');
      const check = await httpRequest(`${relay.httpUrl}/health/redis`);
      assert.equal(check.status, 200);
      const redisCheck = jsonBody<{ status: string; latency_ms?: number }>(check);
      assert.equal(redisCheck.status, 'up');
      assert.equal(typeof redisCheck.latency_ms, 'number');
    }
  });

  it('chat: every message reaches everyone on both relays exactly once, all in one order', async () => {
    const sessions = [freshSession()];
    const clients = [await a.connect('alice', { sessions }), await b.connect('bob', { sessions }), await a.connect('carol', { sessions })];
    const perClient = 30;
    for (let n = 0; n < perClient; n++) {
      for (const [i, client] of clients.entries()) client.send(clientFrame('chat.message', { content: `${i}:${n}` }));
    }
    const total = perClient * clients.length;
    for (const client of clients) await client.until(() => client.of('chat.message').length >= total, `${total} chat messages`, 15_000);
    await sleep(100); // nothing more is on its way
    const seen = clients.map((client) => client.of('chat.message').map((f) => f.payload.content));
    for (const contents of seen) {
      assert.equal(contents.length, total, 'exactly once');
      assert.equal(new Set(contents).size, total);
      for (let i = 0; i < clients.length; i++) {
        const own = contents.filter((c) => c.startsWith(`${i}:`));
        assert.deepEqual(
          own,
          Array.from({ length: perClient }, (_, n) => `${i}:${n}`),
          'each sender’s messages in the order sent',
        );
      }
    }
    assert.deepEqual(seen[1], seen[0], 'one order for everyone');
    assert.deepEqual(seen[2], seen[0]);
  });

  it('notifications posted to either relay reach the session on both, once each, in order', async () => {
    const session = freshSession();
    const sessions = [session];
    const clients = [await a.connect('alice', { sessions }), await b.connect('bob', { sessions })];
    const host = a.token({ user: 'hal', role: 'host', sessions });
    for (let n = 0; n < 10; n++) {
      const response = await postNotification(n % 2 === 0 ? a : b, host, { session_id: session, level: 'info', message: `notice ${n}` });
      assert.equal(response.status, 202, response.text);
    }
    for (const client of clients) {
      await client.until(() => client.of('system.notification').length >= 10, 'ten notifications', 10_000);
    }
    await sleep(100);
    for (const client of clients) {
      assert.deepEqual(
        client.of('system.notification').map((f) => f.payload.message),
        Array.from({ length: 10 }, (_, n) => `notice ${n}`),
      );
    }
  });

  it('presence: `connect` lists who is on the other relay; joins and departures cross relays', async () => {
    const sessions = [freshSession()];
    const alice = await a.connect('alice', { sessions });
    const bob = await b.connect('bob', { sessions });
    const aliceConnect = (await alice.next('connect')).payload;
    const bobConnect = (await bob.next('connect')).payload;
    assert.equal(aliceConnect.relay_id, 'relay-a');
    assert.equal(bobConnect.relay_id, 'relay-b');
    assert.deepEqual(bobConnect.participants.map((p) => [p.user_id, p.connection_id]).sort(), [
      ['alice', aliceConnect.connection_id],
      ['bob', bobConnect.connection_id],
    ]);
    assert.deepEqual((await alice.next('session.joined')).payload, bobConnect.user);
    bob.close();
    assert.deepEqual((await alice.next('session.left')).payload, bobConnect.user);
    const carol = await b.connect('carol', { sessions });
    assert.deepEqual((await carol.next('connect')).payload.participants.map((p) => p.user_id).sort(), ['alice', 'carol']);
  });

  it('ending a session on one relay closes its connections on the other, which refuses its tokens and invites (410)', async () => {
    const personal = mintPersonalToken(TEST_SECRET, { user: 'olivia', ttl: '1h' });
    const call = (relay: TestRelay, method: string, path: string, token?: string, body?: unknown): Promise<HttpResponse> =>
      httpRequest(`${relay.httpUrl}${path}`, {
        method,
        headers: { 'Content-Type': 'application/json', ...(token && { Authorization: `Bearer ${token}` }) },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
    const created = await call(a, 'POST', '/api/sessions', personal, { name: 'across' });
    assert.equal(created.status, 201, created.text);
    const session = jsonBody<{
      session_id: string;
      host: { token: string };
      invites: { editor: { token: string }; viewer: { token: string } };
    }>(created);
    // Redeemed on B: the record written through A is there.
    const redeemed = await call(b, 'POST', '/api/invites/redeem', undefined, { invite: session.invites.editor.token, name: 'Guest' });
    assert.equal(redeemed.status, 200, redeemed.text);
    const guestToken = jsonBody<{ token: string }>(redeemed).token;
    const host = await openTestClient(`${a.url}?token=${session.host.token}`);
    const guest = await openTestClient(`${b.url}?token=${guestToken}`);
    const viewer = await openTestClient(`${b.url}?token=${session.host.token}`);

    const ended = await call(a, 'DELETE', `/api/sessions/${session.session_id}`, personal);
    assert.equal(ended.status, 200, ended.text);
    for (const client of [host, guest, viewer]) {
      const disconnect = (await client.next('disconnect')).payload;
      assert.deepEqual([disconnect.reason, disconnect.reconnect], ['session_ended', false]);
      assert.equal((await client.closed).code, 4010);
    }
    for (const token of [guestToken, session.host.token]) {
      const refusal = await refusedUpgrade(`${b.url}?token=${token}`);
      assert.deepEqual([refusal.status, refusal.body.code], [410, 'SESSION_ENDED']);
    }
    const again = await call(b, 'POST', '/api/invites/redeem', undefined, { invite: session.invites.viewer.token });
    assert.deepEqual([again.status, jsonBody(again).code], [410, 'SESSION_ENDED']);
    const record = await call(b, 'GET', `/api/sessions/${session.session_id}`, personal);
    assert.equal(record.status, 200, record.text);
    assert.ok(jsonBody<{ ended_at?: string }>(record).ended_at, 'B sees when it ended');
  });

  it('converges: 5 clients spread over both relays, 2,100 random concurrent edits (emoji included)', async () => {
    const sessions = [freshSession()];
    const DOC = 'notes/shared.md';
    const peers: OtPeer[] = [];
    try {
      for (let i = 0; i < 5; i++) {
        const relay = i % 2 === 0 ? a : b;
        const peer = new OtPeer(
          relay.url,
          relay.token({ user: `user-${i}`, sessions, role: 'host' }),
          `client-${i}`,
          DOC,
          'first line\nsecond line 👋🏽\nthird\n',
        );
        peers.push(peer);
        await peer.start();
      }
      let edits = 0;
      await Promise.all(
        peers.map(async (peer, i) => {
          const random = prng(5000 + i);
          for (let n = 0; n < 420; n++) {
            // Pauses a little longer than through one relay: a commit costs Redis round trips, and
            // edits made meanwhile are composed into one op; this keeps the commits many.
            if (random() < 0.6) await sleep(Math.floor(random() * 5));
            else await new Promise((resolve) => setImmediate(resolve));
            const op = randomEdit(peer.text, random);
            if (op) {
              peer.edit(op);
              edits++;
            }
          }
        }),
      );
      assert.ok(edits >= 2000, `${edits} edits`);
      await waitUntil(() => peers.every((p) => p.settled || p.problems.length > 0), 'every client in step', 20_000);
      assert.deepEqual(
        peers.flatMap((p) => p.problems),
        [],
      );
      await waitUntil(() => new Set(peers.map((p) => p.doc!.revision)).size === 1, 'every client at one revision', 5000);
      for (const relay of [a, b]) {
        const watcher = await relay.connect(`watcher-${relay.relay.relayId}`, { role: 'viewer', sessions });
        const snapshot = await openDocument(watcher, DOC);
        for (const peer of peers) {
          assert.equal(peer.doc!.revision, snapshot.rev, `${peer.clientId} revision`);
          assert.equal(peer.text, snapshot.text, `${peer.clientId} text`);
        }
      }
      // Many commits racing across relays, not a few big composed ones.
      assert.ok(peers[0]!.doc!.revision > 100, `only ${peers[0]!.doc!.revision} commits`);
      assert.equal(
        peers.reduce((sum, p) => sum + p.connects, 0),
        peers.length,
        'nobody had to reconnect',
      );
    } finally {
      for (const peer of peers) peer.dispose();
    }
  });
});
