import { type HotPathTimings, noHotPathTimings } from './metrics/hot-path';

/**
 * Counters behind `/ws/stats` (and `/metrics`, which reads them when scraped). Plain maps: one
 * increment per message, no allocation.
 */
export class RelayStats {
  readonly startedAt = Date.now();
  private readonly inbound = new Map<string, number>();
  private readonly outbound = new Map<string, number>();
  private readonly errors = new Map<string, number>();
  /**
   * Divergences found and repaired: `relay`, by a client's convergence check (its text differed
   * from the relay's); `editor`, by a client itself (its editor differed from its copy). Each is a
   * bug to find: the tests fail on any.
   */
  private readonly repairs = { relay: 0, editor: 0 };
  /** Refused WebSocket upgrades by the HTTP status they were answered with. */
  private readonly refusedUpgrades = new Map<number, number>();
  /** Rejoins of a document whose history was lost: `rebuilt` recreated it, `reset` brought a copy to it. */
  private readonly recoveries = { rebuilt: 0, reset: 0, forked: 0 };
  /**
   * Edits forwarded between relays to the one that commits their document (commit-forwarding.ts):
   * forwards this relay sent that were `answered` or `unanswered` (committed here instead), and
   * forwarded edits it committed for another relay (`served`).
   */
  private readonly forwards = { answered: 0, unanswered: 0, served: 0 };
  connectionsTotal = 0;
  connectionsRefused = 0;
  /** The hot paths' timings (relay/metrics); a no-op unless metrics are enabled. */
  timings: HotPathTimings = noHotPathTimings;

  countIn(eventType: string): void {
    this.inbound.set(eventType, (this.inbound.get(eventType) ?? 0) + 1);
  }

  countOut(eventType: string, deliveries = 1): void {
    this.outbound.set(eventType, (this.outbound.get(eventType) ?? 0) + deliveries);
  }

  countError(code: string): void {
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }

  countRepairs(where: 'relay' | 'editor', count = 1): void {
    this.repairs[where] += count;
  }

  countRefusedUpgrade(status: number): void {
    this.connectionsRefused++;
    this.refusedUpgrades.set(status, (this.refusedUpgrades.get(status) ?? 0) + 1);
  }

  countRecovery(kind: 'rebuilt' | 'reset' | 'forked'): void {
    this.recoveries[kind]++;
  }

  countForward(outcome: 'answered' | 'unanswered' | 'served', count = 1): void {
    this.forwards[outcome] += count;
  }

  /** The counts as they stand, for `/metrics` (read when scraped, never copied on the hot path). */
  get counts() {
    return {
      inbound: this.inbound as ReadonlyMap<string, number>,
      outbound: this.outbound as ReadonlyMap<string, number>,
      errors: this.errors as ReadonlyMap<string, number>,
      refusedUpgrades: this.refusedUpgrades as ReadonlyMap<number, number>,
      repairs: this.repairs as Readonly<typeof this.repairs>,
      recoveries: this.recoveries as Readonly<typeof this.recoveries>,
      forwards: this.forwards as Readonly<typeof this.forwards>,
    };
  }

  snapshot() {
    return {
      uptime_s: Math.round((Date.now() - this.startedAt) / 1000),
      connections_total: this.connectionsTotal,
      connections_refused: this.connectionsRefused,
      messages_in: Object.fromEntries(this.inbound),
      messages_out: Object.fromEntries(this.outbound),
      errors: Object.fromEntries(this.errors),
      document_repairs: { ...this.repairs },
    };
  }
}
