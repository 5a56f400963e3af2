import type { StreamName } from './stream-store';

/**
 * What the data processor made of each stream entry, kept for the rolling windows the aggregates
 * are computed over, once per entry id. Delivery through the consumer groups is at least once (an
 * entry a dead consumer processed but never acknowledged is processed again by the one that
 * claims it); recording by entry id makes that harmless: the second `add` of an id changes
 * nothing, so no aggregate counts an entry twice. Shared by every relay (Redis) or in memory.
 */

export interface Observation {
  /** The stream entry's id. */
  id: string;
  /** When the entry was appended (ms since the epoch: the id's time). */
  at: number;
  /** The processed record (JSON text: see stream-entries.ts). */
  data: string;
}

export interface WindowStore {
  /** Records entry `id`'s observation; false when it was recorded already (a redelivery): nothing changes. */
  add(stream: StreamName, observation: Observation): Promise<boolean>;
  /** The observations appended at or after `fromMs`, in id order; forgets those before `forgetBeforeMs`. */
  since(stream: StreamName, fromMs: number, forgetBeforeMs: number): Promise<Observation[]>;
  close(): Promise<void>;
}
