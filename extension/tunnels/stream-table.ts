/**
 * The host's streams, by guest connection and stream id (two guests may pick the same id), with
 * the share each belongs to: what to close when a guest leaves or a share stops, and how many
 * each guest has open. Pure bookkeeping.
 */
export interface StreamKey {
  requester: string;
  streamId: string;
}

interface Entry<T> extends StreamKey {
  shareId: string;
  value: T;
}

export class StreamTable<T> {
  private readonly entries = new Map<string, Entry<T>>();
  private readonly perRequester = new Map<string, number>();

  constructor(readonly maxPerRequester: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** Why a new stream cannot be added, or undefined when it can. */
  refusal(key: StreamKey): 'in_use' | 'too_many' | undefined {
    if (this.entries.has(keyOf(key))) return 'in_use';
    if (this.countOf(key.requester) >= this.maxPerRequester) return 'too_many';
    return undefined;
  }

  add(key: StreamKey, shareId: string, value: T): void {
    const refusal = this.refusal(key);
    if (refusal) throw new Error(`cannot add stream ${key.streamId}: ${refusal}`);
    this.entries.set(keyOf(key), { ...key, shareId, value });
    this.perRequester.set(key.requester, this.countOf(key.requester) + 1);
  }

  get(key: StreamKey): T | undefined {
    return this.entries.get(keyOf(key))?.value;
  }

  /** Removes and returns it (undefined: not there). */
  delete(key: StreamKey): T | undefined {
    const entry = this.entries.get(keyOf(key));
    if (!entry) return undefined;
    this.entries.delete(keyOf(key));
    const left = this.countOf(key.requester) - 1;
    if (left > 0) this.perRequester.set(key.requester, left);
    else this.perRequester.delete(key.requester);
    return entry.value;
  }

  countOf(requester: string): number {
    return this.perRequester.get(requester) ?? 0;
  }

  /** Removes and returns the streams matching (a guest's, a share's, an id's, all). */
  take(match: { requester?: string; shareId?: string; streamId?: string } = {}): T[] {
    const taken: T[] = [];
    for (const entry of [...this.entries.values()]) {
      if (match.requester !== undefined && entry.requester !== match.requester) continue;
      if (match.shareId !== undefined && entry.shareId !== match.shareId) continue;
      if (match.streamId !== undefined && entry.streamId !== match.streamId) continue;
      this.delete(entry);
      taken.push(entry.value);
    }
    return taken;
  }

  /** Streams per share id. */
  countByShare(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const { shareId } of this.entries.values()) counts.set(shareId, (counts.get(shareId) ?? 0) + 1);
    return counts;
  }
}

function keyOf({ requester, streamId }: StreamKey): string {
  return `${requester}\u0000${streamId}`;
}
