import { DocumentId, Identifier } from '../../protocol';

/** What an error frame can say about the frame it refuses, so a client marks the right request or message failed. */
export interface RefusedFrameIds {
  eventType?: string;
  /** `payload.request_id` (`workspace.request`, `language.request`, `ai.request`, `ai.cancel`). */
  requestId?: string;
  /** `payload.client_message_id` (`chat.message`). */
  clientMessageId?: string;
  /** `payload.document` of a `collaboration.edit` or `collaboration.open`, and the edit's `payload.seq`. */
  document?: string;
  seq?: number;
}

/**
 * The ids of a refused frame: from its decoded payload, or from its text when it was refused
 * before decoding (rate limited, invalid), if it names an id at all. Only valid identifiers are
 * echoed; anything else (not JSON, not an object, a bad id) gives nothing. Never throws. The caller passes no text larger
 * than the frame limit, so reading it costs no more than handling a frame.
 */
export function refusedFrameIds(frame: string | { event_type: string; payload: unknown }): RefusedFrameIds {
  let value: unknown = frame;
  if (typeof frame === 'string') {
    // Most refused frames carry no id: a scan is cheaper than parsing them again.
    if (!/request_id"|client_message_id"|"collaboration\.(edit|open)"/.test(frame)) return {};
    try {
      value = JSON.parse(frame);
    } catch {
      return {};
    }
  }
  if (!isObject(value)) return {};
  const ids: RefusedFrameIds = {};
  if (typeof value.event_type === 'string') ids.eventType = value.event_type.slice(0, 128);
  if (!isObject(value.payload)) return ids;
  const requestId = identifier(value.payload.request_id);
  const clientMessageId = identifier(value.payload.client_message_id);
  if (requestId !== undefined) ids.requestId = requestId;
  if (clientMessageId !== undefined) ids.clientMessageId = clientMessageId;
  const { document, seq } = value.payload;
  if (ids.eventType === 'collaboration.edit') {
    if (DocumentId.safeParse(document).success && typeof seq === 'number' && Number.isSafeInteger(seq) && seq >= 0) {
      ids.document = document as string;
      ids.seq = seq;
    }
  } else if (ids.eventType === 'collaboration.open' && DocumentId.safeParse(document).success) {
    ids.document = document as string;
  }
  return ids;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function identifier(value: unknown): string | undefined {
  return Identifier.safeParse(value).success ? (value as string) : undefined;
}
