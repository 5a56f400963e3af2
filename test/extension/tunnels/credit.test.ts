import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CreditPool, ReceiveCredit, SendCredit } from '../../../extension/tunnels/credit';

describe('SendCredit (a stream’s sender)', () => {
  it('grants at most the window, and more only as acks come back', () => {
    const credit = new SendCredit(100);
    assert.equal(credit.take(60), 60);
    assert.equal(credit.take(60), 40, 'only what is left of the window');
    assert.equal(credit.take(1), 0, 'out of credit: the socket waits');
    assert.equal(credit.unacknowledged, 100);
    assert.ok(credit.release(30));
    assert.equal(credit.available, 30);
    assert.equal(credit.take(50), 30);
  });

  it('refuses an ack of more than is in flight, or not a positive integer, and changes nothing', () => {
    const credit = new SendCredit(100);
    credit.take(10);
    for (const bad of [11, 0, -1, 2.5, Number.NaN]) assert.equal(credit.release(bad), false, String(bad));
    assert.equal(credit.unacknowledged, 10);
    assert.ok(credit.release(10));
    assert.equal(credit.available, 100);
  });
});

describe('ReceiveCredit (a stream’s reader)', () => {
  it('acks written bytes in batches of a quarter window, so the sender never runs dry', () => {
    const credit = new ReceiveCredit(100);
    assert.ok(credit.receive(100));
    assert.equal(credit.written(20), 0, 'under the batch size: no ack yet');
    assert.equal(credit.written(10), 30, 'the batch: everything written so far');
    assert.equal(credit.unacknowledged, 70);
    assert.equal(credit.written(70), 70);
    assert.equal(credit.unacknowledged, 0);
  });

  it('refuses data past the window (a sender that ignores credit)', () => {
    const credit = new ReceiveCredit(100);
    assert.ok(credit.receive(80));
    assert.equal(credit.receive(21), false);
    assert.ok(credit.receive(20));
    assert.equal(credit.flush(), 0, 'nothing written, nothing to ack');
  });

  it('keeps a sender of a whole window going: what is unacknowledged after writing it all is below a batch', () => {
    const window = 256 * 1024;
    const sender = new SendCredit(window);
    const reader = new ReceiveCredit(window);
    let delivered = 0;
    const total = 5 * 1024 * 1024 + 123;
    let sent = 0;
    // Chunks of 30 KiB (not a divisor of the batch), acks applied as they come.
    while (delivered < total) {
      const size = sender.take(Math.min(30 * 1024, total - sent));
      if (size > 0) {
        sent += size;
        assert.ok(reader.receive(size));
        delivered += size;
        const ack = reader.written(size);
        if (ack > 0) assert.ok(sender.release(ack));
      } else {
        assert.fail(`stalled at ${delivered} bytes with ${sender.unacknowledged} unacknowledged`);
      }
    }
    assert.ok(sender.unacknowledged < window / 4);
  });
});

describe('CreditPool (all streams to one peer connection)', () => {
  it('bounds what all streams have in flight together, and wakes the waiting ones on a release', () => {
    const pool = new CreditPool(100);
    assert.equal(pool.take(70), 70);
    assert.equal(pool.take(70), 30);
    assert.equal(pool.take(1), 0);
    const woken: string[] = [];
    pool.wait(() => woken.push('a'));
    pool.wait(() => woken.push('b'));
    pool.release(40);
    assert.deepEqual(woken, ['a', 'b']);
    assert.equal(pool.available, 40);
    pool.release(40);
    assert.deepEqual(woken, ['a', 'b'], 'each wait wakes once');
    pool.release(1000);
    assert.equal(pool.available, 100, 'never more than the window');
  });
});
