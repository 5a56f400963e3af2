import type { RedisClient, RedisConnections } from '../redis/redis-connection';
import { defineScript } from '../redis/scripts';
import type { ParticipantStanding, SessionRecord, SessionStore } from './session-store';

/**
 * Session records in Redis, shared by every relay: whichever relay ends a session, every relay
 * refuses its tokens afterwards. One hash per session, `<prefix>session:{<id>}`, that expires at
 * the session's `expiresAt` (its tokens and invites expire then too, so nothing needs it after).
 */

export interface RedisSessionStoreOptions {
  /** Prefix of every key (default `tandem:`). */
  prefix?: string;
}

export class RedisSessionStore implements SessionStore {
  private readonly command: RedisClient;
  private readonly prefix: string;
  private readonly runEnd: (keys: readonly string[], args: readonly (string | number)[]) => Promise<string[] | null>;
  private readonly runUseInvite: (keys: readonly string[], args: readonly (string | number)[]) => Promise<number>;
  private readonly runSetStanding: (keys: readonly string[], args: readonly (string | number)[]) => Promise<number>;
  private readonly runRenewInvites: (keys: readonly string[], args: readonly (string | number)[]) => Promise<number>;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly redis: RedisConnections,
    options: RedisSessionStoreOptions = {},
  ) {
    this.prefix = options.prefix ?? 'tandem:';
    redis.acquire();
    this.command = redis.command;
    this.runEnd = defineScript(this.command, 'tandemSessionEnd');
    this.runUseInvite = defineScript(this.command, 'tandemSessionUseInvite');
    this.runSetStanding = defineScript(this.command, 'tandemSessionSetStanding');
    this.runRenewInvites = defineScript(this.command, 'tandemSessionRenewInvites');
  }

  async create(record: SessionRecord): Promise<void> {
    const key = this.keyOf(record.id);
    const fields: Record<string, string | number> = {
      ownerId: record.ownerId,
      ownerName: record.ownerName,
      createdAt: record.createdAt,
      expiresAt: record.expiresAt,
    };
    if (record.name !== undefined) fields.name = record.name;
    if (record.endedAt !== undefined) fields.endedAt = record.endedAt;
    if (record.inviteGeneration) fields.inviteGeneration = record.inviteGeneration;
    // DEL first: a record is written whole, never merged into an older one of the same id.
    await this.command.multi().del(key).hset(key, fields).pexpireat(key, record.expiresAt).exec();
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    return toRecord(id, await this.command.hgetall(this.keyOf(id)));
  }

  async end(id: string, at: number): Promise<SessionRecord | undefined> {
    const reply = await this.runEnd([this.keyOf(id)], [at]);
    if (!reply) return undefined;
    const fields: Record<string, string> = {};
    for (let i = 0; i < reply.length; i += 2) fields[reply[i]!] = reply[i + 1]!;
    return toRecord(id, fields);
  }

  async useInvite(id: string, inviteId: string, maxUses: number): Promise<boolean> {
    return (await this.runUseInvite([this.keyOf(id)], [inviteId, maxUses])) === 1;
  }

  async renewInvites(id: string): Promise<number | undefined> {
    const generation = await this.runRenewInvites([this.keyOf(id)], []);
    return generation < 0 ? undefined : generation;
  }

  async setStanding(id: string, userId: string, standing: NonNullable<ParticipantStanding>): Promise<boolean> {
    return (await this.runSetStanding([this.keyOf(id)], [userId, standing])) === 1;
  }

  async standing(id: string, userId: string): Promise<ParticipantStanding> {
    const value = await this.command.hget(this.keyOf(id), `participant:${userId}`);
    return value === 'removed' || value === 'editor' || value === 'viewer' ? value : undefined;
  }

  /** Lets go of Redis; the records stay there for the other relays. */
  close(): Promise<void> {
    return (this.closing ??= this.redis.release());
  }

  private keyOf(id: string): string {
    return `${this.prefix}session:{${id}}`;
  }
}

function toRecord(id: string, fields: Record<string, string>): SessionRecord | undefined {
  if (fields.ownerId === undefined || fields.expiresAt === undefined) return undefined;
  return {
    id,
    ownerId: fields.ownerId,
    ownerName: fields.ownerName ?? '',
    ...(fields.name !== undefined && { name: fields.name }),
    createdAt: Number(fields.createdAt),
    expiresAt: Number(fields.expiresAt),
    ...(fields.endedAt !== undefined && { endedAt: Number(fields.endedAt) }),
    ...(fields.inviteGeneration !== undefined && { inviteGeneration: Number(fields.inviteGeneration) }),
  };
}
