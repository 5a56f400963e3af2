import type { CommittedOp } from './document-store';

/** Per entry: the object, its array slot and its numbers (rev, seq). */
const ENTRY_OVERHEAD_BYTES = 96;
/** Per op component: its array slot, and a string's or object's header. */
const COMPONENT_OVERHEAD_BYTES = 16;

/**
 * About what a committed op takes in memory: its text (UTF-16, two bytes per code unit), its
 * ids and a per-component and per-entry overhead. A history bounded by count alone could be a
 * thousand ops of 64 KiB each, or a thousand empty ones with long ids: both count here.
 */
export function committedOpBytes(entry: CommittedOp): number {
  let bytes = ENTRY_OVERHEAD_BYTES + 2 * (entry.userId.length + entry.clientId.length);
  for (const c of entry.op) {
    bytes += COMPONENT_OVERHEAD_BYTES;
    if (typeof c === 'string') bytes += 2 * c.length;
    else if (typeof c === 'object') bytes += 2 * c.d.length;
  }
  // A recovery record repeats ops of the lost epoch: its JSON length is a fair measure.
  if (entry.recovery) bytes += 2 * JSON.stringify(entry.recovery).length;
  return bytes;
}

/** What one dedupe record (user, client id -> last seq) takes. */
export function lastCommitBytes(userId: string, clientId: string): number {
  return ENTRY_OVERHEAD_BYTES + 2 * (userId.length + clientId.length);
}
