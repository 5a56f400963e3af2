import { z } from 'zod';
import { Timestamp } from './common';

/**
 * The live aggregates of the data processor (the body of `GET /api/metrics`, the payload of
 * `operator.metrics`): rolling windows over the metrics, feedback and model-performance streams,
 * per relay and for the whole cluster.
 */

const Count = z.number().int().nonnegative();
const Amount = z.number().nonnegative();
const Counts = z.record(z.string().max(64), Count);

/** Percentiles of the window's values; null when it has none. */
export const Percentiles = z.strictObject({ p50: Amount.nullable(), p95: Amount.nullable(), p99: Amount.nullable() });
export type Percentiles = z.infer<typeof Percentiles>;

/** What the relays' samples say over the window (one relay's, or all of them added up). */
export const RelayWindow = z.strictObject({
  /** Samples in the window. */
  samples: Count,
  /** The last sample's figures (summed over relays for the cluster). */
  connections: Count,
  sessions: Count,
  documents: Count,
  /** Frames in and out per second over the window, and their counts by event type. */
  messages_in_per_s: Amount,
  messages_out_per_s: Amount,
  messages_in: Counts,
  messages_out: Counts,
  /** Errors by code over the window; per second; per inbound frame. */
  errors: Counts,
  errors_per_s: Amount,
  error_ratio: Amount,
  /** Event-loop delay (the samples' p99s), Redis round trip (PING). */
  event_loop_lag_ms: Percentiles,
  redis_latency_ms: Percentiles,
  /**
   * The hot paths' latencies by path (`edit_ack`, `broadcast`, `rest`, `redis_command`): percentiles of
   * the samples' own percentiles (each sample's are estimated from the Prometheus histograms' buckets).
   */
  latency_ms: z.record(z.string().max(64), Percentiles),
  /** The last sample's resident set size and V8 heap use (summed over relays for the cluster). */
  memory_rss_bytes: Count,
  heap_used_bytes: Count,
});
export type RelayWindow = z.infer<typeof RelayWindow>;

export const ModelWindow = z.strictObject({
  model: z.string().max(200),
  answers: Count,
  /** Answers by outcome (`completed`, `cancelled`, `failed`). */
  outcomes: Counts,
  /** `failed` answers per answer. */
  error_ratio: Amount,
  total_ms: Percentiles,
  time_to_first_token_ms: Percentiles,
  tokens_per_second: Percentiles,
  tokens_in: Count,
  tokens_out: Count,
});
export type ModelWindow = z.infer<typeof ModelWindow>;

export const FeedbackWindow = z.strictObject({
  count: Count,
  /** Star ratings (1-5): how many, and their mean (null without any). */
  rated: Count,
  average_rating: Amount.nullable(),
  up: Count,
  down: Count,
  with_comment: Count,
  /** By what it is about: `ai_answer`, `session`, `product`. */
  by_subject: Counts,
});
export type FeedbackWindow = z.infer<typeof FeedbackWindow>;

export const MetricsAggregates = z.strictObject({
  generated_at: Timestamp,
  /** The rolling window's length. */
  window_s: z.number().int().positive(),
  /** The relay that computed this document. */
  relay_id: z.string().max(128),
  cluster: RelayWindow.extend({ relays: Count }),
  relays: z.array(
    RelayWindow.extend({
      relay_id: z.string().max(128),
      last_sample_at: Timestamp,
      /** The relay's last sample: how long its process has run, its CPU use since the sample before (100 = one core). */
      uptime_s: Count,
      cpu_percent: Amount,
      /** How long its last sample covered: a relay whose samples stop for a few of these is down. */
      sample_interval_ms: Count,
    }),
  ),
  models: z.array(ModelWindow),
  feedback: FeedbackWindow,
});
export type MetricsAggregates = z.infer<typeof MetricsAggregates>;

/** `operator.subscribe`: start (or keep) receiving `operator.metrics` about every second. */
export const OperatorSubscribe = z.strictObject({});
/** `operator.unsubscribe`: stop. */
export const OperatorUnsubscribe = z.strictObject({});
