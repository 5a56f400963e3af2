// openFrames and maxEditOpBytes: what a (re)join sends fits the relay's frame limit, whatever the
// pending edits, as long as each is within maxEditOpBytes (ClientDocument's maxOpBytes).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClientDocument, maxEditOpBytes, openFrames, utf8Length } from '../../../protocol';

const FRAME = 64 * 1024;
/** A frame's size as sent: the payload in the envelope (event type, timestamp, ids). */
const frameBytes = (payload: unknown) =>
  utf8Length(
    JSON.stringify({ event_type: 'collaboration.open', payload, timestamp: new Date().toISOString(), session_id: 's'.repeat(64) }),
  );

describe('openFrames', () => {
  it('a rejoin with a long text and two pending ops of the most a client sends: every frame fits', () => {
    const document = `src/${'deep/'.repeat(20)}file.ts`;
    const maxOpBytes = maxEditOpBytes(document, FRAME);
    const text = '中'.repeat(16_384 + 15_000); // three bytes a character: the last piece of text is 45 KB
    const doc = new ClientDocument({ clientId: 'c1', revision: 3, text, epoch: 'e1', maxOpBytes });
    doc.applyLocal([5, 'x'.repeat(100_000)]); // the outstanding op and the buffer, both at the bound
    const frames = openFrames({ document, ...doc.rejoin() }, FRAME);
    for (const frame of frames) assert.ok(frameBytes(frame) <= FRAME, `a frame of ${frameBytes(frame)} bytes`);
    const last = frames[frames.length - 1]!;
    assert.ok(last.recovery?.outstanding && last.recovery.buffer, 'both pending ops ride on the last frame');
    assert.equal(frames.map((f) => f.text ?? '').join(''), text, 'the text, in pieces, in order');
    assert.ok(frames.slice(0, -1).every((f) => f.more === true) && last.more === undefined);
  });

  it('pieces of text as large as the frame holds, whatever the characters and however small the frame limit', () => {
    const text = 'ascii 中文 \u0001\u0002 "quoted" 😀\n'.repeat(3000);
    for (const limit of [2048, 4096, 64 * 1024]) {
      const frames = openFrames({ document: 'doc.txt', text }, limit);
      for (const frame of frames) assert.ok(frameBytes(frame) <= limit, `a frame of ${frameBytes(frame)} bytes over ${limit}`);
      assert.equal(frames.map((f) => f.text).join(''), text);
      assert.ok(
        frames.slice(0, -1).every((f) => frameBytes(f) > limit / 2),
        'each piece holds what fits, not a fixed count',
      );
    }
  });

  it('maxEditOpBytes: half of what the frame leaves beside the envelope and the document id, never below the least', () => {
    assert.ok(maxEditOpBytes('a.ts') < 32 * 1024 && maxEditOpBytes('a.ts') > 31 * 1024);
    assert.ok(maxEditOpBytes('a'.repeat(1000)) < maxEditOpBytes('a.ts'));
    assert.equal(maxEditOpBytes('a.ts', 256), 64);
  });
});
