import { compareIds, type StreamName } from './stream-store';
import type { Observation, WindowStore } from './window-store';

/** Single process; lost on restart. */
export class MemoryWindowStore implements WindowStore {
  private readonly windows = new Map<StreamName, Map<string, Observation>>();

  async add(stream: StreamName, observation: Observation): Promise<boolean> {
    let window = this.windows.get(stream);
    if (!window) this.windows.set(stream, (window = new Map()));
    if (window.has(observation.id)) return false;
    window.set(observation.id, { ...observation });
    return true;
  }

  async since(stream: StreamName, fromMs: number, forgetBeforeMs: number): Promise<Observation[]> {
    const window = this.windows.get(stream);
    if (!window) return [];
    const found: Observation[] = [];
    for (const [id, observation] of window) {
      if (observation.at < forgetBeforeMs) window.delete(id);
      else if (observation.at >= fromMs) found.push({ ...observation });
    }
    return found.sort((a, b) => compareIds(a.id, b.id));
  }

  async close(): Promise<void> {}
}
