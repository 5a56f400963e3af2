/**
 * Whether the relay can reach its broker and shared storage right now. The embedded in-memory
 * ones always can; with Redis, `RedisOutageMonitor` follows the connections. The routing and
 * gateway code asks this instead of knowing which storage it runs on.
 */
export interface Availability {
  /** False from the moment an outage is noticed until the broker has been back for a while. */
  readonly available: boolean;
  /**
   * Whether a failed call failed because the broker or storage could not be reached (the caller
   * may retry later), rather than because of a bug.
   */
  isUnavailableError(error: unknown): boolean;
}

export const alwaysAvailable: Availability = { available: true, isUnavailableError: () => false };
