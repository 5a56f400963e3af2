import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PieceAssembler, ResyncPayload, SnapshotPayload, textPieces } from '../../../protocol';

const FRAME = 4096;
/** Every kind of code unit JSON sizes differently, and a surrogate pair, in a repeating text. */
const text = 'ab€\u0001😀\n'.repeat(5000);

/** The frame of a payload as the relay sends it (its envelope, roughly). */
const frameBytes = (payload: unknown) =>
  Buffer.byteLength(
    JSON.stringify({
      event_type: 'collaboration.snapshot',
      payload,
      timestamp: new Date().toISOString(),
      session_id: 's1',
      user_id: 'system',
    }),
  );

describe('snapshot pieces', () => {
  it('keeps a text that fits in one frame whole', () => {
    const snapshot: SnapshotPayload = { document: 'a.ts', rev: 3, text: 'short', epoch: 'e1' };
    assert.deepEqual([...textPieces(snapshot, FRAME)], [snapshot]);
  });

  it('splits a long text into valid pieces within the frame, never inside a surrogate pair, and joins them again', () => {
    const snapshot: SnapshotPayload = { document: 'a.ts', rev: 3, text, epoch: 'e1', last_seq: 7 };
    const pieces = [...textPieces(snapshot, FRAME)];
    assert.ok(pieces.length > 10);
    for (const piece of pieces) {
      assert.ok(frameBytes(piece) <= FRAME, `a piece of ${frameBytes(piece)} bytes`);
      assert.ok(SnapshotPayload.safeParse(piece).success);
      const last = piece.text.charCodeAt(piece.text.length - 1);
      assert.ok(!(last >= 0xd800 && last <= 0xdbff), 'a piece ends inside a surrogate pair');
    }
    assert.ok(pieces.slice(0, -1).every((p) => p.more === true && p.epoch === undefined));
    assert.deepEqual({ ...pieces.at(-1)!, text: '' }, { ...snapshot, text: '' });
    const assembler = new PieceAssembler();
    const results = pieces.map((p) => assembler.accept('collaboration.snapshot', p));
    assert.ok(
      results.slice(0, -1).every((r) => r === undefined),
      'listeners see nothing until the last piece',
    );
    assert.deepEqual(results.at(-1), snapshot);
  });

  it('carries a resync’s reason on every piece; pieces of another revision start over', () => {
    const resync: ResyncPayload = { document: 'a.ts', rev: 9, text, reason: 'too_costly' };
    const pieces = [...textPieces(resync, FRAME)];
    assert.ok(pieces.every((p) => p.reason === 'too_costly' && ResyncPayload.safeParse(p).success));
    const assembler = new PieceAssembler();
    // A stale piece of revision 8 (a connection lost mid-text), then the whole of revision 9.
    assert.equal(assembler.accept('collaboration.resync', { ...pieces[0]!, rev: 8 }), undefined);
    const results = pieces.map((p) => assembler.accept('collaboration.resync', p));
    assert.deepEqual(results.at(-1), resync);
  });
});
