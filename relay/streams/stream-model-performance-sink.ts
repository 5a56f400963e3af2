import type { ModelPerformanceRecord, ModelPerformanceSink } from '../ai/model-performance';
import type { Logger } from '../log';
import { encodeEntry } from './stream-entries';
import type { StreamStore } from './stream-store';

/**
 * Each AI answer's record onto the model-performance stream (and to `also`, e.g. a test's sink).
 * Never in the answer's way: the append is not awaited, a failure is logged once per outage.
 */
export class StreamModelPerformanceSink implements ModelPerformanceSink {
  private failing = false;

  constructor(
    private readonly streams: StreamStore,
    private readonly options: { maxLen: number; log?: Pick<Logger, 'warn'>; also?: ModelPerformanceSink },
  ) {}

  record(record: ModelPerformanceRecord): void {
    this.options.also?.record(record);
    this.streams.append('model_performance', encodeEntry('model_performance', record), this.options.maxLen).then(
      () => (this.failing = false),
      (error: unknown) => {
        if (!this.failing)
          this.options.log?.warn({ err: error, request: record.request_id }, 'could not append a model-performance record');
        this.failing = true;
      },
    );
  }
}
