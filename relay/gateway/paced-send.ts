import type { ServerEventType, ServerPayload } from '../../protocol';
import type { Connection } from './connection';

/** A transfer waits for a peer to read at most this long before it is left to the slow-consumer check. */
const STALL_MS = 10_000;
const POLL_MS = 5;

/** Whether `bytes` more fit in half the peer's outbound buffer (an empty buffer always takes a frame). */
export function hasRoom(connection: Connection, bytes: number): boolean {
  const buffered = connection.bufferedAmount;
  return buffered === 0 || buffered + bytes <= connection.maxBufferedBytes / 2;
}

/**
 * Waits (bounded) until the peer has read enough that `bytes` more fit in half its buffer: the
 * other half stays free for live traffic, so a long transfer is never mistaken for a slow
 * consumer. A peer that reads nothing for `STALL_MS` is left to the slow-consumer check.
 */
export async function roomFor(connection: Connection, bytes: number): Promise<void> {
  const deadline = Date.now() + STALL_MS;
  while (connection.isOpen && !hasRoom(connection, bytes) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** One relay event addressed to the connection. */
export type OutboundFrame = { [E in ServerEventType]: readonly [E, ServerPayload<E>] }[ServerEventType];

interface Transfer {
  frames: Iterable<OutboundFrame>;
  done: () => void;
  key: string | undefined;
}

/** The transfers waiting behind the one being sent, per connection. */
const queues = new WeakMap<Connection, Transfer[]>();

/**
 * Sends `frames` (a snapshot in pieces, a catch-up) to the connection paced to its reading, then
 * calls `done` (also if the connection closes meanwhile). A connection's transfers go one after
 * the other, so the pieces of two texts never interleave. One that fits in the buffer now is
 * sent at once, `done` included, before this returns: small documents cost no extra turn.
 *
 * A transfer with a `key` replaces a waiting one of the same key (whose `done` is called at
 * once): only the newest text of a document is worth sending, and a client that sends edit after
 * edit without reading the answers cannot make the relay queue a copy of the document for each.
 */
export function sendPaced(connection: Connection, frames: Iterable<OutboundFrame>, done: () => void = () => undefined, key?: string): void {
  const queue = queues.get(connection);
  if (queue) {
    // Index 0 is being sent: its pieces have started to go out.
    const stale = key === undefined ? -1 : queue.findIndex((transfer, i) => i > 0 && transfer.key === key);
    if (stale > 0) {
      const [replaced] = queue.splice(stale, 1);
      replaced!.done();
    }
    queue.push({ frames, done, key });
    return;
  }
  const fresh = [{ frames, done, key }];
  queues.set(connection, fresh);
  // Nothing in a transfer is expected to throw; if it did, the client would wait for a text
  // that never comes: it reconnects and opens again.
  drain(connection, fresh).catch(() =>
    connection.disconnect('server_error', 'a document could not be sent; reconnect and open it again', true),
  );
}

async function drain(connection: Connection, queue: Transfer[]): Promise<void> {
  try {
    for (let transfer = queue[0]; transfer; transfer = queue[0]) {
      try {
        for (const [eventType, payload] of transfer.frames) {
          if (!hasRoom(connection, connection.maxFrameBytes)) await roomFor(connection, connection.maxFrameBytes);
          if (!connection.isOpen) break;
          connection.send(eventType, payload as never);
        }
      } finally {
        queue.shift();
        transfer.done();
      }
    }
  } finally {
    queues.delete(connection);
  }
}
