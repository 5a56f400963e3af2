import type { JoinRequest, JoinRequestStore } from './join-request-store';

/** The embedded default: requests live in this process only (a restart drops them, as it drops sessions). */
export class MemoryJoinRequestStore implements JoinRequestStore {
  private readonly sessions = new Map<string, Map<string, JoinRequest>>();

  async add(request: JoinRequest, maxPending: number): Promise<boolean> {
    const requests = this.live(request.sessionId);
    let pending = 0;
    for (const existing of requests.values()) if (existing.status === 'pending') pending++;
    if (pending >= maxPending) return false;
    requests.set(request.id, { ...request });
    this.sessions.set(request.sessionId, requests);
    return true;
  }

  async get(sessionId: string, id: string): Promise<JoinRequest | undefined> {
    const request = this.live(sessionId).get(id);
    return request && { ...request };
  }

  async decide(sessionId: string, id: string, status: 'approved' | 'denied', keepUntil: number): Promise<JoinRequest | undefined> {
    const request = this.live(sessionId).get(id);
    if (!request) return undefined;
    if (request.status === 'pending') {
      request.status = status;
      request.expiresAt = Math.max(request.expiresAt, keepUntil);
    }
    return { ...request };
  }

  async pending(sessionId: string): Promise<JoinRequest[]> {
    return [...this.live(sessionId).values()].filter((request) => request.status === 'pending').map((request) => ({ ...request }));
  }

  async close(): Promise<void> {
    this.sessions.clear();
  }

  /** The session's unexpired requests; expired ones are dropped on the way, and empty sessions. */
  private live(sessionId: string): Map<string, JoinRequest> {
    const requests = this.sessions.get(sessionId) ?? new Map<string, JoinRequest>();
    const now = Date.now();
    for (const [id, request] of requests) if (request.expiresAt <= now) requests.delete(id);
    if (requests.size === 0) this.sessions.delete(sessionId);
    return requests;
  }
}
