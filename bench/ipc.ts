/** What the bench orchestrator (`run.ts`) and its load generator processes (`loadgen.ts`) say. */

/**
 * How receivers connect. `wire`: a receive-only socket that counts frames from their headers
 * (`wire-receiver.ts`); `typed`: the protocol's RelayClient in raw mode over `ws`; `raw`: bare
 * `ws` sockets. The publisher is always a RelayClient (`raw`: a bare `ws` socket).
 * Against a Socket.IO server (the scale-out bench's baseline): `sio-wire` is the `wire` receiver
 * speaking just enough Engine.IO to stay connected; `sio` is socket.io-client (websocket
 * transport only), which is also the publisher there.
 */
export type Driver = 'wire' | 'typed' | 'raw' | 'sio-wire' | 'sio';

/** `count` connections with one token to one session. */
export interface ClientGroup {
  token: string;
  session: string;
  count: number;
}

export type Load = { mode: 'open'; rate: number } | { mode: 'closed'; window: number };

export interface RunSpec {
  load: Load;
  /** Monotonic ms (system-wide clock, see `clock.ts`) at which publishing starts. */
  startAt: number;
  warmupMs: number;
  measureMs: number;
  /** The content of every chat message is padded to this many characters. */
  contentChars: number;
  /** Each client reads the send time of one frame in this many. */
  sampleEvery: number;
  /**
   * Set when several publishers share a session: this one's messages carry it, and only they
   * count as its echoes (the closed loop's acknowledgements), not the other publishers' messages.
   */
  publisherTag?: string;
}

export type ToLoadgen =
  | { type: 'connect'; url: string; driver: Driver; groups: ClientGroup[]; concurrency: number; timeoutMs: number; publisher?: boolean }
  /** Answer once no frame has arrived for `quietMs` (the presence events of joins are over). */
  | { type: 'quiesce'; quietMs: number; timeoutMs: number }
  | { type: 'run'; spec: RunSpec }
  /** Answer once every client got `expectedPerClient` frames since the run started, or at the deadline. */
  | { type: 'collect'; expectedPerClient: number; timeoutMs: number }
  | { type: 'exit' };

export interface ConnectResult {
  type: 'connected';
  clients: number;
  failed: number;
  firstError?: string;
  elapsedMs: number;
}

export interface PublishResult {
  /** Messages sent over the whole run (warm-up included), and inside the measured window. */
  sent: number;
  sentInWindow: number;
  /** How late the open-loop schedule ran (actual - planned send time), ms. */
  lagP99Ms: number;
  lagMaxMs: number;
  /** The publisher's frames, as sent and as echoed back to it. */
  publishFrameBytes: number;
  deliveredFrameBytes: number;
}

export interface RunResult {
  type: 'ran';
  publish?: PublishResult;
}

export interface CollectResult {
  type: 'collected';
  clients: number;
  /** Frames received since the run started, all clients together. */
  received: number;
  /** Frames received inside the measured window (by arrival time). */
  receivedInWindow: number;
  /** End-to-end latency (ms) of the sampled frames sent inside the measured window. */
  latencies: number[];
  /** With a publisher tag: the latencies of the frames other publishers sent (a subset of `latencies`). */
  otherLatencies?: number[];
  /** Clients that closed during the run (e.g. closed by the server as slow consumers). */
  closed: number;
}

export type FromLoadgen = ConnectResult | { type: 'quiet'; ok: boolean } | RunResult | CollectResult | { type: 'fatal'; message: string };
