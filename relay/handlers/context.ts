import { encodeServerFrame, type ServerEventType, type ServerPayload } from '../../protocol';
import type { PublishOptions } from '../broker/broker';
import type { PresenceStore } from '../broker/presence';
import type { DocumentAuthority } from '../documents/document-authority';
import type { Connection } from '../gateway/connection';
import type { Audience, Hub } from '../routing/hub';

/** What one connection may hold of the shared documents (DOCUMENT_MAX_OPEN_PER_CONNECTION, DOCUMENT_MAX_PENDING_PIECE_BYTES). */
export interface ConnectionDocumentLimits {
  maxOpenPerConnection: number;
  maxPendingPieceBytes: number;
}

const unbounded: ConnectionDocumentLimits = { maxOpenPerConnection: Infinity, maxPendingPieceBytes: Infinity };

/** What handlers need from the relay, and nothing more. */
export class HandlerContext {
  private messageCounter = 0;

  constructor(
    readonly hub: Hub,
    readonly relayId: string,
    readonly documents: DocumentAuthority,
    /** Who is connected to each session, across relays (the host's connection, for file requests). */
    readonly presence: PresenceStore,
    readonly limits: ConnectionDocumentLimits = unbounded,
  ) {}

  /** Unique across relays: the relay id makes it so without coordination. */
  nextMessageId(): string {
    return `${this.relayId}-${Date.now().toString(36)}-${(++this.messageCounter).toString(36)}`;
  }

  /** Publishes an event from `sender` to the sender's session. */
  publishFrom<E extends ServerEventType>(
    sender: Connection,
    eventType: E,
    payload: ServerPayload<E>,
    audience: Audience = {},
    options?: PublishOptions,
  ): Promise<unknown> {
    const data = encodeServerFrame(eventType, payload, { userId: sender.userId, sessionId: sender.sessionId });
    return this.hub.toSession(sender.sessionId, { eventType, data }, audience, options);
  }
}
