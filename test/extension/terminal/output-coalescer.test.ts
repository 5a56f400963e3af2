import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsonBytes, OutputCoalescer, splitForWire } from '../../../extension/terminal/output-coalescer';

/** A coalescer on a hand-driven clock: `tick()` runs the timer it set. */
function harness(options: ConstructorParameters<typeof OutputCoalescer>[1] = {}) {
  const sent: string[] = [];
  let now = 0;
  let timer: (() => void) | undefined;
  const coalescer = new OutputCoalescer((piece) => sent.push(piece), {
    now: () => now,
    setTimer: (run) => (timer = run),
    clearTimer: () => (timer = undefined),
    ...options,
  });
  return {
    coalescer,
    sent,
    get scheduled() {
      return timer !== undefined;
    },
    tick(ms = 20) {
      now += ms;
      const run = timer;
      timer = undefined;
      run?.();
    },
  };
}

describe('the shared terminal’s output coalescer', () => {
  it('sends many small writes as one piece after the delay', () => {
    const h = harness();
    for (const data of ['$ ', 'e', 'c', 'h', 'o']) h.coalescer.push(data);
    assert.deepEqual(h.sent, []);
    assert.ok(h.scheduled);
    h.tick();
    assert.deepEqual(h.sent, ['$ echo']);
    assert.ok(!h.scheduled, 'nothing waits');
  });

  it('cuts pieces by their JSON size: escape sequences count as escaped', () => {
    const h = harness({ maxPieceBytes: 60, burstBytes: 1_000_000 });
    h.coalescer.push('\x1b[0m'.repeat(20));
    h.tick();
    assert.ok(h.sent.length > 1);
    assert.equal(h.sent.join(''), '\x1b[0m'.repeat(20));
    for (const piece of h.sent) assert.ok(JSON.stringify(piece).length - 2 <= 60, JSON.stringify(piece));
  });

  it('holds back a flood to its rate and drops the oldest of what waits beyond its bound, telling the guests', () => {
    const h = harness({ bytesPerSecond: 1000, burstBytes: 1000, maxPendingChars: 3000, maxPieceBytes: 500 });
    h.coalescer.push('a'.repeat(5000));
    h.tick(0);
    assert.match(h.sent[0]!, /\[Tandem: 2 KiB of output not sent to guests\]/);
    const sentBytes = () => h.sent.slice(1).reduce((sum, piece) => sum + piece.length, 0);
    assert.ok(sentBytes() <= 1000, `at most the burst at once (${sentBytes()})`);
    assert.ok(h.scheduled, 'the rest waits');
    for (let i = 0; i < 10; i++) h.tick(1000);
    assert.equal(sentBytes(), 3000, 'everything kept went out in the end');
    assert.ok(!h.scheduled);
  });

  it('sends nothing after dispose', () => {
    const h = harness();
    h.coalescer.push('x');
    h.coalescer.dispose();
    h.tick();
    assert.deepEqual(h.sent, []);
  });
});

describe('splitForWire', () => {
  it('never splits a surrogate pair and keeps every piece within bytes and characters', () => {
    const text = 'ab😀cd€"\\\n\x01'.repeat(50);
    for (const [bytes, chars] of [
      [7, Infinity],
      [16, 5],
      [100, 30],
    ] as const) {
      const pieces = splitForWire(text, bytes, chars);
      assert.equal(pieces.join(''), text);
      for (const piece of pieces) {
        assert.ok(jsonBytes(piece) <= bytes && piece.length <= chars, JSON.stringify(piece));
        assert.equal(Buffer.byteLength(JSON.stringify(piece)) - 2, jsonBytes(piece), 'jsonBytes measures as JSON.stringify does');
        assert.ok(!/^[\udc00-\udfff]/.test(piece) && !/[\ud800-\udbff]$/.test(piece), 'whole characters');
      }
    }
    assert.deepEqual(splitForWire('abc', 1), ['a', 'b', 'c']);
    assert.deepEqual(splitForWire('abcdef', 2, Infinity, 2), ['ab', 'cd']);
  });
});
