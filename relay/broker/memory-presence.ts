import type { Participant } from '../../protocol';
import type { PresenceStore } from './presence';

/** Single process; lost on restart (so is every connection it describes). */
export class MemoryPresenceStore implements PresenceStore {
  private readonly sessions = new Map<string, Map<string, Participant>>();

  async add(sessionId: string, participant: Participant): Promise<void> {
    let session = this.sessions.get(sessionId);
    if (!session) this.sessions.set(sessionId, (session = new Map()));
    session.set(participant.connection_id, participant);
  }

  async remove(sessionId: string, connectionId: string): Promise<void> {
    const session = this.sessions.get(sessionId);
    if (!session) return;
    session.delete(connectionId);
    if (session.size === 0) this.sessions.delete(sessionId);
  }

  async list(sessionId: string): Promise<Participant[]> {
    return [...(this.sessions.get(sessionId)?.values() ?? [])];
  }

  async close(): Promise<void> {
    this.sessions.clear();
  }
}
