/** A session created through the REST API (ad hoc sessions named in operator-minted tokens have none). */
export interface SessionRecord {
  id: string;
  /** Who created it (the personal token's user), the only one besides admins who may end it. */
  ownerId: string;
  ownerName: string;
  name?: string;
  /** Milliseconds since the epoch. */
  createdAt: number;
  expiresAt: number;
  endedAt?: number;
  /** Invites minted before the last renewal (an older generation) are refused; 0 or absent: never renewed. */
  inviteGeneration?: number;
}

/**
 * What a session says of one of its guests, whatever the guest's token says: `removed` (the host
 * removed them: their tokens no longer join), the role the host gave them since, or nothing.
 */
export type ParticipantStanding = 'removed' | 'editor' | 'viewer' | undefined;

/**
 * Where session records live: in memory by default, in Redis when relays share one (so that any
 * relay can end a session and every relay refuses its tokens afterwards).
 */
export interface SessionStore {
  create(record: SessionRecord): Promise<void>;
  get(id: string): Promise<SessionRecord | undefined>;
  /** Marks the session ended at `at`; the updated record, or undefined if there is no such session. */
  end(id: string, at: number): Promise<SessionRecord | undefined>;
  /**
   * Counts one use of the session's invite `inviteId` unless `maxUses` are used up (checked and
   * counted in one step, so two relays cannot both take the last use); false then, or when there
   * is no such session.
   */
  useInvite(id: string, inviteId: string, maxUses: number): Promise<boolean>;
  /**
   * Starts a new generation of invites (every earlier link stops working): the new generation,
   * for the new links to carry, or undefined when there is no such session.
   */
  renewInvites(id: string): Promise<number | undefined>;
  /**
   * Records `standing` for `userId` in the session, kept as long as the record. A removal is
   * final: false when the user was removed before (nothing changes then), or there is no such
   * session.
   */
  setStanding(id: string, userId: string, standing: 'removed' | 'editor' | 'viewer'): Promise<boolean>;
  /** What the session says of `userId` (undefined too when there is no such session). */
  standing(id: string, userId: string): Promise<ParticipantStanding>;
  close(): Promise<void>;
}
