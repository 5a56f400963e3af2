import type { MetricsAggregates } from '../../protocol';
import type { Logger } from '../log';
import { computeAggregates, type WindowContents } from './aggregates';
import { decodeEntry } from './stream-entries';
import type { StreamName } from './stream-store';
import type { WindowStore } from './window-store';

/**
 * The aggregates, computed every publish interval from the shared rolling windows (so every relay
 * has the cluster's figures, whichever consumer processed which entry) and handed to the
 * listeners (subscribed operators); `GET /api/metrics` answers with the latest.
 */
export class LiveAggregates {
  private latestAggregates: MetricsAggregates | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<(aggregates: MetricsAggregates) => void>();
  private failing = false;

  constructor(
    private readonly windows: WindowStore,
    private readonly options: { relayId: string; windowMs: number; log?: Pick<Logger, 'warn'> },
  ) {}

  /** The latest aggregates (computed now if there are none yet). */
  async latest(): Promise<MetricsAggregates> {
    return this.latestAggregates ?? (await this.refresh());
  }

  /** Computes the aggregates now and tells the listeners. */
  async refresh(now = Date.now()): Promise<MetricsAggregates> {
    const from = now - this.options.windowMs;
    // Kept a window longer than shown, so a late consumer's entries still land in a window that exists.
    const forgetBefore = from - this.options.windowMs;
    const read = async <S extends StreamName>(stream: S) =>
      (await this.windows.since(stream, from, forgetBefore)).flatMap((observation) => decodeEntry(stream, observation.data) ?? []);
    const contents: WindowContents = {
      metrics: await read('metrics'),
      feedback: await read('feedback'),
      model_performance: await read('model_performance'),
    };
    const aggregates = computeAggregates(contents, { now, windowMs: this.options.windowMs, relayId: this.options.relayId });
    this.latestAggregates = aggregates;
    for (const listener of this.listeners) listener(aggregates);
    return aggregates;
  }

  onAggregates(listener: (aggregates: MetricsAggregates) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(intervalMs: number): void {
    this.timer = setInterval(() => {
      this.refresh().then(
        () => (this.failing = false),
        (error: unknown) => {
          if (!this.failing) this.options.log?.warn({ err: error }, 'could not compute the metrics aggregates');
          this.failing = true;
        },
      );
    }, intervalMs).unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.listeners.clear();
  }
}
