/**
 * Keeps a connection's tunnel frames under a share of the relay's message rate
 * (`max_messages_per_second`, a token bucket on the relay): a frame over it would be dropped
 * (RATE_LIMITED, with no stream named), which would cut a byte out of some stream. Frames wait
 * here in order instead, and the rest of the connection's traffic (edits, cursors, chat) keeps
 * the other share. Credit bounds what can wait (one window per stream).
 */
export class FramePacer {
  private readonly queue: Array<() => void> = [];
  private tokens: number;
  private refilledAt: number;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    /** The relay's messages per second for this connection. */
    private readonly relayRate: () => number,
    /** The share of it tunnel frames may use, sustained; a burst is half of that. */
    private readonly share = 0.6,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = this.capacity();
    this.refilledAt = now();
  }

  /** Frames waiting for their turn. */
  get waiting(): number {
    return this.queue.length;
  }

  /** Runs `send` now if the budget allows and nothing waits, later (in order) otherwise. */
  send(send: () => void): void {
    this.queue.push(send);
    this.drain();
  }

  /** Forgets what waits (the connection is gone: its frames would go nowhere). */
  clear(): void {
    this.queue.length = 0;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private rate(): number {
    return Math.max(1, this.relayRate() * this.share);
  }

  private capacity(): number {
    return Math.max(1, Math.floor(this.rate() / 2));
  }

  private drain(): void {
    const now = this.now();
    this.tokens = Math.min(this.capacity(), this.tokens + ((now - this.refilledAt) * this.rate()) / 1000);
    this.refilledAt = now;
    while (this.queue.length > 0 && this.tokens >= 1) {
      this.tokens -= 1;
      this.queue.shift()!();
    }
    if (this.queue.length > 0 && !this.timer) {
      const wait = Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / this.rate()));
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.drain();
      }, wait);
    }
  }
}
