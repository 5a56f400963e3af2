import { z } from 'zod';

/**
 * Every error code a client can see, with what it means. Stable: clients branch on these.
 * A test checks that the README lists each one with this text.
 */
export const errorCodes = {
  BAD_JSON: 'The frame is not valid JSON text.',
  BINARY_NOT_SUPPORTED: 'Binary frames are not part of the protocol; send JSON text frames.',
  VALIDATION_FAILED: 'The frame does not match the schema of its event; `path` names the field.',
  UNKNOWN_EVENT: 'The `event_type` is not in the event catalog.',
  WRONG_DIRECTION: 'The event is sent by the server only.',
  FORBIDDEN_ROLE: 'The token’s role does not allow this event (a viewer cannot edit).',
  SESSION_FORBIDDEN: 'The token does not allow this session.',
  SESSION_REQUIRED: 'The token allows several sessions: choose one with `?session=`.',
  SESSION_NOT_FOUND: 'No such session: it expired, or it was created on a relay that has restarted without Redis.',
  SESSION_ENDED: 'The host ended the session: its invites and tokens no longer work.',
  RATE_LIMITED: 'Too many messages per second on this connection; the frame was dropped.',
  FRAME_TOO_LARGE: 'The frame exceeds the relay’s frame size limit; it was dropped.',
  AUTH_TOKEN_MISSING: 'No token: pass `?token=` or an `Authorization: Bearer` header.',
  AUTH_TOKEN_INVALID: 'The token is malformed, has a bad signature or wrong claims.',
  AUTH_TOKEN_EXPIRED: 'The token has expired; mint a new one.',
  TOO_MANY_CONNECTIONS: 'The relay is at its connection limit; try another relay or later.',
  CONNECTION_RATE_LIMITED: 'Too many new connections from this address in the last minute.',
  LOGIN_RATE_LIMITED: 'Too many refused tokens from this address in the last minute; valid tokens still connect.',
  ORIGIN_FORBIDDEN: 'The WebSocket upgrade came from a browser page whose `Origin` is not in ALLOWED_ORIGINS.',
  API_RATE_LIMITED: 'Too many REST requests from this address or user in the last minute; try again after `Retry-After` seconds.',
  UNSUPPORTED_MEDIA_TYPE: 'A REST request body must be JSON sent with `Content-Type: application/json`.',
  HOST_NOT_ALLOWED: 'The request’s `Host` is not one this relay serves (PUBLIC_URL, ALLOWED_HOSTS), so no link is made from it.',
  INVITE_USED_UP: 'The invite has been used as many times as its host allowed (`max_uses`).',
  INVITE_REVOKED: 'The host renewed the session’s invite links since this one was made: ask the host for the new link.',
  JOIN_DENIED: 'The host denied this request to join the session.',
  PARTICIPANT_REMOVED: 'The session’s host removed this participant: their token no longer joins the session.',
  JOIN_REQUEST_EXPIRED: 'No such join request, or the host did not answer it in time (JOIN_APPROVAL_TIMEOUT_MS); redeem the invite again.',
  DOCUMENT_NOT_FOUND: 'The session has no such document; only the session’s host creates one, with `collaboration.open`.',
  DOCUMENT_NOT_OPEN: 'Open the document (`collaboration.open`) before sending its edits or cursors.',
  DOCUMENT_TOO_LARGE: 'The document would exceed the relay’s size limit (DOCUMENT_MAX_LENGTH); nothing was applied.',
  TOO_MANY_DOCUMENTS:
    'The connection has as many documents open as the relay allows (DOCUMENT_MAX_OPEN_PER_CONNECTION), or the session has as many ' +
    'documents as it may (DOCUMENT_MAX_PER_SESSION); nothing was opened or created: close one first.',
  PENDING_PIECES_TOO_LARGE:
    'The pieces of initial text (`more: true`) this connection has pending exceed the relay’s limit (DOCUMENT_MAX_PENDING_PIECE_BYTES, ' +
    'ids and a per-piece overhead included); that document’s pieces were dropped: send it again.',
  EDIT_REV_TOO_NEW: 'The op’s base revision is newer than the document’s; nothing was applied.',
  OP_INVALID: 'The op is not an array of components: positive integers, non-empty strings and `{d: "text"}`.',
  OP_OUT_OF_RANGE: 'A retain or delete runs past the end of the document.',
  OP_DELETE_MISMATCH: 'A delete carries text that is not the text at that place in the document.',
  TRANSFORM_TOO_COSTLY:
    'Moving the cursor through the edits committed since its revision would cost more than the relay allows (EDIT_MAX_TRANSFORM_COST, ' +
    'EDIT_TRANSFORM_COST_PER_SECOND); it was dropped: send it again at a newer revision.',
  OP_SPLITS_SURROGATE: 'The op would split a surrogate pair (half a character) or inserts a lone surrogate.',
  HOST_NOT_CONNECTED:
    'The session’s host is not connected, so it cannot answer (its shared folder, its debugger); `request_id` names the request.',
  TOO_MANY_BREAKPOINTS:
    'The session has as many breakpoints as the relay allows (DEBUG_MAX_BREAKPOINTS); nothing was added: remove one first.',
  BREAKPOINTS_TOO_LARGE:
    'The session’s breakpoints would exceed the relay’s size limit (DEBUG_MAX_BREAKPOINT_BYTES, their JSON in UTF-8); nothing changed.',
  DEBUG_STATE_TOO_LARGE:
    'The stopped state (call stack and variables) exceeds the relay’s size limit (DEBUG_MAX_STATE_BYTES, its JSON in UTF-8); nothing ' +
    'changed: send fewer frames or variables, or shorter values.',
  TUNNEL_BYTES_EXCEEDED:
    'The session’s shared servers moved as many bytes in the last minute as the relay allows (TUNNEL_SESSION_BYTES_PER_MINUTE); the ' +
    'data was dropped and its stream (`request_id`) must be closed.',
  TUNNEL_TOO_MANY_STREAMS:
    'The connection has as many shared-server streams open as the relay allows (TUNNEL_MAX_STREAMS_PER_CONNECTION); close one first.',
  TUNNEL_STREAM_UNKNOWN:
    'This connection opened no stream with this id (`request_id`), or opened one already: data, acks and closes name an open stream.',
  BROKER_UNAVAILABLE:
    'The relay cannot reach its message broker (Redis) right now, so the frame was not handled (or not confirmed); keep it and send it ' +
    'again after the relay’s `BROKER_RESTORED` notification or a reconnect.',
  AI_NOT_CONFIGURED: 'no AI model is configured on this relay',
  AI_FORBIDDEN:
    'A viewer may not ask the AI model (unless the relay sets AI_VIEWERS_MAY_ASK), and only its asker or the session’s host may ' +
    'cancel an answer.',
  AI_PROMPT_TOO_LARGE: 'The prompt and the selection together exceed the relay’s limit (AI_MAX_PROMPT_CHARS); nothing was asked.',
  AI_TOO_MANY_REQUESTS:
    'As many answers are running as the relay allows, in this session (AI_MAX_CONCURRENT_PER_SESSION) or on this relay ' +
    '(AI_MAX_CONCURRENT); ask again when one has ended.',
  AI_REQUEST_ID_IN_USE: 'An answer with this `request_id` is running in the session; choose another id.',
  AI_REQUEST_NOT_FOUND: 'No answer with this `request_id` is running in the session (it may have ended already).',
  AI_PROVIDER_UNAVAILABLE: 'The relay could not reach the AI model’s server, or it answered with an error.',
  AI_PROVIDER_REFUSED: 'The AI model’s server refused the relay’s key (HTTP 401/403): the operator must check AI_API_KEY.',
  AI_RATE_LIMITED: 'The AI model’s server is rate limiting the relay (HTTP 429); ask again later.',
  AI_TIMEOUT: 'The AI model sent nothing for AI_TIMEOUT_MS (before its first token, or in the middle of its answer).',
  AI_STREAM_CUT: 'The connection to the AI model’s server broke in the middle of the answer; the chunks sent before it stand.',
  AI_ANSWER_TOO_LARGE: 'The answer reached the relay’s limit (AI_MAX_ANSWER_CHARS) and was stopped there.',
  AI_RELAY_LOST: 'The relay serving the answer stopped (shut down, crashed or lost Redis) before the answer ended.',
  OPERATOR_ONLY:
    'Only an operator may do this: the live metrics (`GET /api/metrics`, `operator.subscribe`) need an operator token (`relay token ' +
    '--operator`).',
  PROMETHEUS_UNAVAILABLE:
    'The relay could not read the alert rules from Prometheus (PROMETHEUS_URL): it did not answer, or not as Prometheus.',
  NOT_FOUND: 'No such endpoint.',
  INTERNAL: 'An unexpected error in the relay; it has been logged.',
} as const;

export type ErrorCode = keyof typeof errorCodes;
export const ErrorCode = z.enum(Object.keys(errorCodes) as [ErrorCode, ...ErrorCode[]]);

/** A client-caused error: only `{code, message, path, request_id}` ever reaches the wire. */
export class ProtocolError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string = errorCodes[code],
    readonly path?: string,
    /** The `request_id` of the refused frame, for events that carry one (`workspace.request`). */
    readonly requestId?: string,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}

/**
 * WebSocket close codes the relay uses. 1000-1015 are the standard ones (RFC 6455); the
 * 4000-4999 range is for applications.
 */
export const closeCodes = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  MESSAGE_TOO_BIG: 1009,
  INTERNAL_ERROR: 1011,
  HEARTBEAT_TIMEOUT: 4000,
  SLOW_CONSUMER: 4008,
  SESSION_ENDED: 4010,
  REMOVED: 4011,
} as const;
