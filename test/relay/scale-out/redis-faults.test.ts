import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { ConfigError } from '../../../relay/config/config';
import { EditingRun } from '../documents/editing-run';
import { type RedisServer, startRedisServer } from '../../support/redis-server';
import { httpRequest, jsonBody, openDocument, startTestRelay, type TestRelay } from '../../support/relay-fixture';
import { sleep, waitUntil } from '../../support/wait';

// Needs /usr/bin/redis-server: each test starts its own (it kills or freezes it).
/** How long Redis stays unreachable in the outage test (the "Redis unreachable for 10 s"). */
const OUTAGE_MS = 10_000;
const settings = (id: string, url: string) => ({
  RELAY_ID: id,
  REDIS_URL: url,
  WS_MAX_MESSAGES_PER_SECOND: '100000',
  // Clients told to reconnect during an outage retry every few tens of milliseconds.
  WS_MAX_CONNECTIONS_PER_IP_PER_MINUTE: '1000000',
});

interface Health {
  status: string;
  checks: { redis: { status: string } };
}

async function healthOf(relay: TestRelay): Promise<{ status: number; redis: string; overall: string }> {
  const response = await httpRequest(`${relay.httpUrl}/health`, {}, 10_000);
  const body = jsonBody<Health>(response);
  return { status: response.status, redis: body.checks.redis.status, overall: body.status };
}

describe('Redis faults: relays ride them out', () => {
  const servers: RedisServer[] = [];
  const relays: TestRelay[] = [];
  const runs: EditingRun[] = [];
  afterEach(async (t) => {
    for (const run of runs.splice(0)) run.dispose();
    for (const relay of relays.splice(0)) await relay.stop();
    for (const server of servers.splice(0)) {
      server.printLogIfFailed(t);
      await server.dispose();
    }
  });

  async function twoRelays(persistence: 'none' | 'aof-always'): Promise<{ redis: RedisServer; a: TestRelay; b: TestRelay }> {
    const redis = await startRedisServer({ persistence });
    servers.push(redis);
    const a = await startTestRelay(settings('relay-a', redis.url));
    relays.push(a);
    const b = await startTestRelay(settings('relay-b', redis.url));
    relays.push(b);
    return { redis, a, b };
  }

  it('Redis crashes and restarts (AOF, fsync always) mid-run: documents keep text and revisions, no edit lost', async () => {
    const { redis, a, b } = await twoRelays('aof-always');
    // A document nobody edits across the crash.
    const keeper = await a.connect('keeper', { role: 'host' });
    await openDocument(keeper, 'idle.md', 'kept as it was 😀');
    keeper.send({ event_type: 'collaboration.edit', payload: { document: 'idle.md', rev: 0, client_id: 'k', seq: 0, op: ['» '] } });
    await keeper.next('collaboration.ack');
    keeper.close();

    const run = new EditingRun([a, b]);
    runs.push(run);
    await run.start(4, 2);
    await run.further(150, 'edits before the crash');
    const before = (await run.current(a)).rev;
    await redis.kill();
    await sleep(300); // down for a moment: commits fail, their senders are told to rejoin
    await redis.start();
    for (const relay of [a, b])
      await waitUntil(async () => (await healthOf(relay)).status === 200, `${relay.relay.relayId} healthy`, 15_000, 100);
    const recovered = (await run.current(b)).rev;
    assert.ok(recovered >= before, `revision ${recovered} after the crash, ${before} before`);
    await run.further(150, 'edits after the restart');
    await run.stop();
    await run.assertConverged();
    assert.ok(run.peers[0]!.doc!.revision > recovered, 'commits went on after the restart');
    // The watchers sent nothing, so nothing failed for them: their relays told them to rejoin,
    // because a relay's subscriptions may have missed commits while they were down.
    for (const watcher of run.peers.slice(4)) assert.ok(watcher.connects >= 2, `${watcher.clientId} rejoined`);

    const watcher = await b.connect('watcher', { role: 'viewer' });
    const idle = await openDocument(watcher, 'idle.md');
    assert.deepEqual([idle.rev, idle.text], [1, '» kept as it was 😀'], 'nothing lost: the same epoch goes on');
    for (const relay of [a, b])
      await waitUntil(async () => (await healthOf(relay)).status === 200, `${relay.relay.relayId} healthy`, 15_000, 100);
  });

  it(
    'Redis unreachable for 10 s (frozen): /health 503 and /health/redis down throughout, then both recover by themselves and editing ' +
      'goes on',
    async () => {
      const { redis, a, b } = await twoRelays('none');
      const run = new EditingRun([a, b]);
      runs.push(run);
      await run.start(4, 1);
      await run.further(100, 'edits before the outage');
      const frozenAt = Date.now();
      redis.freeze();
      try {
        for (const relay of [a, b]) {
          await waitUntil(async () => (await healthOf(relay)).status === 503, `${relay.relay.relayId} unhealthy`, OUTAGE_MS, 100);
        }
        await sleep(Math.max(0, frozenAt + OUTAGE_MS - Date.now()));
        for (const relay of [a, b]) {
          assert.deepEqual(
            await healthOf(relay),
            { status: 503, redis: 'down', overall: 'unavailable' },
            `${relay.relay.relayId} after ${OUTAGE_MS} ms`,
          );
          const check = await httpRequest(`${relay.httpUrl}/health/redis`, {}, 10_000);
          assert.equal(check.status, 503);
          assert.equal(jsonBody<{ status: string }>(check).status, 'down');
        }
      } finally {
        redis.thaw();
      }
      for (const relay of [a, b]) {
        await waitUntil(async () => (await healthOf(relay)).status === 200, `${relay.relay.relayId} healthy again`, 20_000, 100);
        const check = await httpRequest(`${relay.httpUrl}/health/redis`);
        assert.equal(check.status, 200);
        assert.equal(jsonBody<{ status: string }>(check).status, 'up');
      }
      const recovered = (await run.current(a)).rev;
      await run.further(100, 'edits after the outage');
      await run.stop();
      await run.assertConverged();
      assert.ok(run.peers[0]!.doc!.revision > recovered, 'commits went on after the outage');
    },
  );

  it('Redis unreachable at start-up: the relay does not start, and says why in one line', async () => {
    const redis = await startRedisServer();
    servers.push(redis);
    await redis.stop();
    await assert.rejects(startTestRelay(settings('relay-nowhere', redis.url)), (error: Error) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /^REDIS_URL: Redis at redis:\/\/127\.0\.0\.1:\d+\/? is not reachable: no connection within \d+ ms/);
      assert.doesNotMatch(error.message, /\n/);
      return true;
    });
  });
});
