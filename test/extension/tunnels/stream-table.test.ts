import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StreamTable } from '../../../extension/tunnels/stream-table';

describe('StreamTable (the host’s streams)', () => {
  it('keeps two guests’ streams of the same id apart, and bounds each guest', () => {
    const table = new StreamTable<string>(2);
    table.add({ requester: 'bob', streamId: 's1' }, 'web', 'bob-1');
    table.add({ requester: 'eve', streamId: 's1' }, 'web', 'eve-1');
    assert.equal(table.get({ requester: 'bob', streamId: 's1' }), 'bob-1');
    assert.equal(table.get({ requester: 'eve', streamId: 's1' }), 'eve-1');
    assert.equal(table.refusal({ requester: 'bob', streamId: 's1' }), 'in_use');
    table.add({ requester: 'bob', streamId: 's2' }, 'api', 'bob-2');
    assert.equal(table.refusal({ requester: 'bob', streamId: 's3' }), 'too_many');
    assert.equal(table.refusal({ requester: 'eve', streamId: 's3' }), undefined, 'another guest is not bounded by bob’s');
    assert.throws(() => table.add({ requester: 'bob', streamId: 's3' }, 'web', 'x'));
    assert.equal(table.delete({ requester: 'bob', streamId: 's1' }), 'bob-1');
    assert.equal(table.delete({ requester: 'bob', streamId: 's1' }), undefined);
    assert.equal(table.countOf('bob'), 1);
    assert.equal(table.refusal({ requester: 'bob', streamId: 's3' }), undefined, 'a closed stream frees a place');
  });

  it('takes a guest’s streams (it left), a share’s (unshared), or all (the connection dropped)', () => {
    const table = new StreamTable<string>(10);
    table.add({ requester: 'bob', streamId: 'a' }, 'web', 'bob-web');
    table.add({ requester: 'bob', streamId: 'b' }, 'api', 'bob-api');
    table.add({ requester: 'eve', streamId: 'a' }, 'web', 'eve-web');
    assert.deepEqual(Object.fromEntries(table.countByShare()), { web: 2, api: 1 });
    assert.deepEqual(table.take({ shareId: 'web' }).sort(), ['bob-web', 'eve-web']);
    assert.deepEqual(table.take({ requester: 'eve' }), []);
    table.add({ requester: 'eve', streamId: 'c' }, 'api', 'eve-c');
    assert.deepEqual(table.take({ streamId: 'c' }), ['eve-c'], 'by id alone (an error that names only the stream)');
    assert.equal(table.countOf('eve'), 0);
    assert.deepEqual(table.take(), ['bob-api']);
    assert.equal(table.size, 0);
    assert.equal(table.countOf('bob'), 0);
  });
});
