import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GuestStream, MISSED_NOTICE, withoutTerminalReports } from '../../../extension/terminal/guest-stream';

function stream() {
  const written: string[] = [];
  return { written, stream: new GuestStream((text) => written.push(text)) };
}

const scrollback = (request_id: string, seq: number, data: string, done = true, gap = false) => ({ request_id, seq, data, gap, done });

describe('a guest’s view of a shared terminal', () => {
  it('writes live pieces in order, once', () => {
    const { written, stream: s } = stream();
    assert.equal(s.onOutput({ seq: 1, data: 'a' }), false);
    assert.equal(s.onOutput({ seq: 2, data: 'b' }), false);
    assert.equal(s.onOutput({ seq: 2, data: 'b' }), false);
    assert.deepEqual(written, ['a', 'b']);
    assert.equal(s.lastSeq, 2);
  });

  it('a late joiner: holds live pieces during the catch-up, then writes those the scrollback did not cover', () => {
    const { written, stream: s } = stream();
    assert.equal(s.beginCatchup('r-1'), 0);
    s.onOutput({ seq: 5, data: 'E' });
    s.onOutput({ seq: 6, data: 'F' });
    s.onScrollback(scrollback('r-1', 3, 'ABC', false, true));
    s.onScrollback(scrollback('r-1', 5, 'DE'));
    assert.deepEqual(written, ['ABC', 'DE', 'F'], 'no notice for a late joiner, E not twice');
    assert.equal(s.lastSeq, 6);
    assert.equal(s.catchingUp, false);
  });

  it('asks for a catch-up when live pieces skip numbers, and says when the host no longer kept them', () => {
    const { written, stream: s } = stream();
    s.onOutput({ seq: 1, data: 'a' });
    assert.equal(s.onOutput({ seq: 4, data: 'd' }), true, 'pieces 2 and 3 missed');
    assert.equal(s.beginCatchup('r-2'), 1);
    s.onScrollback(scrollback('r-old', 9, 'ignored'));
    s.onScrollback(scrollback('r-2', 4, 'cd', true, true));
    assert.deepEqual(written, ['a', MISSED_NOTICE, 'cd']);
    assert.equal(s.lastSeq, 4);
  });

  it('writes what it held when the answer does not come', () => {
    const { written, stream: s } = stream();
    s.beginCatchup('r-1');
    s.onOutput({ seq: 2, data: 'b' });
    s.onOutput({ seq: 1, data: 'a' });
    s.endCatchup();
    assert.deepEqual(written, ['a', 'b']);
  });
});

describe('what a guest’s terminal answers by itself', () => {
  it('is not sent as typing: device attributes, cursor position, focus, mode and colour reports', () => {
    for (const report of [
      '\x1b[?1;2c',
      '\x1b[>0;276;0c',
      '\x1b[12;40R',
      '\x1b[I',
      '\x1b[O',
      '\x1b[?2004;1$y',
      '\x1b]11;rgb:0000/0000/0000\x1b\\',
    ])
      assert.equal(withoutTerminalReports(report), '', JSON.stringify(report));
    assert.equal(withoutTerminalReports('ls\x1b[I -la\r'), 'ls -la\r');
    // What the user types stays: arrows, Ctrl-C, text.
    for (const keys of ['\x1b[A', '\x1b[D', '\x03', 'echo hi\r', '\x1bOA'])
      assert.equal(withoutTerminalReports(keys), keys, JSON.stringify(keys));
  });
});
