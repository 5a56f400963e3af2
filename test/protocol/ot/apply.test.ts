import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OtError, type OtErrorCode } from '../../../protocol/ot';
import { apply, checkOp } from '../../../protocol/ot/apply';
import type { TextOp } from '../../../protocol/ot/text-op';

function throwsCode(fn: () => unknown, code: OtErrorCode, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof OtError, `expected an OtError, got ${String(e)}`);
    assert.equal(e.code, code);
    if (message) assert.match(e.message, message);
    return true;
  });
}

describe('apply', () => {
  it('retains, inserts and deletes', () => {
    assert.equal(apply('hello world', [6, { d: 'world' }, 'there']), 'hello there');
    assert.equal(apply('hello', ['> ']), '> hello');
    assert.equal(apply('hello', [5, '!']), 'hello!');
    assert.equal(apply('hello', [{ d: 'hello' }]), '');
    assert.equal(apply('', ['a\nb']), 'a\nb');
    assert.equal(apply('', []), '');
    assert.equal(apply('abc', []), 'abc');
    assert.equal(apply('abc', [1, 'X', { d: 'b' }, 1]), 'aXc', 'a trailing retain is allowed');
  });

  it('counts UTF-16 code units: an emoji is two', () => {
    assert.equal(apply('a😀b', [3, 'X']), 'a😀Xb');
    assert.equal(apply('a😀b', [1, { d: '😀' }]), 'ab');
    assert.equal(apply('👍🏽', [2, '|']), '👍|🏽', 'between two astral code points is allowed');
  });

  it('refuses a retain or delete past the end: OP_OUT_OF_RANGE', () => {
    throwsCode(() => apply('abc', [4]), 'OP_OUT_OF_RANGE', /retains to 4, past the end of the document \(3\)/);
    throwsCode(() => apply('abc', [2, { d: 'cd' }]), 'OP_OUT_OF_RANGE', /deletes to 4/);
    throwsCode(() => apply('', [1]), 'OP_OUT_OF_RANGE');
  });

  it('refuses a delete whose text is not the document’s: OP_DELETE_MISMATCH', () => {
    throwsCode(() => apply('abc', [1, { d: 'c' }]), 'OP_DELETE_MISMATCH', /deletes "c" at 1, but the document has "b"/);
    throwsCode(() => apply('abc', [{ d: 'abd' }]), 'OP_DELETE_MISMATCH');
  });

  it('refuses a boundary inside a surrogate pair or a lone surrogate: OP_SPLITS_SURROGATE', () => {
    throwsCode(() => apply('a😀b', [2, 'X']), 'OP_SPLITS_SURROGATE', /component 0 ends at 2/);
    throwsCode(() => apply('a😀b', [2]), 'OP_SPLITS_SURROGATE');
    throwsCode(() => apply('a😀b', [1, { d: '\uD83D' }]), 'OP_SPLITS_SURROGATE');
    throwsCode(() => apply('😀', [{ d: '😀' }, '\uDE00']), 'OP_SPLITS_SURROGATE', /lone surrogate/);
    throwsCode(() => apply('ab', [1, 'x\uD83D']), 'OP_SPLITS_SURROGATE');
  });

  it('refuses a malformed op or document: OP_INVALID', () => {
    throwsCode(() => apply('abc', [0]), 'OP_INVALID');
    throwsCode(() => apply('abc', [{ d: 1 }] as unknown as TextOp), 'OP_INVALID');
    throwsCode(() => apply('abc', [{ d: 'a', x: 1 }] as unknown as TextOp), 'OP_INVALID', /only the key "d"/);
    throwsCode(() => apply('abc', 'x' as unknown as TextOp), 'OP_INVALID');
    throwsCode(() => apply(3 as unknown as string, []), 'OP_INVALID');
  });
});

describe('checkOp', () => {
  it('without a document checks the shape and the inserted text', () => {
    checkOp([]);
    checkOp([3, 'a😀', { d: 'anything' }, 99]);
    throwsCode(() => checkOp([0]), 'OP_INVALID');
    throwsCode(() => checkOp(null), 'OP_INVALID');
    throwsCode(() => checkOp([{ d: 'x', i: 'y' }]), 'OP_INVALID');
    throwsCode(() => checkOp(['\uD83D']), 'OP_SPLITS_SURROGATE');
  });

  it('with a document refuses exactly what apply refuses', () => {
    checkOp([1, 'X', { d: 'b' }], 'abc');
    throwsCode(() => checkOp([4], 'abc'), 'OP_OUT_OF_RANGE');
    throwsCode(() => checkOp([{ d: 'b' }], 'abc'), 'OP_DELETE_MISMATCH');
    throwsCode(() => checkOp([1], '😀'), 'OP_SPLITS_SURROGATE');
    throwsCode(() => checkOp([-1], 'abc'), 'OP_INVALID');
    throwsCode(() => checkOp([], 5 as unknown as string), 'OP_INVALID');
  });

  it('narrows unknown input to a TextOp', () => {
    const input: unknown = JSON.parse('[2, "x", {"d": "c"}]');
    checkOp(input, 'abc');
    assert.equal(apply('abc', input), 'abx');
  });
});
