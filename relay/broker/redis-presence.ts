import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Participant } from '../../protocol';
import type { Logger } from '../log';
import type { PresenceStore } from './presence';
import type { RedisClient, RedisConnections } from '../redis/redis-connection';

/**
 * Presence across relays, expiring per relay (not per connection): a crashed relay's
 * participants disappear within `ttlMs`, at the cost of one key write per relay per heartbeat
 * whatever its number of connections. Works on one Redis and on Redis Cluster: no command or
 * transaction touches two sessions' keys, nor a session's hash and a relay's key together.
 *
 * - `<prefix>presence:{<session>}`  hash: connection id -> `<instance> <participant JSON>`
 * - `<prefix>presence:alive:<instance>`  string with a TTL, refreshed every `heartbeatMs`
 *
 * `instance` is the relay id plus a random suffix, so a relay restarted under the same RELAY_ID
 * does not revive the entries of its crashed predecessor. `list` drops (and deletes) entries whose
 * instance key has expired (an entry's instance never writes again once its key expired, so that
 * needs no transaction). The store also remembers its own entries: when its key was found
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
  private readonly command: RedisClient;
  private readonly instance: string;
  private readonly aliveKey: string;
  /** This relay's own entries, as written: what a re-announce writes again. */
  private readonly own = new Map<string, Map<string, string>>();
  private readonly timer: NodeJS.Timeout;
  private started: Promise<void> | undefined;
  private beating = false;
  /** An announce failed half-way: the next beat writes everything again. */
  private announceDue = false;
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
    this.aliveKey = this.aliveKeyOf(this.instance);
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
    const key = this.sessionKey(sessionId);
    const entries = await this.command.hgetall(key);
    const instances = new Set<string>();
    for (const value of Object.values(entries)) instances.add(value.slice(0, Math.max(0, value.indexOf(' '))));
    // One EXISTS each (on Redis Cluster the relays' keys are on any shard); a session sees a handful of relays.
    const alive = new Map(
      await Promise.all(
        [...instances].map(
          async (instance) => [instance, instance !== '' && (await this.command.exists(this.aliveKeyOf(instance))) === 1] as const,
        ),
      ),
    );
    const live: Participant[] = [];
    const dead: string[] = [];
    for (const [connectionId, value] of Object.entries(entries)) {
      const space = value.indexOf(' ');
      if (space > 0 && alive.get(value.slice(0, space))) live.push(JSON.parse(value.slice(space + 1)) as Participant);
      else dead.push(connectionId);
    }
    if (dead.length > 0) await this.command.hdel(key, ...dead);
    return live;
  }

  /** Deletes this relay's key and entries (best effort: Redis may be down), then lets go of Redis. */
  close(): Promise<void> {
    return (this.closing ??= (async () => {
      clearInterval(this.timer);
      const own = [...this.own];
      this.own.clear();
      await Promise.allSettled([
        ...own.map(([sessionId, entries]) => this.command.hdel(this.sessionKey(sessionId), ...entries.keys())),
        this.command.del(this.aliveKey),
      ]);
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
      if (refreshed === null || this.announceDue) {
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

  /**
   * The key, then every own entry, a transaction per session (nobody sees entries without their
   * key); if any of them fails, the next beat announces again.
   */
  private async announce(): Promise<void> {
    this.announceDue = true;
    await this.command.set(this.aliveKey, '1', 'PX', this.options.ttlMs);
    const writes = [...this.own].flatMap(([sessionId, entries]) => {
      if (entries.size === 0) return [];
      const key = this.sessionKey(sessionId);
      return [this.command.multi().hset(key, Object.fromEntries(entries)).expire(key, this.options.sessionTtlSeconds).exec()];
    });
    await Promise.all(writes);
    this.announceDue = false;
    this.sessionsRefreshedAt = Date.now();
  }

  private async refreshSessions(): Promise<void> {
    await Promise.all(
      [...this.own.keys()].map((sessionId) => this.command.expire(this.sessionKey(sessionId), this.options.sessionTtlSeconds)),
    );
    this.sessionsRefreshedAt = Date.now();
  }

  private forget(sessionId: string, connectionId: string): void {
    const session = this.own.get(sessionId);
    if (!session) return;
    session.delete(connectionId);
    if (session.size === 0) this.own.delete(sessionId);
  }

  private aliveKeyOf(instance: string): string {
    return `${this.options.prefix}presence:alive:${instance}`;
  }

  private sessionKey(sessionId: string): string {
    return `${this.options.prefix}presence:{${sessionId}}`;
  }
}
