import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FramePacer } from '../../../extension/tunnels/frame-pacer';

describe('FramePacer (tunnel frames under the relay’s message rate)', () => {
  it('sends a burst at once, then paces the rest in order at its share of the rate', async () => {
    let now = 0;
    const pacer = new FramePacer(
      () => 200,
      0.6,
      () => now,
    );
    const sent: number[] = [];
    for (let i = 0; i < 100; i++) pacer.send(() => sent.push(i));
    assert.equal(sent.length, 60, 'a burst of half the share (120/s → 60)');
    now += 500;
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(sent.length, 100, '60 more tokens in half a second (120/s): the rest');
    assert.deepEqual(
      sent,
      Array.from({ length: 100 }, (_, i) => i),
      'in order',
    );
    assert.equal(pacer.waiting, 0);
  });

  it('never lets more through in a second than the relay’s bucket would take, and clear() drops what waits', async () => {
    let now = 0;
    const pacer = new FramePacer(
      () => 10,
      0.6,
      () => now,
    );
    let count = 0;
    for (let i = 0; i < 50; i++) pacer.send(() => count++);
    assert.equal(count, 3);
    now += 1000;
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.ok(count <= 3 + 6, `at most the share per second (${count})`);
    pacer.clear();
    now += 10_000;
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.ok(count <= 9);
    assert.equal(pacer.waiting, 0);
  });
});
