import type { MetricsAggregates } from '../../protocol';
import type { ModelPerformanceSink } from '../ai/model-performance';
import type { StreamSettings } from '../config/config';
import type { Logger } from '../log';
import { LiveAggregates } from './live-aggregates';
import { MetricsSampler, type RelayFigures } from './metrics-sampler';
import { encodeEntry, type FeedbackEntry } from './stream-entries';
import { StreamModelPerformanceSink } from './stream-model-performance-sink';
import { DEFAULT_GROUP, StreamProcessor } from './stream-processor';
import type { StreamStore } from './stream-store';
import type { WindowStore } from './window-store';

/**
 * One relay's part in the data streams: it samples its figures onto the metrics stream, appends
 * feedback and model-performance records, runs a consumer of the data processor (unless
 * STREAM_PROCESSOR=false) and keeps the live aggregates for `GET /api/metrics` and the operators.
 */
export class Monitoring {
  readonly aggregates: LiveAggregates;
  readonly sampler: MetricsSampler;
  readonly processor: StreamProcessor | undefined;
  readonly modelPerformance: ModelPerformanceSink;

  constructor(
    private readonly streams: StreamStore,
    windows: WindowStore,
    figures: RelayFigures,
    private readonly options: { relayId: string; settings: StreamSettings; log: Logger; modelPerformance?: ModelPerformanceSink },
  ) {
    const { relayId, settings, log } = options;
    this.aggregates = new LiveAggregates(windows, { relayId, windowMs: settings.windowMs, log });
    this.sampler = new MetricsSampler(streams, figures, { relayId, maxLen: settings.maxLen.metrics, log });
    this.processor = settings.processor
      ? new StreamProcessor(streams, windows, { group: DEFAULT_GROUP, consumer: relayId, claimIdleMs: settings.claimIdleMs, log })
      : undefined;
    this.modelPerformance = new StreamModelPerformanceSink(streams, {
      maxLen: settings.maxLen.model_performance,
      log,
      ...(options.modelPerformance && { also: options.modelPerformance }),
    });
  }

  async start(): Promise<void> {
    const { settings } = this.options;
    if (this.processor) {
      await this.processor.ensureGroups();
      this.processor.start(settings.pollIntervalMs);
    }
    this.sampler.start(settings.sampleIntervalMs);
    this.aggregates.start(settings.publishIntervalMs);
  }

  /** Appends one piece of feedback; returns its entry id. */
  appendFeedback(entry: FeedbackEntry): Promise<string> {
    return this.streams.append('feedback', encodeEntry('feedback', entry), this.options.settings.maxLen.feedback);
  }

  latest(): Promise<MetricsAggregates> {
    return this.aggregates.latest();
  }

  async stop(): Promise<void> {
    this.sampler.stop();
    this.aggregates.stop();
    await this.processor?.stop();
  }
}
