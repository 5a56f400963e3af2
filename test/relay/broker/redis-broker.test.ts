import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, afterEach, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import type { Broker, Publication } from '../../../relay/broker/broker';
import { RedisBroker, type RedisBrokerOptions } from '../../../relay/broker/redis-broker';
import { type RedisConnectionOptions, RedisConnections } from '../../../relay/redis/redis-connection';
import { type RedisServer, startRedisServer } from '../../support/redis-server';
import { sleep, waitUntil, within } from '../../support/wait';
import { brokerContract } from './broker.contract';

// Needs /usr/bin/redis-server: every server here is the test's own, on a free port.
const servers: RedisServer[] = [];
const brokers: Broker[] = [];
const shared = startRedisServer();

async function ownServer(persistence: 'none' | 'aof-always' = 'none'): Promise<RedisServer> {
  const server = await startRedisServer({ persistence });
  servers.push(server);
  return server;
}

let relayCounter = 0;
async function brokerOn(
  url: string,
  options: Partial<RedisBrokerOptions> = {},
  connection: Partial<RedisConnectionOptions> = {},
): Promise<RedisBroker> {
  const relayId = options.relayId ?? `relay-${++relayCounter}`;
  const redis = await RedisConnections.open(url, { name: relayId, connectTimeoutMs: 5000, maxReconnectDelayMs: 500, ...connection });
  const broker = new RedisBroker(redis, { relayId, ...options });
  brokers.push(broker);
  return broker;
}

const message = (n: number | string) => ({ eventType: 'chat.message', data: `{"n":"${n}"}` });

/** Publications are at most once: after an outage, publish fresh ones until one arrives everywhere. */
async function publishUntilDelivered(publisher: Broker, channel: string, inboxes: Publication[][]): Promise<void> {
  let n = 0;
  const marker = `after-${Date.now()}`;
  await waitUntil(
    async () => {
      await publisher.publish(channel, message(`${marker}-${++n}`)).catch(() => undefined);
      return inboxes.every((inbox) => inbox.some((p) => p.data.includes(marker)));
    },
    'a publication after the outage at every subscriber',
    20_000,
    100,
  );
}

const healthIs = (broker: Broker, status: 'up' | 'down') => async () => (await broker.health()).status === status;

after(async () => {
  for (const broker of brokers) await broker.close();
  for (const server of [...servers, await shared]) await server.dispose();
});

brokerContract('redis', async (historySize) => brokerOn((await shared).url, { historySize }));

describe('RedisBroker', () => {
  afterEach(async (t) => {
    for (const server of [...servers, await shared]) server.printLogIfFailed(t);
  });

  it('two relays on one Redis: every publication reaches both exactly once, in offset order', async () => {
    const url = (await shared).url;
    const [one, two] = [await brokerOn(url), await brokerOn(url)];
    const channel = `two-relays-${process.pid}`;
    const inboxes: Publication[][] = [[], [], []];
    await one.subscribe(channel, (p) => inboxes[0]!.push(p));
    await one.subscribe(channel, (p) => inboxes[1]!.push(p));
    await two.subscribe(channel, (p) => inboxes[2]!.push(p));
    const each = 300;
    const positions = await Promise.all(
      Array.from({ length: each * 2 }, (_, i) => (i % 2 === 0 ? one : two).publish(channel, message(i), { history: true })),
    );
    await waitUntil(() => inboxes.every((inbox) => inbox.length >= each * 2), 'every publication at every subscriber', 20_000);
    const sent = new Map(positions.map((position, i) => [position.offset, `{"n":"${i}"}`]));
    for (const inbox of inboxes) {
      assert.deepEqual(
        inbox.map((p) => p.offset),
        Array.from({ length: each * 2 }, (_, i) => i + 1),
      );
      assert.deepEqual(
        inbox.map((p) => p.data),
        inbox.map((p) => sent.get(p.offset)),
      );
    }
    assert.equal(new Set(positions.map((p) => p.epoch)).size, 1);
  });

  it('carries channel names and data byte for byte (braces, NUL, newlines, non-ASCII)', async () => {
    const broker = await brokerOn((await shared).url);
    const channel = `doc:{odd}}\u0000path/ü/${process.pid}`;
    const data = '{"text":"line 1\\nline 2","raw":"a\nb\r\nc","emoji":"🎉"}';
    const got: Publication[] = [];
    await broker.subscribe(channel, (p) => got.push(p));
    const position = await broker.publish(channel, { eventType: 'collaboration.edit', data, exclude: 'c\n1' }, { history: true });
    await waitUntil(() => got.length === 1, 'the publication');
    assert.equal(got[0]!.data, data);
    assert.equal(got[0]!.exclude, 'c\n1');
    const { publications } = await broker.history(channel, { offset: 0, epoch: position.epoch }, 10);
    assert.deepEqual(publications, got);
  });

  it('with AOF (fsync always) a crash loses nothing: same epoch, offsets go on, nothing published twice', async () => {
    const server = await ownServer('aof-always');
    const broker = await brokerOn(server.url);
    const channel = 'durable';
    let last = await broker.publish(channel, message(1), { history: true });
    for (let n = 2; n <= 5; n++) last = await broker.publish(channel, message(n), { history: true });
    await server.kill();
    // No offline queue: a publish while Redis is down fails at once instead of waiting.
    await assert.rejects(within(broker.publish(channel, message('lost'), { history: true }), 3000, 'a publish while Redis is down'));
    await server.start();
    await waitUntil(healthIs(broker, 'up'), 'the broker to reconnect', 15_000, 50);
    const next = await broker.publish(channel, message(6), { history: true });
    assert.deepEqual(next, { offset: 6, epoch: last.epoch });
    const { publications, recovered } = await broker.history(channel, { offset: 0, epoch: last.epoch }, 100);
    assert.equal(recovered, true);
    assert.deepEqual(
      publications.map((p) => p.data),
      [1, 2, 3, 4, 5, 6].map((n) => `{"n":"${n}"}`),
    );
  });

  it('keeps idempotency keys in one hash per channel, bounded by the history window, and only in their epoch', async () => {
    const server = await ownServer();
    const broker = await brokerOn(server.url, { historySize: 5 });
    const redis = new Redis(server.url);
    try {
      // Every publication with a key of its own, as chat messages are: the hash holds the window's.
      const results = [];
      for (let n = 1; n <= 200; n++) results.push(await broker.publish('once', message(n), { history: true, idempotencyKey: `k${n}` }));
      const fields = await redis.hkeys('tandem:{once}:once');
      assert.deepEqual(fields.sort(), ['k196', 'k197', 'k198', 'k199', 'k200']);
      assert.deepEqual(await redis.keys('tandem:{once}:once:*'), [], 'no key per message');
      const last = results.at(-1)!;
      assert.equal(await redis.hget('tandem:{once}:once', 'k200'), `${last.epoch}:${last.offset}`);
      // A key left from a lost epoch (the meta hash gone, the keys not) does not swallow a message.
      await redis.del('tandem:{once}:meta');
      const fresh = await broker.publish('once', message('200 fresh'), { history: true, idempotencyKey: 'k200' });
      assert.equal(fresh.duplicate, undefined);
      assert.equal(fresh.offset, 1);
      assert.notEqual(fresh.epoch, last.epoch);
    } finally {
      redis.disconnect();
    }
  });

  it('without persistence a restart starts a new epoch, and the old position is not recovered', async () => {
    const server = await ownServer('none');
    const broker = await brokerOn(server.url);
    const channel = 'volatile';
    await broker.publish(channel, message(1), { history: true });
    const before = await broker.publish(channel, message(2), { history: true });
    await server.restart();
    await waitUntil(healthIs(broker, 'up'), 'the broker to reconnect', 15_000, 50);
    const resumed = await broker.history(channel, before, 100);
    assert.equal(resumed.recovered, false);
    assert.deepEqual(resumed.publications, []);
    assert.notEqual(resumed.position.epoch, before.epoch);
    assert.equal(resumed.position.offset, 0);
    // The position handed out above stays valid: the first new publication continues from it.
    assert.deepEqual(await broker.publish(channel, message(3), { history: true }), { offset: 1, epoch: resumed.position.epoch });
    assert.equal((await broker.history(channel, resumed.position, 100)).recovered, true);
  });

  it('re-subscribes every channel after Redis restarts, on every relay', async () => {
    const server = await ownServer();
    const [one, two] = [await brokerOn(server.url), await brokerOn(server.url)];
    const inboxes: Publication[][] = [[], [], []];
    await one.subscribe('a', (p) => inboxes[0]!.push(p));
    await one.subscribe('b', (p) => inboxes[1]!.push(p));
    await two.subscribe('a', (p) => inboxes[2]!.push(p));
    await server.restart();
    await waitUntil(async () => (await healthIs(one, 'up')()) && (await healthIs(two, 'up')()), 'both brokers to reconnect', 15_000, 50);
    await publishUntilDelivered(two, 'a', [inboxes[0]!, inboxes[2]!]);
    await publishUntilDelivered(one, 'b', [inboxes[1]!]);
  });

  it('a subscribe made while Redis is down completes once Redis is back', async () => {
    const server = await ownServer();
    const broker = await brokerOn(server.url, { subscribeTimeoutMs: 30_000 });
    await server.stop();
    const got: Publication[] = [];
    const subscribed = broker.subscribe('later', (p) => got.push(p));
    await server.start();
    await within(subscribed, 20_000, 'the subscription');
    await publishUntilDelivered(broker, 'later', [got]);
  });

  it('recovers a subscription killed on the server (CLIENT KILL TYPE pubsub)', async () => {
    const server = await ownServer();
    const broker = await brokerOn(server.url);
    const got: Publication[] = [];
    await broker.subscribe('killed', (p) => got.push(p));
    const admin = new Redis(server.url);
    try {
      assert.ok(Number(await admin.client('KILL', 'TYPE', 'pubsub')) >= 1);
    } finally {
      admin.disconnect();
    }
    await publishUntilDelivered(broker, 'killed', [got]);
  });

  it('liveness: a subscription that silently stops delivering (half-open connection) is reconnected', async () => {
    const server = await ownServer();
    const proxy = await BlackholeProxy.start(server.port);
    try {
      const broker = await brokerOn(proxy.url, { relayId: 'relay-live', livenessIntervalMs: 200, livenessTimeoutMs: 1000 });
      const got: Publication[] = [];
      await broker.subscribe('quiet', (p) => got.push(p));
      await publishUntilDelivered(broker, 'quiet', [got]);
      assert.ok(proxy.blackhole(await serverSidePort(server.url, 'relay-live:sub')), 'the subscriber connection through the proxy');
      const before = proxy.connections;
      // Nothing closes: only the end-to-end ping can notice that nothing arrives any more.
      await publishUntilDelivered(broker, 'quiet', [got]);
      assert.ok(proxy.connections > before, 'the subscriber reconnected');
    } finally {
      proxy.close();
    }
  });

  it('health: down while Redis is stopped or frozen (answers within its bound), up again afterwards', async () => {
    const server = await ownServer();
    const broker = await brokerOn(server.url, { healthTimeoutMs: 500 });
    const up = await broker.health();
    assert.equal(up.status, 'up');
    assert.equal(up.kind, 'redis');
    assert.equal(typeof up.latencyMs, 'number');
    await server.stop();
    await waitUntil(healthIs(broker, 'down'), 'health down while stopped', 10_000, 50);
    await server.start();
    await waitUntil(healthIs(broker, 'up'), 'health up after the restart', 15_000, 50);
    server.freeze();
    try {
      const frozen = await within(broker.health(), 5000, 'health while Redis is frozen');
      assert.equal(frozen.status, 'down');
    } finally {
      server.thaw();
    }
    await waitUntil(healthIs(broker, 'up'), 'health up after the thaw', 15_000, 50);
  });

  it('Redis unreachable for a while (frozen): publishes fail within the command timeout, then everything flows again', async () => {
    const server = await ownServer();
    const [one, two] = [
      await brokerOn(server.url, {}, { commandTimeoutMs: 500 }),
      await brokerOn(server.url, {}, { commandTimeoutMs: 500 }),
    ];
    const inboxes: Publication[][] = [[], []];
    await one.subscribe('frozen', (p) => inboxes[0]!.push(p));
    await two.subscribe('frozen', (p) => inboxes[1]!.push(p));
    server.freeze();
    try {
      await assert.rejects(within(one.publish('frozen', message('stuck')), 5000, 'a publish to a frozen Redis'));
      assert.equal((await within(two.health(), 5000, 'health')).status, 'down');
    } finally {
      server.thaw();
    }
    await waitUntil(async () => (await healthIs(one, 'up')()) && (await healthIs(two, 'up')()), 'both brokers up again', 15_000, 50);
    await publishUntilDelivered(two, 'frozen', inboxes);
  });

  it('open fails with one clear line, without the password, when Redis is unreachable', async () => {
    const server = await ownServer();
    await server.stop();
    const url = `redis://:s3cret@127.0.0.1:${server.port}`;
    await assert.rejects(RedisConnections.open(url, { name: 'nowhere', connectTimeoutMs: 300 }), (error: Error) => {
      assert.match(
        error.message,
        /^Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/? is not reachable: no connection within 300 ms \(.*ECONNREFUSED.*\)$/,
      );
      assert.doesNotMatch(error.message, /s3cret/);
      return true;
    });
  });

  it('logs an outage once when it begins and once when it ends, per connection', async () => {
    const server = await ownServer();
    const lines: string[] = [];
    const record = (_: unknown, line: string) => void lines.push(line);
    const log = { info: record, warn: record, error: record } as unknown as RedisConnectionOptions['log'] & RedisBrokerOptions['log'];
    const broker = await brokerOn(server.url, { log }, { log });
    await server.stop();
    await waitUntil(() => lines.length === 2, 'both connections to report the outage', 10_000);
    await sleep(1000); // several failed reconnects meanwhile: still two lines
    await server.start();
    await waitUntil(healthIs(broker, 'up'), 'the broker to reconnect', 15_000, 50);
    await waitUntil(() => lines.length === 4, 'both connections to report the end of the outage', 10_000);
    assert.deepEqual(lines.sort(), [
      'redis connection lost; reconnecting',
      'redis connection lost; reconnecting',
      'redis connection restored',
      'redis connection restored',
    ]);
  });

  it('close is idempotent and does not hang while Redis is down', async () => {
    const server = await ownServer();
    const broker = await brokerOn(server.url);
    await broker.subscribe('x', () => undefined);
    await server.kill();
    await within(Promise.all([broker.close(), broker.close()]), 5000, 'close');
    await broker.close();
    assert.equal((await broker.health()).status, 'down');
  });
});

/** The port Redis sees for the named client connection (the proxy's upstream socket's local port). */
async function serverSidePort(url: string, name: string): Promise<number> {
  const admin = new Redis(url);
  try {
    const list = String(await admin.client('LIST'));
    const line = list.split('\n').find((l) => l.includes(` name=${name} `));
    const port = Number(/ addr=[^ ]+:(\d+) /.exec(` ${line ?? ''}`)?.[1]);
    assert.ok(port > 0, `client ${name} in CLIENT LIST`);
    return port;
  } finally {
    admin.disconnect();
  }
}

/**
 * A loopback TCP proxy in front of Redis whose connections can go silent without closing, as a
 * NAT that dropped the flow would leave them (SIGSTOP would freeze every client at once).
 */
class BlackholeProxy {
  connections = 0;
  private readonly pairs = new Set<{ client: Socket; upstream: Socket }>();

  private constructor(private readonly server: Server) {}

  static async start(targetPort: number): Promise<BlackholeProxy> {
    const server = createServer();
    const proxy = new BlackholeProxy(server);
    server.on('connection', (client) => proxy.forward(client, targetPort));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return proxy;
  }

  get url(): string {
    const address = this.server.address();
    return `redis://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  }

  /** Stops forwarding both ways on the connection Redis sees from `upstreamPort`; both sockets stay open. */
  blackhole(upstreamPort: number): boolean {
    for (const pair of this.pairs) {
      if (pair.upstream.localPort !== upstreamPort) continue;
      pair.client.unpipe(pair.upstream);
      pair.upstream.unpipe(pair.client);
      pair.client.on('data', () => undefined);
      pair.upstream.on('data', () => undefined);
      return true;
    }
    return false;
  }

  close(): void {
    this.server.close();
    for (const { client, upstream } of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
  }

  private forward(client: Socket, targetPort: number): void {
    this.connections++;
    const upstream = connect(targetPort, '127.0.0.1');
    const pair = { client, upstream };
    this.pairs.add(pair);
    const end = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) {
      socket.on('error', end);
      socket.on('close', end);
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
