import assert from 'node:assert/strict';
import { it } from 'node:test';
import { compareIds, StreamGroupMissingError, type StreamStore } from '../../../relay/streams/stream-store';

/**
 * What every StreamStore does, whatever keeps it (Redis Streams' consumer-group semantics).
 * `create` gives a fresh, empty store.
 */
export function streamStoreContract(create: () => Promise<StreamStore>): void {
  it('appends entries with increasing ids and reads them back through a group', async () => {
    const store = await create();
    await store.ensureGroup('feedback', 'g');
    const ids = [
      await store.append('feedback', 'a', 100),
      await store.append('feedback', 'b', 100),
      await store.append('feedback', 'c', 100),
    ];
    assert.ok(compareIds(ids[0]!, ids[1]!) < 0 && compareIds(ids[1]!, ids[2]!) < 0, ids.join(' '));
    assert.equal(await store.length('feedback'), 3);
    assert.deepEqual(await store.readGroup('feedback', 'g', 'c1', 2), [
      { id: ids[0], data: 'a' },
      { id: ids[1], data: 'b' },
    ]);
    assert.deepEqual(await store.readGroup('feedback', 'g', 'c2', 10), [{ id: ids[2], data: 'c' }], 'each entry to one consumer');
    assert.deepEqual(await store.readGroup('feedback', 'g', 'c1', 10), [], 'nothing new');
    await store.close();
  });

  it('a group created after entries were appended starts at the beginning; ensureGroup is idempotent', async () => {
    const store = await create();
    const id = await store.append('metrics', 'x', 100);
    await store.ensureGroup('metrics', 'late');
    await store.ensureGroup('metrics', 'late');
    assert.deepEqual(await store.readGroup('metrics', 'late', 'c', 10), [{ id, data: 'x' }]);
    await store.ensureGroup('metrics', 'other');
    assert.deepEqual(await store.readGroup('metrics', 'other', 'c', 10), [{ id, data: 'x' }], 'groups read independently');
    await store.close();
  });

  it('keeps what was read pending until it is acknowledged', async () => {
    const store = await create();
    await store.ensureGroup('model_performance', 'g');
    const first = await store.append('model_performance', '1', 100);
    const second = await store.append('model_performance', '2', 100);
    await store.readGroup('model_performance', 'g', 'alpha', 1);
    await store.readGroup('model_performance', 'g', 'beta', 1);
    assert.deepEqual(await store.pending('model_performance', 'g'), { count: 2, consumers: { alpha: 1, beta: 1 } });
    assert.equal(await store.ack('model_performance', 'g', [first]), 1);
    assert.equal(await store.ack('model_performance', 'g', [first]), 0, 'acknowledged once');
    assert.deepEqual(await store.pending('model_performance', 'g'), { count: 1, consumers: { beta: 1 } });
    assert.equal(await store.ack('model_performance', 'g', [second]), 1);
    assert.deepEqual(await store.pending('model_performance', 'g'), { count: 0, consumers: {} });
    await store.close();
  });

  it('tells a group’s lag: the entries not yet delivered to it', async () => {
    const store = await create();
    await store.ensureGroup('feedback', 'g');
    assert.equal(await store.lag('feedback', 'g'), 0);
    for (const data of ['a', 'b', 'c']) await store.append('feedback', data, 100);
    assert.equal(await store.lag('feedback', 'g'), 3);
    await store.readGroup('feedback', 'g', 'c1', 2);
    assert.equal(await store.lag('feedback', 'g'), 1, 'delivered, acknowledged or not, is not lag');
    await assert.rejects(store.lag('feedback', 'nobody'), StreamGroupMissingError);
    await store.close();
  });

  it('lets another consumer claim what stayed pending for the idle time, and nothing younger', async () => {
    const store = await create();
    await store.ensureGroup('feedback', 'g');
    const id = await store.append('feedback', 'left behind', 100);
    await store.readGroup('feedback', 'g', 'dead', 10); // and never acknowledged
    assert.deepEqual(await store.claimIdle('feedback', 'g', 'alive', 60_000, 10), { entries: [], deleted: [] }, 'not idle long enough');
    assert.deepEqual(await store.claimIdle('feedback', 'g', 'alive', 0, 10), { entries: [{ id, data: 'left behind' }], deleted: [] });
    assert.deepEqual(await store.pending('feedback', 'g'), { count: 1, consumers: { alive: 1 } }, 'now the claimer’s');
    assert.deepEqual(await store.readGroup('feedback', 'g', 'alive', 10), [], 'a claim is no new delivery');
    assert.equal(await store.ack('feedback', 'g', [id]), 1);
    assert.deepEqual(await store.claimIdle('feedback', 'g', 'other', 0, 10), { entries: [], deleted: [] });
    await store.close();
  });

  it('bounds the stream: MAXLEN ~ keeps about the last maxLen entries', async () => {
    const store = await create();
    const maxLen = 20;
    let last = '';
    for (let i = 0; i < 600; i++) last = await store.append('metrics', String(i), maxLen);
    const length = await store.length('metrics');
    // Redis trims whole nodes (`~`, up to 100 entries each): at least maxLen, never the whole history.
    assert.ok(length >= maxLen && length <= maxLen + 100, `length ${length}`);
    await store.ensureGroup('metrics', 'g');
    const read = await store.readGroup('metrics', 'g', 'c', 1000);
    assert.equal(read.length, length);
    assert.equal(read.at(-1)?.id, last, 'the newest are kept');
    await store.close();
  });

  it('a pending entry trimmed away is reported as deleted when claimed, and leaves the PEL', async () => {
    const store = await create();
    await store.ensureGroup('metrics', 'g');
    const id = await store.append('metrics', 'old', 1000);
    await store.readGroup('metrics', 'g', 'dead', 1);
    for (let i = 0; i < 400; i++) await store.append('metrics', String(i), 1);
    const claimed = await store.claimIdle('metrics', 'g', 'alive', 0, 10);
    assert.deepEqual(claimed, { entries: [], deleted: [id] });
    assert.equal((await store.pending('metrics', 'g')).count, 0);
    await store.close();
  });

  it('reading through a group that does not exist is a StreamGroupMissingError', async () => {
    const store = await create();
    await store.append('feedback', 'x', 10);
    await assert.rejects(store.readGroup('feedback', 'nobody', 'c', 1), StreamGroupMissingError);
    await assert.rejects(store.claimIdle('feedback', 'nobody', 'c', 0, 1), StreamGroupMissingError);
    await store.close();
  });
}
