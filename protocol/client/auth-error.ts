import { type ErrorCode, errorCodes } from '../errors';
import type { HandshakeRejection } from './transport';

/**
 * Refusals of the upgrade that no retry can fix: the client stops instead of looping. The
 * code is the default when the body does not name one. 429 and 5xx are not here: they pass.
 */
const fatalStatuses: Readonly<Record<number, ErrorCode>> = {
  400: 'SESSION_REQUIRED',
  401: 'AUTH_TOKEN_INVALID',
  403: 'SESSION_FORBIDDEN',
};

/**
 * Codes that are final whatever the status: the session is gone (ended, or its record lost with a
 * relay restarted without Redis), and retrying would loop against it. Only from the relay's own
 * JSON body, so a proxy's 404 page still passes as retryable.
 */
const fatalCodes: ReadonlySet<ErrorCode> = new Set(['SESSION_NOT_FOUND', 'SESSION_ENDED', 'PARTICIPANT_REMOVED']);

/** The relay refused the token or the session; reconnecting will not help until that changes. */
export class RelayAuthError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** The HTTP status of the refusal. */
    readonly status: number,
  ) {
    super(message);
    this.name = 'RelayAuthError';
  }
}

/** A `RelayAuthError` if the refusal is final, `undefined` if a retry may work. */
export function authErrorFromRejection(rejection: HandshakeRejection): RelayAuthError | undefined {
  const fallback = fatalStatuses[rejection.status];
  const body = readBody(rejection.body);
  if (!fallback && !(body.code && fatalCodes.has(body.code))) return undefined;
  const code = body.code ?? fallback!;
  return new RelayAuthError(code, body.message ?? errorCodes[code], rejection.status);
}

/** The relay's `{"code","message"}`; anything else (a proxy's HTML page) yields nothing. */
function readBody(text: string): { code?: ErrorCode; message?: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return {};
  }
  if (typeof value !== 'object' || value === null) return {};
  const { code, message } = value as { code?: unknown; message?: unknown };
  const out: { code?: ErrorCode; message?: string } = {};
  if (typeof code === 'string' && Object.hasOwn(errorCodes, code)) out.code = code as ErrorCode;
  if (typeof message === 'string' && message !== '') out.message = message.slice(0, 500);
  return out;
}
