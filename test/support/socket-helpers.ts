/** Raw-socket and frame-level helpers: what `ws` and plain HTTP requests cannot do. */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { IncomingHttpHeaders } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { HttpResponse } from './relay-fixture';

/** A chat frame whose UTF-8 text is exactly `bytes` long (ASCII content). */
export function chatFrameOfBytes(bytes: number, clientMessageId = 'sized'): string {
  const frame = (content: string) =>
    JSON.stringify({ event_type: 'chat.message', payload: { content, client_message_id: clientMessageId } });
  const overhead = Buffer.byteLength(frame(''));
  if (bytes <= overhead) throw new Error(`a chat frame needs more than ${overhead} bytes`);
  const text = frame('x'.repeat(bytes - overhead));
  if (Buffer.byteLength(text) !== bytes) throw new Error('chatFrameOfBytes: size mismatch');
  return text;
}

/** The own property names of Object.prototype, to check it is not polluted. */
export function objectPrototypeKeys(): string[] {
  return Object.getOwnPropertyNames(Object.prototype).sort();
}

/** The head of a WebSocket upgrade request for `wsUrl`, as `ws` would send it (no final blank line). */
export function upgradeRequestHead(wsUrl: string): string {
  const url = new URL(wsUrl);
  return [
    `GET ${url.pathname}${url.search} HTTP/1.1`,
    `Host: ${url.host}`,
    'Connection: Upgrade',
    'Upgrade: websocket',
    'Sec-WebSocket-Version: 13',
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
  ].join('\r\n');
}

/**
 * A WebSocket upgrade done by hand over a plain TCP socket, for frames `ws` would never send.
 * Resolves with the socket once the relay answered 101 (and any bytes it sent after).
 */
export function rawUpgrade(wsUrl: string, timeoutMs = 3000): Promise<{ socket: Socket; rest: Buffer }> {
  const url = new URL(wsUrl);
  const socket = connect(Number(url.port), url.hostname);
  socket.write(`${upgradeRequestHead(wsUrl)}\r\n\r\n`);
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0);
    const finish = (error?: Error) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', finish);
      if (!error) return;
      socket.destroy();
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n\r\n');
      if (end === -1) return;
      const head = received.subarray(0, end).toString('latin1');
      if (!head.startsWith('HTTP/1.1 101')) return finish(new Error(`upgrade refused: ${head.split('\r\n')[0]}`));
      finish();
      socket.on('error', () => undefined);
      resolve({ socket, rest: received.subarray(end + 4) });
    };
    const timer = setTimeout(() => finish(new Error(`no upgrade response within ${timeoutMs} ms`)), timeoutMs);
    socket.on('data', onData);
    socket.on('error', finish);
  });
}

/** A masked client frame, as RFC 6455 says a client must send (`fin`, `rsv`, `opcode` in the first byte). */
export function maskedFrame(firstByte: number, payload: Buffer, lengthBytes?: Buffer): Buffer {
  const mask = randomBytes(4);
  const masked = Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]!));
  const length = lengthBytes ?? payloadLength(payload.length);
  const withMaskBit = Buffer.from(length);
  withMaskBit[0] = withMaskBit[0]! | 0x80;
  return Buffer.concat([Buffer.from([firstByte]), withMaskBit, mask, masked]);
}

function payloadLength(length: number): Buffer {
  if (length < 126) return Buffer.from([length]);
  if (length < 0x10000) return Buffer.from([126, length >> 8, length & 0xff]);
  const out = Buffer.alloc(9);
  out[0] = 127;
  out.writeBigUInt64BE(BigInt(length), 1);
  return out;
}

/**
 * Reads server frames until the relay's close frame; resolves with its status code (or
 * undefined if the connection ended without one).
 */
export function readCloseCode(socket: Socket, rest: Buffer, timeoutMs = 3000): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    let buffer = rest;
    const done = (code: number | undefined) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      resolve(code);
    };
    const parse = () => {
      for (;;) {
        if (buffer.length < 2) return;
        const opcode = buffer[0]! & 0x0f;
        let length = buffer[1]! & 0x7f;
        let offset = 2;
        if (length === 126) {
          if (buffer.length < 4) return;
          length = buffer.readUInt16BE(2);
          offset = 4;
        } else if (length === 127) {
          if (buffer.length < 10) return;
          length = Number(buffer.readBigUInt64BE(2));
          offset = 10;
        }
        if (buffer.length < offset + length) return;
        const payload = buffer.subarray(offset, offset + length);
        buffer = buffer.subarray(offset + length);
        if (opcode === 0x8) return done(payload.length >= 2 ? payload.readUInt16BE(0) : undefined);
      }
    };
    const onData = (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      parse();
    };
    const onClose = () => done(undefined);
    const timer = setTimeout(() => {
      socket.off('data', onData);
      socket.off('close', onClose);
      reject(new Error(`no close frame within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('data', onData);
    socket.on('close', onClose);
    parse();
  });
}

/**
 * An HTTP request whose head is sent except for its final blank line, so the relay holds an
 * active (not idle) connection; `complete()` finishes it and resolves with the response. This
 * lets a test make a request at an exact moment, e.g. while the relay drains after it has
 * stopped listening. Put `Connection: close` in the head so the relay ends the response.
 */
export async function holdRequest(
  port: number,
  head: string,
): Promise<{ complete(timeoutMs?: number): Promise<HttpResponse>; destroy(): void }> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write(head.replace(/(\r\n)*$/, '\r\n'));
  return {
    complete(timeoutMs = 3000) {
      return new Promise<HttpResponse>((resolve, reject) => {
        const chunks: Buffer[] = [];
        const timer = setTimeout(() => {
          socket.destroy();
          reject(new Error(`no complete response within ${timeoutMs} ms`));
        }, timeoutMs);
        socket.on('data', (chunk: Buffer) => chunks.push(chunk));
        socket.once('error', reject);
        socket.once('close', () => {
          clearTimeout(timer);
          const raw = Buffer.concat(chunks).toString('utf8');
          const split = raw.indexOf('\r\n\r\n');
          if (split === -1) return reject(new Error(`no HTTP response before the connection closed: ${JSON.stringify(raw)}`));
          const [statusLine = '', ...headerLines] = raw.slice(0, split).split('\r\n');
          const headers: IncomingHttpHeaders = {};
          for (const line of headerLines) {
            const colon = line.indexOf(':');
            headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
          }
          resolve({ status: Number(statusLine.split(' ')[1]), headers, text: raw.slice(split + 4) });
        });
        socket.write('\r\n');
      });
    },
    destroy() {
      socket.destroy();
    },
  };
}
