import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { textType } from '../../../protocol/ot';
import { changesToOp, type ContentChange, sameEffect } from '../../../extension/collab/changes';
import { stringLineIndex, toDocumentText } from '../../../extension/collab/eol';
import { TextDocument } from '../../../protocol/ot/text-document';

const mirror = (text: string) => new TextDocument(text, { surrogates: 'unchecked' });

/** A change as VS Code reports it for a document with `docText`: from and to are document offsets. */
function change(docText: string, from: number, to: number, text: string): ContentChange {
  const index = stringLineIndex(docText, docText.includes('\r'));
  const start = index.positionAt(from);
  const end = index.positionAt(to);
  return { range: { start, end }, rangeOffset: from, rangeLength: to - from, text };
}

describe('changesToOp', () => {
  it('turns a change of a CRLF document into wire offsets, its inserted CRLF into LF', () => {
    const doc = 'ab\r\ncd\r\n';
    const wire = mirror('ab\ncd\n');
    // Replaces "b\r\nc" (document offsets 1..5) with "X\r\nY".
    assert.deepEqual(changesToOp([change(doc, 1, 5, 'X\r\nY')], true, wire), [1, 'X\nY', { d: 'b\nc' }]);
    // Deletes the second line break.
    assert.deepEqual(changesToOp([change(doc, 6, 8, '')], true, wire), [5, { d: '\n' }]);
  });

  it('makes one op of a multi-cursor event (descending changes against the text before it)', () => {
    const doc = 'one\ntwo\nthree\n';
    const changes = [change(doc, 8, 8, '> '), change(doc, 4, 4, '> '), change(doc, 0, 3, 'ONE')];
    assert.deepEqual(changesToOp(changes, false, mirror(doc)), ['ONE', { d: 'one' }, 1, '> ', 4, '> ']);
  });

  it('trims a replacement to what changes, so an EOL switch is a no-op', () => {
    const doc = 'a\r\nb\r\n';
    assert.deepEqual(changesToOp([change(doc, 0, doc.length, 'a\nb\n')], true, mirror('a\nb\n')), []);
    assert.deepEqual(changesToOp([change('hello', 0, 5, 'help!')], false, mirror('hello')), [3, 'p!', { d: 'lo' }]);
    // Never half a surrogate pair: 😀 and 😃 share their first code unit.
    assert.deepEqual(changesToOp([change('😀', 0, 2, '😃')], false, mirror('😀')), ['😃', { d: '😀' }]);
  });

  it('takes changes in another order one after the other', () => {
    const doc = 'abc';
    // Ascending, each against the text the previous one left (not what VS Code sends, but valid).
    const op = changesToOp([change(doc, 0, 0, 'X'), change('Xabc', 2, 3, 'Y')], false, mirror(doc));
    assert.equal(textType.apply(doc, op), 'XaYc');
  });

  it('gives the op that turns the text before into the text after (random multi-change events)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('a', 'b', '\n', '😀'), { maxLength: 30 }),
        fc.array(fc.tuple(fc.nat(), fc.nat(3), fc.constantFrom('', 'x', '\n', 'y\nz', '😀')), { maxLength: 5 }),
        fc.boolean(),
        (pieces, picks, crlf) => {
          const wire = pieces.join('');
          const docText = toDocumentText(wire, crlf);
          // Non-overlapping ranges at code point boundaries, never inside a CRLF, in descending order.
          const bounds = [...new Set(picks.map(([at]) => boundaryAt(docText, at % (docText.length + 1))))].sort((x, y) => y - x);
          const changes: ContentChange[] = [];
          let limit = docText.length;
          let after = docText;
          for (let i = 0; i < bounds.length; i++) {
            const from = bounds[i]!;
            const [, len, text] = picks[i]!;
            let to = from;
            for (let k = 0; k < len && to < limit; k++) to = boundaryAt(docText, to + 1);
            to = Math.min(to, limit);
            if (to < from) continue;
            const docInsert = toDocumentText(text, crlf);
            changes.push(change(docText, from, to, docInsert));
            after = after.slice(0, from) + docInsert + after.slice(to);
            limit = from;
          }
          const op = changesToOp(changes, crlf, mirror(wire));
          assert.equal(textType.apply(wire, op), after.replace(/\r\n/g, '\n'));
        },
      ),
    );
  });
});

/** The nearest offset at or after `at` that is not inside a CRLF or a surrogate pair. */
function boundaryAt(text: string, at: number): number {
  let pos = Math.min(at, text.length);
  while (pos > 0 && pos < text.length && ((text[pos - 1] === '\r' && text[pos] === '\n') || /[\udc00-\udfff]/.test(text[pos]!))) pos++;
  return pos;
}

describe('sameEffect', () => {
  const text = mirror('hello world');
  it('recognises the same edit in another form', () => {
    assert.ok(sameEffect([6, 'W', { d: 'w' }], [6, 'W', { d: 'w' }], text));
    // VS Code may trim a replacement or merge touching ones.
    assert.ok(sameEffect([6, 'World', { d: 'world' }], [6, 'W', { d: 'w' }], text));
    assert.ok(sameEffect([2, 'LL', { d: 'll' }, 'O', { d: 'o' }], [2, 'LLO', { d: 'llo' }], text));
  });
  it('tells different edits apart', () => {
    assert.ok(!sameEffect([6, 'W', { d: 'w' }], [5, 'W'], text));
    assert.ok(!sameEffect([0, 'x'], [1, 'x'], text));
    assert.ok(!sameEffect([11, 'x'], [10, 'x'], text));
  });
});
