import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { DisplayName, GuestRole, ProtocolError } from '../../protocol';
import {
  type InviteOptions,
  type InviteRole,
  mintInvite,
  mintJoinToken,
  mintToken,
  type Principal,
  verifyInvite,
  verifyJoinToken,
  verifyPersonalToken,
  verifyToken,
} from '../auth/tokens';
import type { PresenceStore } from '../broker/presence';
import { cleanDisplayName } from '../sessions/display-name';
import type { JoinApprovals } from '../sessions/join-approvals';
import type { JoinRequest } from '../sessions/join-request-store';
import type { Participants } from '../sessions/participants';
import type { SessionDirectory } from '../sessions/session-directory';
import type { SessionRecord } from '../sessions/session-store';
import { bearerToken, readBody } from './http-util';
import type { RequestLimits } from './request-limits';

export interface SessionsApiDeps {
  secret: string;
  sessions: SessionDirectory;
  presence: PresenceStore;
  /** Where clients reach this service (PUBLIC_URL), if configured; otherwise taken from the request. */
  publicUrl?: string;
  /** With no PUBLIC_URL: the hosts a request may name for its links (empty: any). */
  allowedHosts: readonly string[];
  trustProxy: boolean;
  limits: RequestLimits;
  approvals: JoinApprovals;
  participants: Participants;
}

/** A status and a body, for the calls whose success is not always the same status. */
export interface Reply {
  status: number;
  body: unknown;
}

const HOUR_S = 3600;
const InvitesOptions = z.strictObject({
  /** The most guests each link admits. */
  max_uses: z.number().int().min(1).max(10_000).optional(),
  /** Each guest waits for the host to approve them (`session.join_request`). */
  approval: z.boolean().optional(),
});
const CreateSessionRequest = z.strictObject({
  name: z.string().min(1).max(200).optional(),
  /** Lifetime of the session, its host token and its invites (default 12 hours, at most 7 days). */
  ttl_s: z
    .number()
    .int()
    .min(60)
    .max(7 * 24 * HOUR_S)
    .optional(),
  /** Applies to both invite links. */
  invites: InvitesOptions.optional(),
});
const RenewInvitesRequest = z.strictObject({ invites: InvitesOptions.optional() });
const DecideRequest = z.strictObject({ approve: z.boolean() });
const RoleRequest = z.strictObject({ role: GuestRole });
const RedeemRequest = z.strictObject({
  invite: z.string().min(1).max(4096),
  /** The guest's display name. */
  name: DisplayName.optional(),
});

/** The extension's id (publisher.name): a `vscode://` link opens VS Code and hands the link to it. */
const EXTENSION_ID = 'tandem.tandem';

/**
 * Sessions and invites over REST: a personal token creates a session and gets a host token and
 * two invite links (editor, viewer); an invite is redeemed for a session token; the owner (or an
 * admin, or the session's host) ends the session, which revokes its invites and tokens.
 */
export class SessionsApi {
  constructor(private readonly deps: SessionsApiDeps) {}

  /** POST /api/sessions */
  async create(request: IncomingMessage) {
    this.deps.limits.checkAddress(request);
    const owner = verifyPersonalToken(this.deps.secret, bearerToken(request));
    this.deps.limits.checkUser(owner.userId);
    const body = await readBody(request, CreateSessionRequest);
    // Before anything is stored: a refused Host leaves no session behind.
    const urls = this.urls(request);
    const ttlS = body.ttl_s ?? 12 * HOUR_S;
    const ownerName = cleanDisplayName(owner.displayName) ?? owner.userId;
    const record = await this.deps.sessions.create({ ownerId: owner.userId, ownerName, name: body.name, ttlMs: ttlS * 1000 });
    const hostToken = mintToken(this.deps.secret, {
      user: owner.userId,
      name: ownerName,
      sessions: [record.id],
      role: 'host',
      ttl: ttlS,
      recordRequired: true,
    });
    return {
      ...describe(record),
      relay_url: urls.relayUrl,
      ws_url: urls.wsUrl,
      host: { user_id: owner.userId, display_name: ownerName, token: hostToken },
      invites: this.invites(record, urls.relayUrl, body.invites, 0),
    };
  }

  /**
   * POST /api/sessions/:id/invites `{invites?: {max_uses, approval}}`: the owner, host or an admin
   * renews the session's invite links: new ones, and every earlier link is refused from now on
   * (INVITE_REVOKED), e.g. after removing a guest who still has one. Guests already in stay.
   */
  async renewInvites(request: IncomingMessage, sessionId: string) {
    await this.authorize(request, sessionId, 'host');
    const body = await readBody(request, RenewInvitesRequest);
    const record = await this.liveRecord(sessionId);
    const urls = this.urls(request);
    const generation = await this.deps.sessions.renewInvites(sessionId);
    return { session_id: sessionId, invites: this.invites(record, urls.relayUrl, body.invites, generation) };
  }

  /** An editor and a viewer invite link of `generation`, valid as long as the session. */
  private invites(record: SessionRecord, relayUrl: string, wanted: z.infer<typeof InvitesOptions> | undefined, generation: number) {
    const expiresAt = Math.floor(record.expiresAt / 1000);
    const options: InviteOptions = {
      ...(wanted?.max_uses !== undefined && { maxUses: wanted.max_uses }),
      ...(wanted?.approval && { approval: true }),
      ...(generation > 0 && { generation }),
    };
    const invite = (role: InviteRole) => {
      const token = mintInvite(this.deps.secret, { sessionId: record.id, role, expiresAt, ...options });
      return {
        token,
        link: inviteLink(relayUrl, token),
        expires_at: iso(record.expiresAt),
        ...(options.maxUses !== undefined && { max_uses: options.maxUses }),
        approval: options.approval === true,
      };
    };
    return { editor: invite('editor'), viewer: invite('viewer') };
  }

  /**
   * POST /api/invites/redeem: a session token for the invite's session and role (200), or, for
   * an invite with `approval`, a pending join request (202) whose answer the guest collects
   * with `joinStatus`.
   */
  async redeem(request: IncomingMessage): Promise<Reply> {
    this.deps.limits.checkAddress(request);
    const body = await readBody(request, RedeemRequest);
    const invite = verifyInvite(this.deps.secret, body.invite);
    const record = await this.liveRecord(invite.sessionId);
    if ((invite.generation ?? 0) < (record.inviteGeneration ?? 0)) throw new ProtocolError('INVITE_REVOKED');
    const urls = this.urls(request);
    // A fresh id per guest: display names are not unique, and ids key each user's edits.
    const guest = { userId: `guest-${randomBytes(6).toString('hex')}`, displayName: (body.name && cleanDisplayName(body.name)) ?? 'Guest' };
    if (invite.approval) {
      const pending = await this.deps.approvals.request(record, invite, guest);
      const requestToken = mintJoinToken(this.deps.secret, {
        sessionId: record.id,
        requestId: pending.id,
        expiresAt: Math.floor(record.expiresAt / 1000),
      });
      return {
        status: 202,
        body: { ...describeRequest(pending), request_token: requestToken, poll_url: `${urls.relayUrl}/api/join-requests/${pending.id}` },
      };
    }
    if (invite.inviteId !== undefined && invite.maxUses !== undefined) {
      if (!(await this.deps.sessions.useInvite(record.id, invite.inviteId, invite.maxUses))) throw new ProtocolError('INVITE_USED_UP');
    }
    return { status: 200, body: this.admit(record, invite.role, guest, invite.expiresAt * 1000, urls.wsUrl) };
  }

  /**
   * GET /api/join-requests/:id with the request token: 202 while the host has not answered,
   * 200 with the session token once approved, JOIN_DENIED, or JOIN_REQUEST_EXPIRED.
   */
  async joinStatus(request: IncomingMessage, requestId: string): Promise<Reply> {
    const claims = verifyJoinToken(this.deps.secret, bearerToken(request));
    if (claims.requestId !== requestId) throw new ProtocolError('AUTH_TOKEN_INVALID', 'the request token is for another join request');
    const record = await this.liveRecord(claims.sessionId);
    const pending = await this.deps.approvals.get(record.id, requestId);
    if (pending.status === 'pending') return { status: 202, body: describeRequest(pending) };
    if (pending.status === 'denied') throw new ProtocolError('JOIN_DENIED');
    const guest = { userId: pending.userId, displayName: pending.displayName };
    return {
      status: 200,
      body: { status: 'approved', ...this.admit(record, pending.role, guest, record.expiresAt, this.urls(request).wsUrl) },
    };
  }

  /** GET /api/sessions/:id/join-requests: the requests waiting for the host. */
  async joinRequests(request: IncomingMessage, sessionId: string) {
    await this.authorize(request, sessionId, 'host');
    return { requests: (await this.deps.approvals.pending(sessionId)).map(describeRequest) };
  }

  /** POST /api/sessions/:id/join-requests/:request: `{approve}` from the owner, host or an admin. */
  async decide(request: IncomingMessage, sessionId: string, requestId: string) {
    const record = await this.authorize(request, sessionId, 'host');
    if (record.endedAt !== undefined) throw new ProtocolError('SESSION_ENDED');
    const { approve } = await readBody(request, DecideRequest);
    return describeRequest(await this.deps.approvals.decide(sessionId, requestId, approve));
  }

  /**
   * DELETE /api/sessions/:id/participants/:user: the owner, host or an admin removes a guest: their
   * connections are closed on every relay and their token no longer joins.
   */
  async removeParticipant(request: IncomingMessage, sessionId: string, userId: string) {
    await this.authorize(request, sessionId, 'host');
    await this.deps.participants.remove(sessionId, userId);
    return { session_id: sessionId, user_id: userId, removed: true };
  }

  /** PATCH /api/sessions/:id/participants/:user `{role}`: the owner, host or an admin makes a guest an editor or a viewer. */
  async changeRole(request: IncomingMessage, sessionId: string, userId: string) {
    await this.authorize(request, sessionId, 'host');
    const { role } = await readBody(request, RoleRequest);
    return { session_id: sessionId, ...(await this.deps.participants.setRole(sessionId, userId, role)) };
  }

  /** GET /api/sessions/:id: for its participants and its owner. */
  async get(request: IncomingMessage, sessionId: string) {
    const record = await this.authorize(request, sessionId, 'participant');
    const participants = await this.deps.presence.list(sessionId);
    return { ...describe(record), participants };
  }

  /** DELETE /api/sessions/:id: the owner, the session's host or an admin. */
  async end(request: IncomingMessage, sessionId: string) {
    await this.authorize(request, sessionId, 'host');
    return describe(await this.deps.sessions.end(sessionId));
  }

  /**
   * For a token the sessions API minted (`rec`): SESSION_NOT_FOUND or SESSION_ENDED unless its
   * session's record is live. Ad hoc tokens pass (they have no record).
   */
  async assertTokenLive(principal: Principal, sessionId: string): Promise<void> {
    await this.deps.sessions.assertLive(sessionId, principal.recordRequired);
  }

  /** A session token (with the `rec` claim: it dies with the record) and what a guest needs. */
  private admit(
    record: SessionRecord,
    role: InviteRole,
    guest: { userId: string; displayName: string },
    expiresAtMs: number,
    wsUrl: string,
  ) {
    const ttl = Math.max(1, Math.floor((Math.min(expiresAtMs, record.expiresAt) - Date.now()) / 1000));
    const token = mintToken(this.deps.secret, {
      user: guest.userId,
      name: guest.displayName,
      sessions: [record.id],
      role,
      ttl,
      recordRequired: true,
    });
    return {
      session_id: record.id,
      role,
      user_id: guest.userId,
      display_name: guest.displayName,
      token,
      expires_at: iso(Date.now() + ttl * 1000),
      ws_url: wsUrl,
    };
  }

  /** The record of a session that is neither gone nor ended. */
  private async liveRecord(sessionId: string): Promise<SessionRecord> {
    const record = await this.deps.sessions.get(sessionId);
    if (!record) throw new ProtocolError('SESSION_NOT_FOUND');
    if (record.endedAt !== undefined) throw new ProtocolError('SESSION_ENDED');
    return record;
  }

  /** The session, if the bearer is its owner (personal token), an admin, or in it with `need`. */
  private async authorize(request: IncomingMessage, sessionId: string, need: 'host' | 'participant'): Promise<SessionRecord> {
    const token = bearerToken(request);
    let allowedUser: string | undefined;
    let allowed = false;
    let guest: Principal | undefined;
    try {
      const principal = verifyToken(this.deps.secret, token);
      allowed = principal.admin || (principal.sessions.includes(sessionId) && (need === 'participant' || principal.role === 'host'));
      if (allowed && !principal.admin && principal.role !== 'host') guest = principal;
    } catch (error) {
      if (!(error instanceof ProtocolError) || error.code !== 'AUTH_TOKEN_INVALID') throw error;
      allowedUser = verifyPersonalToken(this.deps.secret, token).userId;
    }
    const record = await this.deps.sessions.get(sessionId);
    if (!record) throw new ProtocolError('SESSION_NOT_FOUND');
    if (!allowed && allowedUser !== record.ownerId) {
      throw new ProtocolError(
        'FORBIDDEN_ROLE',
        need === 'host' ? 'only the session’s owner, its host or an admin may do this' : 'the token is not for this session',
      );
    }
    // A removed guest's token still verifies: the session's word is what stops it.
    if (guest && (await this.deps.participants.standing(sessionId, guest.userId)) === 'removed')
      throw new ProtocolError('PARTICIPANT_REMOVED');
    return record;
  }

  /** PUBLIC_URL, or the origin the request names if its host is allowed (HOST_NOT_ALLOWED if not). */
  private urls(request: IncomingMessage): { relayUrl: string; wsUrl: string } {
    let origin = this.deps.publicUrl;
    if (origin === undefined) {
      const named = requestOrigin(request, this.deps.trustProxy);
      if (!hostAllowed(named.host, this.deps.allowedHosts)) {
        throw new ProtocolError(
          'HOST_NOT_ALLOWED',
          `links are not made for the host ${JSON.stringify(named.host.slice(0, 200))}: set PUBLIC_URL or add it to ALLOWED_HOSTS`,
        );
      }
      origin = `${named.proto}://${named.host}`;
    }
    const relayUrl = origin.replace(/\/+$/, '');
    return { relayUrl, wsUrl: `${relayUrl.replace(/^http/, 'ws')}/ws` };
  }
}

/** `vscode://tandem.tandem/join?relay=...&invite=...`: opens VS Code, whose URI handler joins. */
export function inviteLink(relayUrl: string, invite: string): string {
  return `vscode://${EXTENSION_ID}/join?${new URLSearchParams({ relay: relayUrl, invite }).toString()}`;
}

function describe(record: SessionRecord) {
  return {
    session_id: record.id,
    ...(record.name !== undefined && { name: record.name }),
    owner: { user_id: record.ownerId, display_name: record.ownerName },
    created_at: iso(record.createdAt),
    expires_at: iso(record.expiresAt),
    ...(record.endedAt !== undefined && { ended_at: iso(record.endedAt) }),
  };
}

const iso = (ms: number) => new Date(ms).toISOString();

function describeRequest(request: JoinRequest) {
  return {
    status: request.status,
    session_id: request.sessionId,
    request_id: request.id,
    user_id: request.userId,
    display_name: request.displayName,
    role: request.role,
    expires_at: iso(request.expiresAt),
  };
}

/**
 * Whether links may name `host` (host or host:port, as the request gave it): any when the list
 * is empty (development; production requires PUBLIC_URL or a list), else an entry with a port
 * must match exactly and one without matches the host name on any port.
 */
function hostAllowed(host: string, allowed: readonly string[]): boolean {
  if (allowed.length === 0) return true;
  const lower = host.toLowerCase();
  const name = lower.replace(/:\d+$/, '');
  return allowed.some((entry) => entry === lower || entry === name);
}

/** The origin the client used; behind a trusted proxy, the one it forwarded. */
function requestOrigin(request: IncomingMessage, trustProxy: boolean): { proto: 'http' | 'https'; host: string } {
  const header = (name: string) => {
    const value = request.headers[name];
    return (Array.isArray(value) ? value[0] : value)?.split(',')[0]?.trim();
  };
  const proto = (trustProxy && header('x-forwarded-proto')) || 'http';
  const host = (trustProxy && header('x-forwarded-host')) || header('host') || 'localhost';
  return { proto: proto === 'https' ? 'https' : 'http', host };
}
