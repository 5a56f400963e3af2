import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OtError } from '../../../protocol/ot';
import { transformCursor, transformSelection } from '../../../protocol/ot/cursor';

describe('transformCursor', () => {
  it('moves right past text inserted before it and left past text deleted before it', () => {
    assert.equal(transformCursor(5, [2, 'abc']), 8);
    assert.equal(transformCursor(5, [1, { d: 'xy' }]), 3);
    assert.equal(transformCursor(1, [2, 'abc']), 1);
    assert.equal(transformCursor(1, [2, { d: 'ab' }]), 1);
    assert.equal(transformCursor(3, [1, '😀']), 5, 'an emoji is two code units');
  });

  it('inside a deleted range, lands where the range was (after a replacement)', () => {
    assert.equal(transformCursor(3, [1, { d: 'bcde' }]), 1);
    assert.equal(transformCursor(3, [1, 'XY', { d: 'bcde' }]), 3);
    assert.equal(transformCursor(5, [1, { d: 'bcde' }]), 1, 'at the end of the range');
    assert.equal(transformCursor(6, [1, { d: 'bcde' }]), 2);
  });

  it('an insert at the cursor: others’ stays after it, own goes before it', () => {
    assert.equal(transformCursor(2, [2, 'abc']), 2);
    assert.equal(transformCursor(2, [2, 'abc'], true), 5);
    assert.equal(transformCursor(0, ['x']), 0);
    assert.equal(transformCursor(0, ['x'], true), 1);
    assert.equal(transformCursor(1, [1, { d: 'b' }, 'X'], true), 2, 'a replacement in either order');
    assert.equal(transformCursor(1, [1, 'X', { d: 'b' }], true), 2);
    assert.equal(transformCursor(1, [1, { d: 'b' }, 'X']), 1);
  });

  it('ignores later components and refuses a bad cursor or op', () => {
    assert.equal(transformCursor(0, [1, 'x']), 0);
    assert.throws(() => transformCursor(-1, []), RangeError);
    assert.throws(() => transformCursor(1.5, []), RangeError);
    assert.throws(
      () => transformCursor(0, [0]),
      (e: unknown) => e instanceof OtError && e.code === 'OP_INVALID',
    );
  });
});

describe('transformSelection', () => {
  it('moves anchor and head', () => {
    assert.deepEqual(transformSelection({ anchor: 1, head: 4 }, [2, 'xy']), { anchor: 1, head: 6 });
    assert.deepEqual(transformSelection({ anchor: 4, head: 1 }, [{ d: 'ab' }]), { anchor: 2, head: 0 });
    assert.deepEqual(transformSelection({ anchor: 2, head: 2 }, [2, 'x'], true), { anchor: 3, head: 3 });
    assert.deepEqual(transformSelection({ anchor: 2, head: 2 }, [2, 'x']), { anchor: 2, head: 2 });
  });
});
