import assert from 'node:assert/strict';
import { mintPersonalToken } from '../../relay/auth/tokens';
import { httpRequest, type HttpResponse, jsonBody, TEST_SECRET } from './relay-fixture';

/** The REST calls of the sessions API, for tests that drive it (and attack it). */

export interface CreatedSession {
  session_id: string;
  name?: string;
  owner: { user_id: string; display_name: string };
  expires_at: string;
  relay_url: string;
  ws_url: string;
  host: { user_id: string; display_name: string; token: string };
  invites: Record<'editor' | 'viewer', { token: string; link: string; expires_at: string; max_uses?: number; approval: boolean }>;
}

export interface Redeemed {
  session_id: string;
  role: string;
  user_id: string;
  display_name: string;
  token: string;
  ws_url: string;
}

/** Anything with the relay's http://host:port (an in-process TestRelay or a RelayProcess). */
export interface HasHttpUrl {
  readonly httpUrl: string;
}

export const personalToken = (user: string, name?: string, secret = TEST_SECRET) =>
  mintPersonalToken(secret, { user, ttl: '1h', ...(name && { name }) });

/** One JSON call: `Content-Type: application/json` unless `headers` says otherwise. */
export function callApi(
  relay: HasHttpUrl,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<HttpResponse> {
  const { token, body, headers = {} } = options;
  return httpRequest(`${relay.httpUrl}${path}`, {
    method,
    headers: { 'Content-Type': 'application/json', ...(token && { Authorization: `Bearer ${token}` }), ...headers },
    ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
}

export function expectApiError(response: HttpResponse, status: number, code: string): void {
  assert.equal(response.status, status, response.text);
  assert.equal(jsonBody(response).code, code, response.text);
}

export async function createApiSession(
  relay: HasHttpUrl,
  body: unknown = {},
  token = personalToken('alice', 'Alice'),
): Promise<CreatedSession> {
  const response = await callApi(relay, 'POST', '/api/sessions', { token, body });
  assert.equal(response.status, 201, response.text);
  return jsonBody<CreatedSession>(response);
}

export async function redeemInvite(relay: HasHttpUrl, invite: string, name?: string): Promise<Redeemed> {
  const response = await callApi(relay, 'POST', '/api/invites/redeem', { body: { invite, ...(name !== undefined && { name }) } });
  assert.equal(response.status, 200, response.text);
  return jsonBody<Redeemed>(response);
}
