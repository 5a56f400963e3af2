/**
 * The host's side of shared servers: the list of ports it shares, sent to the session on every
 * change and whenever someone joins, and the streams guests open. A guest names a share, never an
 * address: the host looks the share up in its own list and connects to 127.0.0.1 on that port
 * only. No `vscode` import: it runs in plain Node too (the tests drive it on a real relay).
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { Emitter, type Disposable, type RelayClient, type SharedServer, TUNNEL_LIMITS, type TunnelCloseReason } from '../../protocol';
import { CreditPool } from './credit';
import { TunnelFrames } from './tunnel-frames';
import { SocketStream } from './socket-stream';
import { StreamTable } from './stream-table';

export interface TunnelHostOptions {
  /** Streams one guest connection may have open (the relay bounds them too). */
  maxStreamsPerGuest?: number;
  /** How long connecting to the shared port may take. */
  connectTimeoutMs?: number;
  windowBytes?: number;
  /** Opens the TCP connection of a stream: always 127.0.0.1 (tests may watch it). */
  connectLocal?: (port: number) => Socket;
  log?: (message: string) => void;
}

/** Why a port and name cannot be shared, or undefined when they can. */
export function validateShare(port: number, name: string, shared: readonly SharedServer[]): string | undefined {
  if (!Number.isInteger(port) || port < 1 || port > 65535) return 'The port must be a whole number from 1 to 65535.';
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > 64) return 'The name must be 1 to 64 characters.';
  if (shared.some((server) => server.port === port)) return `Port ${port} is shared already.`;
  if (shared.length >= TUNNEL_LIMITS.servers) return `At most ${TUNNEL_LIMITS.servers} servers can be shared at once.`;
  return undefined;
}

export class TunnelHost implements Disposable {
  private readonly list: SharedServer[] = [];
  private readonly streams: StreamTable<SocketStream>;
  private readonly emitter = new Emitter<{ change: [] }>();
  private readonly subscriptions: Disposable[];
  /** Stream frames, in order, under a share of the relay's message rate. */
  private readonly frames: TunnelFrames;
  private everShared = false;
  /** Credit shared by each guest connection's streams (what is in flight to it, however many streams). */
  private readonly pools = new Map<string, CreditPool>();

  constructor(
    private readonly client: RelayClient,
    private readonly options: TunnelHostOptions = {},
  ) {
    this.streams = new StreamTable(options.maxStreamsPerGuest ?? 32);
    this.frames = new TunnelFrames(client);
    this.subscriptions = [
      client.on('tunnel.open', (open) => this.open(open.requester, open.stream_id, open.share_id)),
      client.on('tunnel.data', (data) => this.streams.get(key(data))?.remoteData(data.data)),
      client.on('tunnel.ack', (ack) => this.streams.get(key(ack))?.remoteAck(ack.bytes)),
      client.on('tunnel.close', (close) => this.streams.delete(key(close))?.remoteClose(close.reason)),
      client.on('session.joined', () => this.publish()),
      client.on('session.left', (participant) => {
        for (const stream of this.streams.take({ requester: participant.connection_id })) stream.abort('closed', 'the guest left');
      }),
      client.on('error', (error) => {
        if (error.code !== 'TUNNEL_BYTES_EXCEEDED' || error.request_id === undefined) return;
        this.log(`a stream hit the relay’s byte limit (TUNNEL_SESSION_BYTES_PER_MINUTE): ${error.request_id}`);
        // The error names the stream id only: every guest's stream of that id (ids are random, so one).
        for (const stream of this.streams.take({ streamId: error.request_id })) {
          stream.close('limit', 'the session’s shared servers reached the relay’s byte limit');
        }
        this.emitter.emit('change');
      }),
      client.onStateChange((state) => {
        if (state === 'open') return this.publish();
        this.frames.clear();
        for (const stream of this.streams.take()) stream.abort('error', 'the connection to the relay was lost');
      }),
    ];
  }

  /** The shared servers, in the order they were shared. */
  get servers(): readonly SharedServer[] {
    return this.list;
  }

  /** Open streams per share id. */
  streamCounts(): Map<string, number> {
    return this.streams.countByShare();
  }

  onDidChange(listener: () => void): Disposable {
    return this.emitter.on('change', listener);
  }

  /** Shares `127.0.0.1:port` under `name`; throws with a sentence a user can read when it cannot. */
  share(port: number, name: string): SharedServer {
    const problem = validateShare(port, name, this.list);
    if (problem) throw new Error(problem);
    const slug =
      name
        .trim()
        .toLowerCase()
        .replace(/[^a-z0-9_-]+/g, '-')
        .replace(/^-+|-+$/g, '')
        .slice(0, 40) || 'server';
    const server: SharedServer = { share_id: `${slug}-${randomBytes(4).toString('hex')}`, name: name.trim(), port };
    this.list.push(server);
    this.everShared = true;
    this.publish();
    this.emitter.emit('change');
    return server;
  }

  /** Stops sharing: every stream of it is closed, and guests close their listeners. */
  unshare(shareId: string): boolean {
    const index = this.list.findIndex((server) => server.share_id === shareId);
    if (index < 0) return false;
    this.list.splice(index, 1);
    for (const stream of this.streams.take({ shareId })) stream.close('unshared', 'the host stopped sharing this server');
    this.publish();
    this.emitter.emit('change');
    return true;
  }

  /**
   * The whole list to everyone else (a missed update is mended by the next). A host that never
   * shared anything sends nothing: a session without shared servers sees no `tunnel.*` frame.
   */
  private publish(): void {
    if (this.list.length === 0 && !this.everShared) return;
    this.client.send('tunnel.shared', { servers: [...this.list] });
  }

  private open(requester: string, streamId: string, shareId: string): void {
    const link = (reason: TunnelCloseReason, message?: string) =>
      this.frames.send('tunnel.close', { stream_id: streamId, requester, reason, ...(message && { message: message.slice(0, 500) }) });
    const server = this.list.find((s) => s.share_id === shareId);
    if (!server) return link('unshared', 'the host does not share this server');
    const refusal = this.streams.refusal({ requester, streamId });
    if (refusal)
      return link(refusal === 'too_many' ? 'limit' : 'protocol', refusal === 'too_many' ? 'too many streams' : 'stream id in use');

    // The only address a stream ever reaches: this machine's loopback, on a port the host shared.
    const socket = (this.options.connectLocal ?? ((port) => connect({ host: '127.0.0.1', port })))(server.port);
    socket.setNoDelay(true);
    let connected = false;
    // Before the stream's own listeners, so that a refused connection is told as `refused`.
    socket.once('error', (error: NodeJS.ErrnoException) => {
      if (!connected) stream.close('refused', `port ${server.port}: ${error.code ?? error.message}`);
    });
    const timer = setTimeout(() => stream.close('refused', `no answer from port ${server.port}`), this.options.connectTimeoutMs ?? 10_000);
    let pool = this.pools.get(requester);
    if (!pool) this.pools.set(requester, (pool = new CreditPool()));
    const stream: SocketStream = new SocketStream(
      socket,
      {
        data: (data) => this.frames.send('tunnel.data', { stream_id: streamId, requester, data }),
        ack: (bytes) => this.frames.send('tunnel.ack', { stream_id: streamId, requester, bytes }),
        close: link,
      },
      {
        ...(this.options.windowBytes !== undefined && { windowBytes: this.options.windowBytes }),
        pool,
        onEnd: () => {
          clearTimeout(timer);
          if (this.streams.get({ requester, streamId }) === stream) this.streams.delete({ requester, streamId });
          if (this.streams.countOf(requester) === 0) this.pools.delete(requester);
          this.emitter.emit('change');
        },
      },
    );
    this.streams.add({ requester, streamId }, shareId, stream);
    socket.once('connect', () => {
      connected = true;
      clearTimeout(timer);
      if (stream.isEnded) return;
      this.frames.send('tunnel.opened', { stream_id: streamId, requester });
      stream.start();
      this.emitter.emit('change');
    });
  }

  private log(message: string): void {
    this.options.log?.(message);
  }

  dispose(): void {
    for (const subscription of this.subscriptions.splice(0)) subscription.dispose();
    for (const stream of this.streams.take()) stream.close('unshared', 'the host stopped sharing');
    if (this.list.length > 0) {
      this.list.length = 0;
      this.publish();
    }
  }
}

function key(payload: { requester: string; stream_id: string }) {
  return { requester: payload.requester, streamId: payload.stream_id };
}
