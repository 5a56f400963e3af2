/**
 * Append-only streams read through consumer groups: Redis Streams' semantics (XADD with MAXLEN ~,
 * XGROUP CREATE MKSTREAM, XREADGROUP, XACK, XAUTOCLAIM), kept by Redis or, without REDIS_URL, in
 * memory. Delivery is at least once: an entry stays in its group's pending entries list (PEL)
 * until a consumer acknowledges it, and another consumer may claim it once it has been idle.
 */

/** The relay's three streams (`<prefix>stream:<name>` in Redis). */
export const streamNames = ['metrics', 'feedback', 'model_performance'] as const;
export type StreamName = (typeof streamNames)[number];

export interface StreamEntry {
  /** `<ms>-<seq>`, increasing within a stream. */
  id: string;
  /** The entry's payload (JSON text: see stream-entries.ts). */
  data: string;
}

export interface ClaimResult {
  /** Entries now pending for the claiming consumer, delivery count incremented. */
  entries: StreamEntry[];
  /** Pending ids whose entries the stream no longer holds (trimmed): dropped from the PEL. */
  deleted: string[];
}

export interface PendingSummary {
  count: number;
  /** Pending entries per consumer. */
  consumers: Record<string, number>;
}

/** The group is missing (never created, or Redis lost it): create it again and retry. */
export class StreamGroupMissingError extends Error {
  override readonly name = 'StreamGroupMissingError';
}

export interface StreamStore {
  /** Appends; the stream keeps about its last `maxLen` entries (at least that many). Returns the id. */
  append(stream: StreamName, data: string, maxLen: number): Promise<string>;
  /** Creates the group (and the stream) if it does not exist; a new group starts at the stream's beginning. */
  ensureGroup(stream: StreamName, group: string): Promise<void>;
  /** Up to `count` entries never delivered to the group, now pending for `consumer`. */
  readGroup(stream: StreamName, group: string, consumer: string, count: number): Promise<StreamEntry[]>;
  /** Removes ids from the group's PEL; returns how many were pending. */
  ack(stream: StreamName, group: string, ids: readonly string[]): Promise<number>;
  /** Takes over up to `count` entries pending for at least `minIdleMs` (of any consumer). */
  claimIdle(stream: StreamName, group: string, consumer: string, minIdleMs: number, count: number): Promise<ClaimResult>;
  pending(stream: StreamName, group: string): Promise<PendingSummary>;
  length(stream: StreamName): Promise<number>;
  /** Entries of the stream not yet delivered to the group (its consumer lag); null when it cannot be told. */
  lag(stream: StreamName, group: string): Promise<number | null>;
  close(): Promise<void>;
}

/** The milliseconds part of an entry id: when it was appended. */
export function entryTime(id: string): number {
  return Number(id.slice(0, id.indexOf('-')));
}

/** Orders two entry ids. */
export function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(Number) as [number, number];
  const [bm, bs] = b.split('-').map(Number) as [number, number];
  return am - bm || as - bs;
}
