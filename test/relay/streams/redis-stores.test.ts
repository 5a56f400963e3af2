import { after, before, describe } from 'node:test';
import { RedisConnections } from '../../../relay/redis/redis-connection';
import { RedisStreamStore } from '../../../relay/streams/redis-stream-store';
import { RedisWindowStore } from '../../../relay/streams/redis-window-store';
import { type RedisServer, startRedisServer } from '../../support/redis-server';
import { streamStoreContract } from './stream-store.contract';
import { windowStoreContract } from './window-store.contract';

// Needs /usr/bin/redis-server: the test's own, on a free port.
describe('Redis stream and window stores', () => {
  let redis: RedisServer;
  let counter = 0;
  const connections = () => RedisConnections.open(redis.url, { name: `streams-${++counter}` });
  before(async () => {
    redis = await startRedisServer();
  });
  after(() => redis?.dispose());

  describe('RedisStreamStore', () =>
    streamStoreContract(async () => new RedisStreamStore(await connections(), { prefix: `t${counter}:` })));
  describe('RedisWindowStore', () =>
    windowStoreContract(async () => new RedisWindowStore(await connections(), { prefix: `t${counter}:`, ttlMs: 60_000 })));
});
