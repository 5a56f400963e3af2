/**
 * The tunnel frames one side of a shared server sends (host or guest), through one `FramePacer`
 * at the relay's message rate for this connection. No `vscode` import (the tunnel tests run in
 * plain Node).
 */
import type { ClientPayload, RelayClient } from '../../protocol';
import { FramePacer } from './frame-pacer';

export type TunnelEvent = 'tunnel.open' | 'tunnel.opened' | 'tunnel.data' | 'tunnel.ack' | 'tunnel.close';

export class TunnelFrames {
  private readonly pacer: FramePacer;

  constructor(private readonly client: RelayClient) {
    this.pacer = new FramePacer(() => client.connection?.limits.max_messages_per_second ?? 200);
  }

  /** Sends the frame in its turn (in order with the others). */
  send<E extends TunnelEvent>(eventType: E, payload: ClientPayload<E>): void {
    this.pacer.send(() => void this.client.send(eventType, payload));
  }

  /** Forgets the frames still waiting (the connection is gone: they would go nowhere). */
  clear(): void {
    this.pacer.clear();
  }
}
