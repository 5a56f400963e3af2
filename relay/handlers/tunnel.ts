import { base64ByteLength, ProtocolError } from '../../protocol';
import type { TunnelLimits } from '../config/config';
import type { Connection } from '../gateway/connection';
import type { Handler } from '../routing/router';
import type { HandlerContext } from './context';
import { forwardToHost, streamToHost } from './workspace';

/**
 * Shared servers (port forwarding): the relay routes stream frames and bounds their cost; it
 * never opens a socket. The host's frames go to the one guest connection they name
 * (`requester`); a guest's go to the host with its connection added, so a guest can neither
 * speak for the host nor reach another guest's stream. Viewers may use shared servers: reading a
 * web page the host serves is a read (as in Live Share, where every guest may).
 *
 * Kept per relay, in memory: the streams each guest connection opened (a guest's `tunnel.close`
 * frees its place; it sends one for every stream it opened), and each session's bytes in the
 * current minute (each relay counts the frames it receives, so a session spread over N relays
 * may move up to N times the limit).
 */
export class TunnelRouting {
  private readonly streams = new WeakMap<Connection, Set<string>>();
  private readonly windows = new Map<string, { start: number; bytes: number }>();

  constructor(
    private readonly context: HandlerContext,
    private readonly limits: TunnelLimits,
    private readonly now: () => number = Date.now,
  ) {}

  handlers(): {
    'tunnel.shared': Handler<'tunnel.shared'>;
    'tunnel.open': Handler<'tunnel.open'>;
    'tunnel.opened': Handler<'tunnel.opened'>;
    'tunnel.data': Handler<'tunnel.data'>;
    'tunnel.ack': Handler<'tunnel.ack'>;
    'tunnel.close': Handler<'tunnel.close'>;
  } {
    const { context } = this;
    return {
      'tunnel.shared': {
        roles: ['host'],
        handle: async (connection, { payload }) => {
          await context.publishFrom(connection, 'tunnel.shared', payload, { exclude: connection.id });
        },
      },
      'tunnel.open': {
        roles: ['editor', 'viewer'],
        handle: async (connection, { payload }) => {
          const open = this.streamsOf(connection);
          if (open.has(payload.stream_id)) {
            throw new ProtocolError(
              'TUNNEL_STREAM_UNKNOWN',
              'a stream with this id is open already',
              'payload.stream_id',
              payload.stream_id,
            );
          }
          if (open.size >= this.limits.maxStreamsPerConnection) {
            throw new ProtocolError('TUNNEL_TOO_MANY_STREAMS', undefined, undefined, payload.stream_id);
          }
          open.add(payload.stream_id);
          try {
            await forwardToHost(context, connection, 'tunnel.open', { ...payload, requester: connection.id }, payload.stream_id);
          } catch (error) {
            open.delete(payload.stream_id);
            throw error;
          }
        },
      },
      'tunnel.opened': {
        roles: ['host'],
        handle: async (connection, { payload }) => {
          await context.publishFrom(connection, 'tunnel.opened', payload, { connection: payload.requester });
        },
      },
      'tunnel.data': {
        handle: async (connection, { payload }) => {
          this.checkRoute(connection, payload);
          this.count(connection, payload.stream_id, base64ByteLength(payload.data));
          await this.route(connection, 'tunnel.data', payload);
        },
      },
      'tunnel.ack': {
        handle: async (connection, { payload }) => {
          this.checkRoute(connection, payload);
          await this.route(connection, 'tunnel.ack', payload);
        },
      },
      'tunnel.close': {
        handle: async (connection, { payload }) => {
          this.checkRoute(connection, payload);
          if (connection.role !== 'host') this.streamsOf(connection).delete(payload.stream_id);
          await this.route(connection, 'tunnel.close', payload);
        },
      },
    };
  }

  private streamsOf(connection: Connection): Set<string> {
    let open = this.streams.get(connection);
    if (!open) this.streams.set(connection, (open = new Set()));
    return open;
  }

  /** The host names the guest connection; a guest names none, and only streams it opened. */
  private checkRoute(connection: Connection, payload: { stream_id: string; requester?: string | undefined }): void {
    if (connection.role === 'host') {
      if (payload.requester === undefined) {
        throw new ProtocolError(
          'VALIDATION_FAILED',
          'the host names the stream’s guest connection',
          'payload.requester',
          payload.stream_id,
        );
      }
      return;
    }
    if (payload.requester !== undefined) {
      throw new ProtocolError('FORBIDDEN_ROLE', 'only the host sends a stream’s frames to a guest', 'payload.requester', payload.stream_id);
    }
    if (!this.streamsOf(connection).has(payload.stream_id)) {
      throw new ProtocolError('TUNNEL_STREAM_UNKNOWN', undefined, 'payload.stream_id', payload.stream_id);
    }
  }

  private async route<E extends 'tunnel.data' | 'tunnel.ack' | 'tunnel.close'>(
    connection: Connection,
    eventType: E,
    payload: { stream_id: string; requester?: string | undefined },
  ): Promise<void> {
    if (connection.role === 'host') {
      const requester = payload.requester!;
      // The relay's frame always names the guest connection, so the types on both sides agree.
      await this.context.publishFrom(connection, eventType, { ...payload, requester } as never, { connection: requester });
    } else {
      await streamToHost(this.context, connection, eventType, { ...payload, requester: connection.id } as never);
    }
  }

  /** Counts a data frame against its session's minute, or refuses it (nothing forwarded). */
  private count(connection: Connection, streamId: string, bytes: number): void {
    const now = this.now();
    let window = this.windows.get(connection.sessionId);
    if (!window || now - window.start >= 60_000) {
      if (!window && this.windows.size >= 1024) this.sweep(now);
      window = { start: now, bytes: 0 };
      this.windows.set(connection.sessionId, window);
    }
    if (window.bytes + bytes > this.limits.sessionBytesPerMinute) {
      throw new ProtocolError('TUNNEL_BYTES_EXCEEDED', undefined, 'payload.data', streamId);
    }
    window.bytes += bytes;
  }

  /** Forgets the minutes that are over (sessions that stopped sending). */
  private sweep(now: number): void {
    for (const [session, window] of this.windows) if (now - window.start >= 60_000) this.windows.delete(session);
  }
}
