import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { EditingRun } from '../documents/editing-run';
import { ensureRelayBuilt } from '../../support/cli';
import { type RedisServer, startRedisServer } from '../../support/redis-server';
import { httpRequest, jsonBody } from '../../support/relay-fixture';
import { RelayProcess } from '../../support/relay-process';
import { waitUntil } from '../../support/wait';

// Needs /usr/bin/redis-server: the test's own, without persistence (no AOF, no RDB saves), so a
// restart loses every document; two relay processes (`node dist/relay.js serve`) share it.
const settings = (id: string, url: string) => ({
  RELAY_ID: id,
  REDIS_URL: url,
  WS_MAX_MESSAGES_PER_SECOND: '100000',
  // Clients told to reconnect during an outage retry every few tens of milliseconds.
  WS_MAX_CONNECTIONS_PER_IP_PER_MINUTE: '1000000',
});

async function health(relay: RelayProcess): Promise<{ status: number; redis: string }> {
  const response = await httpRequest(`${relay.httpUrl}/health`, {}, 10_000);
  return { status: response.status, redis: jsonBody<{ checks: { redis: { status: string } } }>(response).checks.redis.status };
}

describe('Redis restarts without persistence: the documents come back from the participants’ copies', () => {
  let redis: RedisServer | undefined;
  const relays: RelayProcess[] = [];
  let run: EditingRun | undefined;
  afterEach(async (t) => {
    run?.dispose();
    run = undefined;
    for (const relay of relays.splice(0)) {
      if ((t as { passed?: boolean }).passed === false)
        process.stderr.write(`--- relay :${relay.port} output ---\n${relay.log.slice(-8000)}\n---\n`);
      await relay.kill();
    }
    if (redis) {
      redis.printLogIfFailed(t);
      await redis.dispose();
      redis = undefined;
    }
  });

  it('kill -9 and an empty restart mid-run: every client resyncs to a new epoch, all converge, no marker lost or doubled', async () => {
    ensureRelayBuilt();
    redis = await startRedisServer({ persistence: 'none' });
    const a = await RelayProcess.start(settings('relay-a', redis.url));
    relays.push(a);
    const b = await RelayProcess.start(settings('relay-b', redis.url));
    relays.push(b);
    run = new EditingRun([a, b]);
    await run.start(6);
    await run.further(200, 'edits before the crash');
    const before = await run.current(b);

    // Two participants lose their connection just before: they come back behind the others.
    for (const peer of run.peers.slice(0, 2)) peer.drop();
    await redis.kill();
    const confirmed = run.confirmed(); // Redis holds nothing more from here on
    assert.ok(confirmed.size > 10, `${confirmed.size} markers confirmed before the crash`);
    for (const relay of [a, b]) await waitUntil(async () => (await health(relay)).status === 503, `${relay.port} unhealthy`, 15_000, 50);
    await run.further(20, 'edits while Redis is down'); // typed meanwhile: pending
    await redis.start();
    for (const relay of [a, b])
      await waitUntil(async () => (await health(relay)).status === 200, `${relay.port} healthy again`, 20_000, 100);

    await waitUntil(() => run!.peers.every((p) => p.resets >= 1), 'every client adopted the rebuilt document', 30_000, 20);
    const rebuilt = await run.current(a);
    assert.notEqual(rebuilt.epoch, before.epoch, 'a new epoch');
    await run.further(200, 'edits after the restart');
    await run.stop();
    const text = await run.assertConverged(40_000);
    for (const marker of confirmed) assert.ok(text.includes(marker), `${marker}, confirmed before the crash, is back`);
    for (const peer of run.peers) assert.equal(peer.doc!.epoch, rebuilt.epoch, `${peer.clientId} is in the new epoch`);
  });
});
