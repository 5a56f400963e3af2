import { after } from 'node:test';
import { RedisConnections } from '../../../relay/redis/redis-connection';
import { RedisDebugStateStore } from '../../../relay/debugging/redis-debug-state-store';
import { startRedisServer } from '../../support/redis-server';
import { debugStateStoreContract } from './debug-state-store.contract';

// Needs /usr/bin/redis-server: the test's own, on a free port. Each store is a relay of its own
// (its own connections); stores of one test share a key prefix, so they share the state.
const server = startRedisServer();
let counter = 0;
after(async () => (await server).dispose());

debugStateStoreContract(
  'redis',
  async (options) =>
    new RedisDebugStateStore(
      await RedisConnections.open((await server).url, { name: `relay-${++counter}`, connectTimeoutMs: 5000 }),
      options,
    ),
  { shared: true },
);
