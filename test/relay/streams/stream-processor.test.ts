import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ModelPerformanceRecord } from '../../../relay/ai/model-performance';
import { RedisConnections } from '../../../relay/redis/redis-connection';
import { LiveAggregates } from '../../../relay/streams/live-aggregates';
import { MemoryStreamStore } from '../../../relay/streams/memory-stream-store';
import { MemoryWindowStore } from '../../../relay/streams/memory-window-store';
import { RedisStreamStore } from '../../../relay/streams/redis-stream-store';
import { RedisWindowStore } from '../../../relay/streams/redis-window-store';
import { encodeEntry, type FeedbackEntry } from '../../../relay/streams/stream-entries';
import { StreamProcessor } from '../../../relay/streams/stream-processor';
import type { StreamStore } from '../../../relay/streams/stream-store';
import type { WindowStore } from '../../../relay/streams/window-store';
import { type RedisServer, startRedisServer } from '../../support/redis-server';

interface Stores {
  streams: StreamStore;
  windows: WindowStore;
  /** Another handle on the same data (another relay's connections), for a second consumer. */
  again(): Promise<{ streams: StreamStore; windows: WindowStore }>;
  close(): Promise<void>;
}

const feedback = (rating: FeedbackEntry['rating'], n = 0): FeedbackEntry => ({
  relay_id: 'relay-a',
  at: new Date().toISOString(),
  user_hash: `u${n}`,
  rating,
  about: { kind: 'product' },
});

const answer = (model: string, totalMs: number, n: number): ModelPerformanceRecord => ({
  model,
  request_id: `q${n}`,
  session_hash: 'abc',
  relay_id: 'relay-a',
  started_at: new Date().toISOString(),
  time_to_first_token_ms: 10,
  total_ms: totalMs,
  tokens_in: 5,
  tokens_out: 10,
  tokens_estimated: false,
  tokens_per_second: 20,
  answer_chars: 40,
  outcome: 'completed',
});

/** A window store that dies (throws) after recording `survive` observations: a consumer killed mid-batch. */
function dyingAfter(windows: WindowStore, survive: number): WindowStore {
  let left = survive;
  return {
    add: async (stream, observation) => {
      if (left-- <= 0) throw new Error('killed');
      return windows.add(stream, observation);
    },
    since: (...args) => windows.since(...args),
    close: () => windows.close(),
  };
}

function processorSuite(create: () => Promise<Stores>): void {
  const processor = (stores: { streams: StreamStore; windows: WindowStore }, consumer: string, claimIdleMs = 60_000, batchSize = 4) =>
    new StreamProcessor(stores.streams, stores.windows, { group: 'g', consumer, claimIdleMs, batchSize, batchesPerPass: 1 });
  const aggregates = (windows: WindowStore) => new LiveAggregates(windows, { relayId: 'test', windowMs: 60_000 }).refresh();

  it('two consumers share the entries: each processed once, all acknowledged', async () => {
    const stores = await create();
    const other = await stores.again();
    const [a, b] = [processor(stores, 'a'), processor(other, 'b')];
    await a.ensureGroups();
    for (let i = 0; i < 10; i++) await stores.streams.append('feedback', encodeEntry('feedback', feedback(4, i)), 1000);
    for (let i = 0; i < 6; i++)
      await stores.streams.append('model_performance', encodeEntry('model_performance', answer('m', 100 * (i + 1), i)), 1000);
    // Interleaved, as two relays' timers would be; bounded.
    for (let round = 0; round < 10; round++) {
      const [first, second] = [await a.processOnce(), await b.processOnce()];
      if (first.processed + second.processed === 0) break;
    }
    assert.equal(a.totals.processed + b.totals.processed, 16);
    assert.ok(a.totals.processed > 0 && b.totals.processed > 0, `shared: a ${a.totals.processed}, b ${b.totals.processed}`);
    assert.equal(a.totals.duplicates + b.totals.duplicates, 0);
    assert.equal((await stores.streams.pending('feedback', 'g')).count, 0);
    const result = await aggregates(stores.windows);
    assert.equal(result.feedback.count, 10);
    assert.equal(result.feedback.average_rating, 4);
    assert.deepEqual(
      result.models.map(({ model, answers, total_ms }) => ({ model, answers, total_ms })),
      [{ model: 'm', answers: 6, total_ms: { p50: 300, p95: 600, p99: 600 } }],
    );
    await other.streams.close();
    await other.windows.close();
    await stores.close();
  });

  it('a consumer killed mid-way (some recorded, none acknowledged): another claims them, and each counts once', async () => {
    const stores = await create();
    const other = await stores.again();
    const dying = new StreamProcessor(stores.streams, dyingAfter(stores.windows, 2), { group: 'g', consumer: 'dies', claimIdleMs: 60_000 });
    await dying.ensureGroups();
    const ratings = [1, 2, 3, 4, 5] as const;
    for (const [i, rating] of ratings.entries())
      await stores.streams.append('feedback', encodeEntry('feedback', feedback(rating, i)), 1000);
    await assert.rejects(dying.processOnce(), /killed/);
    assert.deepEqual(await stores.streams.pending('feedback', 'g'), { count: 5, consumers: { dies: 5 } }, 'read, never acknowledged');
    assert.equal((await aggregates(stores.windows)).feedback.count, 2, 'two were recorded before it died');

    // A live consumer that has not waited long enough leaves them; with the idle time passed, it takes them over.
    assert.equal((await processor(other, 'lives', 60_000).processOnce()).claimed, 0);
    const pass = await processor(other, 'lives', 0, 10).processOnce();
    assert.deepEqual(pass, { processed: 3, duplicates: 2, claimed: 5, invalid: 0 });
    assert.deepEqual(await stores.streams.pending('feedback', 'g'), { count: 0, consumers: {} });
    const result = await aggregates(stores.windows);
    assert.equal(result.feedback.count, 5, 'every entry once');
    assert.equal(result.feedback.average_rating, 3);
    await other.streams.close();
    await other.windows.close();
    await stores.close();
  });

  it('acknowledges and skips an entry that is not its stream’s format', async () => {
    const stores = await create();
    const consumer = processor(stores, 'a');
    await consumer.ensureGroups();
    await stores.streams.append('metrics', '{"not":"a sample"}', 1000);
    await stores.streams.append('metrics', 'not json', 1000);
    assert.deepEqual(await consumer.processOnce(), { processed: 0, duplicates: 0, claimed: 0, invalid: 2 });
    assert.equal((await stores.streams.pending('metrics', 'g')).count, 0);
    await stores.close();
  });

  it('keeps each stream within its retention bound while processing', async () => {
    const stores = await create();
    const consumer = processor(stores, 'a');
    await consumer.ensureGroups();
    for (let i = 0; i < 500; i++) await stores.streams.append('feedback', encodeEntry('feedback', feedback('up', i)), 50);
    const length = await stores.streams.length('feedback');
    assert.ok(length >= 50 && length <= 150, `length ${length}`);
    for (let round = 0; round < 100 && (await consumer.processOnce()).processed > 0; round++);
    assert.equal(consumer.totals.processed, length, 'what was kept, processed');
    await stores.close();
  });
}

describe('StreamProcessor in memory', () =>
  processorSuite(async () => {
    const streams = new MemoryStreamStore();
    const windows = new MemoryWindowStore();
    return { streams, windows, again: async () => ({ streams, windows }), close: async () => {} };
  }));

// Needs /usr/bin/redis-server: the test's own, on a free port.
describe('StreamProcessor on Redis', () => {
  let redis: RedisServer;
  let counter = 0;
  before(async () => {
    redis = await startRedisServer();
  });
  after(() => redis?.dispose());
  const open = async (prefix: string) => {
    const connections = await RedisConnections.open(redis.url, { name: `processor-${++counter}` });
    return {
      streams: new RedisStreamStore(connections, { prefix }),
      windows: new RedisWindowStore(connections, { prefix, ttlMs: 120_000 }),
    };
  };
  processorSuite(async () => {
    const prefix = `p${++counter}:`;
    const stores = await open(prefix);
    return {
      ...stores,
      again: () => open(prefix),
      close: async () => {
        await stores.streams.close();
        await stores.windows.close();
      },
    };
  });
});
