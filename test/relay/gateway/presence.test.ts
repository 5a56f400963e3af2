import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fetchStats, startTestRelay, type TestRelay } from '../../support/relay-fixture';
import { waitUntil } from '../../support/wait';

describe('connect, session.joined and session.left', () => {
  let relay: TestRelay;
  before(async () => {
    relay = await startTestRelay({ RELAY_ID: 'relay-presence', WS_HEARTBEAT_INTERVAL_MS: '30000' });
  });
  after(() => relay.stop());

  it('sends `connect` with the connection, relay, clock, heartbeat, session, user and limits', async () => {
    const before = Date.now();
    const alice = await relay.connect('alice', { name: 'Alice', role: 'host', sessions: ['p1'] });
    const after = Date.now();
    const { payload, user_id, session_id } = await alice.next('connect');

    assert.equal(user_id, 'system', 'the relay speaks as `system`');
    assert.equal(session_id, 'p1');
    assert.equal(payload.relay_id, 'relay-presence');
    assert.ok(payload.connection_id.startsWith('relay-presence.'), `connection id ${payload.connection_id} names its relay`);
    const serverTime = Date.parse(payload.server_time);
    assert.ok(serverTime >= before - 1000 && serverTime <= after + 1000, `server_time ${payload.server_time} is now`);
    assert.equal(payload.heartbeat_interval_ms, 30_000);
    assert.equal(payload.session_id, 'p1');
    assert.deepEqual(payload.user, { user_id: 'alice', display_name: 'Alice', role: 'host', connection_id: payload.connection_id });
    assert.deepEqual(payload.participants, [payload.user], 'alone in the session: only herself');
    assert.deepEqual(payload.limits, {
      max_frame_bytes: relay.config.limits.maxFrameBytes,
      max_messages_per_second: relay.config.limits.maxMessagesPerSecond,
    });
  });

  it('gives every connection its own id, and lists who is already there', async () => {
    const alice = await relay.connect('alice', { sessions: ['p2'] });
    const bob = await relay.connect('bob', { name: 'Bob', role: 'viewer', sessions: ['p2'] });
    const aliceConnect = await alice.next('connect');
    const bobConnect = await bob.next('connect');

    assert.notEqual(aliceConnect.payload.connection_id, bobConnect.payload.connection_id);
    const ids = bobConnect.payload.participants.map((p) => p.connection_id).sort();
    assert.deepEqual(ids, [aliceConnect.payload.connection_id, bobConnect.payload.connection_id].sort());
    assert.deepEqual(
      bobConnect.payload.participants.find((p) => p.user_id === 'bob'),
      { user_id: 'bob', display_name: 'Bob', role: 'viewer', connection_id: bobConnect.payload.connection_id },
    );
  });

  it('tells the others `session.joined` with the newcomer, but not the newcomer itself', async () => {
    const alice = await relay.connect('alice', { sessions: ['p3'] });
    const bob = await relay.connect('bob', { name: 'Bob', role: 'viewer', sessions: ['p3'] });
    const bobConnect = await bob.next('connect');
    const joined = await alice.next('session.joined');

    assert.equal(joined.user_id, 'bob');
    assert.equal(joined.session_id, 'p3');
    assert.deepEqual(joined.payload, bobConnect.payload.user);
    // Bob's own join is not echoed to him: a chat round-trip is the marker that it would have arrived by now.
    bob.send({ event_type: 'chat.message', payload: { content: 'marker' } });
    await bob.next('chat.message', (f) => f.payload.content === 'marker');
    assert.deepEqual(bob.of('session.joined'), []);
  });

  it('tells the others `session.left` when a connection closes', async () => {
    const alice = await relay.connect('alice', { sessions: ['p4'] });
    const bob = await relay.connect('bob', { sessions: ['p4'] });
    const bobId = (await bob.next('connect')).payload.connection_id;
    bob.close();
    const left = await alice.next('session.left');

    assert.equal(left.user_id, 'bob');
    assert.equal(left.session_id, 'p4');
    assert.equal(left.payload.connection_id, bobId);
    const carol = await relay.connect('carol', { sessions: ['p4'] });
    const { participants } = (await carol.next('connect')).payload;
    assert.deepEqual(participants.map((p) => p.user_id).sort(), ['alice', 'carol'], 'bob is no longer listed');
  });

  it('keeps sessions apart: a join in one session is not announced in another', async () => {
    const alice = await relay.connect('alice', { sessions: ['p5'] });
    await relay.connect('bob', { sessions: ['p6'] });
    const carol = await relay.connect('carol', { sessions: ['p5'] });
    const joined = await alice.next('session.joined');
    assert.equal(joined.user_id, 'carol', 'the first join alice hears of is carol’s, in her own session');
    assert.equal((await carol.next('connect')).payload.participants.length, 2);
  });

  it('counts connections and sessions in /ws/stats as they come and go', async () => {
    await waitUntil(
      async () => (await fetchStats(relay)).connections === relay.clients.filter((c) => c.socket.readyState === 1).length,
      'stats to settle',
    );
    const before = await fetchStats(relay);
    const dave = await relay.connect('dave', { sessions: ['p7'] });
    const during = await fetchStats(relay);
    assert.equal(during.connections, before.connections + 1);
    assert.equal(during.sessions, before.sessions + 1, 'a new session appears');
    dave.close();
    await dave.closed;
    await waitUntil(async () => (await fetchStats(relay)).connections === before.connections, 'dave to be gone');
    assert.equal((await fetchStats(relay)).sessions, before.sessions, 'an empty session disappears');
  });
});
