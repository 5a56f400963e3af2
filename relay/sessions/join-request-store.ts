/** A guest's request to join through an invite that needs the host's approval. */
export interface JoinRequest {
  /** Random; shown to the host, who approves or denies by it. */
  id: string;
  sessionId: string;
  role: 'editor' | 'viewer';
  /** The guest id the session token will carry once approved (fixed now, so the host sees it). */
  userId: string;
  displayName: string;
  /** The invite's id and use limit, when it has one: an approval uses it up. */
  inviteId?: string;
  maxUses?: number;
  /** Milliseconds since the epoch. Past `expiresAt` the request is gone. */
  createdAt: number;
  expiresAt: number;
  status: 'pending' | 'approved' | 'denied';
}

/**
 * Where join requests wait for the host: in memory by default, in Redis when relays share one
 * (the guest may ask one relay while the host answers through another). Requests expire by
 * themselves; each session holds a bounded number of pending ones.
 */
export interface JoinRequestStore {
  /** Adds a pending request; false if its session already has `maxPending` pending ones. */
  add(request: JoinRequest, maxPending: number): Promise<boolean>;
  /** The request unless it has expired. */
  get(sessionId: string, id: string): Promise<JoinRequest | undefined>;
  /**
   * Moves a pending request to `status` (the first decision wins) and keeps it until
   * `keepUntil` so the guest can collect the answer. The request as it now stands, or
   * undefined if there is none (or it expired).
   */
  decide(sessionId: string, id: string, status: 'approved' | 'denied', keepUntil: number): Promise<JoinRequest | undefined>;
  /** The session's pending requests, oldest first. */
  pending(sessionId: string): Promise<JoinRequest[]>;
  close(): Promise<void>;
}
