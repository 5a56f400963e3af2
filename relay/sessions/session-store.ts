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
}

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
  close(): Promise<void>;
}
