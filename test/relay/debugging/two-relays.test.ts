import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { type RedisServer, startRedisServer } from '../../support/redis-server';
import { clientFrame, openTestClient, startTestRelay, type TestRelay } from '../../support/relay-fixture';
import { callApi, createApiSession, personalToken, redeemInvite } from '../../support/rest-api';
import { bp, byId, lastRev, sendBreakpoint, settle, stateAfterConnect, stoppedAt, trackerOf, untilRev } from './debug-wire';

// Needs /usr/bin/redis-server: the test's own, on a free port.
/** Debugging state across two relays on one Redis, as behind Nginx without stickiness. */
describe('debugging together across two relays on one Redis', () => {
  let redis: RedisServer;
  let inspect: Redis;
  let a: TestRelay;
  let b: TestRelay;
  let sessionCounter = 0;
  const freshSession = () => [`two-debug-${process.pid}-${++sessionCounter}`];
  const settings = (id: string) => ({
    RELAY_ID: id,
    REDIS_URL: redis.url,
    WS_MAX_MESSAGES_PER_SECOND: '100000',
    WS_MAX_CONNECTIONS_PER_IP_PER_MINUTE: '1000000',
  });

  before(async () => {
    redis = await startRedisServer();
    a = await startTestRelay(settings('relay-a'));
    b = await startTestRelay(settings('relay-b'));
    inspect = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await inspect.connect();
  });
  after(async () => {
    inspect?.disconnect();
    await a?.stop();
    await b?.stop();
    await redis?.dispose();
  });
  afterEach((t) => redis.printLogIfFailed(t));

  it('a late joiner on the other relay gets the set and where the host is stopped', async () => {
    const sessions = freshSession();
    const host = await a.connect('hal', { sessions, role: 'host' });
    const editor = await b.connect('eve', { sessions, role: 'editor' });
    sendBreakpoint(host, 'add', bp('a'));
    sendBreakpoint(editor, 'add', bp('b', { condition: 'n == 2' }));
    await untilRev(host, 2);
    await untilRev(editor, 2);
    host.send(clientFrame('debugging.stopped', stoppedAt(3)));
    await untilRev(editor, 3);
    for (const relay of [a, b]) {
      const late = await relay.connect(`late-${relay.relay.relayId}`, { sessions, role: 'viewer' });
      assert.deepEqual(await stateAfterConnect(late), {
        rev: 3,
        breakpoints: [bp('a'), bp('b', { condition: 'n == 2' })],
        stopped: { ...stoppedAt(3), rev: 3 },
      });
    }
    assert.deepEqual(byId(trackerOf(editor).breakpoints), [bp('a'), bp('b', { condition: 'n == 2' })]);
  });

  it('concurrent toggles of one breakpoint on both relays converge everywhere', async () => {
    const sessions = freshSession();
    const host = await a.connect('hal', { sessions, role: 'host' });
    const eve = await b.connect('eve', { sessions, role: 'editor' });
    const oz = await a.connect('oz', { sessions, role: 'editor' });
    const vic = await b.connect('vic', { sessions, role: 'viewer' });
    sendBreakpoint(host, 'add', bp('x'));
    await untilRev(vic, 1);
    for (let n = 0; n < 30; n++) {
      sendBreakpoint(host, 'update', bp('x', { enabled: n % 2 === 0 }));
      sendBreakpoint(eve, 'update', bp('x', { enabled: n % 2 === 1, line: n }));
      sendBreakpoint(oz, n % 5 === 4 ? 'remove' : 'add', bp('x', { enabled: n % 3 === 0 }));
    }
    for (const client of [host, eve, oz]) await settle(client, 'sent');
    const late = await b.connect('lou', { sessions });
    const state = await stateAfterConnect(late);
    for (const client of [host, eve, oz, vic]) {
      await untilRev(client, state.rev);
      assert.deepEqual(trackerOf(client).breakpoints, state.breakpoints, 'the same set as Redis keeps');
      assert.equal(lastRev(client), state.rev);
    }
  });

  it('routes control from an editor on one relay to the host on the other, and the answer back', async () => {
    const sessions = freshSession();
    const host = await a.connect('hal', { sessions, role: 'host' });
    const editor = await b.connect('eve', { sessions, role: 'editor' });
    const bystander = await b.connect('oz', { sessions, role: 'editor' });
    editor.send(clientFrame('debugging.control', { request_id: 'c-1', action: 'continue' }));
    const control = await host.next('debugging.control');
    host.send(clientFrame('debugging.control_result', { request_id: 'c-1', requester: control.payload.requester, ok: true }));
    assert.deepEqual((await editor.next('debugging.control_result')).payload, {
      request_id: 'c-1',
      requester: editor.of('connect')[0]!.payload.connection_id,
      ok: true,
    });
    await settle(bystander, 'quiet');
    assert.deepEqual(bystander.of('debugging.control'), []);
    assert.deepEqual(bystander.of('debugging.control_result'), []);
  });

  it('clears the stopped state when the host leaves on one relay, for those on the other', async () => {
    const sessions = freshSession();
    const host = await a.connect('hal', { sessions, role: 'host' });
    const editor = await b.connect('eve', { sessions, role: 'editor' });
    host.send(clientFrame('debugging.stopped', stoppedAt(4)));
    await untilRev(editor, 1);
    host.close();
    assert.equal((await editor.next('debugging.continued')).payload.reason, 'host_left');
    assert.equal(trackerOf(editor).stopped, null);
  });

  it('a stopped state whose host’s relay went away is cleared by the next connection', async () => {
    const sessions = freshSession();
    const c = await startTestRelay(settings('relay-c'));
    try {
      const host = await c.connect('hal', { sessions, role: 'host' });
      const editor = await b.connect('eve', { sessions, role: 'editor' });
      host.send(clientFrame('debugging.stopped', stoppedAt(4)));
      await untilRev(editor, 1);
      // A relay that stops drains its connections without clearing anything (its host reconnects elsewhere).
      await c.stop();
      const late = await a.connect('lou', { sessions });
      assert.deepEqual(await stateAfterConnect(late), { rev: 2, breakpoints: [], stopped: null });
      assert.equal((await editor.next('debugging.continued')).payload.reason, 'host_left');
    } finally {
      await c.stop();
    }
  });

  it('ending the session deletes its debugging state from Redis', async () => {
    const session = await createApiSession(a);
    const guest = await redeemInvite(a, session.invites.editor.token, 'Eve');
    const host = await openTestClient(`${a.url}?token=${session.host.token}`);
    const editor = await openTestClient(`${b.url}?token=${guest.token}`);
    sendBreakpoint(editor, 'add', bp('a'));
    host.send(clientFrame('debugging.stopped', stoppedAt(1)));
    await untilRev(editor, 2);
    const keys = () => inspect.keys(`tandem:debug:{${session.session_id}}:*`);
    assert.deepEqual((await keys()).sort(), [`tandem:debug:{${session.session_id}}:bp`, `tandem:debug:{${session.session_id}}:meta`]);
    const ended = await callApi(b, 'DELETE', `/api/sessions/${session.session_id}`, { token: personalToken('alice', 'Alice') });
    assert.equal(ended.status, 200, ended.text);
    assert.deepEqual(await keys(), []);
    for (const client of [host, editor]) await client.closed;
  });
});
