import type { OperatorStatus, StreamInfo } from '../../protocol';
import type { BrokerHealth } from '../broker/broker';
import { streamNames, type StreamStore } from '../streams/stream-store';

/** What the status reads of the relay: Redis's health as the relay sees it, its memory, the streams. */
export interface StatusSource {
  relayId: string;
  redisConfigured: boolean;
  /** The broker's PING, with the relay's own view of an outage (as `/health` says it). */
  health(): Promise<BrokerHealth>;
  /** Redis's `used_memory`; undefined without Redis. */
  redisMemoryBytes(): Promise<number | undefined>;
  streams: StreamStore;
  /** The data processor's consumer group. */
  group: string;
  prometheusConfigured: boolean;
}

/**
 * The serving relay's view for the dashboard's overview: Redis up or down (answered while it is
 * down: the aggregates cannot be computed then, this can), its latency and memory, and each
 * stream's length and the processor group's pending entries and lag.
 */
export async function operatorStatus(source: StatusSource): Promise<OperatorStatus> {
  const base = {
    generated_at: new Date().toISOString(),
    relay_id: source.relayId,
    uptime_s: Math.floor(process.uptime()),
    alerts_source: source.prometheusConfigured ? ('prometheus' as const) : ('aggregates' as const),
  };
  // Redis's own error text stays in the relay's log (the outage monitor logs it once).
  const health = await source.health().catch(() => ({ status: 'down' as const, detail: 'the health check of Redis failed' }));
  const redisUp = health.status === 'up';
  const [memory, streams] =
    redisUp || !source.redisConfigured
      ? await Promise.all([source.redisMemoryBytes().catch(() => undefined), streamInfo(source)])
      : [undefined, []];
  return {
    ...base,
    redis: {
      status: source.redisConfigured ? health.status : 'not_configured',
      latency_ms: source.redisConfigured && 'latencyMs' in health && health.latencyMs !== undefined ? health.latencyMs : null,
      memory_used_bytes: memory ?? null,
      ...(health.detail && { detail: health.detail.slice(0, 500) }),
    },
    streams,
  };
}

async function streamInfo(source: StatusSource): Promise<StreamInfo[]> {
  return await Promise.all(
    streamNames.map(async (stream) => {
      const length = await source.streams.length(stream).catch(() => 0);
      const group = await Promise.all([source.streams.pending(stream, source.group), source.streams.lag(stream, source.group)]).then(
        ([pending, lag]) => [{ name: source.group, consumers: Object.keys(pending.consumers).length, pending: pending.count, lag }],
        // No group (STREAM_PROCESSOR=false everywhere, or Redis lost it): no consumer.
        () => [],
      );
      return { stream, length, groups: group };
    }),
  );
}
