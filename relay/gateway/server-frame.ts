import type { ServerEventType, ServerPayload } from '../../protocol';

/**
 * Serializes one relay event in the protocol's envelope. Payloads are typed against the catalog at
 * compile time; the relay builds them itself, so they are not validated again at run time.
 */
export function serverFrame<E extends ServerEventType>(
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
