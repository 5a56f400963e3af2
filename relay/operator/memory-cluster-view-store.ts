import type { ClusterViewStore, RelayView } from './cluster-view-store';

/** Single process (one relay: its own view); lost on restart. */
export class MemoryClusterViewStore implements ClusterViewStore {
  private readonly views = new Map<string, { view: RelayView; expiresAt: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  async put(view: RelayView, ttlMs: number): Promise<void> {
    this.views.set(view.relay_id, { view, expiresAt: this.now() + ttlMs });
  }

  async all(): Promise<RelayView[]> {
    const now = this.now();
    for (const [id, { expiresAt }] of this.views) if (expiresAt <= now) this.views.delete(id);
    return [...this.views.values()].map(({ view }) => view);
  }

  async remove(relayId: string): Promise<void> {
    this.views.delete(relayId);
  }

  async close(): Promise<void> {
    this.views.clear();
  }
}
