import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { OtError, TextDocument, textType } from '../../../protocol/ot';

/** As the VS Code binding holds the editor's text (which may have lone surrogates). */
const editorMirror = (text: string) => new TextDocument(text, { surrogates: 'unchecked' });

describe('TextDocument with unchecked surrogates (the editor mirror): slice and apply', () => {
  it('slices and applies ops across chunks of a large text like a string does', () => {
    const initial = 'x'.repeat(5000) + '😀' + 'y'.repeat(10_000);
    const text = editorMirror(initial);
    let expected = initial;
    const random = (n: number) => Math.floor(Math.random() * n);
    for (let i = 0; i < 300; i++) {
      const from = random(expected.length + 1);
      const to = Math.min(expected.length, from + random(3000));
      if (/[\udc00-\udfff]/.test(expected[from] ?? '') || /[\udc00-\udfff]/.test(expected[to] ?? '')) continue;
      const op = textType.fromChange(from, expected.slice(from, to), i % 3 === 0 ? 'ins\n'.repeat(random(400)) : '');
      text.apply(op);
      expected = textType.apply(expected, op);
      assert.equal(text.length, expected.length);
      const a = random(expected.length + 1);
      assert.equal(text.slice(a, a + 5000), expected.slice(a, a + 5000));
    }
    assert.equal(text.toString(), expected);
  });

  it('takes what an editor may hold (a lone surrogate, an edit between the halves of a pair), which a checked document refuses', () => {
    const checked = new TextDocument('a😀b');
    assert.throws(
      () => checked.apply([2, 'x']),
      (e: unknown) => e instanceof OtError && e.code === 'OP_SPLITS_SURROGATE',
    );
    assert.throws(
      () => checked.apply([1, '\ud83d']),
      (e: unknown) => e instanceof OtError && e.code === 'OP_SPLITS_SURROGATE',
    );
    assert.equal(checked.toString(), 'a😀b');
    const text = editorMirror('a😀b');
    text.apply([2, 'x']);
    text.apply([1, '\ud83d']);
    assert.equal(text.toString(), 'a\ud83d\ud83dx\ude00b');
    assert.equal(text.slice(1, 3), '\ud83d\ud83d');
  });

  it('refuses an op that does not fit, and stays as it was', () => {
    const text = editorMirror('hello');
    assert.throws(
      () => text.apply([1, { d: 'x' }]),
      (e: unknown) => e instanceof OtError && e.code === 'OP_DELETE_MISMATCH',
    );
    assert.throws(
      () => text.apply([6, 'x']),
      (e: unknown) => e instanceof OtError && e.code === 'OP_OUT_OF_RANGE',
    );
    assert.equal(text.toString(), 'hello');
    text.apply([{ d: 'hello' }]);
    assert.equal(text.toString(), '');
    text.apply(['again']);
    assert.equal(text.toString(), 'again');
  });

  it('matches string slicing for any edits (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 200 }),
        fc.array(fc.tuple(fc.nat(), fc.nat(50), fc.string({ maxLength: 20 })), { maxLength: 20 }),
        (initial, edits) => {
          const safe = (s: string) => s.replace(/[\ud800-\udfff]/g, '?');
          let expected = safe(initial);
          const text = editorMirror(expected);
          for (const [at, len, ins] of edits) {
            const from = at % (expected.length + 1);
            const to = Math.min(expected.length, from + len);
            const op = textType.fromChange(from, expected.slice(from, to), safe(ins));
            text.apply(op);
            expected = textType.apply(expected, op);
          }
          assert.equal(text.toString(), expected);
        },
      ),
    );
  });
});
