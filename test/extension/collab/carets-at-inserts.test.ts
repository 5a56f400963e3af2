import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { caretsAtInserts, keptCarets } from '../../../extension/collab/carets-at-inserts';
import { stringLineIndex } from '../../../extension/collab/eol';

describe('carets at a remote insert stay before it', () => {
  it('notes a caret at an insert point, and puts it back when VS Code pushed it past the insert', () => {
    const before = stringLineIndex('ab\ncd');
    // The caret after "c" (wire 4); the op inserts "XY" there and "!" at the start.
    const op = ['!', 4, 'XY', 1];
    const noted = caretsAtInserts(op, before, [{ line: 1, character: 1 }]);
    assert.deepEqual(noted, [{ selection: 0, kept: 5, pushed: 7 }]);
    const after = stringLineIndex('!ab\ncXYd');
    assert.deepEqual([...keptCarets(noted, after, [{ line: 1, character: 3 }])!], [[0, { line: 1, character: 1 }]]);
  });

  it('leaves carets elsewhere, ranges, and carets that did not move where VS Code pushes them', () => {
    const before = stringLineIndex('abcd');
    const op = [2, 'X', 2];
    assert.deepEqual(caretsAtInserts(op, before, [{ line: 0, character: 1 }, undefined]), []);
    const noted = caretsAtInserts(op, before, [{ line: 0, character: 2 }]);
    const after = stringLineIndex('abXcd');
    assert.equal(keptCarets(noted, after, [{ line: 0, character: 2 }]), undefined, 'already before the insert');
    assert.equal(keptCarets(noted, after, [{ line: 0, character: 5 }]), undefined, 'moved by the user meanwhile');
  });

  it('counts deletes before the insert point and maps CRLF documents through wire offsets', () => {
    const before = stringLineIndex('ab\r\ncd', true);
    // Delete "a", insert "Z" after "c" (wire 4).
    const op = [{ d: 'a' }, 3, 'Z', 1];
    const noted = caretsAtInserts(op, before, [{ line: 1, character: 1 }]);
    assert.deepEqual(noted, [{ selection: 0, kept: 3, pushed: 4 }]);
    const after = stringLineIndex('b\r\ncZd', true);
    assert.deepEqual([...keptCarets(noted, after, [{ line: 1, character: 2 }])!], [[0, { line: 1, character: 1 }]]);
  });

  it('a caret at the start of a replacement (an input method’s next step) stays before the new text, whichever order the op has', () => {
    const before = stringLineIndex('abcn');
    const after = stringLineIndex('abcに');
    for (const op of [
      [3, { d: 'n' }, 'に'],
      [3, 'に', { d: 'n' }],
    ]) {
      const noted = caretsAtInserts(op, before, [{ line: 0, character: 3 }]);
      assert.deepEqual(noted, [{ selection: 0, kept: 3, pushed: 4 }], JSON.stringify(op));
      assert.deepEqual([...keptCarets(noted, after, [{ line: 0, character: 4 }])!], [[0, { line: 0, character: 3 }]]);
    }
    assert.deepEqual(caretsAtInserts([3, { d: 'n' }], before, [{ line: 0, character: 3 }]), [], 'a delete alone moves no caret');
  });
});
