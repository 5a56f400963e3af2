import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { textType } from '../../../protocol/ot';
import { stringLineIndex, toDocumentText } from '../../../extension/collab/eol';
import { type Replacement, replacementsFor } from '../../../extension/collab/remote-edit';

/** Applies replacements (all against the text before, as a WorkspaceEdit does) to a document text. */
function applyReplacements(docText: string, crlf: boolean, replacements: readonly Replacement[]): string {
  const index = stringLineIndex(docText, crlf);
  const ranges = replacements.map(
    (r) => [index.offsetAt(r.start.line, r.start.character), index.offsetAt(r.end.line, r.end.character), r.text] as const,
  );
  let out = docText;
  for (const [from, to, text] of [...ranges].sort((a, b) => b[0] - a[0])) out = out.slice(0, from) + text + out.slice(to);
  return out;
}

describe('replacementsFor', () => {
  it('gives one replacement per run, in document positions and the document EOL', () => {
    const doc = 'ab\r\ncd\r\nef';
    const op = [1, 'X\nY', { d: 'b\nc' }, 2, { d: 'ef' }];
    assert.deepEqual(replacementsFor(op, stringLineIndex(doc)), [
      { start: { line: 0, character: 1 }, end: { line: 1, character: 1 }, text: 'X\r\nY' },
      { start: { line: 2, character: 0 }, end: { line: 2, character: 2 }, text: '' },
    ]);
  });

  it('applies any op to a CRLF or LF document as it applies to the wire text', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('a', '\n', '😀', 'bc'), { maxLength: 30 }),
        fc.boolean(),
        fc.array(fc.tuple(fc.nat(), fc.nat(4), fc.constantFrom('', 'x', '\n', '😀\n')), { maxLength: 4 }),
        (pieces, crlf, edits) => {
          const wire = pieces.join('');
          let op: ReturnType<typeof textType.normalize> = [];
          let text = wire;
          for (const [at, len, ins] of edits) {
            const from = codePointBoundary(text, at % (text.length + 1));
            const to = codePointBoundary(text, Math.min(text.length, from + len));
            const step = textType.fromChange(from, text.slice(from, to), ins);
            op = textType.compose(op, step);
            text = textType.apply(text, step);
          }
          const doc = toDocumentText(wire, crlf);
          assert.equal(applyReplacements(doc, crlf, replacementsFor(op, stringLineIndex(doc, crlf))), toDocumentText(text, crlf));
        },
      ),
    );
  });
});

function codePointBoundary(text: string, pos: number): number {
  return pos > 0 && pos < text.length && /[\udc00-\udfff]/.test(text[pos]!) ? pos + 1 : pos;
}
