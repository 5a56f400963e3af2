import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  AuthenticationError,
  PermissionDeniedError,
  RateLimitError,
} from 'openai';
import type { ErrorCode } from '../../protocol';

/** Why the relay itself stopped a model request (its AbortController's reason). */
export type StopReason = 'cancelled' | 'timeout' | 'too_large' | 'shutdown' | 'lost' | 'publish_failed';

/** A failed answer's code, and what the log may say of the cause (never the provider's text: it may echo the key). */
export interface ModelFailure {
  code: ErrorCode;
  /** For the log: the HTTP status, or the error's class name. */
  cause: string;
}

/**
 * Maps a model request's failure to its error code. `started`: the server had begun to answer
 * (a response came), so a broken connection from then on is a cut stream, not an unreachable server.
 */
export function classifyModelFailure(error: unknown, started: boolean): ModelFailure {
  if (error instanceof AuthenticationError || error instanceof PermissionDeniedError) {
    return { code: 'AI_PROVIDER_REFUSED', cause: `HTTP ${error.status}` };
  }
  if (error instanceof RateLimitError) return { code: 'AI_RATE_LIMITED', cause: 'HTTP 429' };
  if (error instanceof APIConnectionTimeoutError) return { code: 'AI_TIMEOUT', cause: 'connection timeout' };
  if (error instanceof APIConnectionError)
    return { code: started ? 'AI_STREAM_CUT' : 'AI_PROVIDER_UNAVAILABLE', cause: 'connection error' };
  if (error instanceof APIError && error.status !== undefined) return { code: 'AI_PROVIDER_UNAVAILABLE', cause: `HTTP ${error.status}` };
  const cause = error instanceof Error ? error.name : typeof error;
  return { code: started ? 'AI_STREAM_CUT' : 'AI_PROVIDER_UNAVAILABLE', cause };
}

/** The sentence a client sees for each failure. */
export const failureMessages: Partial<Record<ErrorCode, string>> = {
  AI_PROVIDER_UNAVAILABLE: 'the AI model’s server could not be reached or answered with an error',
  AI_PROVIDER_REFUSED: 'the AI model’s server refused the relay’s key',
  AI_RATE_LIMITED: 'the AI model’s server is rate limiting this relay; ask again later',
  AI_STREAM_CUT: 'the connection to the AI model broke in the middle of the answer',
  AI_RELAY_LOST: 'the relay serving this answer stopped before it ended',
};
