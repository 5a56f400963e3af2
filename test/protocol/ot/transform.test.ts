import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OtError, type OtErrorCode } from '../../../protocol/ot';
import { apply } from '../../../protocol/ot/apply';
import type { TextOp } from '../../../protocol/ot/text-op';
import { compose, transform, type Side } from '../../../protocol/ot/transform';

function throwsCode(fn: () => unknown, code: OtErrorCode): void {
  assert.throws(fn, (e: unknown) => e instanceof OtError && e.code === code);
}

/** Both orders of apply + transform; returns the converged text (asserting TP1). */
function converge(doc: string, a: TextOp, b: TextOp, aSide: Side = 'left'): string {
  const bSide: Side = aSide === 'left' ? 'right' : 'left';
  const viaB = apply(apply(doc, b), transform(a, b, aSide));
  const viaA = apply(apply(doc, a), transform(b, a, bSide));
  assert.equal(viaB, viaA);
  return viaA;
}

describe('transform', () => {
  it('shifts an op past inserts and deletes before it', () => {
    assert.deepEqual(transform([5, 'x'], [2, 'ab'], 'left'), [7, 'x']);
    assert.deepEqual(transform([5, 'x'], [1, { d: 'bc' }], 'left'), [3, 'x']);
    assert.deepEqual(transform([1, 'x'], [3, 'later'], 'left'), [1, 'x']);
  });

  it('tie-break: left puts op’s insert first, right puts it after', () => {
    assert.deepEqual(transform([2, 'A'], [2, 'B'], 'left'), [2, 'A']);
    assert.deepEqual(transform([2, 'A'], [2, 'B'], 'right'), [3, 'A']);
    assert.equal(converge('abcd', [2, 'A'], [2, 'B'], 'left'), 'abABcd');
    assert.equal(converge('abcd', [2, 'A'], [2, 'B'], 'right'), 'abBAcd');
    assert.equal(converge('', ['A'], ['B'], 'left'), 'AB');
    assert.equal(converge('ab', [2, 'A'], [2, 'B'], 'left'), 'abAB', 'at the end of the document');
  });

  it('with the documented sides, committed text goes first on the server and the client alike', () => {
    const committed: TextOp = [1, 'B'];
    const pending: TextOp = [1, 'A'];
    const onServer = apply(apply('ab', committed), transform(pending, committed, 'right'));
    const onClient = apply(apply('ab', pending), transform(committed, pending, 'left'));
    assert.equal(onServer, 'aBAb');
    assert.equal(onClient, 'aBAb');
  });

  it('tie-break holds for a replacement, whatever order its op was written in', () => {
    const replace: TextOp = [1, { d: 'b' }, 'X']; // not normalized: the insert is read as first
    assert.deepEqual(transform(replace, [1, 'Y'], 'left'), [1, 'X', 1, { d: 'b' }]);
    assert.deepEqual(transform(replace, [1, 'Y'], 'left'), transform([1, 'X', { d: 'b' }], [1, 'Y'], 'left'));
    assert.equal(converge('abc', replace, [1, 'Y'], 'left'), 'aXYc');
    assert.equal(converge('abc', replace, [1, 'Y'], 'right'), 'aYXc');
  });

  it('a delete carries exactly the text still there after overlapping deletes', () => {
    // doc "abcdef": op deletes "bcd", other deletes "cde".
    assert.deepEqual(transform([1, { d: 'bcd' }], [2, { d: 'cde' }], 'left'), [1, { d: 'b' }]);
    assert.deepEqual(transform([2, { d: 'cde' }], [1, { d: 'bcd' }], 'right'), [1, { d: 'e' }]);
    assert.deepEqual(transform([1, { d: 'bc' }], [1, { d: 'bc' }], 'left'), []);
    assert.deepEqual(transform([{ d: 'abcdef' }], [2, { d: 'cd' }], 'left'), [{ d: 'abef' }]);
    assert.equal(converge('abcdef', [1, { d: 'bcd' }], [2, { d: 'cde' }]), 'af');
  });

  it('an insert inside a deleted range survives; a delete around an insert spares it', () => {
    assert.deepEqual(transform([2, 'X'], [1, { d: 'bcd' }], 'left'), [1, 'X']);
    assert.deepEqual(transform([1, { d: 'bcd' }], [2, 'X'], 'left'), [1, { d: 'b' }, 1, { d: 'cd' }]);
    assert.equal(converge('abcde', [2, 'X'], [1, { d: 'bcd' }]), 'aXe');
  });

  it('keeps the normal form and handles empty ops', () => {
    assert.deepEqual(transform([], [3, 'x'], 'left'), []);
    assert.deepEqual(transform([1, 'a'], [], 'right'), [1, 'a']);
    const t = transform([1, { d: 'b' }, 1, 'Z'], [2, { d: 'c' }], 'left');
    assert.deepEqual(t, [1, 'Z', { d: 'b' }]);
  });

  it('refuses a bad side, a malformed op, and deletes that disagree on the text', () => {
    assert.throws(() => transform([1, 'a'], [1, 'b'], 'middle' as Side), TypeError);
    throwsCode(() => transform([0], [], 'left'), 'OP_INVALID');
    throwsCode(() => transform([], [{ d: '' }], 'left'), 'OP_INVALID');
    throwsCode(() => transform([1, { d: 'bc' }], [2, { d: 'X' }], 'left'), 'OP_DELETE_MISMATCH');
  });
});

describe('compose', () => {
  it('has the effect of the first op then the second', () => {
    assert.deepEqual(compose(['abc'], [1, { d: 'b' }]), ['ac']);
    assert.deepEqual(compose([1, { d: 'b' }], [1, 'X']), [1, 'X', { d: 'b' }]);
    assert.deepEqual(compose([2, 'x'], [5, 'y']), [2, 'x', 2, 'y']);
    assert.deepEqual(compose([{ d: 'ab' }], [{ d: 'cd' }]), [{ d: 'abcd' }]);
    assert.deepEqual(compose([1, { d: 'b' }], [{ d: 'ac' }]), [{ d: 'abc' }]);
    assert.deepEqual(compose(['hello'], [{ d: 'hello' }]), []);
    assert.deepEqual(compose([], []), []);
    const a: TextOp = [3, '😀'];
    const b: TextOp = [5, { d: 'd' }, 'Z'];
    assert.equal(apply('abcd', compose(a, b)), apply(apply('abcd', a), b));
  });

  it('refuses a second op that deletes other text than the first inserted', () => {
    throwsCode(() => compose(['abc'], [1, { d: 'x' }]), 'OP_DELETE_MISMATCH');
    throwsCode(() => compose([null] as unknown as TextOp, []), 'OP_INVALID');
    throwsCode(() => compose([], [-2]), 'OP_INVALID');
  });
});
