import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { ensureRelayBuilt } from '../../support/cli';
import { FakeModelServer } from '../../support/fake-model-server';
import { type RedisServer, startRedisServer } from '../../support/redis-server';
import { openTestClient, startTestRelay, TEST_SECRET, type TestClient, type TestRelay } from '../../support/relay-fixture';
import { RelayProcess } from '../../support/relay-process';
import { AI_KEY, aiSettings, answerAt, ask, cancel, chunksOf, joined, refusalOf } from './ai-helpers';

// Needs /usr/bin/redis-server: the test's own, on a free port.
/** AI answers across relays on one Redis: any relay's participants see every answer, once, in order. */
describe('AI answers across two relays on one Redis', () => {
  let redis: RedisServer;
  let model: FakeModelServer;
  let a: TestRelay;
  let b: TestRelay;
  let counter = 0;
  const sessions = () => [`ai-two-${process.pid}-${++counter}`];
  const settings = (id: string) =>
    aiSettings(model.baseUrl, { RELAY_ID: id, REDIS_URL: redis.url, AI_MAX_CONCURRENT_PER_SESSION: '1', AI_LEASE_MS: '600' });

  before(async () => {
    redis = await startRedisServer();
    model = await FakeModelServer.start();
    a = await startTestRelay(settings('relay-a'));
    b = await startTestRelay(settings('relay-b'));
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
    await model?.close();
    await redis?.dispose();
  });
  afterEach((t) => {
    model.release();
    redis.printLogIfFailed(t);
  });

  it('an answer served by one relay reaches everyone on both, the same chunks in order, one done', async () => {
    const s = sessions();
    const clients = [
      await a.connect('alice', { sessions: s }),
      await b.connect('bob', { sessions: s }),
      await b.connect('carol', { sessions: s }),
    ];
    const deltas = Array.from({ length: 60 }, (_, i) => `w${i} `);
    model.enqueue({ deltas, delayMs: 2 });
    ask(clients[0]!, 'x1');
    const seen = [];
    for (const client of clients) {
      assert.equal((await client.next('ai.request')).payload.request_id, 'x1');
      const chunks = await answerAt(client, 'x1');
      assert.equal(joined(chunks), deltas.join(''));
      assert.deepEqual([chunks.at(-1)!.outcome, chunks.at(-1)!.text], ['completed', deltas.join('')]);
      seen.push(chunks);
    }
    assert.deepEqual(seen[1], seen[0]);
    assert.deepEqual(seen[2], seen[0]);
  });

  it('cancel from the other relay: the asker’s other connection may, someone else may not', async () => {
    const s = sessions();
    const alice = await a.connect('alice', { sessions: s });
    const aliceElsewhere = await b.connect('alice', { sessions: s });
    const bob = await b.connect('bob', { sessions: s });
    model.enqueue({ deltas: ['a', 'b'], holdAfter: 1 });
    ask(alice, 'x2');
    await bob.next('ai.response', (f) => f.payload.request_id === 'x2');
    cancel(bob, 'x2');
    assert.equal((await refusalOf(bob, 'x2')).payload.code, 'AI_FORBIDDEN');
    cancel(aliceElsewhere, 'x2');
    for (const client of [alice, bob]) {
      const last = (await answerAt(client, 'x2')).at(-1)!;
      assert.deepEqual([last.outcome, last.cancelled_by, last.text], ['cancelled', 'alice', 'a']);
    }
  });

  it('the session’s limit and request ids hold across relays', async () => {
    const s = sessions();
    const alice = await a.connect('alice', { sessions: s });
    const bob = await b.connect('bob', { sessions: s });
    model.enqueue({ holdAfter: 1 });
    ask(alice, 'x3');
    await bob.next('ai.response', (f) => f.payload.request_id === 'x3');
    ask(bob, 'x3');
    assert.equal((await refusalOf(bob, 'x3')).payload.code, 'AI_REQUEST_ID_IN_USE');
    ask(bob, 'x4');
    assert.equal((await refusalOf(bob, 'x4')).payload.code, 'AI_TOO_MANY_REQUESTS');
    model.release();
    await answerAt(bob, 'x3');
    ask(bob, 'x4');
    assert.equal((await answerAt(alice, 'x4')).at(-1)!.outcome, 'completed', 'room again, served by the other relay');
  });
});

/**
 * The relay serving an answer is killed (SIGKILL) in the middle of it: when its lease runs out,
 * the other relay ends the answer for everyone with AI_RELAY_LOST and the text published so far.
 */
describe('AI answers: the serving relay dies mid-answer', () => {
  let redis: RedisServer;
  let model: FakeModelServer;
  let serving: RelayProcess;
  let other: TestRelay;
  const clients: TestClient[] = [];

  before(async () => {
    ensureRelayBuilt();
    redis = await startRedisServer();
    model = await FakeModelServer.start();
    const common = aiSettings(model.baseUrl, { REDIS_URL: redis.url, AI_LEASE_MS: '600', AUTH_SECRET: TEST_SECRET });
    serving = await RelayProcess.start({ ...common, RELAY_ID: 'relay-dies' });
    other = await startTestRelay({ ...common, RELAY_ID: 'relay-lives' });
  });
  after(async () => {
    for (const client of clients) client.socket.terminate();
    await serving?.kill();
    await other?.stop();
    await model?.close();
    await redis?.dispose();
  });

  it('the other relay’s clients get the failed last chunk, once, after every chunk they saw', async () => {
    const s = ['ai-dies'];
    const alice = await openTestClient(`${serving.url}?token=${serving.token({ user: 'alice', sessions: s })}`);
    const bob = await other.connect('bob', { sessions: s });
    const carol = await other.connect('carol', { sessions: s });
    clients.push(alice);
    model.enqueue({ deltas: ['first ', 'second ', 'third'], holdAfter: 2 });
    ask(alice, 'd1');
    await bob.until(() => joined(chunksOf(bob, 'd1').map((f) => f.payload)) === 'first second ', 'the first two deltas at bob');
    await serving.kill();
    for (const client of [bob, carol]) {
      const chunks = await answerAt(client, 'd1', 15_000);
      const last = chunks.at(-1)!;
      assert.deepEqual([last.outcome, last.error?.code], ['failed', 'AI_RELAY_LOST']);
      assert.equal(last.text, 'first second ', 'what was published before the relay died');
      assert.equal(joined(chunks), 'first second ');
      assert.equal(last.model, 'fake-model');
      assert.ok(chunksOf(client, 'd1').every((f) => f.user_id === 'alice'));
    }
    assert.deepEqual(
      chunksOf(carol, 'd1').map((f) => f.payload),
      chunksOf(bob, 'd1').map((f) => f.payload),
    );
    assert.ok(!serving.log.includes(AI_KEY), 'the key is not in the dead relay’s log');
  });

  it('a graceful stop of the serving relay ends its answers itself; the key is in none of its log lines', async () => {
    await serving.restart();
    const s = ['ai-stops'];
    const alice = await openTestClient(`${serving.url}?token=${serving.token({ user: 'alice', sessions: s })}`);
    clients.push(alice);
    const bob = await other.connect('bob', { sessions: s });
    model.enqueue({ deltas: ['only ', 'this'], holdAfter: 1 });
    ask(alice, 'd2');
    await bob.next('ai.response', (f) => f.payload.request_id === 'd2');
    await serving.stop();
    const last = (await answerAt(bob, 'd2')).at(-1)!;
    assert.deepEqual([last.outcome, last.error?.code, last.text], ['failed', 'AI_RELAY_LOST', 'only ']);
    assert.match(last.error!.message, /shutting down/, 'published by the stopping relay, not taken as an orphan');
    assert.ok(serving.records('ai answer ended').length > 0);
    assert.ok(!serving.log.includes(AI_KEY));
  });
});
