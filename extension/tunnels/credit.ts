/**
 * Flow control of one tunnel stream, one direction each: credit-based, as HTTP/2's windows. A
 * sender may have at most `windowBytes` sent and not yet acknowledged; a reader acknowledges
 * what it has written to its socket (so a browser that stops reading stops the server's socket on
 * the far side within one window). Pure bookkeeping: no sockets, no timers.
 */
import { TUNNEL_LIMITS } from '../../protocol';

export class SendCredit {
  private inFlight = 0;

  constructor(readonly windowBytes: number = TUNNEL_LIMITS.windowBytes) {}

  /** Bytes that may be sent now. */
  get available(): number {
    return this.windowBytes - this.inFlight;
  }

  /** Sent and not acknowledged yet. */
  get unacknowledged(): number {
    return this.inFlight;
  }

  /** Takes credit for up to `wanted` bytes; returns how many may go now (0: wait for an ack). */
  take(wanted: number): number {
    const granted = Math.max(0, Math.min(wanted, this.available));
    this.inFlight += granted;
    return granted;
  }

  /** An ack; false (and nothing changed) when it acknowledges more than is in flight: a broken or hostile peer. */
  release(bytes: number): boolean {
    if (!Number.isInteger(bytes) || bytes <= 0 || bytes > this.inFlight) return false;
    this.inFlight -= bytes;
    return true;
  }
}

export class ReceiveCredit {
  /** Received and not acknowledged (whether written yet or not). */
  private outstanding = 0;
  /** Written to the socket and not acknowledged. */
  private writtenUnacked = 0;

  constructor(
    readonly windowBytes: number = TUNNEL_LIMITS.windowBytes,
    /** Acks go out in batches of at least this much (fewer frames), and always before the sender can run dry. */
    readonly ackThreshold: number = Math.max(1, Math.floor(windowBytes / 4)),
  ) {}

  /** Received and not acknowledged. */
  get unacknowledged(): number {
    return this.outstanding;
  }

  /** Data arrived; false when the sender went past its credit (it ignored the window). */
  receive(bytes: number): boolean {
    if (this.outstanding + bytes > this.windowBytes) return false;
    this.outstanding += bytes;
    return true;
  }

  /** `bytes` of received data were written to the socket: the ack to send now (0: none yet). */
  written(bytes: number): number {
    this.writtenUnacked += bytes;
    return this.writtenUnacked >= this.ackThreshold ? this.flush() : 0;
  }

  /** Acknowledges everything written so far (0: nothing to acknowledge). */
  flush(): number {
    const ack = this.writtenUnacked;
    this.writtenUnacked = 0;
    this.outstanding -= ack;
    return ack;
  }
}

/**
 * Credit shared by all the streams between the host and one guest connection, on top of each
 * stream's own: what one side has in flight to the other stays under the relay's outbound buffer
 * for that connection (WS_MAX_BUFFERED_BYTES, 1 MiB by default, base64 being 4/3 of it) however
 * many streams there are. A stream out of pool credit waits to be woken by a release.
 */
export class CreditPool {
  private readonly credit: SendCredit;
  private readonly waiters = new Set<() => void>();

  constructor(readonly windowBytes: number = 2 * TUNNEL_LIMITS.windowBytes) {
    this.credit = new SendCredit(windowBytes);
  }

  get available(): number {
    return this.credit.available;
  }

  take(wanted: number): number {
    return this.credit.take(wanted);
  }

  /** Gives back credit (an ack, or what an ended stream had in flight) and wakes the waiting streams. */
  release(bytes: number): void {
    if (bytes > 0) this.credit.release(Math.min(bytes, this.credit.unacknowledged));
    const waiting = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiting) wake();
  }

  /** `wake` is called once, at the next release. */
  wait(wake: () => void): void {
    this.waiters.add(wake);
  }

  unwait(wake: () => void): void {
    this.waiters.delete(wake);
  }
}
