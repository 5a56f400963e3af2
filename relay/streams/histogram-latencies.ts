import type { Registry } from 'prom-client';

/**
 * The hot paths' latencies for the metrics samples, read from the Prometheus histograms the relay
 * keeps anyway (relay/metrics): each sample takes the buckets' growth since the previous one
 * (summed over labels) and estimates p50/p95/p99 from it the way PromQL's histogram_quantile does
 * (linear within a bucket). Nothing new on the hot path. Without METRICS_ENABLED there are none.
 */

export const latencyPaths = {
  edit_ack: 'tandem_edit_ack_seconds',
  broadcast: 'tandem_broadcast_fanout_seconds',
  rest: 'tandem_http_request_duration_seconds',
  redis_command: 'tandem_redis_command_duration_seconds',
} as const;
export type LatencyPath = keyof typeof latencyPaths;

export interface LatencyPercentiles {
  p50: number;
  p95: number;
  p99: number;
}

type Buckets = Map<number, number>;

export class HistogramLatencies {
  private previous = new Map<LatencyPath, Buckets>();

  constructor(private readonly registry: Pick<Registry, 'getSingleMetric'>) {}

  /** Percentiles (ms) of what each path observed since the last call; a path that observed nothing is left out. */
  async sample(): Promise<Partial<Record<LatencyPath, LatencyPercentiles>>> {
    const result: Partial<Record<LatencyPath, LatencyPercentiles>> = {};
    for (const [path, name] of Object.entries(latencyPaths) as Array<[LatencyPath, string]>) {
      const metric = this.registry.getSingleMetric(name);
      if (!metric) continue;
      const now = cumulative((await metric.get()).values);
      const before = this.previous.get(path) ?? new Map<number, number>();
      this.previous.set(path, now);
      const grown = new Map([...now].map(([le, count]) => [le, Math.max(0, count - (before.get(le) ?? 0))]));
      const estimate = quantiles(grown);
      if (estimate) result[path] = estimate;
    }
    return result;
  }
}

/** Cumulative bucket counts by upper bound, summed over every label set. */
function cumulative(
  values: ReadonlyArray<{ metricName?: string; labels: Partial<Record<string, string | number>>; value: number }>,
): Buckets {
  const buckets: Buckets = new Map();
  for (const { metricName, labels, value } of values) {
    if (!metricName?.endsWith('_bucket')) continue;
    const le = labels.le === '+Inf' ? Infinity : Number(labels.le);
    buckets.set(le, (buckets.get(le) ?? 0) + value);
  }
  return buckets;
}

/** histogram_quantile over cumulative buckets (seconds) into ms; undefined when nothing was observed. */
export function quantiles(buckets: Buckets): LatencyPercentiles | undefined {
  const bounds = [...buckets.keys()].sort((a, b) => a - b);
  const total = buckets.get(Infinity) ?? 0;
  if (total === 0) return undefined;
  const at = (q: number) => {
    const rank = q * total;
    let lower = 0;
    let below = 0;
    for (const bound of bounds) {
      const count = buckets.get(bound)!;
      if (count >= rank) {
        // Past the last finite bucket: the largest finite bound, as PromQL answers.
        if (bound === Infinity) return lower;
        const inBucket = count - below;
        return inBucket === 0 ? bound : lower + (bound - lower) * ((rank - below) / inBucket);
      }
      lower = bound;
      below = count;
    }
    return lower;
  };
  const ms = (seconds: number) => Math.round(seconds * 1e5) / 100;
  return { p50: ms(at(0.5)), p95: ms(at(0.95)), p99: ms(at(0.99)) };
}
