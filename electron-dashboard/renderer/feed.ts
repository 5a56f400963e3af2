import { decodeServerFrame, encodeClientFrame, type MetricsAggregates } from '../../protocol';

/**
 * The operators' live subscription: a WebSocket to this origin's `/ws` with the operator token,
 * `operator.subscribe`, then `operator.metrics` about every second. Reconnects (1 s, then up to
 * 5 s apart) until stopped; the connection's state is reported for the header.
 */
export class MetricsFeed {
  private socket: WebSocket | undefined;
  private stopped = false;
  private retryMs = 1000;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly token: string,
    private readonly listeners: {
      metrics(aggregates: MetricsAggregates): void;
      connection(state: 'open' | 'closed'): void;
    },
  ) {}

  start(): void {
    const url = new URL('/ws', location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    url.searchParams.set('token', this.token);
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.onopen = () => {
      this.retryMs = 1000;
      this.listeners.connection('open');
      socket.send(encodeClientFrame('operator.subscribe', {}));
    };
    socket.onmessage = (event) => {
      const decoded = decodeServerFrame(String(event.data));
      if (decoded.ok && decoded.frame.event_type === 'operator.metrics') this.listeners.metrics(decoded.frame.payload);
    };
    socket.onclose = () => {
      this.listeners.connection('closed');
      if (this.stopped) return;
      this.timer = setTimeout(() => this.start(), this.retryMs);
      this.retryMs = Math.min(5000, this.retryMs * 2);
    };
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.socket?.close();
  }
}
