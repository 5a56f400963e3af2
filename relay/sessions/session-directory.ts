import { randomBytes } from 'node:crypto';
import { ProtocolError } from '../../protocol';
import { type Hub, SESSION_ENDED_CONTROL } from '../routing/hub';
import type { SessionRecord, SessionStore } from './session-store';

export interface NewSession {
  ownerId: string;
  ownerName: string;
  name?: string;
  ttlMs: number;
}

/** Lower-case letters and digits without look-alikes: easy to read aloud. */
const ID_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

function newSessionId(): string {
  const bytes = randomBytes(12);
  let id = 'ses-';
  for (const byte of bytes) id += ID_ALPHABET[byte % ID_ALPHABET.length];
  return id;
}

/**
 * Sessions made through the REST API: creation, lookup, and the end that revokes their invites
 * and tokens and closes their connections on every relay.
 */
export class SessionDirectory {
  constructor(
    private readonly store: SessionStore,
    private readonly hub: Hub,
    /** What else goes when a session ends (its debugging state). */
    private readonly onEnded: (id: string) => Promise<void> = async () => {},
  ) {}

  async create(session: NewSession): Promise<SessionRecord> {
    const now = Date.now();
    const record: SessionRecord = {
      id: newSessionId(),
      ownerId: session.ownerId,
      ownerName: session.ownerName,
      ...(session.name !== undefined && { name: session.name }),
      createdAt: now,
      expiresAt: now + session.ttlMs,
    };
    await this.store.create(record);
    return record;
  }

  get(id: string): Promise<SessionRecord | undefined> {
    return this.store.get(id);
  }

  /**
   * Throws SESSION_ENDED if the session was created here and has ended since (ad hoc sessions
   * never end). A token the sessions API minted (`recordRequired`) also needs the record itself:
   * without it (the relay restarted without Redis, or it expired) SESSION_NOT_FOUND, so a
   * session cannot outlive the record that says whether it has ended.
   */
  async assertLive(id: string, recordRequired: boolean): Promise<void> {
    const record = await this.store.get(id);
    if (record?.endedAt !== undefined) throw new ProtocolError('SESSION_ENDED');
    if (recordRequired && !record) throw new ProtocolError('SESSION_NOT_FOUND');
  }

  /** Takes one use of a limited invite; false when none is left (or no such session). */
  async useInvite(id: string, inviteId: string, maxUses: number): Promise<boolean> {
    return this.store.useInvite(id, inviteId, maxUses);
  }

  /** Starts a new generation of invite links: the earlier ones stop working. SESSION_NOT_FOUND if there is no such session. */
  async renewInvites(id: string): Promise<number> {
    const generation = await this.store.renewInvites(id);
    if (generation === undefined) throw new ProtocolError('SESSION_NOT_FOUND');
    return generation;
  }

  /** Ends the session; its connections are told and closed on every relay. */
  async end(id: string): Promise<SessionRecord> {
    const existing = await this.store.get(id);
    if (!existing) throw new ProtocolError('SESSION_NOT_FOUND');
    if (existing.endedAt !== undefined) throw new ProtocolError('SESSION_ENDED');
    const ended = (await this.store.end(id, Date.now())) ?? existing;
    await this.hub.toSession(id, { eventType: SESSION_ENDED_CONTROL, data: '' });
    await this.onEnded(id);
    return ended;
  }
}
