import type { RedisClient, RedisConnections } from '../redis/redis-connection';
import { defineScript } from '../redis/scripts';
import type { JoinRequest, JoinRequestStore } from './join-request-store';

/**
 * Join requests in Redis, shared by every relay: one hash per session,
 * `<prefix>joins:{<session id>}`, a field per request (its JSON), in the session's hash slot.
 * Expired requests are dropped by the scripts as they pass; the hash expires with its last one.
 */

export class RedisJoinRequestStore implements JoinRequestStore {
  private readonly command: RedisClient;
  private readonly prefix: string;
  private readonly runAdd: (keys: readonly string[], args: readonly (string | number)[]) => Promise<number>;
  private readonly runDecide: (keys: readonly string[], args: readonly (string | number)[]) => Promise<string | null>;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly redis: RedisConnections,
    options: { prefix?: string } = {},
  ) {
    this.prefix = options.prefix ?? 'tandem:';
    redis.acquire();
    this.command = redis.command;
    this.runAdd = defineScript(this.command, 'tandemJoinRequestAdd');
    this.runDecide = defineScript(this.command, 'tandemJoinRequestDecide');
  }

  async add(request: JoinRequest, maxPending: number): Promise<boolean> {
    const added = await this.runAdd(
      [this.keyOf(request.sessionId)],
      [request.id, JSON.stringify(request), Date.now(), maxPending, request.expiresAt],
    );
    return added === 1;
  }

  async get(sessionId: string, id: string): Promise<JoinRequest | undefined> {
    const raw = await this.command.hget(this.keyOf(sessionId), id);
    const request = raw ? parse(raw) : undefined;
    return request && request.expiresAt > Date.now() ? request : undefined;
  }

  async decide(sessionId: string, id: string, status: 'approved' | 'denied', keepUntil: number): Promise<JoinRequest | undefined> {
    const raw = await this.runDecide([this.keyOf(sessionId)], [id, status, Date.now(), keepUntil]);
    return raw ? parse(raw) : undefined;
  }

  async pending(sessionId: string): Promise<JoinRequest[]> {
    const now = Date.now();
    return Object.values(await this.command.hgetall(this.keyOf(sessionId)))
      .map(parse)
      .filter((request) => request.status === 'pending' && request.expiresAt > now)
      .sort((a, b) => a.createdAt - b.createdAt);
  }

  /** Lets go of Redis; the requests stay there for the other relays. */
  close(): Promise<void> {
    return (this.closing ??= this.redis.release());
  }

  private keyOf(sessionId: string): string {
    return `${this.prefix}joins:{${sessionId}}`;
  }
}

/** The relay wrote every field itself (JSON.stringify of a JoinRequest): nothing else writes here. */
function parse(raw: string): JoinRequest {
  return JSON.parse(raw) as JoinRequest;
}
