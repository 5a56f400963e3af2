import type { MetricsAggregates } from '../../protocol';

/**
 * Each relay's state from the live aggregates, as the overview shows it. A relay is only known
 * through its metrics samples: one whose samples stop is down (it died, or cannot reach the shared
 * Redis), one that was seen and has left the window is still listed as down. Pure: tested.
 */

export type RelayState = 'up' | 'degraded' | 'down';

export type RelayRow = MetricsAggregates['relays'][number];

export interface RelayStatus {
  relay_id: string;
  state: RelayState;
  /** Why it is not up (for the tooltip and the alerts). */
  reasons: string[];
  /** Seconds since its last sample. */
  silent_s: number;
  /** Its last figures (undefined for a relay that has left the window). */
  row: RelayRow | undefined;
}

/** Degraded above these (the same as the alert rules' thresholds where there is one). */
export const DEGRADED = { eventLoopLagMs: 100, errorRatio: 0.05, minInboundPerS: 1, redisLatencyMs: 50 } as const;

/**
 * Down once its samples have stopped for three sampling intervals plus the processing delay (the
 * samples reach the aggregates through the stream and its consumers): 3.5 s at the 500 ms interval
 * of a test cluster, 17 s at the 5 s default.
 */
export function silenceLimitMs(sampleIntervalMs: number): number {
  return 3 * sampleIntervalMs + 2000;
}

export class RelayStates {
  /** Relays seen before, with their last row: a relay that died must not simply vanish from the overview. */
  private readonly seen = new Map<string, RelayRow>();

  update(aggregates: MetricsAggregates, now: number): RelayStatus[] {
    for (const row of aggregates.relays) this.seen.set(row.relay_id, row);
    const present = new Set(aggregates.relays.map((row) => row.relay_id));
    return [...this.seen.values()]
      .sort((a, b) => a.relay_id.localeCompare(b.relay_id))
      .map((row) => stateOf(row, present.has(row.relay_id), now));
  }

  /** Forgets a relay the operator no longer wants listed. */
  forget(relayId: string): void {
    this.seen.delete(relayId);
  }
}

export function stateOf(row: RelayRow, inWindow: boolean, now: number): RelayStatus {
  const silentMs = Math.max(0, now - Date.parse(row.last_sample_at));
  const base = { relay_id: row.relay_id, silent_s: Math.round(silentMs / 1000), row: inWindow ? row : undefined };
  if (!inWindow || silentMs > silenceLimitMs(row.sample_interval_ms)) {
    return { ...base, state: 'down', reasons: [`no sample for ${Math.round(silentMs / 1000)} s`] };
  }
  const reasons: string[] = [];
  if ((row.event_loop_lag_ms.p99 ?? 0) > DEGRADED.eventLoopLagMs) reasons.push(`event-loop lag p99 ${row.event_loop_lag_ms.p99} ms`);
  if (row.error_ratio > DEGRADED.errorRatio && row.messages_in_per_s > DEGRADED.minInboundPerS) {
    reasons.push(`errors ${(row.error_ratio * 100).toFixed(1)} % of frames`);
  }
  if ((row.redis_latency_ms.p99 ?? 0) > DEGRADED.redisLatencyMs) reasons.push(`Redis latency p99 ${row.redis_latency_ms.p99} ms`);
  return { ...base, state: reasons.length > 0 ? 'degraded' : 'up', reasons };
}
