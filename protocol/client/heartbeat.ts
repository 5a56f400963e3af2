export interface HeartbeatHooks {
  /** Silent for one interval: probe the relay (the client sends `system.ping`). */
  ping(): void;
  /** Still silent one interval after the probe: the connection is dead. */
  dead(): void;
}

/**
 * App-level dead-peer detection. The relay's protocol-level pings are answered by the WebSocket
 * implementation itself and are invisible to browser code, so a client cannot tell from them
 * that the relay went away; it watches the frames it receives instead. Any frame counts as a
 * sign of life, so a busy connection never sends a ping.
 *
 * `received()` runs once per inbound frame, so it only records a time; the single timer works
 * out from that when to look again.
 */
export class Heartbeat {
  private lastReceivedAt = 0;
  /** When the outstanding ping went out; cleared by any frame. */
  private pingSentAt: number | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running = false;

  constructor(
    private readonly intervalMs: number,
    private readonly hooks: HeartbeatHooks,
    private readonly now: () => number = Date.now,
  ) {
    if (!(intervalMs > 0) || !Number.isFinite(intervalMs))
      throw new RangeError(`heartbeat interval must be a positive number, got ${intervalMs}`);
  }

  start(): void {
    this.stop();
    this.running = true;
    this.lastReceivedAt = this.now();
    this.schedule(this.intervalMs);
  }

  received(): void {
    this.lastReceivedAt = this.now();
    this.pingSentAt = undefined;
  }

  stop(): void {
    this.running = false;
    this.pingSentAt = undefined;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(delayMs: number): void {
    // At least 1 ms: a timer that fires a hair early must not turn into a busy loop.
    this.timer = setTimeout(() => this.check(), Math.max(1, Math.ceil(delayMs)));
  }

  private check(): void {
    this.timer = undefined;
    if (!this.running) return;
    const now = this.now();
    if (this.pingSentAt !== undefined) {
      const waited = now - this.pingSentAt;
      if (waited >= this.intervalMs) {
        this.stop();
        this.hooks.dead();
        return;
      }
      this.schedule(this.intervalMs - waited);
      return;
    }
    const idle = now - this.lastReceivedAt;
    if (idle < this.intervalMs) {
      this.schedule(this.intervalMs - idle);
      return;
    }
    this.pingSentAt = now;
    this.schedule(this.intervalMs);
    this.hooks.ping();
  }
}
