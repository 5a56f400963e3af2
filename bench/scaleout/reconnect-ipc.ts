/** What the scale-out bench (`run-scaleout.ts`) and its reconnecting clients (`reconnect-loadgen.ts`) say. */

export interface ReconnectClient {
  token: string;
  session: string;
}

export type ToReconnectLoadgen =
  | { type: 'connect'; url: string; clients: ReconnectClient[]; concurrency: number; timeoutMs: number }
  /** From now on a lost connection counts; answered with `armed` (the relay is killed after it). */
  | { type: 'arm' }
  /**
   * Answer once every client that lost its connection has the relay's `connect` again and none
   * was lost for `settleMs`, or at the deadline. `killedAt`: monotonic ms (see `clock.ts`).
   */
  | { type: 'collect'; killedAt: number; settleMs: number; timeoutMs: number }
  | { type: 'exit' };

export interface ReconnectConnected {
  type: 'connected';
  clients: number;
  failed: number;
  firstError?: string;
  elapsedMs: number;
  /** Clients per relay (the `relay_id` of their `connect`): how nginx spread them. */
  perRelay: Record<string, number>;
}

export interface ReconnectCollected {
  type: 'collected';
  /** Clients whose connection was lost after `arm`. */
  lost: number;
  /** Of those, the ones connected again (a `connect` frame) by the answer. */
  back: number;
  /** Per client that came back: ms from the kill to its close event, and to its new `connect`. */
  closedAfterMs: number[];
  reconnectedAfterMs: number[];
  /** Attempts (the first included) each returning client needed. */
  attempts: number[];
  /** Where the returning clients went (relay ids), and where everyone is now. */
  backPerRelay: Record<string, number>;
}

export type FromReconnectLoadgen = ReconnectConnected | { type: 'armed' } | ReconnectCollected | { type: 'fatal'; message: string };
