import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  clientFrame,
  fetchStats,
  openDocument,
  refusedUpgrade,
  samplePayloads,
  startTestRelay,
  type TestRelay,
  type WsStats,
} from '../../support/relay-fixture';

/**
 * One scripted session, then `/ws/stats` is checked against it. s1: alice, bob (editors), vic
 * (viewer); s2: carol. Deliveries are counted per recipient.
 */
describe('GET /ws/stats', () => {
  let relay: TestRelay;
  let startedAt: number;
  let stats: WsStats;
  before(async () => {
    startedAt = Date.now();
    relay = await startTestRelay({ RELAY_ID: 'relay-stats' });
    const alice = await relay.connect('alice', { role: 'host' });
    const bob = await relay.connect('bob');
    const vic = await relay.connect('vic', { role: 'viewer' });
    const carol = await relay.connect('carol', { sessions: ['s2'] });

    for (const client of [alice, bob, vic]) await openDocument(client);
    alice.send(clientFrame('chat.message', samplePayloads.chat('one')));
    alice.send(clientFrame('chat.message', samplePayloads.chat('two')));
    bob.send(clientFrame('collaboration.cursor', samplePayloads.cursor()));
    vic.send(clientFrame('collaboration.edit', samplePayloads.edit())); // FORBIDDEN_ROLE
    carol.send('this is not JSON'); // BAD_JSON
    await refusedUpgrade(relay.url); // AUTH_TOKEN_MISSING

    // Everything above has been handled once its last effect has arrived.
    for (const client of [alice, bob, vic]) await client.next('chat.message', (f) => f.payload.content === 'two');
    await alice.next('collaboration.cursor');
    await vic.next('collaboration.cursor');
    await vic.next('error');
    await carol.next('error');
    stats = await fetchStats(relay);
  });
  after(() => relay.stop());

  it('counts the open connections and sessions', () => {
    assert.equal(stats.relay_id, 'relay-stats');
    assert.equal(stats.connections, 4);
    assert.equal(stats.sessions, 2);
    assert.equal(stats.connections_total, 4);
    assert.equal(stats.connections_refused, 1);
  });

  it('counts inbound messages by event type (valid frames only)', () => {
    assert.deepEqual(stats.messages_in, { 'collaboration.open': 3, 'chat.message': 2, 'collaboration.cursor': 1, 'collaboration.edit': 1 });
  });

  it('counts outbound messages by event type, once per recipient', () => {
    assert.deepEqual(stats.messages_out, {
      connect: 4,
      // bob's join reaches alice; vic's reaches alice and bob; carol is alone in s2.
      'session.joined': 3,
      'collaboration.snapshot': 3,
      'chat.message': 6,
      'collaboration.cursor': 2,
      error: 2,
    });
  });

  it('counts errors by code, refused upgrades included', () => {
    assert.deepEqual(stats.errors, { FORBIDDEN_ROLE: 1, BAD_JSON: 1, AUTH_TOKEN_MISSING: 1 });
  });

  it('reports the uptime in whole seconds', () => {
    const elapsed = (Date.now() - startedAt) / 1000;
    assert.ok(Number.isInteger(stats.uptime_s));
    assert.ok(stats.uptime_s >= 0 && stats.uptime_s <= Math.ceil(elapsed), `uptime ${stats.uptime_s} s after ${elapsed} s`);
  });
});
