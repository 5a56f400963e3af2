import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { apply } from '../../../protocol/ot/apply';
import { diffOp } from '../../../protocol/ot/diff';
import { isNormalized, loneSurrogateAt, type TextOp } from '../../../protocol/ot/text-op';

const CHARS = ['a', 'b', ' ', '\n', 'é', '😀', '😁', '👋🏽'];
const text = fc.array(fc.constantFrom(...CHARS), { maxLength: 12 }).map((a) => a.join(''));
/** `b` as `a` with a few random changes, so that the two share a prefix and a suffix. */
const related = fc
  .tuple(text, text, text, text)
  .map(([prefix, middle, other, suffix]) => [prefix + middle + suffix, prefix + other + suffix] as const);

const inserts = (op: TextOp) => op.filter((c) => typeof c === 'string');
const deletes = (op: TextOp) => op.filter((c) => typeof c === 'object');

describe('diffOp', () => {
  it('nothing for equal texts; a plain insert, delete or replacement otherwise', () => {
    assert.deepEqual(diffOp('same', 'same'), []);
    assert.deepEqual(diffOp('', 'new'), ['new']);
    assert.deepEqual(diffOp('old', ''), [{ d: 'old' }]);
    assert.deepEqual(diffOp('hello world', 'hello brave world'), [6, 'brave ']);
    assert.deepEqual(diffOp('one two three', 'one 2 three'), [4, '2', { d: 'two' }]);
  });

  it('never splits a surrogate pair: 😀 and 😁 share their high surrogate', () => {
    assert.deepEqual(diffOp('a😀b', 'a😁b'), [1, '😁', { d: '😀' }]);
    assert.deepEqual(diffOp('😀', '😁'), ['😁', { d: '😀' }]);
  });

  it('turns `from` into `to`, as one normalized replacement of the span between the common prefix and suffix', () => {
    fc.assert(
      fc.property(fc.oneof(related, fc.tuple(text, text)), ([a, b]) => {
        const op = diffOp(a, b);
        if (a === b) return assert.deepEqual(op, []);
        assert.equal(apply(a, op), b); // apply also refuses an op that splits a pair
        assert.ok(isNormalized(op));
        assert.ok(inserts(op).length <= 1 && deletes(op).length <= 1, 'one replacement');
        for (const c of op)
          if (typeof c !== 'number') assert.equal(loneSurrogateAt(typeof c === 'string' ? c : c.d), -1, 'no half of a pair');
        // Minimal up to a pair boundary: the replaced span is at most one code unit wider at each end.
        let prefix = 0;
        while (prefix < Math.min(a.length, b.length) && a[prefix] === b[prefix]) prefix++;
        const retained = typeof op[0] === 'number' ? op[0] : 0;
        assert.ok(retained === prefix || retained === prefix - 1, `retains ${retained} of a common prefix of ${prefix}`);
      }),
      { numRuns: 500 },
    );
  });
});
