import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { z } from 'zod';
import { Epoch, type ErrorCode, errorCodes, ProtocolError } from '../../protocol';
import type { Principal } from '../auth/tokens';
import type { StreamPosition } from '../broker/broker';

const statusText: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  410: 'Gone',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export const upgradeStatus: Partial<Record<ErrorCode, number>> = {
  AUTH_TOKEN_MISSING: 401,
  AUTH_TOKEN_INVALID: 401,
  AUTH_TOKEN_EXPIRED: 401,
  SESSION_REQUIRED: 400,
  SESSION_FORBIDDEN: 403,
  NOT_FOUND: 404,
  SESSION_NOT_FOUND: 404,
  SESSION_ENDED: 410,
  PARTICIPANT_REMOVED: 403,
  CONNECTION_RATE_LIMITED: 429,
  LOGIN_RATE_LIMITED: 429,
  ORIGIN_FORBIDDEN: 403,
  TOO_MANY_CONNECTIONS: 503,
  BROKER_UNAVAILABLE: 503,
  // A bug, not the client's fault: a status that clients retry, not one that stops them.
  INTERNAL: 500,
};

/** The HTTP status a refused upgrade is answered with. */
export function refusalStatus(error: ProtocolError): number {
  return upgradeStatus[error.code] ?? 400;
}

/** Answers a refused upgrade with a plain HTTP response (no socket is ever opened). */
export function refuseUpgrade(socket: Duplex, error: ProtocolError): void {
  const status = refusalStatus(error);
  const body = JSON.stringify({ code: error.code, message: error.message });
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  // Destroyed once the response is flushed (as `ws` does), so the body is never cut off.
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${statusText[status] ?? 'Error'}\r\n` +
      'Content-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}

/** The token from `?token=` (what browsers can do) or an `Authorization: Bearer` header. */
export function readToken(request: IncomingMessage, url: URL): string | undefined {
  const fromQuery = url.searchParams.get('token');
  if (fromQuery) return fromQuery;
  const header = request.headers.authorization;
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return match?.[1];
}

/** The session the connection joins: `?session=`, or the token's only session. */
export function chooseSession(principal: Principal, requested: string | null): string {
  if (requested) {
    if (!principal.sessions.includes(requested)) {
      throw new ProtocolError('SESSION_FORBIDDEN', `the token does not allow session "${requested.slice(0, 128)}"`);
    }
    return requested;
  }
  if (principal.sessions.length === 1) return principal.sessions[0]!;
  throw new ProtocolError('SESSION_REQUIRED', `${errorCodes.SESSION_REQUIRED.replace(/\.$/, '')}: one of ${principal.sessions.join(', ')}`);
}

/**
 * With ALLOWED_ORIGINS set, a browser page of another origin cannot open a socket with a token
 * it got hold of (browsers always send `Origin`; cross-site WebSocket hijacking). Editors, CLIs
 * and other non-browser clients send none and are let through: an Origin proves nothing about
 * them, since they could send any.
 */
export function assertOriginAllowed(request: IncomingMessage, allowed: readonly string[]): void {
  const origin = request.headers.origin;
  if (allowed.length === 0 || origin === undefined || allowed.includes('*') || allowed.includes(origin)) return;
  throw new ProtocolError(
    'ORIGIN_FORBIDDEN',
    `the origin ${JSON.stringify(origin.slice(0, 200))} may not open a WebSocket here (ALLOWED_ORIGINS)`,
  );
}

/** The client's address, from X-Forwarded-For when the relay sits behind a trusted proxy. */
export function clientAddress(request: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = request.headers['x-forwarded-for'];
    const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
    if (first) return first;
  }
  return request.socket.remoteAddress ?? 'unknown';
}

/** A decimal offset as a client writes it: no sign, no exponent, no leading zeros, a safe integer. */
const SinceOffset = z
  .string()
  .regex(/^(0|[1-9]\d{0,15})$/u, 'must be a non-negative integer')
  .transform(Number)
  .refine(Number.isSafeInteger, 'must be a safe integer');

/**
 * The session log position to resume from: `?since_offset=N&since_epoch=E`, both or neither
 * (an offset means nothing without its epoch). Bad values are refused at the upgrade (400).
 */
/** `since_offset=0` without `since_epoch`: the session log from its oldest kept event (see `Hub.openSessionLog`). */
export const HISTORY_START: StreamPosition = Object.freeze({ offset: 0, epoch: '' });

export function readResumePosition(url: URL): StreamPosition | undefined {
  const offset = url.searchParams.get('since_offset');
  const epoch = url.searchParams.get('since_epoch');
  if (offset === null && epoch === null) return undefined;
  if (offset === null) throw new ProtocolError('VALIDATION_FAILED', 'since_offset: required with since_epoch', 'since_offset');
  // A first connection asking for the session so far: from the oldest event kept, whatever the epoch.
  if (epoch === null && offset === '0') return HISTORY_START;
  if (epoch === null) throw new ProtocolError('VALIDATION_FAILED', 'since_epoch: required with since_offset', 'since_epoch');
  const parsedOffset = SinceOffset.safeParse(offset);
  if (!parsedOffset.success)
    throw new ProtocolError('VALIDATION_FAILED', `since_offset: ${parsedOffset.error.issues[0]!.message}`, 'since_offset');
  const parsedEpoch = Epoch.safeParse(epoch);
  if (!parsedEpoch.success)
    throw new ProtocolError('VALIDATION_FAILED', `since_epoch: ${parsedEpoch.error.issues[0]!.message}`, 'since_epoch');
  return { offset: parsedOffset.data, epoch: parsedEpoch.data };
}
