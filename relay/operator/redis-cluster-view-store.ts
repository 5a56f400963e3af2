import { z } from 'zod';
import { Participant } from '../../protocol';
import type { RedisClient, RedisConnections } from '../redis/redis-connection';
import type { ClusterViewStore, RelayView } from './cluster-view-store';

/**
 * The relays' views in Redis, in one hash slot (`{operator}`, so that Redis Cluster can MGET them):
 * - `<prefix>{operator}:view:<relay id>`  a JSON string with a TTL
 * - `<prefix>{operator}:views`            sorted set: relay id, scored by when its view expires
 * Listing reads the set (no SCAN, which would see one shard of a cluster), then the views.
 */

const View = z.object({
  relay_id: z.string().max(128),
  at: z.number(),
  sessions: z.array(
    z.object({
      session_id: z.string(),
      participants: z.array(Participant),
      documents: z.array(z.object({ document_id: z.string(), rev: z.number().nullable(), length: z.number().nullable() })),
      chat_messages: z.number(),
    }),
  ),
}) satisfies z.ZodType<RelayView>;

/** At most this many relays' views are read (a cluster is a handful of relays). */
const MAX_RELAYS = 200;

export class RedisClusterViewStore implements ClusterViewStore {
  private readonly command: RedisClient;
  private readonly prefix: string;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly redis: RedisConnections,
    options: { prefix?: string } = {},
  ) {
    this.prefix = `${options.prefix ?? 'tandem:'}{operator}:`;
    redis.acquire();
    this.command = redis.command;
  }

  async put(view: RelayView, ttlMs: number): Promise<void> {
    const now = Date.now();
    await this.command
      .multi()
      .set(this.viewKey(view.relay_id), JSON.stringify(view), 'PX', ttlMs)
      .zadd(this.indexKey, now + ttlMs, view.relay_id)
      .zremrangebyscore(this.indexKey, '-inf', `(${now}`)
      .exec();
  }

  async all(): Promise<RelayView[]> {
    const relays = await this.command.zrangebyscore(this.indexKey, Date.now(), '+inf', 'LIMIT', 0, MAX_RELAYS);
    if (relays.length === 0) return [];
    const values = await this.command.mget(...relays.map((relay) => this.viewKey(relay)));
    return values.flatMap((value) => {
      if (value === null) return [];
      try {
        const parsed = View.safeParse(JSON.parse(value));
        return parsed.success ? [parsed.data] : [];
      } catch {
        return [];
      }
    });
  }

  async remove(relayId: string): Promise<void> {
    await this.command.multi().del(this.viewKey(relayId)).zrem(this.indexKey, relayId).exec();
  }

  private get indexKey(): string {
    return `${this.prefix}views`;
  }

  private viewKey(relayId: string): string {
    return `${this.prefix}view:${relayId}`;
  }

  close(): Promise<void> {
    return (this.closing ??= this.redis.release());
  }
}
