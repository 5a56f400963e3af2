import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { WindowStore } from '../../../relay/streams/window-store';

/** What every WindowStore does. `create` gives a fresh, empty store. */
export function windowStoreContract(create: () => Promise<WindowStore>): void {
  const observation = (ms: number, data = `d${ms}`) => ({ id: `${ms}-0`, at: ms, data });

  it('records an entry once: a second add of its id changes nothing', async () => {
    const store = await create();
    assert.equal(await store.add('feedback', observation(1000, 'first')), true);
    assert.equal(await store.add('feedback', observation(1000, 'again')), false);
    assert.deepEqual(await store.since('feedback', 0, 0), [observation(1000, 'first')]);
    assert.deepEqual(await store.since('metrics', 0, 0), [], 'streams apart');
    await store.close();
  });

  it('returns the observations since a time, in order, and forgets the old ones', async () => {
    const store = await create();
    for (const ms of [3000, 1000, 4000, 2000]) await store.add('metrics', observation(ms));
    assert.deepEqual(await store.since('metrics', 2000, 0), [observation(2000), observation(3000), observation(4000)]);
    assert.deepEqual(await store.since('metrics', 0, 3000), [observation(3000), observation(4000)], 'before 3000 forgotten');
    assert.deepEqual(await store.since('metrics', 0, 0), [observation(3000), observation(4000)]);
    await store.close();
  });
}
