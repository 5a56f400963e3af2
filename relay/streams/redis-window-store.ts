import type { RedisConnections } from '../redis/redis-connection';
import { defineScript } from '../redis/scripts';
import type { StreamName } from './stream-store';
import type { Observation, WindowStore } from './window-store';

/**
 * The rolling windows in Redis, shared by every relay: `<prefix>window:{<stream>}:ids` (a sorted set
 * of entry ids by time) and `<prefix>window:{<stream>}:data` (a hash of id -> observation), both
 * expiring `ttlMs` after the last observation, in one hash slot (Redis Cluster). Lua keeps the set
 * and the hash in step.
 */

export interface RedisWindowStoreOptions {
  prefix?: string;
  /** How long a window outlives its last observation (at least the window itself). */
  ttlMs: number;
}

type Script<T> = (keys: readonly string[], args: readonly (string | number)[]) => Promise<T>;

export class RedisWindowStore implements WindowStore {
  private readonly prefix: string;
  private readonly runAdd: Script<number>;
  private readonly runRead: Script<string[]>;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly redis: RedisConnections,
    private readonly options: RedisWindowStoreOptions,
  ) {
    this.prefix = options.prefix ?? 'tandem:';
    redis.acquire();
    this.runAdd = defineScript(redis.command, 'tandemWindowAdd');
    this.runRead = defineScript(redis.command, 'tandemWindowRead');
  }

  async add(stream: StreamName, { id, at, data }: Observation): Promise<boolean> {
    return (await this.runAdd(this.keysOf(stream), [id, at, data, this.options.ttlMs])) === 1;
  }

  async since(stream: StreamName, fromMs: number, forgetBeforeMs: number): Promise<Observation[]> {
    const flat = await this.runRead(this.keysOf(stream), [fromMs, forgetBeforeMs]);
    const observations: Observation[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const id = flat[i]!;
      observations.push({ id, at: Number(id.slice(0, id.indexOf('-'))), data: flat[i + 1]! });
    }
    return observations;
  }

  close(): Promise<void> {
    return (this.closing ??= this.redis.release());
  }

  private keysOf(stream: StreamName): string[] {
    return [`${this.prefix}window:{${stream}}:ids`, `${this.prefix}window:{${stream}}:data`];
  }
}
