import type { RedisClient, RedisConnections } from '../redis/redis-connection';
import {
  type ClaimResult,
  type PendingSummary,
  StreamGroupMissingError,
  type StreamEntry,
  type StreamName,
  type StreamStore,
} from './stream-store';

/**
 * The streams in Redis, shared by every relay: `<prefix>stream:<name>`, one field `data` per entry.
 * Never a blocking read (XREADGROUP BLOCK would hold the relay's one command connection): the
 * processor polls.
 */

export interface RedisStreamStoreOptions {
  /** Prefix of every key (default `tandem:`). */
  prefix?: string;
}

type RawEntry = [id: string, fields: string[] | null];

export class RedisStreamStore implements StreamStore {
  private readonly command: RedisClient;
  private readonly prefix: string;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly redis: RedisConnections,
    options: RedisStreamStoreOptions = {},
  ) {
    this.prefix = options.prefix ?? 'tandem:';
    redis.acquire();
    this.command = redis.command;
  }

  keyOf(stream: StreamName): string {
    return `${this.prefix}stream:${stream}`;
  }

  async append(stream: StreamName, data: string, maxLen: number): Promise<string> {
    return (await this.command.xadd(this.keyOf(stream), 'MAXLEN', '~', maxLen, '*', 'data', data)) as string;
  }

  async ensureGroup(stream: StreamName, group: string): Promise<void> {
    try {
      await this.command.xgroup('CREATE', this.keyOf(stream), group, '0', 'MKSTREAM');
    } catch (error) {
      if (!String((error as Error).message).startsWith('BUSYGROUP')) throw error;
    }
  }

  async readGroup(stream: StreamName, group: string, consumer: string, count: number): Promise<StreamEntry[]> {
    const reply = (await this.guard(
      this.command.xreadgroup('GROUP', group, consumer, 'COUNT', count, 'STREAMS', this.keyOf(stream), '>'),
    )) as Array<[string, RawEntry[]]> | null;
    return entriesOf(reply?.[0]?.[1] ?? []);
  }

  async ack(stream: StreamName, group: string, ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    return await this.command.xack(this.keyOf(stream), group, ...ids);
  }

  async claimIdle(stream: StreamName, group: string, consumer: string, minIdleMs: number, count: number): Promise<ClaimResult> {
    const reply = (await this.guard(this.command.xautoclaim(this.keyOf(stream), group, consumer, minIdleMs, '0-0', 'COUNT', count))) as [
      string,
      RawEntry[],
      string[]?,
    ];
    return { entries: entriesOf(reply[1]), deleted: reply[2] ?? [] };
  }

  async pending(stream: StreamName, group: string): Promise<PendingSummary> {
    const reply = (await this.guard(this.command.xpending(this.keyOf(stream), group))) as [
      number,
      string | null,
      string | null,
      Array<[string, string]> | null,
    ];
    const consumers: Record<string, number> = {};
    for (const [name, count] of reply[3] ?? []) consumers[name] = Number(count);
    return { count: Number(reply[0]), consumers };
  }

  async length(stream: StreamName): Promise<number> {
    return await this.command.xlen(this.keyOf(stream));
  }

  /** XINFO GROUPS' `lag` (Redis 7+; null there when the stream was trimmed past what the group read, and before 7). */
  async lag(stream: StreamName, group: string): Promise<number | null> {
    const groups = (await this.command.xinfo('GROUPS', this.keyOf(stream))) as unknown[][];
    for (const fields of groups) {
      const info = new Map<unknown, unknown>();
      for (let i = 0; i + 1 < fields.length; i += 2) info.set(fields[i], fields[i + 1]);
      if (info.get('name') !== group) continue;
      const lag = info.get('lag');
      return typeof lag === 'number' ? lag : null;
    }
    throw new StreamGroupMissingError(`no group "${group}" on stream "${stream}"`);
  }

  close(): Promise<void> {
    return (this.closing ??= this.redis.release());
  }

  /** NOGROUP (the group or the stream is gone: a Redis that restarted empty) becomes StreamGroupMissingError. */
  private async guard<T>(promise: Promise<T>): Promise<T> {
    try {
      return await promise;
    } catch (error) {
      if (String((error as Error).message).startsWith('NOGROUP')) throw new StreamGroupMissingError((error as Error).message);
      throw error;
    }
  }
}

function entriesOf(raw: RawEntry[]): StreamEntry[] {
  const entries: StreamEntry[] = [];
  for (const [id, fields] of raw) {
    // Redis 6.2's XAUTOCLAIM answers a trimmed entry with nil fields (7 lists it as deleted).
    if (!fields) continue;
    const at = fields.indexOf('data');
    entries.push({ id, data: at >= 0 && at % 2 === 0 ? (fields[at + 1] ?? '') : '' });
  }
  return entries;
}
