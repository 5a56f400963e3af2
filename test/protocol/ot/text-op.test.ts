import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OtError, type OtErrorCode } from '../../../protocol/ot';
import {
  appendDelete,
  appendInsert,
  appendRetain,
  fromChange,
  invert,
  isNoop,
  isNormalized,
  length,
  loneSurrogateAt,
  newLength,
  normalize,
  scanOp,
  splitsPair,
  type TextOp,
} from '../../../protocol/ot/text-op';

function throwsCode(fn: () => unknown, code: OtErrorCode, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof OtError, `expected an OtError, got ${String(e)}`);
    assert.ok(e instanceof Error);
    assert.equal(e.code, code);
    assert.equal(e.name, 'OtError');
    if (message) assert.match(e.message, message);
    return true;
  });
}

describe('scanOp (shape)', () => {
  it('accepts retains, inserts and deletes, and tells whether the op is normalized', () => {
    assert.equal(scanOp([]), true);
    assert.equal(scanOp([3, 'ab', { d: 'c' }]), true);
    assert.equal(scanOp([3, 'ab', { d: 'c' }, 2]), false, 'trailing retain');
    assert.equal(scanOp([1, 2, 'a']), false, 'adjacent retains');
    assert.equal(scanOp(['a', 'b']), false, 'adjacent inserts');
    assert.equal(scanOp([{ d: 'a' }, { d: 'b' }]), false, 'adjacent deletes');
    assert.equal(scanOp([{ d: 'a' }, 'b']), false, 'delete before insert');
  });

  it('refuses anything else with OP_INVALID naming the component', () => {
    const bad: unknown[] = [
      'abc',
      null,
      { 0: 1 },
      [0],
      [-1],
      [1.5],
      [Number.NaN],
      [Number.POSITIVE_INFINITY],
      [''],
      [{ d: '' }],
      [{ d: 3 }],
      [{ i: 'x' }],
      [null],
      [[1]],
      [true],
    ];
    for (const op of bad) throwsCode(() => scanOp(op), 'OP_INVALID');
    throwsCode(() => scanOp(['a', 2, { d: 5 }]), 'OP_INVALID', /component 2 .*\{d: "text"\}/);
  });
});

describe('appenders', () => {
  it('merge same kinds, drop empties and put an insert before an adjacent delete', () => {
    const op: TextOp = [];
    appendRetain(op, 0);
    appendInsert(op, '');
    appendDelete(op, '');
    assert.deepEqual(op, []);
    appendRetain(op, 2);
    appendRetain(op, 3);
    appendDelete(op, 'x');
    appendInsert(op, 'a');
    appendDelete(op, 'y');
    appendInsert(op, 'b');
    assert.deepEqual(op, [5, 'ab', { d: 'xy' }]);
    appendRetain(op, 1);
    appendDelete(op, 'z');
    appendInsert(op, 'c');
    assert.deepEqual(op, [5, 'ab', { d: 'xy' }, 1, 'c', { d: 'z' }]);
  });

  it('never mutates a delete component it merges into', () => {
    const del = { d: 'x' };
    const op: TextOp = [del];
    appendDelete(op, 'y');
    assert.deepEqual(del, { d: 'x' });
    assert.deepEqual(op, [{ d: 'xy' }]);
  });
});

describe('normalize', () => {
  it('merges, trims and orders inserts before deletes', () => {
    assert.deepEqual(normalize([1, 2, 'a', 'b', { d: 'x' }, { d: 'y' }, 3, 4]), [3, 'ab', { d: 'xy' }]);
    assert.deepEqual(normalize([{ d: 'x' }, 'y', { d: 'z' }, 'w']), ['yw', { d: 'xz' }]);
    assert.deepEqual(normalize([5]), []);
    assert.deepEqual(normalize([]), []);
  });

  it('returns a normalized op as it is and is idempotent', () => {
    const op: TextOp = [2, 'a', { d: 'b' }];
    assert.equal(normalize(op), op);
    const messy: TextOp = [1, 1, { d: 'b' }, 'a'];
    assert.deepEqual(normalize(normalize(messy)), normalize(messy));
    assert.ok(isNormalized(normalize(messy)));
    assert.ok(!isNormalized(messy));
  });

  it('refuses a malformed op', () => {
    throwsCode(() => normalize([0] as TextOp), 'OP_INVALID');
  });
});

describe('invert', () => {
  it('swaps inserts and deletes and keeps the normal form', () => {
    assert.deepEqual(invert([2, 'ab', { d: 'x' }, 1, { d: 'y' }]), [2, 'x', { d: 'ab' }, 1, 'y']);
    assert.deepEqual(invert(['hello']), [{ d: 'hello' }]);
    assert.deepEqual(invert([]), []);
    assert.deepEqual(invert([3]), []);
  });

  it('refuses a malformed op', () => {
    throwsCode(() => invert([{ d: 2 }] as unknown as TextOp), 'OP_INVALID');
  });
});

describe('isNoop', () => {
  it('is true only for ops that change nothing', () => {
    assert.equal(isNoop([]), true);
    assert.equal(isNoop([4]), true);
    assert.equal(isNoop([4, 'a']), false);
    assert.equal(isNoop([{ d: 'a' }]), false);
  });
});

describe('length and newLength', () => {
  it('count the span in the base document and in the result, in UTF-16 code units', () => {
    const op: TextOp = [2, '😀', { d: 'abc' }, 1];
    assert.equal(length(op), 6);
    assert.equal(newLength(op), 5);
    assert.equal(newLength(op, 10), 9);
    assert.equal(length([]), 0);
    assert.equal(newLength([], 7), 7);
  });

  it('refuse a base shorter than the op spans', () => {
    throwsCode(() => newLength([3, { d: 'ab' }], 4), 'OP_OUT_OF_RANGE');
    throwsCode(() => newLength([1], -1), 'OP_OUT_OF_RANGE');
  });
});

describe('fromChange', () => {
  it('makes a normalized op for one replacement', () => {
    assert.deepEqual(fromChange(3, 'old', 'new'), [3, 'new', { d: 'old' }]);
    assert.deepEqual(fromChange(0, '', 'x'), ['x']);
    assert.deepEqual(fromChange(5, 'y', ''), [5, { d: 'y' }]);
    assert.deepEqual(fromChange(5, '', ''), []);
  });

  it('refuses a bad offset or text', () => {
    throwsCode(() => fromChange(-1, '', 'x'), 'OP_INVALID');
    throwsCode(() => fromChange(0.5, '', 'x'), 'OP_INVALID');
    throwsCode(() => fromChange(0, 1 as unknown as string, 'x'), 'OP_INVALID');
  });
});

describe('surrogate helpers', () => {
  it('loneSurrogateAt finds half pairs only', () => {
    assert.equal(loneSurrogateAt('ab😀c'), -1);
    assert.equal(loneSurrogateAt(''), -1);
    assert.equal(loneSurrogateAt('a\uD83D'), 1);
    assert.equal(loneSurrogateAt('\uDE00a'), 0);
    assert.equal(loneSurrogateAt('x\uD83Dy'), 1);
    assert.equal(loneSurrogateAt('😀\uDE00'), 2);
  });

  it('splitsPair is true only between the halves of a pair', () => {
    const doc = 'a😀b';
    assert.deepEqual(
      [0, 1, 2, 3, 4].map((p) => splitsPair(doc, p)),
      [false, false, true, false, false],
    );
    assert.equal(splitsPair('\uD83D', 1), false);
  });
});
