import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { RedisAnswerRegistry } from '../../../relay/ai/redis-answer-registry';
import type { Publication } from '../../../relay/broker/broker';
import { RedisBroker } from '../../../relay/broker/redis-broker';
import { RedisPresenceStore } from '../../../relay/broker/redis-presence';
import { RedisDebugStateStore } from '../../../relay/debugging/redis-debug-state-store';
import { RedisDocumentStore } from '../../../relay/documents/redis-document-store';
import { RedisConnections } from '../../../relay/redis/redis-connection';
import { RedisOutageMonitor } from '../../../relay/redis/redis-outage';
import { RedisSessionStore } from '../../../relay/sessions/redis-session-store';
import { RedisStreamStore } from '../../../relay/streams/redis-stream-store';
import { RedisWindowStore } from '../../../relay/streams/redis-window-store';
import { startRedisCluster } from '../../support/redis-cluster';
import { waitUntil, within } from '../../support/wait';
import { answerRegistryContract } from '../ai/answer-registry.contract';
import { brokerContract } from '../broker/broker.contract';
import { presenceContract } from '../broker/presence.contract';
import { debugStateStoreContract } from '../debugging/debug-state-store.contract';
import { documentStoreContract } from '../documents/document-store.contract';
import { sessionStoreContract } from '../sessions/session-store.contract';
import { streamStoreContract } from '../streams/stream-store.contract';
import { windowStoreContract } from '../streams/window-store.contract';

// Needs /usr/bin/redis-server and redis-cli: a Redis Cluster of the test's own (3 masters, 3
// replicas, free ports). The stores' contracts run on it as they run on one Redis.
const cluster = startRedisCluster();
const closers: Array<() => Promise<void>> = [];
let relays = 0;

async function connections(): Promise<RedisConnections> {
  const redis = await RedisConnections.openCluster((await cluster).startupNodes, {
    name: `cluster-relay-${++relays}`,
    connectTimeoutMs: 10_000,
    maxReconnectDelayMs: 500,
  });
  closers.push(() => redis.close());
  return redis;
}

after(async () => {
  for (const close of closers.reverse()) await close().catch(() => undefined);
  await (await cluster).dispose();
});

brokerContract('redis cluster', async (historySize) => new RedisBroker(await connections(), { relayId: `b${relays}`, historySize }));

documentStoreContract('redis cluster', async (options) => {
  const redis = await connections();
  const broker = new RedisBroker(redis, { relayId: `d${relays}`, livenessIntervalMs: 0 });
  const store = new RedisDocumentStore(redis, options);
  return {
    store,
    broker,
    close: async () => {
      await store.close();
      await broker.close();
    },
  };
});

presenceContract('redis cluster', async () => new RedisPresenceStore(await connections(), `p${relays}`));
describe('AnswerRegistry on Redis Cluster', () =>
  answerRegistryContract(
    async () => new RedisAnswerRegistry(await connections(), { relayId: 'x', leaseMs: 60_000, prefix: `a${relays}:` }),
  ));
debugStateStoreContract('redis cluster', async (options) => new RedisDebugStateStore(await connections(), options), { shared: true });
sessionStoreContract('redis cluster', async () => new RedisSessionStore(await connections()), { shared: true });
describe('Stream and window stores on Redis Cluster', () => {
  describe('RedisStreamStore', () => streamStoreContract(async () => new RedisStreamStore(await connections(), { prefix: `s${relays}:` })));
  describe('RedisWindowStore', () =>
    windowStoreContract(async () => new RedisWindowStore(await connections(), { prefix: `w${relays}:`, ttlMs: 60_000 })));
});

describe('Redis Cluster', () => {
  it('puts every key and channel of a session in one slot, and spreads sessions over the masters', async () => {
    const redis = await connections();
    const broker = new RedisBroker(redis, { relayId: 'slots', livenessIntervalMs: 0 });
    const documents = new RedisDocumentStore(redis, {});
    const sessions = Array.from({ length: 12 }, (_, i) => `ses-slots-${process.pid}-${i}`);
    for (const session of sessions) {
      await broker.publish(`session:{${session}}`, { eventType: 'chat.message', data: '{}' }, { history: true });
      await documents.create(session, 'src/a.ts', 'hello');
    }
    const { command } = redis;
    const masters = new Set<string>();
    for (const session of sessions) {
      const keys = [
        ...(await scanAll(redis, `tandem:*{${session}}*`)),
        `tandem:session:{${session}}`, // the session channel
        `tandem:doc:{${session}}\u0000src/a.ts`, // the document channel
      ];
      assert.ok(keys.length >= 5, `the session's keys: ${keys.join(', ')}`);
      const slots = new Set(await Promise.all(keys.map(async (key) => (await cluster).keySlot(key))));
      assert.equal(slots.size, 1, `${session}: ${keys.join(', ')} in slots ${[...slots].join(', ')}`);
      masters.add((await (await cluster).masterOf([...slots][0]!)).id);
    }
    assert.ok(masters.size >= 2, `12 sessions on ${masters.size} master(s)`);
    assert.equal(command.status, 'ready');
    await documents.close();
    await broker.close();
  });

  it('a master killed (kill -9) and its replica promoted: history kept, publications flow again, the outage seen and over', async () => {
    const redis = await connections();
    const publisherRedis = await connections();
    const monitor = new RedisOutageMonitor(redis, { probeIntervalMs: 200 });
    const events: string[] = [];
    monitor.onOutage({ down: () => events.push('down'), up: () => events.push('up') });
    const subscriber = new RedisBroker(redis, { relayId: 'failover-sub', livenessIntervalMs: 0 });
    const publisher = new RedisBroker(publisherRedis, { relayId: 'failover-pub', livenessIntervalMs: 0 });
    const channel = `session:{ses-failover-${process.pid}}`;
    const got: Publication[] = [];
    await subscriber.subscribe(channel, (p) => got.push(p));
    let last = await publisher.publish(channel, { eventType: 'chat.message', data: '1' }, { history: true });
    for (let n = 2; n <= 20; n++) last = await publisher.publish(channel, { eventType: 'chat.message', data: `${n}` }, { history: true });
    await waitUntil(() => got.length === 20, 'the 20 publications');
    // What was acknowledged has reached the replica (replication is asynchronous: WAIT for it).
    const slot = await (await cluster).keySlot(`tandem:${channel}`);
    await (await cluster).waitForReplicas(slot);
    await (await cluster).killMasterOf(slot);
    await waitUntil(() => events.includes('up'), 'the outage to be over', 20_000, 100);
    assert.deepEqual(events, ['down', 'up']);
    // Nothing of the history was lost: same epoch, every offset.
    const { publications, position, recovered } = await publisher.history(channel, { offset: 0, epoch: last.epoch }, 100);
    assert.equal(recovered, true);
    assert.deepEqual(position, last);
    assert.deepEqual(
      publications.map((p) => p.data),
      Array.from({ length: 20 }, (_, i) => `${i + 1}`),
    );
    // Publications reach the subscriber again (through the promoted replica), once each.
    const next = await publisher.publish(channel, { eventType: 'chat.message', data: '21' }, { history: true });
    assert.equal(next.offset, 21);
    await waitUntil(() => got.some((p) => p.data === '21'), 'the publication after the failover', 10_000);
    assert.deepEqual(
      got.map((p) => p.offset),
      Array.from({ length: 21 }, (_, i) => i + 1),
    );
    monitor.dispose();
    await subscriber.close();
    await publisher.close();
  });
});

async function scanAll(redis: RedisConnections, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  for (const node of redis.masters()) {
    let cursor = '0';
    do {
      const [next, found] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      keys.push(...found);
      cursor = next;
    } while (cursor !== '0');
  }
  return keys;
}

describe('Redis Cluster with AUTH (REDIS_CLUSTER_PASSWORD)', () => {
  it('connects with the nodes’ password, and refuses to start without it or with a wrong one, in one line', async () => {
    const secured = await startRedisCluster({ masters: 3, replicas: 0, password: 'cluster-secret-42' });
    try {
      const nodes = secured.startupNodes;
      // A connect timeout far longer than the test's bound: a refusal ends the wait at once.
      const open = (auth?: { password: string }) =>
        RedisConnections.configured(
          { redisUrl: undefined, redisClusterNodes: nodes, redisClusterAuth: auth },
          { name: 'auth-check', connectTimeoutMs: 120_000 },
        );
      const redis = (await open({ password: 'cluster-secret-42' }))!;
      try {
        // A session's keys on its shard, through the authenticated connections.
        const store = new RedisDocumentStore(redis);
        assert.ok(await store.create('auth-session', 'a.txt', 'locked'));
        assert.equal((await store.snapshot('auth-session', 'a.txt'))?.text, 'locked');
        await store.close();
      } finally {
        await redis.close();
      }
      for (const auth of [undefined, { password: 'wrong' }]) {
        await assert.rejects(
          within(open(auth), 20_000, 'the refusal (not the connect timeout)'),
          (error: Error) =>
            /^REDIS_CLUSTER_NODES: Redis Cluster at .* refused the relay's credentials: (NOAUTH|WRONGPASS)/.test(error.message) &&
            !error.message.includes('cluster-secret-42'),
          `connecting ${auth ? 'with a wrong password' : 'without a password'} is refused`,
        );
      }
    } finally {
      await secured.dispose();
    }
  });
});
