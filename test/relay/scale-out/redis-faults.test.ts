import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { ConfigError } from '../../../relay/config/config';
import { OtPeer, prng, randomEdit } from '../../support/ot-peer';
import { type RedisServer, startRedisServer } from '../../support/redis-server';
import { httpRequest, jsonBody, openDocument, startTestRelay, type TestRelay } from '../../support/relay-fixture';
import { sleep, waitUntil } from '../../support/wait';

// Needs /usr/bin/redis-server: each test starts its own (it kills or freezes it).
const DOC = 'notes/live.md';
const MARKER = /⟦[^⟧]*⟧/gu;
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

/**
 * Peers on both relays insert unique markers (and make other random edits around them) until
 * `stop()` resolves; then every marker must be in the text exactly once, on every peer and relay.
 */
class EditingRun {
  readonly peers: OtPeer[] = [];
  readonly inserted: string[] = [];
  edits = 0;
  private stopped = false;
  private loops: Promise<void>[] = [];

  constructor(private readonly relays: TestRelay[]) {}

  /** `editors` peers edit; `watchers` more only follow the document (they never send anything). */
  async start(editors: number, watchers = 0): Promise<void> {
    for (let i = 0; i < editors + watchers; i++) {
      const relay = this.relays[i % this.relays.length]!;
      const peer = new OtPeer(relay.url, relay.token({ user: `user-${i}` }), `client-${i}`, DOC, 'shared notes 👋🏽\n');
      this.peers.push(peer);
      await peer.start();
    }
    this.loops = this.peers.slice(0, editors).map((peer, i) => this.edit(peer, prng(7000 + i)));
  }

  /** The revision a newcomer sees now. */
  async revision(relay: TestRelay): Promise<number> {
    const watcher = await relay.connect(`newcomer-${Date.now()}`, { role: 'viewer' });
    const { rev } = await openDocument(watcher, DOC);
    watcher.close();
    return rev;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
  }

  /** Waits until at least `n` more edits have been made. */
  async further(n: number, what: string): Promise<void> {
    const target = this.edits + n;
    await waitUntil(() => this.edits >= target, what, 20_000, 10);
  }

  async assertConverged(): Promise<void> {
    const { peers } = this;
    await waitUntil(() => peers.every((p) => p.settled || p.problems.length > 0), 'every client in step', 25_000, 20);
    assert.deepEqual(peers.flatMap((p) => p.problems), []);
    await waitUntil(() => new Set(peers.map((p) => p.doc!.revision)).size === 1, 'every client at one revision', 10_000);
    for (const relay of this.relays) {
      const watcher = await relay.connect(`watcher-${relay.relay.relayId}-${Date.now()}`, { role: 'viewer' });
      const snapshot = await openDocument(watcher, DOC);
      watcher.close();
      for (const peer of peers) {
        assert.equal(peer.doc!.revision, snapshot.rev, `${peer.clientId} revision`);
        assert.equal(peer.text, snapshot.text, `${peer.clientId} text`);
      }
    }
    const found = peers[0]!.text.match(MARKER) ?? [];
    assert.deepEqual([...found].sort(), [...this.inserted].sort(), 'every marker exactly once: no edit lost, none applied twice');
  }

  dispose(): void {
    for (const peer of this.peers) peer.dispose();
  }

  private async edit(peer: OtPeer, random: () => number): Promise<void> {
    for (let n = 0; !this.stopped; n++) {
      await sleep(1 + Math.floor(random() * 6));
      if (!peer.doc) continue;
      const spans = [...peer.text.matchAll(MARKER)].map((m): [number, number] => [m.index, m.index + m[0].length]);
      const marker = random() < 0.4 ? `⟦${peer.clientId}#${n}⟧` : undefined;
      const op = randomEdit(peer.text, random, { protectedSpans: spans, insert: marker });
      if (!op) continue;
      peer.edit(op);
      this.edits++;
      if (marker) this.inserted.push(marker);
    }
  }
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
    const before = await run.revision(a);
    await redis.kill();
    await sleep(300); // down for a moment: commits fail, their senders are told to rejoin
    await redis.start();
    for (const relay of [a, b]) await waitUntil(async () => (await healthOf(relay)).status === 200, `${relay.relay.relayId} healthy`, 15_000, 100);
    const recovered = await run.revision(b);
    assert.ok(recovered >= before, `revision ${recovered} after the crash, ${before} before`);
    await run.further(150, 'edits after the restart');
    await run.stop();
    await run.assertConverged();
    assert.ok(run.peers[0]!.doc!.revision > recovered, 'commits went on after the restart');
    // The watchers sent nothing, so nothing failed for them: their relays told them to rejoin,
    // because a relay's subscriptions may have missed commits while they were down.
    for (const watcher of run.peers.slice(4)) assert.ok(watcher.connects >= 2, `${watcher.clientId} rejoined`);

    const watcher = await b.connect('watcher', { role: 'viewer' });
    assert.deepEqual(await openDocument(watcher, 'idle.md'), { document: 'idle.md', rev: 1, text: '» kept as it was 😀' });
    for (const relay of [a, b]) await waitUntil(async () => (await healthOf(relay)).status === 200, `${relay.relay.relayId} healthy`, 15_000, 100);
  });

  it('Redis unreachable for a while (frozen): /health says 503 and redis down, then both recover and editing goes on', async () => {
    const { redis, a, b } = await twoRelays('none');
    const run = new EditingRun([a, b]);
    runs.push(run);
    await run.start(4, 1);
    await run.further(100, 'edits before the outage');
    redis.freeze();
    let during: Array<{ status: number; redis: string; overall: string }>;
    try {
      during = await Promise.all([a, b].map(healthOf));
    } finally {
      redis.thaw();
    }
    for (const health of during) assert.deepEqual(health, { status: 503, redis: 'down', overall: 'unavailable' });
    for (const relay of [a, b]) {
      await waitUntil(async () => (await healthOf(relay)).status === 200, `${relay.relay.relayId} healthy again`, 15_000, 100);
      const check = await httpRequest(`${relay.httpUrl}/health/redis`);
      assert.equal(check.status, 200);
      assert.equal(jsonBody<{ status: string }>(check).status, 'up');
    }
    const recovered = await run.revision(a);
    await run.further(100, 'edits after the outage');
    await run.stop();
    await run.assertConverged();
    assert.ok(run.peers[0]!.doc!.revision > recovered, 'commits went on after the outage');
  });

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
