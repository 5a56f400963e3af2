/**
 * The last 15 minutes of what the charts show, one point per aggregates frame: a bounded buffer
 * of timestamps and named series (a series that appears later is padded with nulls, one that
 * stops gets nulls). Pure: tested.
 */

export const HISTORY_MS = 15 * 60 * 1000;

export class History {
  readonly times: number[] = [];
  private readonly series = new Map<string, Array<number | null>>();

  constructor(private readonly spanMs = HISTORY_MS) {}

  /** Adds one point at `at` (ms): each named value; series not named get null. */
  push(at: number, values: Record<string, number | null>): void {
    if (this.times.length > 0 && at <= this.times[this.times.length - 1]!) return;
    this.times.push(at);
    for (const name of Object.keys(values)) {
      if (!this.series.has(name)) this.series.set(name, new Array<number | null>(this.times.length - 1).fill(null));
    }
    for (const [name, points] of this.series) points.push(values[name] ?? null);
    let drop = 0;
    while (drop < this.times.length && this.times[drop]! < at - this.spanMs) drop++;
    if (drop > 0) {
      this.times.splice(0, drop);
      for (const points of this.series.values()) points.splice(0, drop);
    }
  }

  names(): string[] {
    return [...this.series.keys()];
  }

  values(name: string): Array<number | null> {
    return this.series.get(name) ?? new Array<number | null>(this.times.length).fill(null);
  }

  /** The value of `name` at the point nearest to `at` (or undefined when there is none within a minute). */
  valueAt(name: string, at: number): number | undefined {
    let best = -1;
    for (let i = 0; i < this.times.length; i++) if (Math.abs(this.times[i]! - at) < Math.abs((this.times[best] ?? Infinity) - at)) best = i;
    if (best < 0 || Math.abs(this.times[best]! - at) > 60_000) return undefined;
    return this.series.get(name)?.[best] ?? undefined;
  }
}
