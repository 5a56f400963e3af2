import type { Participant } from '../../protocol';

/**
 * Each relay's view of its own sessions (who is connected there, which documents they have open,
 * how many chat messages its senders sent), kept for a few seconds where every relay can read it:
 * the operators' sessions table is the union of the live relays' views. A relay that stops
 * publishing (it died) drops out when its view expires.
 */

export interface RelaySessionView {
  session_id: string;
  participants: Participant[];
  documents: Array<{ document_id: string; rev: number | null; length: number | null }>;
  chat_messages: number;
}

export interface RelayView {
  relay_id: string;
  /** When it was taken (ms since the epoch). */
  at: number;
  sessions: RelaySessionView[];
}

export interface ClusterViewStore {
  /** Replaces this relay's view; it expires after `ttlMs` unless put again. */
  put(view: RelayView, ttlMs: number): Promise<void>;
  /** Every relay's unexpired view. */
  all(): Promise<RelayView[]>;
  /** Removes a relay's view at once (it is shutting down). */
  remove(relayId: string): Promise<void>;
  close(): Promise<void>;
}
