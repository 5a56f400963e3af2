/**
 * What the hot paths time (a broadcast's fan-out, an edit's ack). `RelayMetrics` records them in
 * histograms; with METRICS_ENABLED=false the relay keeps `noHotPathTimings`, and the hot paths,
 * which check `enabled` first, do not even read the clock.
 */
export interface HotPathTimings {
  readonly enabled: boolean;
  /** One publication delivered to this relay's connections of its channel. */
  fanOut(seconds: number): void;
  /** An edit frame dispatched until its commit was stored and published (the sender's ack rides on it). */
  editAck(seconds: number): void;
}

export const noHotPathTimings: HotPathTimings = {
  enabled: false,
  fanOut: () => {},
  editAck: () => {},
};
