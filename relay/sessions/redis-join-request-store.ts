import type { Redis } from 'ioredis';
import { defineScript, type RedisConnections } from '../broker/redis-connection';
import type { JoinRequest, JoinRequestStore } from './join-request-store';

/**
 * Join requests in Redis, shared by every relay: one hash per session,
 * `<prefix>joins:{<session id>}`, a field per request (its JSON), in the session's hash slot.
 * Expired requests are dropped by the scripts as they pass; the hash expires with its last one.
 */

/** KEYS: the hash. ARGV: id, JSON, now, maxPending, expiresAt. 1 added, 0 too many pending. */
const ADD = `
local now = tonumber(ARGV[3])
local all = redis.call('HGETALL', KEYS[1])
local pending = 0
local latest = tonumber(ARGV[5])
for i = 1, #all, 2 do
  local request = cjson.decode(all[i + 1])
  if request.expiresAt <= now then
    redis.call('HDEL', KEYS[1], all[i])
  else
    if request.status == 'pending' then pending = pending + 1 end
    if request.expiresAt > latest then latest = request.expiresAt end
  end
end
if pending >= tonumber(ARGV[4]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIREAT', KEYS[1], latest)
return 1
`;

/** KEYS: the hash. ARGV: id, status, now, keepUntil. The request's JSON as it stands, or nil. */
const DECIDE = `
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return false end
local request = cjson.decode(raw)
if request.expiresAt <= tonumber(ARGV[3]) then return false end
if request.status == 'pending' then
  request.status = ARGV[2]
  request.expiresAt = math.max(request.expiresAt, tonumber(ARGV[4]))
  raw = cjson.encode(request)
  redis.call('HSET', KEYS[1], ARGV[1], raw)
  if redis.call('PTTL', KEYS[1]) < request.expiresAt - tonumber(ARGV[3]) then
    redis.call('PEXPIREAT', KEYS[1], request.expiresAt)
  end
end
return raw
`;

export class RedisJoinRequestStore implements JoinRequestStore {
  private readonly command: Redis;
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
    this.runAdd = defineScript(this.command, 'tandemJoinRequestAdd', 1, ADD);
    this.runDecide = defineScript(this.command, 'tandemJoinRequestDecide', 1, DECIDE);
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
