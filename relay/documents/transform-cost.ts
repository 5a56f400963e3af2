import type { TextOp } from '../../protocol';

/**
 * What transforming costs the relay, in op components walked: transforming an op against one
 * committed op walks both (transform.ts), so an op of n components made d revisions ago costs
 * about d × n plus the components of those d ops. One editor sending ops of 10,000 components
 * against a base 1,000 revisions old asks for 10 M steps per frame (about a quarter of a second
 * of one core here): the relay refuses that instead of doing it, and bounds what a connection
 * may spend per second, so that no one editor can hold the event loop for everyone else.
 */
export function transformCost(components: number, history: readonly { op: TextOp }[]): number {
  let cost = components * history.length;
  for (const committed of history) cost += committed.op.length;
  return cost;
}

/** Moving `selections` through `history` walks every committed op once per selection. */
export function cursorCost(selections: number, history: readonly { op: TextOp }[]): number {
  let cost = 0;
  for (const committed of history) cost += committed.op.length;
  return cost * selections;
}

/**
 * A token bucket for one connection (transform cost, convergence checks): it holds at most
 * `capacity` (default one second's worth), and refills continuously. `spend` takes the cost if
 * the bucket holds it (false: over budget, and nothing is taken, so a client that backs off gets
 * its budget back).
 */
export class CostBudget {
  private tokens: number;
  private refilledAt: number;

  constructor(
    private readonly perSecond: number,
    now = Date.now(),
    private readonly capacity = perSecond,
  ) {
    this.tokens = capacity;
    this.refilledAt = now;
  }

  spend(cost: number, now = Date.now()): boolean {
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.refilledAt) * this.perSecond) / 1000);
    this.refilledAt = now;
    if (cost > this.tokens) return false;
    this.tokens -= cost;
    return true;
  }
}

/**
 * Steps of transform work done between two yields to the event loop (about a millisecond here):
 * a costly but allowed transform then lets other connections' frames (a ping, a keystroke) in
 * between its slices instead of making them wait for all of it.
 */
export const TRANSFORM_SLICE = 40_000;

/** Lets the event loop handle pending I/O before the caller goes on. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
