// The text type as a whole: its ottypes interface, then property tests (fast-check) over small
// documents with emoji and other surrogate pairs, `\n` line breaks and empty documents, and ops
// that are often not normalized (adjacent retains, delete before insert, trailing retains).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { OtError, textType as t, type Side, type TextOpComponent } from '../../../protocol/ot';
import type { TextOp } from '../../../protocol/schemas/collaboration';
import { buildOp, type Step } from './build-op';

const runs = { numRuns: Number(process.env.OT_PROPERTY_RUNS ?? 1000) };

// Characters, not code units: a generated op only cuts between them (an emoji is two units, 👍🏽
// is two emoji). No '\r': text on the wire uses '\n'.
const chars = ['a', 'b', 'c', ' ', '\n', 'é', '中', '😀', '👍🏽', '𝒳', '🚀'];
const charArb = fc.constantFrom(...chars);
const docArb = fc.array(charArb, { maxLength: 14 }).map((a) => a.join(''));
const textArb = fc.array(charArb, { minLength: 1, maxLength: 4 }).map((a) => a.join(''));

const stepsArb = fc.array(
  fc.record({ kind: fc.constantFrom<Step['kind']>('retain', 'insert', 'delete'), n: fc.integer({ min: 1, max: 4 }), text: textArb }),
  { maxLength: 8 },
);

const opOnDoc = fc.tuple(docArb, stepsArb).map(([doc, steps]) => ({ doc, op: buildOp(doc, steps) }));
const twoOpsOnDoc = fc.tuple(docArb, stepsArb, stepsArb).map(([doc, sa, sb]) => ({ doc, a: buildOp(doc, sa), b: buildOp(doc, sb) }));

/** Independent of protocol/ot: every component boundary of `op` on `doc` is outside surrogate pairs. */
function assertNoSplitPair(doc: string, op: TextOp): void {
  const isHi = (u: number) => u >= 0xd800 && u <= 0xdbff;
  const isLo = (u: number) => u >= 0xdc00 && u <= 0xdfff;
  let pos = 0;
  for (const c of op) {
    if (typeof c === 'number') pos += c;
    else if (typeof c === 'object') pos += c.d.length;
    else assert.ok(!isLo(c.charCodeAt(0)) && !isHi(c.charCodeAt(c.length - 1)), `insert ${JSON.stringify(c)} is half a pair`);
    assert.ok(!(pos > 0 && isHi(doc.charCodeAt(pos - 1)) && isLo(doc.charCodeAt(pos))), `boundary at ${pos} splits a pair`);
  }
}

/**
 * A model of where each unit of the new document comes from: `origin` is its index in `doc`
 * (or -1 if inserted) and `gap` the position in `doc` where it stands (for an insert, where it
 * was inserted; the op is normalized first, so an insert stands at the start of its run).
 */
function trace(doc: string, op: TextOp): { origin: number; gap: number }[] {
  const units: { origin: number; gap: number }[] = [];
  let pos = 0;
  for (const c of t.normalize(op) as TextOpComponent[]) {
    if (typeof c === 'number') {
      for (let k = 0; k < c; k++) units.push({ origin: pos + k, gap: pos + k });
      pos += c;
    } else if (typeof c === 'string') {
      for (let k = 0; k < c.length; k++) units.push({ origin: -1, gap: pos });
    } else {
      pos += c.d.length;
    }
  }
  for (; pos < doc.length; pos++) units.push({ origin: pos, gap: pos });
  return units;
}

function property<T>(arb: fc.Arbitrary<T>, check: (value: T) => void): void {
  fc.assert(fc.property(arb, check), runs);
}

describe('textType: the ottypes interface', () => {
  it('has a name, a uri and every method, and creates documents', () => {
    assert.equal(t.name, 'text-utf16');
    assert.match(t.uri, /^https:\/\//);
    assert.notEqual(t.uri, 'http://sharejs.org/types/text-unicode', 'its positions are not code points');
    for (const m of [
      'create',
      'apply',
      'transform',
      'compose',
      'invert',
      'normalize',
      'checkOp',
      'transformCursor',
      'transformSelection',
    ] as const) {
      assert.equal(typeof t[m], 'function', m);
    }
    assert.equal(t.create(), '');
    assert.equal(t.create('a\nb'), 'a\nb');
    assert.throws(
      () => t.create(1 as unknown as string),
      (e: unknown) => e instanceof OtError && e.code === 'OP_INVALID',
    );
  });
});

describe('textType: properties', () => {
  it('generated ops apply, never split a surrogate pair, and have consistent lengths', () => {
    property(opOnDoc, ({ doc, op }) => {
      t.checkOp(op, doc);
      assertNoSplitPair(doc, op);
      const after = t.apply(doc, op);
      assert.ok(t.length(op) <= doc.length);
      assert.equal(after.length, t.newLength(op, doc.length));
    });
  });

  it('TP1: both orders of apply + transform give the same text, for either side', () => {
    property(fc.tuple(twoOpsOnDoc, fc.constantFrom<Side>('left', 'right')), ([{ doc, a, b }, side]) => {
      const other: Side = side === 'left' ? 'right' : 'left';
      const a1 = t.transform(a, b, side);
      const b1 = t.transform(b, a, other);
      const afterB = t.apply(doc, b);
      const afterA = t.apply(doc, a);
      assertNoSplitPair(afterB, a1);
      assertNoSplitPair(afterA, b1);
      assert.equal(t.apply(afterB, a1), t.apply(afterA, b1));
      assert.ok(t.isNormalized(a1) && t.isNormalized(b1));
    });
  });

  it('transform reads ops in normal form: a non-normalized op transforms like its normal form', () => {
    property(fc.tuple(twoOpsOnDoc, fc.constantFrom<Side>('left', 'right')), ([{ a, b }, side]) => {
      assert.deepEqual(t.transform(a, b, side), t.transform(t.normalize(a), t.normalize(b), side));
    });
  });

  it('tie-break: of two inserts at the same place, the left op’s comes first', () => {
    const arb = fc.tuple(docArb, fc.nat(), textArb, textArb).map(([doc, p, x, y]) => {
      const cps = Array.from(doc);
      const at = cps.slice(0, p % (cps.length + 1)).join('').length;
      return { doc, at, x, y };
    });
    property(arb, ({ doc, at, x, y }) => {
      const a: TextOp = at > 0 ? [at, x] : [x];
      const b: TextOp = at > 0 ? [at, y] : [y];
      const merged = t.apply(t.apply(doc, b), t.transform(a, b, 'left'));
      assert.equal(merged, doc.slice(0, at) + x + y + doc.slice(at));
      assert.equal(t.apply(t.apply(doc, a), t.transform(b, a, 'right')), merged);
    });
  });

  it('compose equals applying one op then the other', () => {
    const arb = fc.tuple(docArb, stepsArb, stepsArb).map(([doc, sa, sb]) => {
      const a = buildOp(doc, sa);
      return { doc, a, b: buildOp(t.apply(doc, a), sb) };
    });
    property(arb, ({ doc, a, b }) => {
      const ab = t.compose(a, b);
      assertNoSplitPair(doc, ab);
      assert.equal(t.apply(doc, ab), t.apply(t.apply(doc, a), b));
      assert.ok(t.isNormalized(ab));
      assert.deepEqual(ab, t.compose(t.normalize(a), t.normalize(b)));
    });
  });

  it('invert undoes an op, and inverting twice gives the normal form back', () => {
    property(opOnDoc, ({ doc, op }) => {
      const after = t.apply(doc, op);
      const inv = t.invert(op);
      assertNoSplitPair(after, inv);
      assert.equal(t.apply(after, inv), doc);
      assert.deepEqual(t.invert(inv), t.normalize(op));
      assert.equal(t.apply(doc, t.compose(op, inv)), doc);
    });
  });

  it('normalize is idempotent, keeps the effect and the lengths', () => {
    property(opOnDoc, ({ doc, op }) => {
      const n = t.normalize(op);
      assert.deepEqual(t.normalize(n), n);
      assert.ok(t.isNormalized(n));
      assert.equal(t.apply(doc, n), t.apply(doc, op));
      assert.equal(t.newLength(n, doc.length), t.newLength(op, doc.length));
      assert.ok(n.every((c) => c !== 0 && c !== '') && typeof n[n.length - 1] !== 'number');
    });
  });

  it('transformCursor stays in range and follows the character it stood before', () => {
    property(fc.tuple(opOnDoc, fc.boolean()), ([{ doc, op }, own]) => {
      const after = t.apply(doc, op);
      const units = trace(doc, op);
      assert.equal(units.length, after.length);
      for (let cursor = 0; cursor <= doc.length; cursor++) {
        const moved = t.transformCursor(cursor, op, own);
        assert.ok(moved >= 0 && moved <= after.length, `cursor ${cursor} -> ${moved} out of [0, ${after.length}]`);
        assert.equal(moved, t.transformCursor(cursor, t.normalize(op), own), 'same as for the normal form');
        // Model: the units that stand before the cursor (an insert at the cursor: own ones only).
        const before = units.filter((u) => (u.origin >= 0 ? u.origin < cursor : u.gap < cursor || (own && u.gap === cursor))).length;
        assert.equal(moved, before, `cursor ${cursor}`);
        const survivor = units.findIndex((u) => u.origin === cursor);
        if (survivor >= 0) {
          // The character after the cursor survives: the cursor still stands before it, with
          // only text inserted exactly at the cursor (by someone else) in between.
          assert.equal(after[survivor], doc[cursor]);
          const between = units.slice(moved, survivor);
          assert.ok(
            between.every((u) => u.origin < 0 && u.gap === cursor && !own),
            `cursor ${cursor}: ${moved} vs ${survivor}`,
          );
        }
      }
    });
  });

  it('transformSelection moves both ends like transformCursor', () => {
    property(fc.tuple(opOnDoc, fc.nat(), fc.nat(), fc.boolean()), ([{ doc, op }, x, y, own]) => {
      const anchor = x % (doc.length + 1);
      const head = y % (doc.length + 1);
      assert.deepEqual(t.transformSelection({ anchor, head }, op, own), {
        anchor: t.transformCursor(anchor, op, own),
        head: t.transformCursor(head, op, own),
      });
    });
  });

  it('fromChange makes the op of one editor change', () => {
    const arb = fc.tuple(docArb, fc.nat(), fc.nat(), fc.oneof(fc.constant(''), textArb)).map(([doc, p, k, text]) => {
      const cps = Array.from(doc);
      const start = p % (cps.length + 1);
      const end = start + (k % (cps.length - start + 1));
      return { doc, offset: cps.slice(0, start).join('').length, deleted: cps.slice(start, end).join(''), text };
    });
    property(arb, ({ doc, offset, deleted, text }) => {
      const op = t.fromChange(offset, deleted, text);
      assert.ok(t.isNormalized(op));
      assert.equal(t.apply(doc, op), doc.slice(0, offset) + text + doc.slice(offset + deleted.length));
    });
  });

  it('an op with a boundary inside a surrogate pair is refused', () => {
    const arb = fc.tuple(docArb, fc.constantFrom('😀', '𝒳', '👍🏽'), docArb, fc.nat(3)).map(([pre, pair, post, shape]) => {
      const doc = pre + pair + post;
      const mid = pre.length + 1; // between the halves of the first pair of `pair`
      const before: TextOp = pre.length > 0 ? [pre.length] : [];
      const ops: TextOp[] = [[mid], [mid, 'x'], [...before, { d: doc.slice(pre.length, mid) }], [{ d: doc.slice(0, mid) }, 'y']];
      return { doc, op: ops[shape]! };
    });
    property(arb, ({ doc, op }) => {
      assert.throws(
        () => t.apply(doc, op),
        (e: unknown) => e instanceof OtError && e.code === 'OP_SPLITS_SURROGATE',
      );
      assert.throws(
        () => t.checkOp(op, doc),
        (e: unknown) => e instanceof OtError && e.code === 'OP_SPLITS_SURROGATE',
      );
    });
  });
});
