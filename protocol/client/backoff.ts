export interface BackoffOptions {
  /** Upper bound of the first delay. */
  baseDelayMs: number;
  /** Upper bound of every delay. */
  maxDelayMs: number;
  /** A number in [0, 1); injectable so tests can pin the jitter. */
  random?: () => number;
}

export const defaultBackoff: Readonly<BackoffOptions> = { baseDelayMs: 500, maxDelayMs: 30_000 };

/** 2^30 times any sane base is past any sane cap; stops `2 ** attempt` reaching Infinity. */
const MAX_EXPONENT = 30;

/**
 * Capped exponential backoff with full jitter: delay = random(0, min(max, base * 2^attempt)).
 * Full jitter (not "equal" or none) spreads the reconnects of every client a relay restart
 * dropped over the whole window, so they do not return as one thundering herd.
 */
export class Backoff {
  private readonly random: () => number;
  private attemptCount = 0;

  constructor(private readonly options: BackoffOptions) {
    const { baseDelayMs, maxDelayMs } = options;
    if (!Number.isFinite(baseDelayMs) || baseDelayMs < 0)
      throw new RangeError(`baseDelayMs must be a finite number >= 0, got ${baseDelayMs}`);
    if (!Number.isFinite(maxDelayMs) || maxDelayMs < baseDelayMs)
      throw new RangeError(`maxDelayMs must be a finite number >= baseDelayMs, got ${maxDelayMs}`);
    this.random = options.random ?? Math.random;
  }

  /** How many delays have been handed out since the last reset. */
  get attempt(): number {
    return this.attemptCount;
  }

  /** The cap of the next delay, before jitter. */
  ceiling(): number {
    const exponent = Math.min(this.attemptCount, MAX_EXPONENT);
    return Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** exponent);
  }

  /** The next delay in whole milliseconds, in [0, ceiling()]; advances the attempt. */
  next(): number {
    const ceiling = this.ceiling();
    this.attemptCount += 1;
    const r = Math.min(Math.max(this.random(), 0), 1);
    return Math.round(r * ceiling);
  }

  /** After a connection that worked: the next failure starts from the base again. */
  reset(): void {
    this.attemptCount = 0;
  }
}
