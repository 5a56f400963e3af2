import { newEpoch } from '../epoch';
import type { Broker, BrokerHealth, BrokerMessage, Disposable, Publication, PublishOptions, PublishResult } from './broker';

interface Stream {
  offset: number;
  entries: Publication[];
  /** Idempotency key -> offset, for the publications still in `entries` (the dedupe window). */
  keys: Map<string, number>;
  /** The key of each entry that has one, to forget it when the entry is trimmed. */
  keyOf: Map<number, string>;
}

/**
 * The embedded default: single process, history lost on restart (a new epoch says so).
 * Delivery is synchronous, which keeps per-channel order trivially.
 */
export class MemoryBroker implements Broker {
  private readonly listeners = new Map<string, Set<(publication: Publication) => void>>();
  private readonly streams = new Map<string, Stream>();
  private readonly epoch = newEpoch();

  constructor(private readonly historySize = 1000) {}

  async publish(channel: string, message: BrokerMessage, options?: PublishOptions): Promise<PublishResult> {
    let offset = 0;
    if (options?.history) {
      let stream = this.streams.get(channel);
      if (!stream) this.streams.set(channel, (stream = { offset: 0, entries: [], keys: new Map(), keyOf: new Map() }));
      const key = options.idempotencyKey;
      const seen = key === undefined ? undefined : stream.keys.get(key);
      if (seen !== undefined) {
        const original = stream.entries[seen - stream.entries[0]!.offset];
        return { offset: seen, epoch: this.epoch, duplicate: original ? { original } : {} };
      }
      offset = ++stream.offset;
      stream.entries.push({ ...message, offset });
      if (key !== undefined) {
        stream.keys.set(key, offset);
        stream.keyOf.set(offset, key);
      }
      if (stream.entries.length > this.historySize) this.trim(stream);
    }
    const listeners = this.listeners.get(channel);
    if (listeners) {
      const publication: Publication = { ...message, offset };
      for (const listener of listeners) listener(publication);
    }
    return { offset, epoch: offset > 0 ? this.epoch : '' };
  }

  async subscribe(channel: string, listener: (publication: Publication) => void): Promise<Disposable> {
    let set = this.listeners.get(channel);
    if (!set) this.listeners.set(channel, (set = new Set()));
    set.add(listener);
    return {
      dispose: () => {
        set.delete(listener);
        if (set.size === 0 && this.listeners.get(channel) === set) this.listeners.delete(channel);
      },
    };
  }

  async history(channel: string, since: { offset: number; epoch: string }, limit: number) {
    const stream = this.streams.get(channel);
    const position = { offset: stream?.offset ?? 0, epoch: this.epoch };
    if (!stream) return { publications: [], position, recovered: since.epoch === this.epoch && since.offset === 0 };
    const oldest = stream.entries[0]?.offset ?? stream.offset + 1;
    const recovered = since.epoch === this.epoch && since.offset >= oldest - 1 && since.offset <= stream.offset;
    const publications = recovered ? stream.entries.filter((p) => p.offset > since.offset).slice(0, limit) : [];
    return { publications, position, recovered };
  }

  async health(): Promise<BrokerHealth> {
    return { status: 'up', kind: 'memory', detail: 'embedded in-memory broker' };
  }

  async close(): Promise<void> {
    this.listeners.clear();
    this.streams.clear();
  }

  private trim(stream: Stream): void {
    const dropped = stream.entries.splice(0, stream.entries.length - this.historySize);
    for (const { offset } of dropped) {
      const key = stream.keyOf.get(offset);
      if (key === undefined) continue;
      stream.keyOf.delete(offset);
      stream.keys.delete(key);
    }
  }
}
