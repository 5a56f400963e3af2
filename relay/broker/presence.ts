import type { Participant } from '../../protocol';

/**
 * Who is connected to each session, across relays. Kept apart from the broker (as Centrifuge
 * does) so that the Redis version can store it in a hash with per-relay expiry.
 */
export interface PresenceStore {
  add(sessionId: string, participant: Participant): Promise<void>;
  remove(sessionId: string, connectionId: string): Promise<void>;
  list(sessionId: string): Promise<Participant[]>;
  close(): Promise<void>;
}
