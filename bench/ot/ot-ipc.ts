/** What the OT bench (`run-ot.ts`) and its load generator process (`ot-loadgen.ts`) say. */

/**
 * relay: one relay in memory. relay-redis: one relay with REDIS_URL (commits and publications
 * through Redis). sharedb: ShareDB in memory. sharedb-redis: ShareDB (memory database) with
 * `sharedb-redis-pubsub`, every op through Redis as ShareDB scales out (latency runs only).
 * floor: a `ws` server that only forwards each edit frame to the document's other editors
 * (bench/ot/forward-server.ts), the floor of the latency runs (it acknowledges nothing, so it has
 * no commit runs).
 */
export type OtTarget = 'relay' | 'relay-redis' | 'sharedb' | 'sharedb-redis' | 'floor';

/**
 * closed: every editor keeps `window` single-character inserts unacknowledged, typing the next
 * as soon as one is acknowledged. open: every editor types `rate` characters a second, each a
 * distinct character, so that the others can tell when it reaches them.
 */
export type OtLoad = { mode: 'closed'; window: number } | { mode: 'open'; rate: number };

export interface OtSetup {
  type: 'setup';
  target: OtTarget;
  url: string;
  /** Editor i connects to `urls[i % urls.length]` instead (editors spread over servers sharing one Redis). */
  urls?: string[];
  /** Relay: one token per editor. */
  tokens: string[];
  editors: number;
  document: string;
  text: string;
  load: OtLoad;
}

export interface OtGo {
  type: 'go';
  /** Monotonic ms (see `clock.ts`). */
  startAt: number;
  warmupMs: number;
  measureMs: number;
  /** After the window, how long to wait for what is still in flight. */
  drainMs: number;
}

export type ToOtLoadgen = OtSetup | OtGo;

export interface OtResult {
  type: 'result';
  /** Keystrokes typed in the measured window, and those acknowledged in it. */
  typedInWindow: number;
  ackedInWindow: number;
  /** Document revisions committed in the window (each an op as the server saw it; one may carry several keystrokes). */
  commitsInWindow: number;
  /** Open loop: keystroke-to-remote latencies (ms) of keystrokes typed in the window, one per receiving editor. */
  latencies: number[];
  /** Remote arrivals expected for keystrokes typed in the window, and those seen. */
  expectedArrivals: number;
  arrivals: number;
  /** Client-side: acknowledgement round trip of keystrokes typed in the window. */
  ackLatencies: number[];
  problems: string[];
}

export type FromOtLoadgen = { type: 'ready' } | OtResult | { type: 'fatal'; message: string };
