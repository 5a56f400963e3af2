import type { FeedbackAccepted, FeedbackRequest } from '../../protocol';

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
  invites: Record<'editor' | 'viewer', { token: string; link: string; expires_at: string }>;
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
  createSession: (relayUrl: string, personalToken: string, body: { name?: string; ttl_s?: number }) =>
    call<CreatedSession>(relayUrl, 'POST', '/api/sessions', personalToken, body),
  redeemInvite: (relayUrl: string, invite: string, name?: string) =>
    call<RedeemedInvite>(relayUrl, 'POST', '/api/invites/redeem', undefined, { invite, ...(name && { name }) }),
  endSession: (relayUrl: string, sessionId: string, token: string) =>
    call<{ session_id: string; ended_at?: string }>(relayUrl, 'DELETE', `/api/sessions/${encodeURIComponent(sessionId)}`, token),
  /** A session token (about its own sessions or the product) or a personal token. */
  sendFeedback: (relayUrl: string, token: string, body: FeedbackRequest) =>
    call<FeedbackAccepted>(relayUrl, 'POST', '/api/feedback', token, body),
};
