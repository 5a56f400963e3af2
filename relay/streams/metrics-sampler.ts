import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Logger } from '../log';
import type { RelayStats } from '../stats';
import { encodeEntry, type MetricsSample } from './stream-entries';
import type { StreamStore } from './stream-store';

const LOOP_DELAY_RESOLUTION_MS = 20;

/** What the sampler reads of the relay: its counters and gauges, never the hot path itself. */
export interface RelayFigures {
  stats: RelayStats;
  connections(): number;
  sessions(): number;
  documents(): number;
  /** A PING's round trip to Redis in ms; undefined without Redis or when it failed. */
  redisLatencyMs(): Promise<number | undefined>;
  /** The hot paths' latency percentiles since the last sample (none with METRICS_ENABLED=false). */
  latencies?(): Promise<MetricsSample['latency_ms']>;
}

type Counters = ReturnType<RelayStats['snapshot']>;

/**
 * Every METRICS_SAMPLE_INTERVAL_MS, one sample of this relay's figures on the metrics stream:
 * gauges as they are, counters as what happened since the previous sample (so samples add up,
 * whichever consumer gets them), the event loop's delay over the interval, a Redis round trip.
 */
export class MetricsSampler {
  private previous: Counters;
  private sampledAt = Date.now();
  private cpu = process.cpuUsage();
  private readonly loopDelay = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });
  private timer: NodeJS.Timeout | undefined;
  private failing = false;

  constructor(
    private readonly streams: StreamStore,
    private readonly figures: RelayFigures,
    private readonly options: { relayId: string; maxLen: number; log?: Pick<Logger, 'warn'> },
  ) {
    this.previous = figures.stats.snapshot();
    this.loopDelay.enable();
  }

  /** Takes one sample and appends it; returns it with its entry id. */
  async sample(): Promise<{ id: string; sample: MetricsSample }> {
    const now = Date.now();
    const counters = this.figures.stats.snapshot();
    // Node's figures are the whole interval between the monitor's timer runs: the lag is what
    // exceeds the resolution (an idle loop reads 20.1 ms, not 0.1 ms).
    const ns = (value: number) => (Number.isFinite(value) ? Math.max(0, Math.round(value / 1e4) / 100 - LOOP_DELAY_RESOLUTION_MS) : 0);
    const memory = process.memoryUsage();
    const latency = await this.figures.redisLatencyMs();
    const cpu = process.cpuUsage(this.cpu);
    const latencies = await this.figures.latencies?.();
    const sample: MetricsSample = {
      relay_id: this.options.relayId,
      at: new Date(now).toISOString(),
      interval_ms: Math.max(1, now - this.sampledAt),
      connections: this.figures.connections(),
      sessions: this.figures.sessions(),
      documents: this.figures.documents(),
      messages_in: delta(counters.messages_in, this.previous.messages_in),
      messages_out: delta(counters.messages_out, this.previous.messages_out),
      errors: delta(counters.errors, this.previous.errors),
      event_loop_lag_ms: { p50: ns(this.loopDelay.percentile(50)), p99: ns(this.loopDelay.percentile(99)), max: ns(this.loopDelay.max) },
      redis_latency_ms: latency ?? null,
      memory_rss_bytes: memory.rss,
      heap_used_bytes: memory.heapUsed,
      uptime_s: Math.floor(process.uptime()),
      // µs of CPU over ms of wall time: percent of one core.
      ...(latencies && Object.keys(latencies).length > 0 && { latency_ms: latencies }),
      cpu_percent: Math.round(((cpu.user + cpu.system) / 10 / Math.max(1, now - this.sampledAt)) * 10) / 10,
    };
    this.cpu = process.cpuUsage();
    this.loopDelay.reset();
    this.previous = counters;
    this.sampledAt = now;
    const id = await this.streams.append('metrics', encodeEntry('metrics', sample), this.options.maxLen);
    return { id, sample };
  }

  start(intervalMs: number): void {
    this.timer = setInterval(() => {
      this.sample().then(
        () => (this.failing = false),
        (error: unknown) => {
          if (!this.failing) this.options.log?.warn({ err: error }, 'could not append a metrics sample');
          this.failing = true;
        },
      );
    }, intervalMs).unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.loopDelay.disable();
  }
}

function delta(now: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const changed: Record<string, number> = {};
  for (const [key, value] of Object.entries(now)) {
    const grown = value - (before[key] ?? 0);
    if (grown > 0) changed[key] = grown;
  }
  return changed;
}
