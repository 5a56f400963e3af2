import type { Role } from '../../protocol';

/**
 * Cross-relay fan-out with per-channel history (Centrifuge's broker model). Delivery is ordered
 * per channel. A publication's position is its offset in the channel's stream plus the stream's
 * epoch: when history is lost (a restarted in-memory relay, a Redis without persistence) the
 * epoch changes and a client resuming from an old position knows it must resync.
 */
export interface BrokerMessage {
  /** The event type, for per-type statistics without parsing `data`. */
  eventType: string;
  /** The serialized envelope, sent to sockets as is. */
  data: string;
  /** A connection that must not receive it (usually its sender). */
  exclude?: string;
  /** Only these users' connections receive it (a direct message). */
  users?: readonly string[];
  /**
   * Only this connection receives it, on whichever relay holds it (the answer to one request:
   * connection ids are unique across relays, so every relay but one delivers nothing).
   */
  connection?: string;
  /**
   * Only connections with one of these roles receive it, on every relay (a guest's frame for the
   * session's host: no presence read per frame, and no host connection is missed).
   */
  roles?: readonly Role[];
  /**
   * Sent to the `exclude` connection instead of `data`, in the same order as the others get
   * `data` (an edit's ack to its sender: it must not overtake the edits committed before it).
   */
  echo?: { eventType: string; data: string };
}

export interface StreamPosition {
  offset: number;
  epoch: string;
}

export interface Publication extends BrokerMessage {
  /** 0 when the publication was not kept in history. */
  offset: number;
}

export interface PublishOptions {
  /** Keep the publication in the channel's bounded history (for resume). */
  history?: boolean;
  /**
   * With `history`: publish only if no publication of this channel was kept under the same key
   * in the same epoch, within the dedupe window (the memory broker: as long as the history keeps
   * it; Redis: a TTL). Checked and published in one atomic step, so a relay that dies in between
   * cannot leave a key without its publication (a resend would then be dropped and lost).
   */
  idempotencyKey?: string;
}

/** Where a publication kept in history went; one kept nowhere has offset 0 and epoch ''. */
export interface PublishResult extends StreamPosition {
  /**
   * Set when `idempotencyKey` had been used: nothing was published, `offset` is the original's,
   * and `original` is the original publication while the history still has it.
   */
  duplicate?: { original?: Publication };
}

export interface Disposable {
  dispose(): void;
}

export interface BrokerHealth {
  status: 'up' | 'down';
  kind: 'memory' | 'redis';
  latencyMs?: number;
  detail?: string;
}

/**
 * Channel names are opaque, except that a non-empty `{…}` part (Redis Cluster's hash tag) groups
 * channels: on Redis Cluster the channels of one group, and their history, live on one shard.
 */
export interface Broker {
  /** Publishes to every subscriber of the channel on every relay. */
  publish(channel: string, message: BrokerMessage, options?: PublishOptions): Promise<PublishResult>;
  subscribe(channel: string, listener: (publication: Publication) => void): Promise<Disposable>;
  /** Publications after `since` (exclusive), oldest first, and the channel's current position. */
  history(
    channel: string,
    since: StreamPosition,
    limit: number,
  ): Promise<{ publications: Publication[]; position: StreamPosition; recovered: boolean }>;
  health(): Promise<BrokerHealth>;
  close(): Promise<void>;
}
