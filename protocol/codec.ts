import type { z } from 'zod';
import { InboundEnvelope, OutboundEnvelope } from './envelope';
import { ProtocolError } from './errors';
import { type ClientEventType, type ClientPayload, events, isEventType, type ServerEventType, type ServerPayload } from './events';
import { RequestId } from './schemas/workspace';

/** A validated frame from a client, narrowed by its event type. */
export type ClientFrame = {
  [E in ClientEventType]: { event_type: E; payload: ClientPayload<E>; session_id?: string; timestamp?: string };
}[ClientEventType];

/** A validated frame from the relay, narrowed by its event type. */
export type ServerFrame = {
  [E in ServerEventType]: {
    event_type: E;
    payload: ServerPayload<E>;
    timestamp: string;
    session_id?: string;
    user_id: string;
    /** The event's position in the session log, on events the log keeps (see `OutboundEnvelope`). */
    offset?: number;
  };
}[ServerEventType];

export type Decoded<T> = { ok: true; frame: T } | { ok: false; error: ProtocolError; eventType?: string };

/** `['payload', 'op', 3]` -> `payload.op[3]` */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

function validationError(error: z.ZodError, prefix: string[], requestId?: string): ProtocolError {
  const issue = error.issues[0];
  // For an unknown key the offending field is the key itself, not the object holding it.
  const unknownKey = issue?.code === 'unrecognized_keys' ? issue.keys.slice(0, 1) : [];
  const path = formatPath([...prefix, ...(issue?.path ?? []), ...unknownKey]);
  const message = issue ? `${path || 'frame'}: ${issue.message}` : 'invalid frame';
  return new ProtocolError('VALIDATION_FAILED', message, path || undefined, requestId);
}

/** A payload's `request_id`, if it is a valid one: the error then says which request failed. */
function readRequestId(payload: unknown): string | undefined {
  if (typeof payload !== 'object' || payload === null) return undefined;
  const id = (payload as { request_id?: unknown }).request_id;
  return RequestId.safeParse(id).success ? (id as string) : undefined;
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

/** Serializes one client event in the protocol's envelope: the frame `decodeClientFrame` reads. */
export function encodeClientFrame<E extends ClientEventType>(eventType: E, payload: ClientPayload<E>): string {
  return JSON.stringify({ event_type: eventType, payload, timestamp: new Date().toISOString() });
}

/** Parses and validates one text frame from a client. Never throws. */
export function decodeClientFrame(text: string): Decoded<ClientFrame> {
  const json = parseJson(text);
  if (!json.ok) return { ok: false, error: new ProtocolError('BAD_JSON') };
  const envelope = InboundEnvelope.safeParse(json.value);
  if (!envelope.success) {
    const eventType = readEventType(json.value);
    return { ok: false, error: validationError(envelope.error, []), ...(eventType && { eventType }) };
  }
  const { event_type: eventType } = envelope.data;
  if (!isEventType(eventType)) {
    return { ok: false, eventType, error: new ProtocolError('UNKNOWN_EVENT', `unknown event type "${eventType}"`, 'event_type') };
  }
  const spec = events[eventType];
  if (!('client' in spec)) {
    return { ok: false, eventType, error: new ProtocolError('WRONG_DIRECTION', `"${eventType}" is sent by the server only`, 'event_type') };
  }
  const payload = spec.client.safeParse(envelope.data.payload);
  if (!payload.success)
    return { ok: false, eventType, error: validationError(payload.error, ['payload'], readRequestId(envelope.data.payload)) };
  const frame = { ...envelope.data, payload: payload.data } as ClientFrame;
  return { ok: true, frame };
}

/**
 * Serializes one relay event in the protocol's envelope: the frame `decodeServerFrame` reads.
 * Payloads are typed against the catalog at compile time; the relay builds them itself, so they
 * are not validated again at run time.
 */
export function encodeServerFrame<E extends ServerEventType>(
  eventType: E,
  payload: ServerPayload<E>,
  from: { userId: string; sessionId?: string },
): string {
  return JSON.stringify({
    event_type: eventType,
    payload,
    timestamp: new Date().toISOString(),
    session_id: from.sessionId,
    user_id: from.userId,
  });
}

/**
 * An `encodeServerFrame` frame with its session log position as a last field (`offset`). The
 * relay encodes a publication once and fans it out: splicing the offset in is cheaper than parsing
 * and serializing it again. Text that is not an object (it does not end in `}`) is returned as is.
 */
export function frameWithOffset(frame: string, offset: number): string {
  return frame.endsWith('}') ? `${frame.slice(0, -1)},"offset":${offset}}` : frame;
}

/** Parses and validates one text frame from the relay. Never throws. */
export function decodeServerFrame(text: string): Decoded<ServerFrame> {
  const json = parseJson(text);
  if (!json.ok) return { ok: false, error: new ProtocolError('BAD_JSON') };
  const envelope = OutboundEnvelope.safeParse(json.value);
  if (!envelope.success) return { ok: false, error: validationError(envelope.error, []) };
  const { event_type: eventType } = envelope.data;
  if (!isEventType(eventType)) {
    return { ok: false, eventType, error: new ProtocolError('UNKNOWN_EVENT', `unknown event type "${eventType}"`, 'event_type') };
  }
  const spec = events[eventType];
  if (!('server' in spec)) {
    return { ok: false, eventType, error: new ProtocolError('WRONG_DIRECTION', `"${eventType}" is sent by clients only`, 'event_type') };
  }
  const payload = spec.server.safeParse(envelope.data.payload);
  if (!payload.success) return { ok: false, eventType, error: validationError(payload.error, ['payload']) };
  return { ok: true, frame: { ...envelope.data, payload: payload.data } as ServerFrame };
}

function readEventType(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const eventType = (value as { event_type?: unknown }).event_type;
  return typeof eventType === 'string' ? eventType.slice(0, 128) : undefined;
}
