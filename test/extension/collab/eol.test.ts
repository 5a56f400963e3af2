import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { textType } from '../../../protocol/ot';
import {
  crFix,
  positionAtWire,
  stringLineIndex,
  toDocumentText,
  toWireText,
  wireLength,
  wireOffsetAt,
  withoutCr,
} from '../../../extension/collab/eol';

describe('eol', () => {
  it('turns CRLF (and a lone CR) into LF on the wire, and back for a CRLF document', () => {
    assert.equal(toWireText('a\r\nb\rc\n'), 'a\nb\nc\n');
    assert.equal(toWireText('plain\n'), 'plain\n');
    assert.equal(toDocumentText('a\nb\n', true), 'a\r\nb\r\n');
    assert.equal(toDocumentText('a\nb\n', false), 'a\nb\n');
  });

  it('maps positions of a CRLF document to wire offsets and back', () => {
    const index = stringLineIndex('ab\r\n\r\ncd😀\r\ne');
    assert.equal(index.crlf, true);
    assert.equal(wireLength(index), 'ab\n\ncd😀\ne'.length);
    assert.equal(wireOffsetAt(index, 0, 2), 2);
    assert.equal(wireOffsetAt(index, 1, 0), 3);
    assert.equal(wireOffsetAt(index, 2, 0), 4);
    assert.equal(wireOffsetAt(index, 3, 1), 10);
    assert.deepEqual(positionAtWire(index, 3), { line: 1, character: 0 });
    assert.deepEqual(positionAtWire(index, 8), { line: 2, character: 4 });
    assert.deepEqual(positionAtWire(index, 10), { line: 3, character: 1 });
  });

  it('round-trips every wire offset, for CRLF and LF documents alike', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('a', 'b', '\n', '😀', 'é'), { maxLength: 60 }), fc.boolean(), (pieces, crlf) => {
        const wire = pieces.join('');
        const index = stringLineIndex(toDocumentText(wire, crlf));
        const lines = wire.split('\n');
        assert.equal(wireLength(index), wire.length);
        let offset = 0;
        lines.forEach((line, lineNo) => {
          for (let character = 0; character <= line.length; character++) {
            assert.deepEqual(positionAtWire(index, offset + character), { line: lineNo, character });
            assert.equal(wireOffsetAt(index, lineNo, character), offset + character);
          }
          offset += line.length + 1;
        });
      }),
    );
  });
});

describe('a \\r on the wire', () => {
  it('is shown as a line break (withoutCr) and shared so that it reads the same (crFix)', () => {
    const op = [2, 'one\r\ntwo\rthree'];
    const base = 'x\ny';
    const after = textType.apply(base, op);
    assert.equal(textType.apply(base, withoutCr(op)), 'x\none\ntwo\nthreey');
    assert.equal(textType.apply(after, crFix(op)), textType.apply(base, withoutCr(op)));
    assert.equal(withoutCr([1, 'plain']).length, 2);
  });

  it('two editors fixing a CRLF at once leave one line break', () => {
    const op = ['a\r\nb'];
    const text = textType.apply('', op);
    const mine = crFix(op);
    const theirs = crFix(op);
    const server = textType.apply(textType.apply(text, mine), textType.transform(theirs, mine, 'right'));
    assert.equal(server, 'a\nb');
  });
});
