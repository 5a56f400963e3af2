import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsonBytes } from '../../../extension/terminal/output-coalescer';
import { keepEnd, ScrollbackBuffer, scrollbackFrames } from '../../../extension/terminal/scrollback-buffer';

describe('a shared terminal’s scrollback', () => {
  it('numbers the pieces and gives those after a seq, with no gap while everything is kept', () => {
    const buffer = new ScrollbackBuffer(100);
    assert.deepEqual(buffer.since(0), { pieces: [], gap: false, seq: 0 });
    assert.deepEqual(
      ['a', 'b', 'c'].map((data) => buffer.append(data).seq),
      [1, 2, 3],
    );
    assert.deepEqual(buffer.since(0), {
      pieces: [
        { seq: 1, data: 'a' },
        { seq: 2, data: 'b' },
        { seq: 3, data: 'c' },
      ],
      gap: false,
      seq: 3,
    });
    assert.deepEqual(buffer.since(2).pieces, [{ seq: 3, data: 'c' }]);
    assert.deepEqual(buffer.since(3), { pieces: [], gap: false, seq: 3 });
  });

  it('drops the oldest pieces beyond its bound, and says so to a guest that had not seen them', () => {
    const buffer = new ScrollbackBuffer(10);
    for (const data of ['1234', '5678', 'abcd', 'efgh']) buffer.append(data);
    assert.equal(buffer.length, 8);
    assert.deepEqual(
      buffer.since(0).pieces.map((p) => p.seq),
      [3, 4],
    );
    assert.equal(buffer.since(0).gap, true, 'a late joiner missed pieces 1 and 2');
    assert.equal(buffer.since(1).gap, true);
    assert.equal(buffer.since(2).gap, false, 'a guest that had piece 2 missed nothing');
  });

  it('keeps the end of a piece larger than the bound, from a line start', () => {
    const buffer = new ScrollbackBuffer(10);
    buffer.append('first line\r\nsecond\r\n');
    assert.deepEqual(buffer.since(0), { pieces: [{ seq: 1, data: 'second\r\n' }], gap: true, seq: 1 });
    assert.equal(keepEnd('abcdef', 3), 'def');
    assert.equal(keepEnd('ab\ncdef', 5), 'cdef');
    assert.equal(keepEnd('a😀b', 2), 'b', 'never half a surrogate pair');
    assert.equal(keepEnd('short', 10), 'short');
  });

  it('answers a catch-up in as few frames as fit, gap on the first and done on the last', () => {
    const buffer = new ScrollbackBuffer(1000);
    for (let i = 0; i < 10; i++) buffer.append('x'.repeat(30));
    const frames = scrollbackFrames(buffer.since(0), 100, jsonBytes);
    assert.deepEqual(
      frames.map((f) => [f.seq, f.data.length, f.gap, f.done]),
      [
        [3, 90, false, false],
        [6, 90, false, false],
        [9, 90, false, false],
        [10, 30, false, true],
      ],
    );
    assert.deepEqual(scrollbackFrames(buffer.since(10), 100, jsonBytes), [{ seq: 10, data: '', gap: false, done: true }]);
    const small = new ScrollbackBuffer(5);
    small.append('abc');
    small.append('defg');
    assert.deepEqual(scrollbackFrames(small.since(0), 100, jsonBytes), [{ seq: 2, data: 'defg', gap: true, done: true }]);
  });
});
