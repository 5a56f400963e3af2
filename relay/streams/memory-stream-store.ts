import {
  type ClaimResult,
  compareIds,
  type PendingSummary,
  StreamGroupMissingError,
  type StreamEntry,
  type StreamName,
  type StreamStore,
} from './stream-store';

/** Single process; lost on restart. Trims to exactly `maxLen` (Redis's `~` keeps a few more). */

interface Pending {
  consumer: string;
  deliveredAt: number;
  deliveries: number;
}

interface Group {
  lastDelivered: string;
  /** By id, in id order (ids are inserted in increasing order, claims keep their place). */
  pel: Map<string, Pending>;
}

interface Stream {
  entries: StreamEntry[];
  lastId: string;
  groups: Map<string, Group>;
}

export class MemoryStreamStore implements StreamStore {
  private readonly streams = new Map<StreamName, Stream>();

  constructor(private readonly now: () => number = Date.now) {}

  async append(name: StreamName, data: string, maxLen: number): Promise<string> {
    const stream = this.stream(name);
    const ms = this.now();
    const [lastMs, lastSeq] = stream.lastId.split('-').map(Number) as [number, number];
    const id = ms > lastMs ? `${ms}-0` : `${lastMs}-${lastSeq + 1}`;
    stream.lastId = id;
    stream.entries.push({ id, data });
    if (stream.entries.length > maxLen) stream.entries.splice(0, stream.entries.length - maxLen);
    return id;
  }

  async ensureGroup(name: StreamName, group: string): Promise<void> {
    const stream = this.stream(name);
    if (!stream.groups.has(group)) stream.groups.set(group, { lastDelivered: '0-0', pel: new Map() });
  }

  async readGroup(name: StreamName, groupName: string, consumer: string, count: number): Promise<StreamEntry[]> {
    const group = this.group(name, groupName);
    const fresh = this.stream(name)
      .entries.filter((entry) => compareIds(entry.id, group.lastDelivered) > 0)
      .slice(0, count);
    const now = this.now();
    for (const entry of fresh) group.pel.set(entry.id, { consumer, deliveredAt: now, deliveries: 1 });
    if (fresh.length > 0) group.lastDelivered = fresh[fresh.length - 1]!.id;
    return fresh.map((entry) => ({ ...entry }));
  }

  async ack(name: StreamName, groupName: string, ids: readonly string[]): Promise<number> {
    const group = this.group(name, groupName);
    let removed = 0;
    for (const id of ids) if (group.pel.delete(id)) removed++;
    return removed;
  }

  async claimIdle(name: StreamName, groupName: string, consumer: string, minIdleMs: number, count: number): Promise<ClaimResult> {
    const group = this.group(name, groupName);
    const byId = new Map(this.stream(name).entries.map((entry) => [entry.id, entry]));
    const now = this.now();
    const result: ClaimResult = { entries: [], deleted: [] };
    for (const id of [...group.pel.keys()].sort(compareIds)) {
      if (result.entries.length + result.deleted.length >= count) break;
      const pending = group.pel.get(id)!;
      if (now - pending.deliveredAt < minIdleMs) continue;
      const entry = byId.get(id);
      if (!entry) {
        group.pel.delete(id);
        result.deleted.push(id);
        continue;
      }
      group.pel.set(id, { consumer, deliveredAt: now, deliveries: pending.deliveries + 1 });
      result.entries.push({ ...entry });
    }
    return result;
  }

  async pending(name: StreamName, groupName: string): Promise<PendingSummary> {
    const group = this.group(name, groupName);
    const consumers: Record<string, number> = {};
    for (const { consumer } of group.pel.values()) consumers[consumer] = (consumers[consumer] ?? 0) + 1;
    return { count: group.pel.size, consumers };
  }

  async length(name: StreamName): Promise<number> {
    return this.streams.get(name)?.entries.length ?? 0;
  }

  async lag(name: StreamName, groupName: string): Promise<number | null> {
    const group = this.group(name, groupName);
    return this.stream(name).entries.filter((entry) => compareIds(entry.id, group.lastDelivered) > 0).length;
  }

  async close(): Promise<void> {}

  private stream(name: StreamName): Stream {
    let stream = this.streams.get(name);
    if (!stream) this.streams.set(name, (stream = { entries: [], lastId: '0-0', groups: new Map() }));
    return stream;
  }

  private group(name: StreamName, groupName: string): Group {
    const group = this.streams.get(name)?.groups.get(groupName);
    if (!group) throw new StreamGroupMissingError(`no group "${groupName}" on stream "${name}"`);
    return group;
  }
}
