import type { SessionRecord, SessionStore } from './session-store';

/** The embedded default: records live as long as the relay process (or until they expire). */
export class MemorySessionStore implements SessionStore {
  private readonly records = new Map<string, SessionRecord>();

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

  async close(): Promise<void> {
    this.records.clear();
  }

  /** An expired session's tokens and invites have expired too: nothing needs its record. */
  private dropExpired(): void {
    const now = Date.now();
    for (const [id, record] of this.records) if (record.expiresAt < now) this.records.delete(id);
  }
}
