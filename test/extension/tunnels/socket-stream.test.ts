import assert from 'node:assert/strict';
import { Duplex } from 'node:stream';
import { describe, it } from 'node:test';
import type { TunnelCloseReason } from '../../../protocol';
import { CreditPool } from '../../../extension/tunnels/credit';
import { SocketStream, type StreamLink } from '../../../extension/tunnels/socket-stream';

/** A socket whose writes complete only when the test says so (a reader that stops reading), and whose reads the test pushes. */
class FakeSocket extends Duplex {
  readonly written: Buffer[] = [];
  readonly waiting: Array<() => void> = [];
  override _read(): void {}
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.written.push(chunk);
    this.waiting.push(() => callback());
  }
  drainAll(): void {
    for (const done of this.waiting.splice(0)) done();
  }
}

function recorder() {
  const frames: Array<{ data?: number; ack?: number; close?: TunnelCloseReason }> = [];
  const link: StreamLink = {
    data: (base64) => frames.push({ data: Buffer.from(base64, 'base64').length }),
    ack: (bytes) => frames.push({ ack: bytes }),
    close: (reason) => frames.push({ close: reason }),
  };
  const sent = () => frames.reduce((sum, f) => sum + (f.data ?? 0), 0);
  return { frames, link, sent };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('SocketStream (one end of a tunnel stream)', () => {
  it('sends what the socket reads in chunks of at most 32 KiB, stops at the window, and goes on with each ack', async () => {
    const socket = new FakeSocket();
    const { frames, link, sent } = recorder();
    const stream = new SocketStream(socket, link, { windowBytes: 100 * 1024 });
    stream.start();
    socket.push(Buffer.alloc(300 * 1024, 1));
    await tick();
    assert.equal(sent(), 100 * 1024, 'one window, no more');
    assert.ok(frames.every((f) => (f.data ?? 0) <= 32 * 1024));
    assert.ok(socket.isPaused(), 'the socket is paused while out of credit');
    stream.remoteAck(50 * 1024);
    await tick();
    assert.equal(sent(), 150 * 1024);
    stream.remoteAck(100 * 1024);
    stream.remoteAck(50 * 1024);
    await tick();
    assert.equal(sent(), 300 * 1024);
    assert.ok(!socket.isPaused(), 'reading again once everything went out');
  });

  it('acknowledges the peer’s data only once the socket has taken it (a reader that stops reading stops the sender)', async () => {
    const socket = new FakeSocket();
    const { frames, link } = recorder();
    const stream = new SocketStream(socket, link, { windowBytes: 128 * 1024 });
    stream.start();
    for (let i = 0; i < 4; i++) stream.remoteData(Buffer.alloc(32 * 1024, i).toString('base64'));
    await tick();
    assert.equal(frames.length, 0, 'nothing written yet, nothing acknowledged');
    socket.drainAll();
    await tick();
    assert.deepEqual(frames, [{ ack: 32 * 1024 }], 'the first chunk taken, the others still wait');
    for (let i = 0; i < 4; i++) {
      socket.drainAll();
      await tick();
    }
    assert.equal(Buffer.concat(socket.written).length, 128 * 1024);
    assert.deepEqual(
      frames.map((f) => f.ack),
      [32 * 1024, 32 * 1024, 32 * 1024, 32 * 1024],
      'an ack per quarter window written',
    );
  });

  it('shares a pool with other streams: a stream out of pool credit waits, and goes on when another is acknowledged or ends', async () => {
    const pool = new CreditPool(64 * 1024);
    const a = { socket: new FakeSocket(), ...recorder() };
    const b = { socket: new FakeSocket(), ...recorder() };
    const streamA = new SocketStream(a.socket, a.link, { windowBytes: 256 * 1024, pool });
    const streamB = new SocketStream(b.socket, b.link, { windowBytes: 256 * 1024, pool });
    streamA.start();
    streamB.start();
    a.socket.push(Buffer.alloc(64 * 1024));
    b.socket.push(Buffer.alloc(32 * 1024));
    await tick();
    assert.equal(a.sent() + b.sent(), 64 * 1024, 'the pool’s window, across both');
    assert.equal(b.sent(), 0);
    streamA.remoteAck(32 * 1024);
    await tick();
    assert.equal(b.sent(), 32 * 1024, 'B woken by A’s ack');
    streamB.close('closed');
    streamA.remoteAck(32 * 1024);
    assert.equal(pool.available, 64 * 1024, 'an ended stream gives back what it had in flight');
  });

  it('closes with `protocol` when the peer sends past its credit or acknowledges what was never sent', () => {
    for (const misbehave of [
      (s: SocketStream) => s.remoteData(Buffer.alloc(200).toString('base64')),
      (s: SocketStream) => s.remoteAck(1),
    ]) {
      const socket = new FakeSocket();
      const ends: string[] = [];
      const { frames, link } = recorder();
      const stream = new SocketStream(socket, link, { windowBytes: 100, onEnd: (reason) => ends.push(reason) });
      stream.start();
      misbehave(stream);
      assert.deepEqual(frames, [{ close: 'protocol' }]);
      assert.deepEqual(ends, ['protocol']);
      assert.ok(socket.destroyed);
    }
  });

  it('sends what is left, then a close, when the socket ends; a peer’s close ends the socket without an answer', async () => {
    const socket = new FakeSocket();
    const { frames, link, sent } = recorder();
    const stream = new SocketStream(socket, link, { windowBytes: 1024 });
    stream.start();
    socket.push(Buffer.alloc(1500));
    socket.push(null);
    await tick();
    assert.equal(sent(), 1024);
    assert.ok(!frames.some((f) => f.close), 'not closed while data waits for credit');
    stream.remoteAck(1024);
    await tick();
    assert.equal(sent(), 1500);
    assert.deepEqual(frames.at(-1), { close: 'closed' });

    const other = new FakeSocket();
    const second = recorder();
    const ended: string[] = [];
    const peerClosed = new SocketStream(other, second.link, { onEnd: (reason) => ended.push(reason) });
    peerClosed.start();
    peerClosed.remoteClose('unshared');
    assert.deepEqual(second.frames, []);
    assert.deepEqual(ended, ['unshared']);
    assert.ok(peerClosed.isEnded);
  });
});
