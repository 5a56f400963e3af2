import { randomBytes } from 'node:crypto';
import { encodeServerFrame, type JoinRequestPayload, ProtocolError, SYSTEM_USER_ID } from '../../protocol';
import type { Invite } from '../auth/tokens';
import type { Hub } from '../routing/hub';
import type { JoinRequest, JoinRequestStore } from './join-request-store';
import type { SessionDirectory } from './session-directory';
import type { SessionRecord } from './session-store';

export interface JoinApprovalOptions {
  /** How long a request waits for the host (JOIN_APPROVAL_TIMEOUT_MS). */
  timeoutMs: number;
  /** Requests one session may have waiting at once: a leaked link cannot flood the host. */
  maxPending: number;
}

/**
 * The host's approval of each join through an invite with `approval`: the guest's redemption
 * becomes a pending request that the host (on any relay) is told about and approves or denies;
 * the guest collects the answer with its request token. Unanswered requests expire.
 */
export class JoinApprovals {
  constructor(
    private readonly store: JoinRequestStore,
    private readonly sessions: SessionDirectory,
    private readonly hub: Hub,
    private readonly options: JoinApprovalOptions,
  ) {}

  /** Files a pending request for `userId` and tells the session's host. */
  async request(record: SessionRecord, invite: Invite, guest: { userId: string; displayName: string }): Promise<JoinRequest> {
    const now = Date.now();
    const request: JoinRequest = {
      id: `jr-${randomBytes(12).toString('base64url')}`,
      sessionId: record.id,
      role: invite.role,
      userId: guest.userId,
      displayName: guest.displayName,
      ...(invite.inviteId !== undefined && invite.maxUses !== undefined && { inviteId: invite.inviteId, maxUses: invite.maxUses }),
      createdAt: now,
      // Never past the invite: the token it leads to could not outlive it either.
      expiresAt: Math.min(now + this.options.timeoutMs, invite.expiresAt * 1000),
      status: 'pending',
    };
    if (!(await this.store.add(request, this.options.maxPending))) {
      throw new ProtocolError('API_RATE_LIMITED', `the session already has ${this.options.maxPending} join requests waiting for its host`);
    }
    const payload: JoinRequestPayload = {
      request_id: request.id,
      user_id: request.userId,
      display_name: request.displayName,
      role: request.role,
      expires_at: new Date(request.expiresAt).toISOString(),
    };
    const data = encodeServerFrame('session.join_request', payload, { userId: SYSTEM_USER_ID, sessionId: record.id });
    await this.hub.toSession(record.id, { eventType: 'session.join_request', data }, { users: [record.ownerId] });
    return request;
  }

  /** The request as it stands; JOIN_REQUEST_EXPIRED if it is gone (timed out, or never was). */
  async get(sessionId: string, id: string): Promise<JoinRequest> {
    const request = await this.store.get(sessionId, id);
    if (!request) throw new ProtocolError('JOIN_REQUEST_EXPIRED');
    return request;
  }

  pending(sessionId: string): Promise<JoinRequest[]> {
    return this.store.pending(sessionId);
  }

  /**
   * The host's answer; the first one wins. An approval takes one of the invite's uses: when
   * none is left the request is denied and the host gets INVITE_USED_UP. The answer is kept for
   * another timeout, for the guest to collect.
   */
  async decide(sessionId: string, id: string, approve: boolean): Promise<JoinRequest> {
    const request = await this.get(sessionId, id);
    const keepUntil = Date.now() + this.options.timeoutMs;
    if (request.status !== 'pending') return request;
    if (approve && request.inviteId !== undefined && request.maxUses !== undefined) {
      const used = await this.sessions.useInvite(sessionId, request.inviteId, request.maxUses);
      if (!used) {
        await this.store.decide(sessionId, id, 'denied', keepUntil);
        throw new ProtocolError('INVITE_USED_UP');
      }
    }
    const decided = await this.store.decide(sessionId, id, approve ? 'approved' : 'denied', keepUntil);
    if (!decided) throw new ProtocolError('JOIN_REQUEST_EXPIRED');
    return decided;
  }
}
