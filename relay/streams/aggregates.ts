import type { MetricsAggregates, ModelWindow, Percentiles, RelayWindow } from '../../protocol';
import type { FeedbackEntry, MetricsSample } from './stream-entries';
import type { ModelPerformanceRecord } from '../ai/model-performance';

/**
 * The aggregates over one rolling window, from the observations the data processor recorded (each
 * entry once, whichever consumer processed it, however often): a pure function of them, so every
 * relay that computes it from the same window gets the same figures.
 */

export interface WindowContents {
  metrics: MetricsSample[];
  feedback: FeedbackEntry[];
  model_performance: ModelPerformanceRecord[];
}

export function computeAggregates(
  contents: WindowContents,
  options: { now: number; windowMs: number; relayId: string },
): MetricsAggregates {
  const byRelay = new Map<string, MetricsSample[]>();
  for (const sample of contents.metrics) {
    const samples = byRelay.get(sample.relay_id) ?? [];
    samples.push(sample);
    byRelay.set(sample.relay_id, samples);
  }
  const relays = [...byRelay.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([relayId, samples]) => {
      const last = samples.at(-1)!;
      return {
        relay_id: relayId,
        last_sample_at: last.at,
        uptime_s: last.uptime_s ?? 0,
        cpu_percent: last.cpu_percent ?? 0,
        sample_interval_ms: last.interval_ms,
        ...relayWindow(samples),
      };
    });
  return {
    generated_at: new Date(options.now).toISOString(),
    window_s: Math.max(1, Math.round(options.windowMs / 1000)),
    relay_id: options.relayId,
    cluster: { relays: relays.length, ...clusterWindow(relays, contents.metrics) },
    relays,
    models: modelWindows(contents.model_performance),
    feedback: feedbackWindow(contents.feedback),
  };
}

function relayWindow(samples: MetricsSample[]): RelayWindow {
  const last = samples.at(-1)!;
  const seconds = samples.reduce((sum, sample) => sum + sample.interval_ms, 0) / 1000;
  const messagesIn = sumCounts(samples.map((sample) => sample.messages_in));
  const messagesOut = sumCounts(samples.map((sample) => sample.messages_out));
  const errors = sumCounts(samples.map((sample) => sample.errors));
  const inbound = total(messagesIn);
  return {
    samples: samples.length,
    connections: last.connections,
    sessions: last.sessions,
    documents: last.documents,
    messages_in_per_s: rate(inbound, seconds),
    messages_out_per_s: rate(total(messagesOut), seconds),
    messages_in: messagesIn,
    messages_out: messagesOut,
    errors,
    errors_per_s: rate(total(errors), seconds),
    error_ratio: ratio(total(errors), inbound),
    event_loop_lag_ms: percentiles(samples.map((sample) => sample.event_loop_lag_ms.p99)),
    redis_latency_ms: percentiles(samples.flatMap((sample) => (sample.redis_latency_ms === null ? [] : [sample.redis_latency_ms]))),
    latency_ms: latencies(samples),
    memory_rss_bytes: last.memory_rss_bytes,
    heap_used_bytes: last.heap_used_bytes,
  };
}

/** Rates and counts add up over relays; latencies are percentiles of every relay's samples. */
function clusterWindow(relays: RelayWindow[], samples: MetricsSample[]): RelayWindow {
  const sum = (pick: (relay: RelayWindow) => number) => round(relays.reduce((acc, relay) => acc + pick(relay), 0));
  const messagesIn = sumCounts(relays.map((relay) => relay.messages_in));
  const errors = sumCounts(relays.map((relay) => relay.errors));
  return {
    samples: sum((relay) => relay.samples),
    connections: sum((relay) => relay.connections),
    sessions: sum((relay) => relay.sessions),
    documents: sum((relay) => relay.documents),
    messages_in_per_s: sum((relay) => relay.messages_in_per_s),
    messages_out_per_s: sum((relay) => relay.messages_out_per_s),
    messages_in: messagesIn,
    messages_out: sumCounts(relays.map((relay) => relay.messages_out)),
    errors,
    errors_per_s: sum((relay) => relay.errors_per_s),
    error_ratio: ratio(total(errors), total(messagesIn)),
    event_loop_lag_ms: percentiles(samples.map((sample) => sample.event_loop_lag_ms.p99)),
    redis_latency_ms: percentiles(samples.flatMap((sample) => (sample.redis_latency_ms === null ? [] : [sample.redis_latency_ms]))),
    latency_ms: latencies(samples),
    memory_rss_bytes: sum((relay) => relay.memory_rss_bytes),
    heap_used_bytes: sum((relay) => relay.heap_used_bytes),
  };
}

function modelWindows(records: ModelPerformanceRecord[]): ModelWindow[] {
  const byModel = new Map<string, ModelPerformanceRecord[]>();
  for (const record of records) byModel.set(record.model, [...(byModel.get(record.model) ?? []), record]);
  return [...byModel.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([model, answers]) => {
      const outcomes: Record<string, number> = {};
      for (const { outcome } of answers) outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      const withTokens = answers.filter((answer) => answer.tokens_out > 0);
      return {
        model,
        answers: answers.length,
        outcomes,
        error_ratio: ratio(outcomes.failed ?? 0, answers.length),
        total_ms: percentiles(answers.map((answer) => answer.total_ms)),
        time_to_first_token_ms: percentiles(
          answers.flatMap((answer) => (answer.time_to_first_token_ms === null ? [] : [answer.time_to_first_token_ms])),
        ),
        tokens_per_second: percentiles(withTokens.map((answer) => answer.tokens_per_second)),
        tokens_in: answers.reduce((sum, answer) => sum + answer.tokens_in, 0),
        tokens_out: answers.reduce((sum, answer) => sum + answer.tokens_out, 0),
      };
    });
}

function feedbackWindow(entries: FeedbackEntry[]) {
  const stars = entries.flatMap((entry) => (typeof entry.rating === 'number' ? [entry.rating] : []));
  const bySubject: Record<string, number> = {};
  for (const { about } of entries) bySubject[about.kind] = (bySubject[about.kind] ?? 0) + 1;
  return {
    count: entries.length,
    rated: stars.length,
    average_rating: stars.length === 0 ? null : round(stars.reduce((a, b) => a + b, 0) / stars.length),
    up: entries.filter((entry) => entry.rating === 'up').length,
    down: entries.filter((entry) => entry.rating === 'down').length,
    with_comment: entries.filter((entry) => entry.comment !== undefined).length,
    by_subject: bySubject,
  };
}

/** Each path's p50 of the samples' p50s, p95 of their p95s, p99 of their p99s. */
function latencies(samples: MetricsSample[]): Record<string, Percentiles> {
  const byPath = new Map<string, Array<{ p50: number; p95: number; p99: number }>>();
  for (const sample of samples) {
    for (const [path, value] of Object.entries(sample.latency_ms ?? {})) byPath.set(path, [...(byPath.get(path) ?? []), value]);
  }
  const result: Record<string, Percentiles> = {};
  for (const [path, values] of byPath) {
    result[path] = {
      p50: percentiles(values.map((v) => v.p50)).p50,
      p95: percentiles(values.map((v) => v.p95)).p95,
      p99: percentiles(values.map((v) => v.p99)).p99,
    };
  }
  return result;
}

/** Nearest-rank percentiles. */
export function percentiles(values: number[]): Percentiles {
  if (values.length === 0) return { p50: null, p95: null, p99: null };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => round(sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!);
  return { p50: at(50), p95: at(95), p99: at(99) };
}

function sumCounts(maps: Array<Record<string, number>>): Record<string, number> {
  const sum: Record<string, number> = {};
  for (const map of maps) for (const [key, value] of Object.entries(map)) sum[key] = (sum[key] ?? 0) + value;
  return sum;
}

function total(map: Record<string, number>): number {
  return Object.values(map).reduce((a, b) => a + b, 0);
}

function rate(count: number, seconds: number): number {
  return seconds <= 0 ? 0 : round(count / seconds);
}

function ratio(part: number, whole: number): number {
  return whole === 0 ? 0 : round(part / whole, 4);
}

function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
