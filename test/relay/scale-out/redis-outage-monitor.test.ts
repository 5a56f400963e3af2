import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { RedisConnections, withTimeout } from '../../../relay/redis/redis-connection';
import { RedisOutageMonitor } from '../../../relay/redis/redis-outage';
import { type RedisServer, startRedisServer } from '../../support/redis-server';
import { waitUntil } from '../../support/wait';

// Needs /usr/bin/redis-server: each test starts its own (it stops and restarts it).
describe('RedisOutageMonitor: one relay-wide "can we reach Redis?"', () => {
  const servers: RedisServer[] = [];
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async (t) => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    for (const server of servers.splice(0)) {
      server.printLogIfFailed(t);
      await server.dispose();
    }
  });

  async function watched(probeIntervalMs: number) {
    const server = await startRedisServer();
    servers.push(server);
    const redis = await RedisConnections.open(server.url, { name: 'monitored', connectTimeoutMs: 5000, maxReconnectDelayMs: 100 });
    const monitor = new RedisOutageMonitor(redis, { probeIntervalMs });
    cleanups.push(
      () => redis.close(),
      () => monitor.dispose(),
    );
    const events: string[] = [];
    monitor.onOutage({ down: () => events.push('down'), up: () => events.push('up') });
    const ready = () => redis.command.status === 'ready' && redis.subscriber.status === 'ready';
    return { server, redis, monitor, events, ready };
  }

  it('tells Redis-unreachable failures from bugs, with the errors ioredis really throws', async () => {
    const { server, redis, monitor } = await watched(100);
    await redis.command.set('text', 'not a number');
    await assert.rejects(redis.command.incr('text'), (error) => !monitor.isUnavailableError(error), 'a command Redis refuses is no outage');
    assert.equal(monitor.isUnavailableError(new TypeError('a bug')), false);
    assert.equal(monitor.isUnavailableError('not even an error'), false);
    await assert.rejects(withTimeout(new Promise(() => undefined), 1, 'a call'), (error) => monitor.isUnavailableError(error));

    await server.stop();
    await waitUntil(() => !monitor.available, 'the outage noticed', 5000);
    await assert.rejects(redis.command.get('text'), (error) => monitor.isUnavailableError(error), 'a command while Redis is down');
    await assert.rejects(
      redis.command.multi().get('text').exec(),
      (error) => monitor.isUnavailableError(error),
      'a transaction while Redis is down',
    );
  });

  it('a connection that flaps during an outage makes one down and one up, and up only once Redis has stayed back', async () => {
    // Long enough between probes that the flapping below all happens before the first one.
    const { server, monitor, events, ready } = await watched(3000);
    await server.stop();
    await waitUntil(() => events.length === 1, 'down', 5000);
    assert.equal(monitor.available, false);
    for (let flap = 0; flap < 2; flap++) {
      await server.start();
      await waitUntil(ready, 'both connections back for a moment', 5000);
      await server.stop();
    }
    await server.start();
    await waitUntil(ready, 'both connections back', 5000);
    assert.deepEqual(events, ['down'], 'not up the moment the connections are');
    await waitUntil(() => events.length > 1, 'up', 15_000);
    assert.deepEqual(events, ['down', 'up']);
    assert.equal(monitor.available, true);

    // The next outage is a new one, announced again.
    await server.stop();
    await waitUntil(() => events.length === 3, 'down again', 5000);
    assert.deepEqual(events, ['down', 'up', 'down']);
  });
});
