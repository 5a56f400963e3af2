import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ClusterViewStore, RelayView } from '../../../relay/operator/cluster-view-store';
import { MemoryClusterViewStore } from '../../../relay/operator/memory-cluster-view-store';
import { RedisClusterViewStore } from '../../../relay/operator/redis-cluster-view-store';
import { RedisConnections } from '../../../relay/redis/redis-connection';
import { type RedisServer, startRedisServer } from '../../support/redis-server';
import { waitUntil } from '../../support/wait';

const view = (relayId: string, sessions = 1): RelayView => ({
  relay_id: relayId,
  at: Date.now(),
  sessions: Array.from({ length: sessions }, (_, i) => ({
    session_id: `s${i}`,
    participants: [{ user_id: 'alice', display_name: 'Alice', role: 'host', connection_id: `${relayId}.${i}` }],
    documents: [{ document_id: 'src/a.ts', rev: 3, length: 120 }],
    chat_messages: i,
  })),
});

/** What every ClusterViewStore does: one view per relay, replaced by the next, gone when it expires or is removed. */
function clusterViewStoreContract(create: () => Promise<ClusterViewStore>): void {
  it('keeps one view per relay, the latest', async () => {
    const store = await create();
    await store.put(view('relay-a', 1), 60_000);
    await store.put(view('relay-b', 2), 60_000);
    await store.put(view('relay-a', 3), 60_000);
    const views = (await store.all()).sort((a, b) => a.relay_id.localeCompare(b.relay_id));
    assert.deepEqual(
      views.map((v) => [v.relay_id, v.sessions.length]),
      [
        ['relay-a', 3],
        ['relay-b', 2],
      ],
    );
    assert.deepEqual(views[1], { ...view('relay-b', 2), at: views[1]!.at });
    await store.close();
  });

  it('forgets a view when it expires or its relay removes it', async () => {
    const store = await create();
    await store.put(view('short'), 150);
    await store.put(view('long'), 60_000);
    await store.put(view('leaving'), 60_000);
    await store.remove('leaving');
    await waitUntil(async () => (await store.all()).length === 1, 'the short-lived view to expire', 5000, 50);
    assert.deepEqual(
      (await store.all()).map((v) => v.relay_id),
      ['long'],
    );
    await store.close();
  });
}

describe('ClusterViewStore', () => {
  describe('MemoryClusterViewStore', () => clusterViewStoreContract(async () => new MemoryClusterViewStore()));

  describe('RedisClusterViewStore', () => {
    let redis: RedisServer;
    let counter = 0;
    before(async () => {
      redis = await startRedisServer();
    });
    after(() => redis?.dispose());
    const create = async () =>
      new RedisClusterViewStore(await RedisConnections.open(redis.url, { name: `views-${++counter}` }), { prefix: `v${counter}:` });
    clusterViewStoreContract(create);

    it('skips a key that is not a view (another version, or garbage)', async () => {
      const connections = await RedisConnections.open(redis.url, { name: 'views-garbage' });
      const store = new RedisClusterViewStore(connections, { prefix: 'g:' });
      await connections.command.set('g:{operator}:view:broken', '{"relay_id": 1');
      await connections.command.set('g:{operator}:view:odd', '{"relay_id": "odd"}');
      await connections.command.zadd('g:{operator}:views', Date.now() + 60_000, 'broken', Date.now() + 60_000, 'odd');
      await store.put(view('fine'), 60_000);
      assert.deepEqual(
        (await store.all()).map((v) => v.relay_id),
        ['fine'],
      );
      await store.close();
    });
  });
});
