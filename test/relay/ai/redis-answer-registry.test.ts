import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RedisAnswerRegistry } from '../../../relay/ai/redis-answer-registry';
import { RedisConnections } from '../../../relay/redis/redis-connection';
import { type RedisServer, startRedisServer } from '../../support/redis-server';
import { waitUntil } from '../../support/wait';
import { answer, answerRegistryContract } from './answer-registry.contract';

// Needs /usr/bin/redis-server: the test's own, on a free port.
describe('RedisAnswerRegistry', () => {
  let redis: RedisServer;
  let prefixCounter = 0;
  const open = async (relayId: string, prefix: string, leaseMs = 60_000) =>
    new RedisAnswerRegistry(await RedisConnections.open(redis.url, { name: relayId }), { relayId, leaseMs, prefix });

  before(async () => {
    redis = await startRedisServer();
  });
  after(() => redis?.dispose());

  answerRegistryContract(() => open('relay-x', `t${++prefixCounter}:`));

  it('a dead relay’s answer becomes one orphan, taken by exactly one relay, with its text and an index past its chunks', async () => {
    const prefix = `t${++prefixCounter}:`;
    const dying = await open('relay-dies', prefix, 300);
    const [left, right] = [await open('relay-l', prefix), await open('relay-r', prefix)];
    const running = answer({ askerUserId: 'carol', model: 'llama' });
    assert.equal(await dying.begin(running, 4), 'ok');
    assert.equal(await dying.progress({ ...running, nextIndex: 1 }, 'Hello'), true);
    assert.equal(await dying.progress({ ...running, nextIndex: 2 }, ', world'), true);
    await dying.close(); // no more refreshes: as if it had died
    assert.deepEqual(await left.takeOrphans(), [], 'not while its lease runs');
    const taken: unknown[] = [];
    await waitUntil(
      async () => {
        taken.push(...(await left.takeOrphans()), ...(await right.takeOrphans()));
        return taken.length > 0;
      },
      'the lease to run out',
      5000,
      50,
    );
    assert.deepEqual(taken, [{ answer: { ...running, nextIndex: 2 }, text: 'Hello, world' }]);
    assert.deepEqual([...(await left.takeOrphans()), ...(await right.takeOrphans())], [], 'taken once');
    assert.equal(await left.get(running.sessionId, running.requestId), undefined);
    await left.close();
    await right.close();
  });

  it('a relay whose answer was taken from it hears so (progress and refresh), and cannot end it', async () => {
    const prefix = `t${++prefixCounter}:`;
    const slow = await open('relay-slow', prefix, 300);
    const other = await open('relay-other', prefix);
    const running = answer();
    await slow.begin(running, 4);
    await waitUntil(async () => (await other.takeOrphans()).length === 1, 'the lease to run out', 5000, 50);
    assert.equal(await slow.progress({ ...running, nextIndex: 1 }, 'late'), false);
    assert.deepEqual(await slow.refresh([running]), [running]);
    assert.equal(await other.begin(running, 4), 'ok', 'the id is free again');
    await slow.end(running);
    assert.ok(await other.get(running.sessionId, running.requestId), 'the slow relay did not end the new one');
    await slow.close();
    await other.close();
  });
});
