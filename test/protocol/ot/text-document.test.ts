import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { OtError, TextDocument, textType as t } from '../../../protocol/ot';
import type { TextOp } from '../../../protocol/schemas/collaboration';

/** Every chunk holds at most twice the chunk size, and all but the last at least half of it. */
function assertChunksBounded(doc: TextDocument, chunkSize: number): void {
  const chunks = (doc as unknown as { chunks: string[] }).chunks;
  const ok = chunks.every((c, i) => c.length > 0 && c.length <= 2 * chunkSize && (i === chunks.length - 1 || c.length >= chunkSize / 2));
  assert.ok(ok, `chunk sizes ${chunks.map((c) => c.length).join(',')} for a chunk size of ${chunkSize}`);
}

function code(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    assert.ok(e instanceof OtError, `expected an OtError, got ${String(e)}`);
    return e.code;
  }
}

describe('TextDocument', () => {
  it('applies ops in place across chunk boundaries', () => {
    const doc = new TextDocument('hello world', { chunkSize: 3 });
    assert.equal(doc.length, 11);
    doc.apply([6, { d: 'world' }, 'there']);
    assert.equal(doc.toString(), 'hello there');
    doc.apply([{ d: 'hello there' }]);
    assert.equal(doc.toString(), '');
    assert.equal(doc.length, 0);
    doc.apply(['again']);
    assert.equal(doc.toString(), 'again');
    assert.equal(new TextDocument().toString(), '');
  });

  it('refuses what apply refuses, with the same code, and stays unchanged', () => {
    const doc = new TextDocument('ab😀cd', { chunkSize: 3 }); // the pair straddles two chunks
    const cases: [TextOp, string][] = [
      [[7], 'OP_OUT_OF_RANGE'],
      [[5, { d: 'de' }], 'OP_OUT_OF_RANGE'],
      [[2, { d: '😀d' }], 'OP_DELETE_MISMATCH'],
      [[3, 'x'], 'OP_SPLITS_SURROGATE'],
      [[1, { d: 'b\uD83D' }], 'OP_SPLITS_SURROGATE'],
      [['\uDE00'], 'OP_SPLITS_SURROGATE'],
      [[0], 'OP_INVALID'],
      [[{ d: 'a', x: 1 } as unknown as { d: string }], 'OP_INVALID'],
    ];
    for (const [op, expected] of cases) {
      assert.equal(
        code(() => t.apply('ab😀cd', op)),
        expected,
        JSON.stringify(op),
      );
      assert.equal(
        code(() => doc.apply(op)),
        expected,
        JSON.stringify(op),
      );
      assert.equal(doc.toString(), 'ab😀cd');
    }
  });

  it('gives the same text or the same error as apply (property, small chunks)', () => {
    const chars = ['a', 'b', '\n', 'é', '😀', '𝒳'];
    const text = fc.array(fc.constantFrom(...chars), { maxLength: 30 }).map((a) => a.join(''));
    // Ops as raw components on code units, so that many are refused (range, text, surrogates).
    const component = fc.oneof(
      fc.integer({ min: 1, max: 8 }),
      fc.array(fc.constantFrom(...chars, '\uD83D'), { minLength: 1, maxLength: 6 }).map((a) => a.join('')),
      fc.tuple(fc.nat(40), fc.integer({ min: 1, max: 8 })),
    );
    const stats = { applied: 0, refused: new Set<string>() };
    const arb = fc.tuple(
      text,
      fc.array(fc.array(component, { maxLength: 6 }), { minLength: 1, maxLength: 6 }),
      fc.integer({ min: 2, max: 9 }),
    );
    fc.assert(
      fc.property(arb, ([initial, raw, chunkSize]) => {
        const doc = new TextDocument(initial, { chunkSize });
        let expected = initial;
        for (const comps of raw) {
          // Turn [from, n] into a delete of that document text, mostly valid, sometimes not.
          let pos = 0;
          const op: TextOp = comps.map((c) => {
            if (typeof c === 'string') return c;
            if (typeof c === 'number') {
              pos += c;
              return c;
            }
            const d = expected.slice(pos, pos + c[1]) || 'z';
            pos += d.length;
            return { d: c[0] % 7 === 0 ? `${d.slice(1)}q` : d };
          });
          const want = code(() => t.apply(expected, op));
          assert.equal(
            code(() => doc.apply(op)),
            want,
            JSON.stringify({ expected, op }),
          );
          if (want === undefined) {
            expected = t.apply(expected, op);
            stats.applied++;
          } else {
            stats.refused.add(want);
          }
          assert.equal(doc.toString(), expected);
          assert.equal(doc.length, expected.length);
          assertChunksBounded(doc, chunkSize);
        }
      }),
      { numRuns: 1000 },
    );
    // The generator must exercise both outcomes, and every kind of refusal.
    assert.ok(stats.applied > 500, `${stats.applied} ops applied`);
    assert.deepEqual([...stats.refused].sort(), ['OP_DELETE_MISMATCH', 'OP_OUT_OF_RANGE', 'OP_SPLITS_SURROGATE']);
  });

  it('keeps chunks bounded through large inserts and deletes', () => {
    const doc = new TextDocument('x'.repeat(1000), { chunkSize: 16 });
    assertChunksBounded(doc, 16);
    for (let i = 0; i < 950; i++) {
      const at = (i * 37) % doc.length;
      doc.apply(at > 0 ? [at, { d: 'x' }] : [{ d: 'x' }]);
      assertChunksBounded(doc, 16);
    }
    doc.apply([10, 'y'.repeat(99)]);
    assertChunksBounded(doc, 16);
    doc.apply([5, { d: `${'x'.repeat(5)}${'y'.repeat(99)}${'x'.repeat(30)}` }]);
    assertChunksBounded(doc, 16);
    assert.equal(doc.toString(), 'x'.repeat(15));
  });
});
