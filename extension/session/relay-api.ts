import type { FeedbackAccepted, FeedbackRequest, GuestRole, RoleChangedPayload } from '../../protocol';

/**
 * The relay's REST API for sessions, invites and feedback (see the README's REST table), with `fetch`.
 * Errors carry the relay's stable `code` so callers can say what to do.
 */

export interface CreatedSession {
  session_id: string;
  name?: string;
  expires_at: string;
  relay_url: string;
  ws_url: string;
  host: { user_id: string; display_name: string; token: string };
  invites: Record<'editor' | 'viewer', { token: string; link: string; expires_at: string; approval?: boolean }>;
}

export interface RedeemedInvite {
  session_id: string;
  role: 'editor' | 'viewer';
  user_id: string;
  display_name: string;
  token: string;
  expires_at: string;
  ws_url: string;
}

/** An invite with `approval`: the guest waits for the host (see `JoinApproval`). */
export interface PendingJoin {
  status: 'pending';
  session_id: string;
  request_id: string;
  request_token: string;
  user_id: string;
  display_name: string;
  role: 'editor' | 'viewer';
  expires_at: string;
}

/** A join request as it stands (`GET /api/join-requests/ID`): still pending, or approved with the token. */
export type JoinAnswer = (Omit<PendingJoin, 'request_token'> & { status: 'pending' }) | (RedeemedInvite & { status: 'approved' });

export class RelayApiError extends Error {
  override name = 'RelayApiError';
  constructor(
    /** The relay's error code (`AUTH_TOKEN_EXPIRED`, `SESSION_ENDED`...), or `UNREACHABLE`. */
    readonly code: string,
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

const TIMEOUT_MS = 15_000;

async function call<T>(relayUrl: string, method: string, path: string, token: string | undefined, body?: unknown): Promise<T> {
  const url = `${relayUrl.replace(/\/+$/, '')}${path}`;
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: { 'Content-Type': 'application/json', ...(token && { Authorization: `Bearer ${token}` }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (error) {
    const cause = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
    throw new RelayApiError('UNREACHABLE', `cannot reach the relay at ${relayUrl}: ${cause}`);
  }
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    throw new RelayApiError(
      'BAD_RESPONSE',
      `the relay at ${relayUrl} answered ${response.status} with something that is not JSON`,
      response.status,
    );
  }
  if (!response.ok) {
    const { code, message } = (json ?? {}) as { code?: string; message?: string };
    throw new RelayApiError(code ?? 'HTTP_ERROR', message ?? `the relay answered ${response.status}`, response.status);
  }
  return json as T;
}

export const relayApi = {
  createSession: (relayUrl: string, personalToken: string, body: { name?: string; ttl_s?: number; invites?: { approval?: boolean } }) =>
    call<CreatedSession>(relayUrl, 'POST', '/api/sessions', personalToken, body),
  /** A session token, or (an invite with `approval`) a join request that waits for the host. */
  redeemInvite: (relayUrl: string, invite: string, name?: string) =>
    call<RedeemedInvite | PendingJoin>(relayUrl, 'POST', '/api/invites/redeem', undefined, { invite, ...(name && { name }) }),
  /** The guest's poll: pending, approved (with the token); JOIN_DENIED and JOIN_REQUEST_EXPIRED are errors. */
  joinRequest: (relayUrl: string, requestId: string, requestToken: string) =>
    call<JoinAnswer>(relayUrl, 'GET', `/api/join-requests/${encodeURIComponent(requestId)}`, requestToken),
  /** The host's answer to a join request. */
  decideJoinRequest: (relayUrl: string, sessionId: string, requestId: string, token: string, approve: boolean) =>
    call<{ status: string }>(
      relayUrl,
      'POST',
      `/api/sessions/${encodeURIComponent(sessionId)}/join-requests/${encodeURIComponent(requestId)}`,
      token,
      { approve },
    ),
  /** The join requests waiting for the host (those told before this connection). */
  joinRequests: (relayUrl: string, sessionId: string, token: string) =>
    call<{ requests: PendingJoin[] }>(relayUrl, 'GET', `/api/sessions/${encodeURIComponent(sessionId)}/join-requests`, token),
  /** The host renews the invite links: new ones, and the relay refuses every earlier one. */
  renewInvites: (relayUrl: string, sessionId: string, token: string, options: { approval?: boolean }) =>
    call<{ session_id: string; invites: CreatedSession['invites'] }>(
      relayUrl,
      'POST',
      `/api/sessions/${encodeURIComponent(sessionId)}/invites`,
      token,
      { invites: options },
    ),
  /** The host removes a guest: their connections close, their token stops working. */
  removeParticipant: (relayUrl: string, sessionId: string, userId: string, token: string) =>
    call<{ removed: boolean }>(
      relayUrl,
      'DELETE',
      `/api/sessions/${encodeURIComponent(sessionId)}/participants/${encodeURIComponent(userId)}`,
      token,
    ),
  /** The host makes a guest an editor or a viewer. */
  changeRole: (relayUrl: string, sessionId: string, userId: string, token: string, role: GuestRole) =>
    call<RoleChangedPayload>(
      relayUrl,
      'PATCH',
      `/api/sessions/${encodeURIComponent(sessionId)}/participants/${encodeURIComponent(userId)}`,
      token,
      { role },
    ),
  endSession: (relayUrl: string, sessionId: string, token: string) =>
    call<{ session_id: string; ended_at?: string }>(relayUrl, 'DELETE', `/api/sessions/${encodeURIComponent(sessionId)}`, token),
  /** A session token (about its own sessions or the product) or a personal token. */
  sendFeedback: (relayUrl: string, token: string, body: FeedbackRequest) =>
    call<FeedbackAccepted>(relayUrl, 'POST', '/api/feedback', token, body),
};
