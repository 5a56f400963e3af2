import type { ParticipantStanding, SessionRecord, SessionStore } from './session-store';

/** The embedded default: records live as long as the relay process (or until they expire). */
export class MemorySessionStore implements SessionStore {
  private readonly records = new Map<string, SessionRecord>();
  /** Uses of each session's limited invites, by session id, then invite id. */
  private readonly inviteUses = new Map<string, Map<string, number>>();
  /** Removed guests and changed roles, by session id, then user id. */
  private readonly standings = new Map<string, Map<string, NonNullable<ParticipantStanding>>>();

  async create(record: SessionRecord): Promise<void> {
    this.dropExpired();
    this.records.set(record.id, { ...record });
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    const record = this.records.get(id);
    return record && { ...record };
  }

  async end(id: string, at: number): Promise<SessionRecord | undefined> {
    const record = this.records.get(id);
    if (!record) return undefined;
    record.endedAt ??= at;
    return { ...record };
  }

  async useInvite(id: string, inviteId: string, maxUses: number): Promise<boolean> {
    if (!this.records.has(id)) return false;
    const uses = this.inviteUses.get(id) ?? new Map<string, number>();
    const used = uses.get(inviteId) ?? 0;
    if (used >= maxUses) return false;
    this.inviteUses.set(id, uses.set(inviteId, used + 1));
    return true;
  }

  async renewInvites(id: string): Promise<number | undefined> {
    const record = this.records.get(id);
    if (!record) return undefined;
    record.inviteGeneration = (record.inviteGeneration ?? 0) + 1;
    return record.inviteGeneration;
  }

  async setStanding(id: string, userId: string, standing: NonNullable<ParticipantStanding>): Promise<boolean> {
    if (!this.records.has(id)) return false;
    const standings = this.standings.get(id) ?? new Map<string, NonNullable<ParticipantStanding>>();
    if (standings.get(userId) === 'removed') return false;
    this.standings.set(id, standings.set(userId, standing));
    return true;
  }

  async standing(id: string, userId: string): Promise<ParticipantStanding> {
    return this.standings.get(id)?.get(userId);
  }

  async close(): Promise<void> {
    this.records.clear();
    this.inviteUses.clear();
    this.standings.clear();
  }

  /** An expired session's tokens and invites have expired too: nothing needs its record. */
  private dropExpired(): void {
    const now = Date.now();
    for (const [id, record] of this.records) {
      if (record.expiresAt >= now) continue;
      this.records.delete(id);
      this.inviteUses.delete(id);
      this.standings.delete(id);
    }
  }
}
