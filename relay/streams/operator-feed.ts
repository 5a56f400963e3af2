import { WebSocket } from 'ws';
import {
  closeCodes,
  decodeClientFrame,
  encodeServerFrame,
  type ErrorPayload,
  type MetricsAggregates,
  ProtocolError,
  type ServerEventType,
  type ServerPayload,
  SYSTEM_USER_ID,
} from '../../protocol';
import type { OperatorPrincipal } from '../auth/tokens';
import type { Logger } from '../log';

/**
 * Operators' WebSocket connections (an operator token, no session): `operator.subscribe` and they
 * get `operator.metrics` each time the aggregates are computed (METRICS_PUBLISH_INTERVAL_MS),
 * encoded once for all of them. They send nothing else but `operator.unsubscribe` and
 * `system.ping`. One that stops reading is closed (4008), never waited for; one that stops
 * answering the gateway's heartbeat pings is cut off (4000), as a participant would be.
 */
export class OperatorFeed {
  private readonly sockets = new Map<WebSocket, OperatorPrincipal>();
  private readonly subscribed = new Set<WebSocket>();
  /** When each connection was last heard from (a frame or a pong). */
  private readonly lastSeen = new Map<WebSocket, number>();
  private readonly stopListening: () => void;

  constructor(
    private readonly aggregates: {
      latest(): Promise<MetricsAggregates>;
      onAggregates(listener: (aggregates: MetricsAggregates) => void): () => void;
    },
    private readonly options: { maxConnections: number; maxBufferedBytes: number; log: Logger },
  ) {
    this.stopListening = aggregates.onAggregates((latest) => this.push(latest));
  }

  get connectionCount(): number {
    return this.sockets.size;
  }

  /** Whether another operator connection is allowed (checked before the upgrade). */
  get full(): boolean {
    return this.sockets.size >= this.options.maxConnections;
  }

  accept(ws: WebSocket, operator: OperatorPrincipal): void {
    this.sockets.set(ws, operator);
    this.lastSeen.set(ws, Date.now());
    this.options.log.info({ operator: operator.userId }, 'operator connected');
    ws.on('message', (data, isBinary) => {
      this.lastSeen.set(ws, Date.now());
      this.handle(ws, data as Buffer, isBinary);
    });
    ws.on('pong', () => this.lastSeen.set(ws, Date.now()));
    ws.on('error', () => {});
    ws.once('close', () => {
      this.sockets.delete(ws);
      this.subscribed.delete(ws);
      this.lastSeen.delete(ws);
    });
  }

  sweep(deadline: number): void {
    for (const [ws, seen] of this.lastSeen) {
      if (ws.readyState !== WebSocket.OPEN) continue;
      if (seen >= deadline) {
        ws.ping();
        continue;
      }
      this.options.log.info({ operator: this.sockets.get(ws)?.userId }, 'closing silent operator connection');
      send(ws, 'disconnect', { reason: 'heartbeat_timeout', message: 'no answer to pings for two heartbeat intervals', reconnect: true });
      this.subscribed.delete(ws);
      ws.terminate();
    }
  }

  /** Says `disconnect` (shutdown) to every operator and closes. */
  close(): void {
    this.stopListening();
    for (const ws of this.sockets.keys()) {
      send(ws, 'disconnect', { reason: 'shutdown', message: 'the relay is shutting down', reconnect: true });
      ws.close(closeCodes.GOING_AWAY, 'shutdown');
    }
  }

  private handle(ws: WebSocket, data: Buffer, isBinary: boolean): void {
    if (isBinary) return this.refuse(ws, new ProtocolError('BINARY_NOT_SUPPORTED'));
    const decoded = decodeClientFrame(data.toString());
    if (!decoded.ok) return this.refuse(ws, decoded.error, decoded.eventType);
    const { frame } = decoded;
    switch (frame.event_type) {
      case 'operator.subscribe':
        this.subscribed.add(ws);
        // The latest at once, then every publish.
        this.aggregates.latest().then(
          (latest) =>
            this.subscribed.has(ws) && this.sendMetrics(ws, encodeServerFrame('operator.metrics', latest, { userId: SYSTEM_USER_ID })),
          (error: unknown) => this.options.log.warn({ err: error }, 'could not compute the metrics aggregates'),
        );
        return;
      case 'operator.unsubscribe':
        this.subscribed.delete(ws);
        return;
      case 'system.ping':
        send(ws, 'system.pong', { ...frame.payload, server_time: new Date().toISOString() });
        return;
      default:
        return this.refuse(
          ws,
          new ProtocolError('FORBIDDEN_ROLE', 'an operator connection only subscribes to the live metrics', 'event_type'),
          frame.event_type,
        );
    }
  }

  private push(latest: MetricsAggregates): void {
    if (this.subscribed.size === 0) return;
    const frame = encodeServerFrame('operator.metrics', latest, { userId: SYSTEM_USER_ID });
    for (const ws of this.subscribed) this.sendMetrics(ws, frame);
  }

  private sendMetrics(ws: WebSocket, frame: string): void {
    if (ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount > this.options.maxBufferedBytes) {
      this.options.log.warn({ operator: this.sockets.get(ws)?.userId }, 'closing slow operator connection');
      this.subscribed.delete(ws);
      ws.close(closeCodes.SLOW_CONSUMER, 'slow_consumer');
      return;
    }
    ws.send(frame);
  }

  private refuse(ws: WebSocket, error: ProtocolError, eventType?: string): void {
    const payload: ErrorPayload = { code: error.code, message: error.message };
    if (error.path) payload.path = error.path;
    if (eventType) payload.event_type = eventType;
    send(ws, 'error', payload);
  }
}

function send<E extends ServerEventType>(ws: WebSocket, eventType: E, payload: ServerPayload<E>): void {
  if (ws.readyState === WebSocket.OPEN) ws.send(encodeServerFrame(eventType, payload, { userId: SYSTEM_USER_ID }));
}
