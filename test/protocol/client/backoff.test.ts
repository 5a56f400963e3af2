import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Backoff } from '../../../protocol/client/backoff';

/** Plays back the given values as `Math.random`. */
function sequence(...values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length] ?? 0;
}

describe('Backoff', () => {
  it('doubles the ceiling from the base up to the cap', () => {
    const backoff = new Backoff({ baseDelayMs: 100, maxDelayMs: 1000, random: () => 1 });
    const delays = Array.from({ length: 7 }, () => backoff.next());
    assert.deepEqual(delays, [100, 200, 400, 800, 1000, 1000, 1000]);
    assert.equal(backoff.attempt, 7);
  });

  it('applies full jitter: anywhere from 0 to the ceiling', () => {
    const low = new Backoff({ baseDelayMs: 100, maxDelayMs: 1000, random: () => 0 });
    assert.deepEqual([low.next(), low.next(), low.next()], [0, 0, 0]);
    const half = new Backoff({ baseDelayMs: 100, maxDelayMs: 1000, random: () => 0.5 });
    assert.deepEqual([half.next(), half.next(), half.next(), half.next(), half.next()], [50, 100, 200, 400, 500]);
    const backoff = new Backoff({ baseDelayMs: 100, maxDelayMs: 1000, random: sequence(0.31, 0.97, 0.02, 0.66) });
    for (let i = 0; i < 40; i++) {
      const ceiling = backoff.ceiling();
      const delay = backoff.next();
      assert.ok(delay >= 0 && delay <= ceiling, `delay ${delay} outside [0, ${ceiling}]`);
      assert.ok(Number.isInteger(delay));
    }
  });

  it('spreads delays over the whole window with Math.random', () => {
    const delays = Array.from({ length: 400 }, () => {
      const backoff = new Backoff({ baseDelayMs: 1000, maxDelayMs: 1000 });
      return backoff.next();
    });
    assert.ok(Math.min(...delays) < 200, 'some delays near 0');
    assert.ok(Math.max(...delays) > 800, 'some delays near the cap');
    assert.ok(delays.every((d) => d >= 0 && d <= 1000));
  });

  it('starts again from the base after reset', () => {
    const backoff = new Backoff({ baseDelayMs: 100, maxDelayMs: 10_000, random: () => 1 });
    backoff.next();
    backoff.next();
    backoff.next();
    assert.equal(backoff.ceiling(), 800);
    backoff.reset();
    assert.equal(backoff.attempt, 0);
    assert.equal(backoff.next(), 100);
  });

  it('stays finite after very many attempts, also with a zero base', () => {
    const backoff = new Backoff({ baseDelayMs: 250, maxDelayMs: 5000, random: () => 1 });
    for (let i = 0; i < 2000; i++) backoff.next();
    assert.equal(backoff.next(), 5000);
    const zero = new Backoff({ baseDelayMs: 0, maxDelayMs: 0, random: () => 1 });
    for (let i = 0; i < 2000; i++) assert.equal(zero.next(), 0);
  });

  it('clamps a random source that strays out of [0, 1]', () => {
    const backoff = new Backoff({ baseDelayMs: 100, maxDelayMs: 100, random: sequence(-3, 7) });
    assert.equal(backoff.next(), 0);
    assert.equal(backoff.next(), 100);
  });

  it('refuses nonsense options', () => {
    assert.throws(() => new Backoff({ baseDelayMs: -1, maxDelayMs: 10 }), RangeError);
    assert.throws(() => new Backoff({ baseDelayMs: 100, maxDelayMs: 10 }), RangeError);
    assert.throws(() => new Backoff({ baseDelayMs: Number.NaN, maxDelayMs: 10 }), RangeError);
    assert.throws(() => new Backoff({ baseDelayMs: 1, maxDelayMs: Number.POSITIVE_INFINITY }), RangeError);
  });
});
