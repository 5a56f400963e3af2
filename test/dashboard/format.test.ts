import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bytes, count, duration, ms, percent, perSecond, ratio } from '../../electron-dashboard/renderer/format';

describe('numbers with units', () => {
  it('formats each kind with its unit, and a dash for nothing', () => {
    assert.equal(bytes(512), '512 B');
    assert.equal(bytes(1536), '1.5 KiB');
    assert.equal(bytes(190 * 1024 * 1024), '190 MiB');
    assert.equal(ms(3.25), '3.3 ms');
    assert.equal(ms(250), '250 ms');
    assert.equal(ms(1500), '1.50 s');
    assert.equal(percent(2.345), '2.3 %');
    assert.equal(ratio(0.0512), '5.12 %');
    assert.equal(perSecond(4), '4.0 /s');
    assert.equal(perSecond(120.4), '120 /s');
    assert.equal(count(12345), '12,345');
    assert.equal(duration(42), '42 s');
    assert.equal(duration(7 * 60 + 5), '7 min');
    assert.equal(duration(3 * 3600 + 12 * 60), '3 h 12 min');
    assert.equal(duration(2 * 86_400 + 4 * 3600), '2 d 4 h');
    for (const format of [bytes, ms, percent, ratio, perSecond, count, duration]) assert.equal(format(null), '–');
  });
});
