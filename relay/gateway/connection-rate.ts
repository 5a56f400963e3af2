/**
 * New connections per client address per minute, in fixed one-minute windows. Old windows are
 * dropped as they expire, so an address scan cannot grow the map without bound.
 */
export class ConnectionRateLimiter {
  private windows = new Map<string, number>();
  private windowStart = Date.now();

  constructor(private readonly perMinute: number) {}

  allow(address: string, now = Date.now()): boolean {
    if (now - this.windowStart >= 60_000) {
      this.windows = new Map();
      this.windowStart = now;
    }
    const count = (this.windows.get(address) ?? 0) + 1;
    this.windows.set(address, count);
    return count <= this.perMinute;
  }
}
