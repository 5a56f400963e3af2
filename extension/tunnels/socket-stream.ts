/**
 * One tunnel stream's end: a TCP socket on this machine bound to the relay. What the socket
 * reads goes out as `tunnel.data` chunks while there is credit (the socket is paused when there
 * is none, and resumed by the peer's acks); what comes in is written to the socket and
 * acknowledged once written. Either end closing closes the other. No `vscode` import: the host's
 * and the guest's sides both use it, in VS Code or in plain Node.
 */
import type { Duplex } from 'node:stream';
import { TUNNEL_LIMITS, type TunnelCloseReason } from '../../protocol';
import { type CreditPool, ReceiveCredit, SendCredit } from './credit';

/** What a stream sends to its peer through the relay (the caller adds the stream id and the `requester`). */
export interface StreamLink {
  data(base64: string): void;
  ack(bytes: number): void;
  close(reason: TunnelCloseReason, message?: string): void;
}

export interface SocketStreamOptions {
  windowBytes?: number;
  chunkBytes?: number;
  /** Credit shared with the other streams to the same peer connection. */
  pool?: CreditPool;
  /** Once, when the stream is over (whichever side ended it). */
  onEnd?: (reason: TunnelCloseReason, message?: string) => void;
}

export class SocketStream {
  private readonly sendCredit: SendCredit;
  private readonly receiveCredit: ReceiveCredit;
  private readonly chunkBytes: number;
  /** Read from the socket, waiting for credit (at most one read's worth: the socket is paused meanwhile). */
  private readonly pending: Buffer[] = [];
  private started = false;
  private ending = false;
  private ended = false;
  /** Bytes sent and received, for the view and the tests. */
  bytesOut = 0;
  bytesIn = 0;
  private readonly wake = () => this.pump();

  constructor(
    readonly socket: Duplex,
    private readonly link: StreamLink,
    private readonly options: SocketStreamOptions = {},
  ) {
    this.sendCredit = new SendCredit(options.windowBytes ?? TUNNEL_LIMITS.windowBytes);
    this.receiveCredit = new ReceiveCredit(options.windowBytes ?? TUNNEL_LIMITS.windowBytes);
    this.chunkBytes = options.chunkBytes ?? TUNNEL_LIMITS.chunkBytes;
    socket.pause();
    socket.on('error', (error: Error) => this.close('error', error.message));
    socket.on('close', () => this.close('closed'));
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** Starts reading the socket (the guest's, once the host has connected its end). */
  start(): void {
    if (this.started || this.ended) return;
    this.started = true;
    this.socket.on('data', (chunk: Buffer) => {
      this.pending.push(chunk);
      this.pump();
    });
    this.socket.on('end', () => {
      this.ending = true;
      this.pump();
    });
    this.socket.resume();
  }

  /** The peer's bytes: written to the socket, acknowledged when written. */
  remoteData(base64: string): void {
    if (this.ended) return;
    const bytes = Buffer.from(base64, 'base64');
    if (!this.receiveCredit.receive(bytes.length)) {
      this.close('protocol', 'the peer sent more than its credit');
      return;
    }
    this.bytesIn += bytes.length;
    this.socket.write(bytes, (error) => {
      if (error || this.ended) return;
      const ack = this.receiveCredit.written(bytes.length);
      if (ack > 0) this.link.ack(ack);
    });
  }

  remoteAck(bytes: number): void {
    if (this.ended) return;
    if (!this.sendCredit.release(bytes)) {
      this.close('protocol', 'the peer acknowledged more than was sent');
      return;
    }
    this.options.pool?.release(bytes);
    this.pump();
  }

  /** The peer ended the stream: the socket ends once what was written has gone out. Nothing is sent back. */
  remoteClose(reason: TunnelCloseReason = 'closed', message?: string): void {
    if (this.ended) return;
    this.finish(reason, message);
    this.socket.end();
    // A socket whose reader stopped would keep its FIN waiting forever.
    setTimeout(() => this.socket.destroy(), 30_000).unref();
  }

  /** This side ends the stream: tells the peer and destroys the socket. */
  close(reason: TunnelCloseReason, message?: string): void {
    if (this.ended) return;
    this.finish(reason, message);
    this.link.close(reason, message);
    this.socket.destroy();
  }

  /** Ends without telling the peer (it is gone, or the relay already dropped the stream). */
  abort(reason: TunnelCloseReason = 'error', message?: string): void {
    if (this.ended) return;
    this.finish(reason, message);
    this.socket.destroy();
  }

  private finish(reason: TunnelCloseReason, message?: string): void {
    this.ended = true;
    this.pending.length = 0;
    // What this stream had in flight will never be acknowledged: the others may use it.
    this.options.pool?.unwait(this.wake);
    this.options.pool?.release(this.sendCredit.unacknowledged);
    this.options.onEnd?.(reason, message);
  }

  /** Sends what credit allows; pauses the socket while anything waits. */
  private pump(): void {
    while (!this.ended && this.pending.length > 0) {
      const head = this.pending[0]!;
      const { pool } = this.options;
      let size = Math.min(head.length, this.chunkBytes, this.sendCredit.available);
      if (size > 0 && pool) {
        size = pool.take(size);
        if (size === 0) pool.wait(this.wake);
      }
      if (size === 0) break;
      this.sendCredit.take(size);
      const piece = head.subarray(0, size);
      if (size === head.length) this.pending.shift();
      else this.pending[0] = head.subarray(size);
      this.bytesOut += size;
      this.link.data(piece.toString('base64'));
    }
    if (this.ended) return;
    if (this.pending.length > 0) {
      this.socket.pause();
    } else if (this.ending) {
      this.close('closed');
    } else if (this.started) {
      this.socket.resume();
    }
  }
}
