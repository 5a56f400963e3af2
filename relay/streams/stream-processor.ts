import type { Logger } from '../log';
import { decodeEntry } from './stream-entries';
import { type StreamEntry, StreamGroupMissingError, type StreamName, type StreamStore, entryTime, streamNames } from './stream-store';
import type { WindowStore } from './window-store';

/**
 * The data processor: one consumer of the streams' consumer group. Several of them (one per relay
 * by default, or `relay worker` processes) share the entries; each entry is recorded in the
 * rolling windows (WindowStore, once per entry id) and only then acknowledged, so:
 * - a consumer killed before it acknowledged leaves the entry pending; after STREAM_CLAIM_IDLE_MS
 *   another consumer claims it (XAUTOCLAIM) and processes it: nothing is lost;
 * - if the dead one had recorded it already, the second record changes nothing: nothing is
 *   counted twice.
 * Entries that are not their stream's format are acknowledged and skipped (never retried forever).
 */

export interface StreamProcessorOptions {
  /** The consumer group every processor shares. */
  group: string;
  /** This consumer's name, unique in the group (the relay id). */
  consumer: string;
  /** How long an entry stays pending before this consumer takes it over. */
  claimIdleMs: number;
  /** Entries read (and claimed) per stream per pass. */
  batchSize?: number;
  /** Batches of new entries read per stream per pass (default 10). */
  batchesPerPass?: number;
  log?: Pick<Logger, 'warn' | 'info'>;
}

export interface PassResult {
  /** Entries recorded for the first time. */
  processed: number;
  /** Entries recorded before (a redelivery after a consumer died between record and ack). */
  duplicates: number;
  /** Entries taken over from another consumer. */
  claimed: number;
  /** Entries that were not their stream's format. */
  invalid: number;
}

export const DEFAULT_GROUP = 'tandem-processor';

export class StreamProcessor {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private failing = false;
  readonly totals: PassResult = { processed: 0, duplicates: 0, claimed: 0, invalid: 0 };

  constructor(
    private readonly streams: StreamStore,
    private readonly windows: WindowStore,
    private readonly options: StreamProcessorOptions,
  ) {}

  /** Creates the group on each stream (idempotent). */
  async ensureGroups(): Promise<void> {
    for (const stream of streamNames) await this.streams.ensureGroup(stream, this.options.group);
  }

  /** One pass over the three streams: what idled out elsewhere, then what is new. */
  async processOnce(): Promise<PassResult> {
    const pass: PassResult = { processed: 0, duplicates: 0, claimed: 0, invalid: 0 };
    for (const stream of streamNames) {
      try {
        await this.processStream(stream, pass);
      } catch (error) {
        if (!(error instanceof StreamGroupMissingError)) throw error;
        // Redis restarted empty (or someone deleted the stream): the group comes back, the next pass reads.
        await this.streams.ensureGroup(stream, this.options.group);
      }
    }
    for (const key of Object.keys(pass) as Array<keyof PassResult>) this.totals[key] += pass[key];
    return pass;
  }

  /** Runs a pass every `intervalMs` until `stop`; a failed pass (Redis away) is logged once and retried. */
  start(intervalMs: number): void {
    const loop = () => {
      if (this.stopped) return;
      this.running = this.processOnce().then(
        () => {
          if (this.failing) this.options.log?.info({ consumer: this.options.consumer }, 'stream processor working again');
          this.failing = false;
        },
        (error: unknown) => {
          if (!this.failing) this.options.log?.warn({ err: error, consumer: this.options.consumer }, 'stream processor pass failed');
          this.failing = true;
        },
      );
      void this.running.then(() => {
        if (!this.stopped) this.timer = setTimeout(loop, intervalMs).unref();
      });
    };
    loop();
  }

  /** Stops after the pass under way (whose entries are acknowledged or left pending for another consumer). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private async processStream(stream: StreamName, pass: PassResult): Promise<void> {
    const { group, consumer, claimIdleMs, batchSize = 100, batchesPerPass = 10 } = this.options;
    const claimed = await this.streams.claimIdle(stream, group, consumer, claimIdleMs, batchSize);
    pass.claimed += claimed.entries.length;
    await this.record(stream, claimed.entries, pass);
    for (let round = 0; round < batchesPerPass; round++) {
      const fresh = await this.streams.readGroup(stream, group, consumer, batchSize);
      await this.record(stream, fresh, pass);
      if (fresh.length < batchSize) break;
    }
  }

  private async record(stream: StreamName, entries: StreamEntry[], pass: PassResult): Promise<void> {
    if (entries.length === 0) return;
    for (const entry of entries) {
      const decoded = decodeEntry(stream, entry.data);
      if (!decoded) {
        pass.invalid++;
        continue;
      }
      const fresh = await this.windows.add(stream, { id: entry.id, at: entryTime(entry.id), data: JSON.stringify(decoded) });
      if (fresh) pass.processed++;
      else pass.duplicates++;
    }
    await this.streams.ack(
      stream,
      this.options.group,
      entries.map((entry) => entry.id),
    );
  }
}
