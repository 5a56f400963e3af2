import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Participant } from '../../protocol';
import type { Logger } from '../log';
import type { PresenceStore } from './presence';
import type { RedisConnections } from '../redis/redis-connection';
import { defineScript } from '../redis/scripts';

/**
 * Presence across relays, expiring per relay (not per connection): a crashed relay's
 * participants disappear within `ttlMs`, at the cost of one key write per relay per heartbeat
 * whatever its number of connections. Single Redis (the list script reads keys it is not given).
 *
 * - `<prefix>presence:{<session>}`  hash: connection id -> `<instance> <participant JSON>`
 * - `<prefix>presence:alive:<instance>`  string with a TTL, refreshed every `heartbeatMs`
 *
 * `instance` is the relay id plus a random suffix, so a relay restarted under the same RELAY_ID
 * does not revive the entries of its crashed predecessor. `list` drops (and deletes) entries whose
 * instance key has expired. The store also remembers its own entries: when its key was found
 * missing (Redis lost its data, or this process stalled longer than the TTL and another relay
 * swept its entries) it writes them all again, so presence heals without the relay's help.
 */

const Options = z.object({
  /** A relay that stops refreshing its key for this long is considered gone. */
  ttlMs: z.int().min(100).default(15_000),
  /** How often the key is refreshed; well under `ttlMs`, so one late beat is no outage. */
  heartbeatMs: z.int().min(10).default(5_000),
  /**
   * A session hash expires after this long without writes, so the leftovers of a crashed relay in
   * a session nobody lists again do not stay forever; live relays refresh their sessions' hashes
   * every quarter of it (default 1 day).
   */
  sessionTtlSeconds: z.int().min(1).default(86_400),
  prefix: z.string().default('tandem:'),
});

export type RedisPresenceOptions = z.input<typeof Options> & { log?: Pick<Logger, 'warn'> };

export class RedisPresenceStore implements PresenceStore {
  private readonly options: z.output<typeof Options>;
  private readonly log: RedisPresenceOptions['log'];
  private readonly command: Redis;
  private readonly instance: string;
  private readonly aliveKey: string;
  private readonly runList: (keys: readonly string[], args: readonly (string | number)[]) => Promise<string[]>;
  /** This relay's own entries, as written: what a re-announce writes again. */
  private readonly own = new Map<string, Map<string, string>>();
  private readonly timer: NodeJS.Timeout;
  private started: Promise<void> | undefined;
  private beating = false;
  private sessionsRefreshedAt = Date.now();
  private closing: Promise<void> | undefined;

  constructor(
    private readonly redis: RedisConnections,
    relayId: string,
    options: RedisPresenceOptions = {},
  ) {
    this.options = Options.parse(options);
    if (this.options.heartbeatMs >= this.options.ttlMs) throw new Error('RedisPresenceStore: heartbeatMs must be below ttlMs');
    this.log = options.log;
    redis.acquire();
    this.command = redis.command;
    this.instance = `${relayId.replace(/\s/g, '_')}:${randomUUID().slice(0, 8)}`;
    this.aliveKey = `${this.options.prefix}presence:alive:${this.instance}`;
    this.runList = defineScript(this.command, 'tandemPresenceList');
    this.timer = setInterval(() => void this.beat(), this.options.heartbeatMs).unref();
    // An early failure (Redis down) is retried by the next beat or the first `add`.
    this.start().catch(() => undefined);
  }

  async add(sessionId: string, participant: Participant): Promise<void> {
    // Entries written before this relay's key exists would be swept by the next `list`.
    await this.start();
    const value = `${this.instance} ${JSON.stringify(participant)}`;
    let session = this.own.get(sessionId);
    if (!session) this.own.set(sessionId, (session = new Map()));
    session.set(participant.connection_id, value);
    try {
      await this.command
        .multi()
        .hset(this.sessionKey(sessionId), participant.connection_id, value)
        .expire(this.sessionKey(sessionId), this.options.sessionTtlSeconds)
        .exec();
    } catch (error) {
      // Not announced: a later re-announce must not resurrect it behind the caller's back.
      if (session.get(participant.connection_id) === value) this.forget(sessionId, participant.connection_id);
      throw error;
    }
  }

  async remove(sessionId: string, connectionId: string): Promise<void> {
    this.forget(sessionId, connectionId);
    await this.command.hdel(this.sessionKey(sessionId), connectionId);
  }

  async list(sessionId: string): Promise<Participant[]> {
    const live = await this.runList([this.sessionKey(sessionId)], [`${this.options.prefix}presence:alive:`]);
    return live.map((json) => JSON.parse(json) as Participant);
  }

  /** Deletes this relay's key and entries (best effort: Redis may be down), then lets go of Redis. */
  close(): Promise<void> {
    return (this.closing ??= (async () => {
      clearInterval(this.timer);
      const transaction = this.command.multi();
      for (const [sessionId, entries] of this.own) transaction.hdel(this.sessionKey(sessionId), ...entries.keys());
      transaction.del(this.aliveKey);
      this.own.clear();
      await transaction.exec().catch(() => undefined);
      await this.redis.release();
    })());
  }

  private start(): Promise<void> {
    return (this.started ??= this.announce().catch((error: unknown) => {
      this.started = undefined;
      throw error;
    }));
  }

  /** Refreshes the key; if it had expired or vanished, writes this relay's entries again first. */
  private async beat(): Promise<void> {
    if (this.beating || this.closing) return;
    this.beating = true;
    try {
      const refreshed = await this.command.set(this.aliveKey, '1', 'PX', this.options.ttlMs, 'XX');
      if (refreshed === null) {
        const count = [...this.own.values()].reduce((sum, entries) => sum + entries.size, 0);
        this.log?.warn({ instance: this.instance, connections: count }, 'presence key was lost; announcing this relay again');
        await this.announce();
      } else if (Date.now() - this.sessionsRefreshedAt > (this.options.sessionTtlSeconds * 1000) / 4) {
        await this.refreshSessions();
      }
    } catch (error) {
      this.log?.warn({ err: error }, 'presence heartbeat failed');
    } finally {
      this.beating = false;
    }
  }

  /** The key, then every own entry, in one transaction (nobody sees entries without their key). */
  private async announce(): Promise<void> {
    const transaction = this.command.multi().set(this.aliveKey, '1', 'PX', this.options.ttlMs);
    for (const [sessionId, entries] of this.own) {
      if (entries.size === 0) continue;
      transaction
        .hset(this.sessionKey(sessionId), Object.fromEntries(entries))
        .expire(this.sessionKey(sessionId), this.options.sessionTtlSeconds);
    }
    await transaction.exec();
    this.sessionsRefreshedAt = Date.now();
  }

  private async refreshSessions(): Promise<void> {
    const transaction = this.command.multi();
    for (const sessionId of this.own.keys()) transaction.expire(this.sessionKey(sessionId), this.options.sessionTtlSeconds);
    await transaction.exec();
    this.sessionsRefreshedAt = Date.now();
  }

  private forget(sessionId: string, connectionId: string): void {
    const session = this.own.get(sessionId);
    if (!session) return;
    session.delete(connectionId);
    if (session.size === 0) this.own.delete(sessionId);
  }

  private sessionKey(sessionId: string): string {
    return `${this.options.prefix}presence:{${sessionId}}`;
  }
}
