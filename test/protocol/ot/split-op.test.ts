// splitOp: an op as pieces within a byte budget (a large paste sent in frames the relay takes).
// Property tests over documents and ops with every kind of character JSON escapes or encodes in
// several bytes, budgets from the least up: the pieces, applied in turn, do exactly what the op
// does, each fits, each changes something, and the cutting always ends.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MIN_SPLIT_BYTES, normalize, splitOp, TextDocument, type TextOp } from '../../../protocol/ot';
import { utf8Length } from '../../../protocol/client/open-frames';
import { buildOp, type Step } from './build-op';

const runs = { numRuns: Number(process.env.OT_PROPERTY_RUNS ?? 1000) };
const wireBytes = (op: TextOp) => utf8Length(JSON.stringify(op));
/** `ops` applied in turn to `text`; lone surrogates allowed, as in an editor's text. */
function apply(text: string, ...ops: TextOp[]): string {
  const doc = new TextDocument(text, { surrogates: 'unchecked' });
  for (const op of ops) doc.apply(op);
  return doc.toString();
}

// JSON escapes quotes, backslashes and control characters (some as \n, others as \u0001), and a
// lone surrogate as \udxxx; é, 中 and 😀 take 2, 3 and 4 bytes.
const chars = ['a', 'b', '"', '\\', '\n', '\u0001', 'é', '中', '😀', '\ud800', ' '];
const textArb = fc.array(fc.constantFrom(...chars), { minLength: 1, maxLength: 60 }).map((a) => a.join(''));
const docArb = fc.array(fc.constantFrom(...chars), { maxLength: 80 }).map((a) => a.join(''));
const stepArb = fc.record({
  kind: fc.constantFrom<Step['kind']>('retain', 'insert', 'delete'),
  n: fc.integer({ min: 1, max: 30 }),
  text: textArb,
});

/** Splits until the rest fits; every piece checked. */
function pieces(op: TextOp, budget: number): TextOp[] {
  const out: TextOp[] = [];
  let rest: TextOp | undefined = op;
  for (let guard = 0; rest; guard++) {
    assert.ok(guard < 100_000, 'the cutting ends');
    const split = splitOp(rest, budget);
    if (!split) {
      out.push(rest);
      break;
    }
    const [head, tail] = split;
    assert.ok(
      head.some((c) => typeof c !== 'number'),
      'each piece changes something',
    );
    assert.ok(wireBytes(head) <= budget, `a piece of ${wireBytes(head)} bytes over ${budget}`);
    assert.deepEqual(normalize(head), head);
    out.push(head);
    rest = tail;
  }
  return out;
}

describe('splitOp', () => {
  it('pieces within the budget that do exactly what the op does', () => {
    fc.assert(
      fc.property(docArb, fc.array(stepArb, { maxLength: 10 }), fc.integer({ min: MIN_SPLIT_BYTES, max: 200 }), (doc, steps, budget) => {
        const op = normalize(buildOp(doc, steps));
        assert.equal(apply(doc, ...pieces(op, budget)), apply(doc, op));
      }),
      runs,
    );
  });

  it('leaves an op that fits alone, and exactly at the budget it fits', () => {
    const op: TextOp = [3, 'hé"llo\u0001😀'.repeat(5), { d: 'x\n\\' }];
    assert.equal(splitOp(op, wireBytes(op)), undefined);
    const [head, rest] = splitOp(op, wireBytes(op) - 1)!;
    assert.equal(apply('abcx\n\\def', head, rest), apply('abcx\n\\def', op));
  });

  it('never cuts a surrogate pair, and escapes count as what they cost', () => {
    const doc = '';
    const op: TextOp = ['😀'.repeat(100)];
    for (const piece of pieces(op, MIN_SPLIT_BYTES)) {
      const inserted = piece.find((c): c is string => typeof c === 'string')!;
      assert.ok(!/^[\udc00-\udfff]|[\ud800-\udbff]$/.test(inserted), 'no half pair at either end');
    }
    const controls: TextOp = ['\u0001'.repeat(500)];
    assert.equal(apply(doc, ...pieces(controls, 200)), '\u0001'.repeat(500));
  });

  it('cuts a megabyte paste into pieces of the budget, in a few dozen pieces', () => {
    const big = 'line of pasted text\n'.repeat(50_000);
    const op: TextOp = [6, big, { d: 'ab' }];
    const doc = 'hello ab world';
    const all = pieces(op, 32 * 1024);
    assert.ok(all.length >= 30 && all.length <= 40, `${all.length} pieces`);
    assert.equal(apply(doc, ...all), apply(doc, op));
  });

  it('refuses a budget too small to make progress', () => {
    assert.throws(() => splitOp(['abc'], MIN_SPLIT_BYTES - 1), RangeError);
  });
});
