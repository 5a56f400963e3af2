import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { DisplayName, ProtocolError } from '../../protocol';
import { type InviteRole, mintInvite, mintToken, verifyInvite, verifyPersonalToken, verifyToken } from '../auth/tokens';
import type { PresenceStore } from '../broker/presence';
import type { SessionDirectory } from '../sessions/session-directory';
import type { SessionRecord } from '../sessions/session-store';
import { bearerToken, readBody } from './http-util';

export interface SessionsApiDeps {
  secret: string;
  sessions: SessionDirectory;
  presence: PresenceStore;
  /** Where clients reach this service (PUBLIC_URL), if configured; otherwise taken from the request. */
  publicUrl?: string;
  trustProxy: boolean;
}

const HOUR_S = 3600;
const CreateSessionRequest = z.strictObject({
  name: z.string().min(1).max(200).optional(),
  /** Lifetime of the session, its host token and its invites (default 12 hours, at most 7 days). */
  ttl_s: z.number().int().min(60).max(7 * 24 * HOUR_S).optional(),
});
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
    const owner = verifyPersonalToken(this.deps.secret, bearerToken(request));
    const body = await readBody(request, CreateSessionRequest);
    const ttlS = body.ttl_s ?? 12 * HOUR_S;
    const record = await this.deps.sessions.create({ ownerId: owner.userId, ownerName: owner.displayName, name: body.name, ttlMs: ttlS * 1000 });
    const expiresAt = Math.floor(record.expiresAt / 1000);
    const urls = this.urls(request);
    const hostToken = mintToken(this.deps.secret, { user: owner.userId, name: owner.displayName, sessions: [record.id], role: 'host', ttl: ttlS });
    const invite = (role: InviteRole) => {
      const token = mintInvite(this.deps.secret, { sessionId: record.id, role, expiresAt });
      return { token, link: inviteLink(urls.relayUrl, token), expires_at: iso(record.expiresAt) };
    };
    return {
      ...describe(record),
      relay_url: urls.relayUrl,
      ws_url: urls.wsUrl,
      host: { user_id: owner.userId, display_name: owner.displayName, token: hostToken },
      invites: { editor: invite('editor'), viewer: invite('viewer') },
    };
  }

  /** POST /api/invites/redeem: a session token for the invite's session and role. */
  async redeem(request: IncomingMessage) {
    const body = await readBody(request, RedeemRequest);
    const invite = verifyInvite(this.deps.secret, body.invite);
    const record = await this.deps.sessions.get(invite.sessionId);
    if (!record) throw new ProtocolError('SESSION_NOT_FOUND');
    if (record.endedAt !== undefined) throw new ProtocolError('SESSION_ENDED');
    // A fresh id per guest: display names are not unique, and ids key each user's edits.
    const userId = `guest-${randomBytes(6).toString('hex')}`;
    const displayName = body.name ?? 'Guest';
    const ttl = Math.max(1, invite.expiresAt - Math.floor(Date.now() / 1000));
    const token = mintToken(this.deps.secret, { user: userId, name: displayName, sessions: [record.id], role: invite.role, ttl });
    return {
      session_id: record.id,
      role: invite.role,
      user_id: userId,
      display_name: displayName,
      token,
      expires_at: iso(invite.expiresAt * 1000),
      ws_url: this.urls(request).wsUrl,
    };
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

  /** The session, if the bearer is its owner (personal token), an admin, or in it with `need`. */
  private async authorize(request: IncomingMessage, sessionId: string, need: 'host' | 'participant'): Promise<SessionRecord> {
    const token = bearerToken(request);
    let allowedUser: string | undefined;
    let allowed = false;
    try {
      const principal = verifyToken(this.deps.secret, token);
      allowed = principal.admin || (principal.sessions.includes(sessionId) && (need === 'participant' || principal.role === 'host'));
    } catch (error) {
      if (!(error instanceof ProtocolError) || error.code !== 'AUTH_TOKEN_INVALID') throw error;
      allowedUser = verifyPersonalToken(this.deps.secret, token).userId;
    }
    const record = await this.deps.sessions.get(sessionId);
    if (!record) throw new ProtocolError('SESSION_NOT_FOUND');
    if (!allowed && allowedUser !== record.ownerId) {
      throw new ProtocolError('FORBIDDEN_ROLE', need === 'host' ? 'only the session’s owner, its host or an admin can end it' : 'the token is not for this session');
    }
    return record;
  }

  private urls(request: IncomingMessage): { relayUrl: string; wsUrl: string } {
    const relayUrl = (this.deps.publicUrl ?? requestOrigin(request, this.deps.trustProxy)).replace(/\/+$/, '');
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

/** The origin the client used; behind a trusted proxy, the one it forwarded. */
function requestOrigin(request: IncomingMessage, trustProxy: boolean): string {
  const header = (name: string) => {
    const value = request.headers[name];
    return (Array.isArray(value) ? value[0] : value)?.split(',')[0]?.trim();
  };
  const proto = (trustProxy && header('x-forwarded-proto')) || 'http';
  const host = (trustProxy && header('x-forwarded-host')) || header('host') || 'localhost';
  return `${proto === 'https' ? 'https' : 'http'}://${host}`;
}
