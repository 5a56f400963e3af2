import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { apply } from '../../../protocol/ot/apply';
import { rebaseByText } from '../../../protocol/ot/rebase-by-text';
import type { TextOp } from '../../../protocol/ot/text-op';

const MARKER = /\[[a-z]\d+\]/g;
const markersOf = (text: string) => (text.match(MARKER) ?? []).sort();

/** Both ways round to the same text: the edits on `to`, and `to`'s change on the editor's text. */
function rebased(from: string, pending: TextOp, to: string): string {
  const { rebased, incoming } = rebaseByText(from, pending, to);
  const result = apply(to, rebased);
  assert.equal(apply(apply(from, pending), incoming), result, 'the editor lands on the same text');
  return result;
}

/** Texts of markers ("[a1]") and separators, some empty so that markers touch. */
const separator = fc.constantFrom('', '', ' ', '\n', 'x');
const tokens = (letter: string) =>
  fc.array(fc.tuple(fc.nat(99), separator), { maxLength: 5 }).map((a) => a.map(([n, s]) => `[${letter}${n}]${s}`));

describe('rebaseByText: edits carried onto a text whose history is unknown', () => {
  it('edits outside the changed span land exactly where they were made', () => {
    assert.equal(rebased('hello world', [9, 'X'], 'hello worldly'), 'hello worXldly');
    assert.equal(rebased('hello world', [1, 'X'], 'hello there world'), 'hXello there world');
    assert.equal(rebased('same', [2, 'X'], 'same'), 'saXme');
  });

  it('an insert whose place is gone lands after the new text, never inside a word someone typed', () => {
    // "[0.2][0.0]" and "[1.1]" agree on the first "[" and the last "]": the changed span's new
    // text is "1.1", a fragment of a word. Found by the recovery property (seed 954040318).
    assert.equal(rebased('[0.2][0.0]', [5, '[0.3]'], '[1.1]'), '[1.1][0.3]');
    assert.equal(rebased('one [0.2][0.0] two', [9, 'X'], 'one [1.1] two'), 'one [1.1]X two');
    // Where the span already ends between words, nothing is widened.
    assert.equal(rebased('a bc d', [3, 'X'], 'a QQ d'), 'a QQX d');
  });

  it('a delete of text the span replaced is dropped; the rest of the edit is kept', () => {
    assert.equal(rebased('ab cd ef', [{ d: 'ab' }, 1, { d: 'cd' }], 'ab XY ef'), ' XY ef');
  });

  it('every marker of the new text and every inserted one comes out once and whole', () => {
    fc.assert(
      fc.property(
        tokens('s'),
        tokens('f'),
        tokens('t'),
        tokens('e'),
        fc.array(fc.nat(), { minLength: 1, maxLength: 3 }),
        (shared, fromOnly, toOnly, end, places) => {
          const from = [...shared, ...fromOnly, ...end].join('');
          const to = [...shared, ...toOnly, ...end].join('');
          // The pending edit inserts a marker at a few token boundaries of `from`.
          const bounds = [0, ...[...shared, ...fromOnly, ...end].map((_, i, a) => a.slice(0, i + 1).join('').length)];
          const at = [...new Set(places.map((p) => bounds[p % bounds.length]!))].sort((a, b) => a - b);
          const pending: TextOp = [];
          let last = 0;
          at.forEach((p, k) => {
            if (p > last) pending.push(p - last);
            pending.push(`[p${k}]`);
            last = p;
          });
          const result = rebased(from, pending, to);
          assert.deepEqual(markersOf(result), markersOf(to + at.map((_, k) => `[p${k}]`).join('')));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
