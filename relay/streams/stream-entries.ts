import { createHash } from 'node:crypto';
import { z } from 'zod';
import { AiOutcome, ErrorCode, FeedbackRating } from '../../protocol';
import type { ModelPerformanceRecord } from '../ai/model-performance';
import type { StreamName } from './stream-store';

/**
 * The one home of the streams' entry format: what each stream's entries hold (JSON text in the
 * entry's `data` field), written by `encodeEntry` and read back, validated, by `decodeEntry`. No
 * user or session id in any of them: hashes only (enough to group, not to find).
 */

const Count = z.number().int().nonnegative();
const Counts = z.record(z.string().max(64), Count);
const Ms = z.number().nonnegative();

/** One relay's figures over one sampling interval (counters are what happened in it). */
export const MetricsSample = z.object({
  relay_id: z.string().max(128),
  at: z.string(),
  interval_ms: z.number().int().positive(),
  connections: Count,
  sessions: Count,
  documents: Count,
  messages_in: Counts,
  messages_out: Counts,
  errors: Counts,
  /** The event loop's delay over the interval (perf_hooks), its p50, p99 and max. */
  event_loop_lag_ms: z.object({ p50: Ms, p99: Ms, max: Ms }),
  /** A PING's round trip to Redis; null without Redis, or when it failed. */
  redis_latency_ms: Ms.nullable(),
  memory_rss_bytes: Count,
  heap_used_bytes: Count,
  /** The process's uptime and CPU use over the interval (100 = one core); absent from older relays' samples. */
  uptime_s: Count.optional(),
  cpu_percent: Ms.optional(),
  /** The hot paths' latency percentiles over the interval, from the Prometheus histograms (histogram-latencies.ts). */
  latency_ms: z.record(z.string().max(64), z.object({ p50: Ms, p95: Ms, p99: Ms })).optional(),
});
export type MetricsSample = z.infer<typeof MetricsSample>;

/** One piece of feedback as the feedback stream keeps it. */
export const FeedbackEntry = z.object({
  relay_id: z.string().max(128),
  at: z.string(),
  user_hash: z.string().max(64),
  rating: FeedbackRating,
  comment: z.string().optional(),
  about: z.object({
    kind: z.enum(['ai_answer', 'session', 'product']),
    session_hash: z.string().max(64).optional(),
    request_id: z.string().max(128).optional(),
  }),
});
export type FeedbackEntry = z.infer<typeof FeedbackEntry>;

/** One AI answer's numbers (relay/ai/model-performance.ts). */
export const ModelPerformanceEntry = z.object({
  model: z.string().max(200),
  request_id: z.string().max(128),
  session_hash: z.string().max(64),
  relay_id: z.string().max(128),
  started_at: z.string(),
  time_to_first_token_ms: Ms.nullable(),
  total_ms: Ms,
  tokens_in: Count,
  tokens_out: Count,
  tokens_estimated: z.boolean(),
  tokens_per_second: Ms,
  answer_chars: Count,
  outcome: AiOutcome,
  error_code: ErrorCode.optional(),
}) satisfies z.ZodType<ModelPerformanceRecord>;

export interface EntryOf {
  metrics: MetricsSample;
  feedback: FeedbackEntry;
  model_performance: ModelPerformanceRecord;
}

const schemas: { [S in StreamName]: z.ZodType<EntryOf[S]> } = {
  metrics: MetricsSample,
  feedback: FeedbackEntry,
  model_performance: ModelPerformanceEntry,
};

export function encodeEntry<S extends StreamName>(_stream: S, entry: EntryOf[S]): string {
  return JSON.stringify(entry);
}

/** The entry, or undefined when it is not one of the stream's (a bad entry is skipped, never retried forever). */
export function decodeEntry<S extends StreamName>(stream: S, data: string): EntryOf[S] | undefined {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return undefined;
  }
  const parsed = schemas[stream].safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

/** A user id as the feedback stream keeps it. */
export function userHash(userId: string): string {
  return createHash('sha256').update(`tandem-user:${userId}`).digest('hex').slice(0, 16);
}
