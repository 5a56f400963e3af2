import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/**
 * A receive-only WebSocket client for the load generator, at the cost of a few byte reads per
 * frame: the socket reads into one shared buffer (`onread`: no stream, no chunk allocation), and
 * frames are counted from their headers where they lie in that buffer, never copied or decoded.
 * A `ws` client costs about what the server spends to send the frame (stream machinery, one
 * Buffer and one event per frame), which on two shared cores makes the generator the bottleneck.
 *
 * Just enough of RFC 6455 for a server's frames: unmasked, any length, split anywhere across
 * reads. It answers pings (the relay closes peers that stay silent) and ends on a close frame;
 * it sends nothing else unless asked (`sendText`).
 */

export interface WireHooks {
  /** Once the upgrade succeeded. */
  open(): void;
  /** One text or binary message: `data[start, end)` when it arrived whole in one read, else no data. */
  frame(data: Buffer | undefined, start: number, end: number): void;
  /** Exactly once. */
  closed(reason: string): void;
}

const shared = Buffer.allocUnsafe(256 * 1024);
/** Client frames must be masked; a zero mask key leaves the payload as is. */
const PONG = Buffer.from([0x8a, 0x80, 0, 0, 0, 0]);
const CLOSE = Buffer.from([0x88, 0x80, 0, 0, 0, 0]);
const HEADER_END = Buffer.from('\r\n\r\n');

export class WireReceiver {
  private readonly socket: Socket;
  private handshake: Buffer | undefined = Buffer.alloc(0);
  /** The header being read (up to 14 bytes), how much of it arrived, how much it needs. */
  private readonly header = new Uint8Array(14);
  private headerLength = 0;
  /** Payload bytes of the current frame still to come, and whether it is a message (vs control). */
  private remaining = 0;
  private inMessage = false;
  private ended = false;

  constructor(
    url: string,
    private readonly hooks: WireHooks,
  ) {
    const { hostname, port, pathname, search } = new URL(url);
    this.socket = connect({
      host: hostname,
      port: Number(port),
      onread: { buffer: shared, callback: (bytes: number, buffer: Uint8Array) => this.read(buffer as Buffer, bytes) },
    });
    this.socket.setNoDelay(true);
    this.socket.on('connect', () => {
      this.socket.write(
        `GET ${pathname}${search} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    this.socket.on('error', (error) => this.end(error.message));
    this.socket.on('close', () => this.end('socket closed'));
  }

  /**
   * A short text frame (under 126 bytes), masked with a zero key: what a protocol on top needs to
   * stay connected, e.g. Engine.IO's namespace connect and pong. Dropped before the upgrade.
   */
  sendText(text: string): void {
    if (this.ended || this.handshake) return;
    const payload = Buffer.from(text);
    if (payload.length > 125) throw new RangeError('WireReceiver.sendText: at most 125 bytes');
    this.socket.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length, 0, 0, 0, 0]), payload]));
  }

  close(): void {
    if (!this.ended && !this.handshake) this.socket.write(CLOSE);
    this.socket.destroy();
  }

  private end(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.socket.destroy();
    this.hooks.closed(reason);
  }

  private read(buffer: Buffer, bytes: number): boolean {
    if (this.handshake) {
      const response = Buffer.concat([this.handshake, buffer.subarray(0, bytes)]);
      const headerEnd = response.indexOf(HEADER_END);
      if (headerEnd < 0) {
        this.handshake = response;
        return true;
      }
      this.handshake = undefined;
      const status = /^HTTP\/1\.1 (\d+)/.exec(response.toString('latin1', 0, 16))?.[1];
      if (status !== '101') {
        this.end(`HTTP ${status ?? '?'} ${response.toString('utf8', headerEnd + 4)}`);
        return false;
      }
      this.hooks.open();
      // What came after the response headers is frames: go on from there, in a copy.
      const rest = response.subarray(headerEnd + 4);
      this.frames(rest, 0, rest.length);
      return true;
    }
    this.frames(buffer, 0, bytes);
    return true;
  }

  private frames(buffer: Buffer, from: number, to: number): void {
    let at = from;
    while (at < to) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, to - at);
        at += take;
        this.remaining -= take;
        continue;
      }
      // A header: two bytes, then 0, 2 or 8 bytes of length (server frames carry no mask).
      const header = this.header;
      while (this.headerLength < 2 && at < to) header[this.headerLength++] = buffer[at++]!;
      if (this.headerLength < 2) return;
      const short = header[1]! & 0x7f;
      const needed = short === 126 ? 4 : short === 127 ? 10 : 2;
      while (this.headerLength < needed && at < to) header[this.headerLength++] = buffer[at++]!;
      if (this.headerLength < needed) return;
      let length = short;
      if (short === 126) length = (header[2]! << 8) | header[3]!;
      else if (short === 127) {
        // 64-bit length; a frame here is far below 2^32 bytes, so the low four bytes are it.
        length = 0;
        for (let i = 6; i < 10; i++) length = length * 256 + header[i]!;
      }
      this.headerLength = 0;
      const opcode = header[0]! & 0x0f;
      const fin = (header[0]! & 0x80) !== 0;
      if (opcode === 0x9) this.socket.write(PONG);
      else if (opcode === 0x8) return this.end('close frame');
      else if (opcode !== 0xa) {
        // Text, binary or continuation: a message ends with its FIN frame.
        if (opcode !== 0) this.inMessage = true;
        if (fin && this.inMessage) {
          this.inMessage = false;
          const whole = opcode !== 0 && at + length <= to;
          this.hooks.frame(whole ? buffer : undefined, at, at + length);
        }
      }
      this.remaining = length;
    }
  }
}
