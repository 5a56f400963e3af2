import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { History, HISTORY_MS } from '../../electron-dashboard/renderer/history';

describe('the charts’ history', () => {
  it('aligns series: a late one is padded with nulls, a missing value is null', () => {
    const history = new History();
    history.push(1000, { a: 1 });
    history.push(2000, { a: 2, b: 20 });
    history.push(3000, { b: 30 });
    assert.deepEqual(history.times, [1000, 2000, 3000]);
    assert.deepEqual(history.values('a'), [1, 2, null]);
    assert.deepEqual(history.values('b'), [null, 20, 30]);
    assert.deepEqual(history.values('nothing'), [null, null, null]);
  });

  it('keeps the last 15 minutes and ignores a point that is not newer', () => {
    assert.equal(HISTORY_MS, 900_000);
    const history = new History();
    for (let t = 0; t <= 20 * 60_000; t += 1000) history.push(t, { a: t });
    history.push(5, { a: -1 });
    assert.equal(history.times[0], 5 * 60_000);
    assert.equal(history.times.length, 901);
    assert.equal(history.values('a').length, 901);
  });

  it('finds the value nearest to a moment, within a minute', () => {
    const history = new History();
    for (let t = 0; t <= 600_000; t += 10_000) history.push(t, { c: t / 1000 });
    assert.equal(history.valueAt('c', 302_000), 300);
    assert.equal(history.valueAt('c', 10_000_000), undefined);
  });
});
