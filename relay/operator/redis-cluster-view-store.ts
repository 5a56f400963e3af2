import type { Redis } from 'ioredis';
import { z } from 'zod';
import { Participant } from '../../protocol';
import type { RedisConnections } from '../redis/redis-connection';
import type { ClusterViewStore, RelayView } from './cluster-view-store';

/**
 * The relays' views in Redis: `<prefix>operator:view:<relay id>`, a JSON string with a TTL. One
 * key per relay, so listing them (SCAN over a handful of keys, then MGET) stays cheap.
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
  private readonly command: Redis;
  private readonly prefix: string;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly redis: RedisConnections,
    options: { prefix?: string } = {},
  ) {
    this.prefix = `${options.prefix ?? 'tandem:'}operator:view:`;
    redis.acquire();
    this.command = redis.command;
  }

  async put(view: RelayView, ttlMs: number): Promise<void> {
    await this.command.set(this.prefix + view.relay_id, JSON.stringify(view), 'PX', ttlMs);
  }

  async all(): Promise<RelayView[]> {
    const keys = new Set<string>();
    let cursor = '0';
    do {
      const [next, found] = await this.command.scan(cursor, 'MATCH', `${this.prefix}*`, 'COUNT', 100);
      for (const key of found) keys.add(key);
      cursor = next;
    } while (cursor !== '0' && keys.size < MAX_RELAYS);
    if (keys.size === 0) return [];
    const values = await this.command.mget(...[...keys].slice(0, MAX_RELAYS));
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
    await this.command.del(this.prefix + relayId);
  }

  close(): Promise<void> {
    return (this.closing ??= this.redis.release());
  }
}
