import { randomUUID } from 'node:crypto';
import type { Broker, BrokerHealth, BrokerMessage, Disposable, Publication, PublishOptions, StreamPosition } from './broker';

/**
 * The embedded default: single process, history lost on restart (a new epoch says so).
 * Delivery is synchronous, which keeps per-channel order trivially.
 */
export class MemoryBroker implements Broker {
  private readonly listeners = new Map<string, Set<(publication: Publication) => void>>();
  private readonly streams = new Map<string, { offset: number; entries: Publication[] }>();
  private readonly epoch = randomUUID().slice(0, 8);

  constructor(private readonly historySize = 1000) {}

  async publish(channel: string, message: BrokerMessage, options?: PublishOptions): Promise<StreamPosition> {
    let offset = 0;
    if (options?.history) {
      let stream = this.streams.get(channel);
      if (!stream) this.streams.set(channel, (stream = { offset: 0, entries: [] }));
      offset = ++stream.offset;
      stream.entries.push({ ...message, offset });
      if (stream.entries.length > this.historySize) stream.entries.splice(0, stream.entries.length - this.historySize);
    }
    const listeners = this.listeners.get(channel);
    if (listeners) {
      const publication: Publication = { ...message, offset };
      for (const listener of listeners) listener(publication);
    }
    return { offset, epoch: this.epoch };
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

  async history(channel: string, since: StreamPosition, limit: number) {
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
}
