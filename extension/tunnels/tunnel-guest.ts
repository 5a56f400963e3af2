/**
 * The guest's side of shared servers: for each server the host shares, a listener on this
 * machine's 127.0.0.1 (the host's port number if it is free here, any free port otherwise); each
 * TCP connection to it becomes a stream through the relay to the host, which connects it to its
 * server. The host's list is the truth: a server gone from it has its listener and streams closed.
 * No `vscode` import: it runs in plain Node too (the tests drive it on a real relay).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { Emitter, type Disposable, type RelayClient, type SharedServer } from '../../protocol';
import { CreditPool } from './credit';
import { TunnelFrames } from './tunnel-frames';
import { SocketStream } from './socket-stream';

export interface GuestServer {
  readonly server: SharedServer;
  /** The port of this machine's listener (undefined while it starts, or if it could not). */
  readonly localPort: number | undefined;
  readonly error?: string;
  /** Its open streams. */
  readonly streams: number;
}

export interface TunnelGuestOptions {
  windowBytes?: number;
  /** Try the host's port number first (default true). */
  samePort?: boolean;
  log?: (message: string) => void;
}

interface Listener {
  server: SharedServer;
  listener: Server;
  localPort: number | undefined;
  error?: string;
  ready: Promise<void>;
  streams: Set<SocketStream>;
}

export class TunnelGuest implements Disposable {
  private readonly listeners = new Map<string, Listener>();
  /** Streams by id (this connection's ids: one namespace). */
  private readonly streams = new Map<string, SocketStream>();
  private readonly emitter = new Emitter<{ change: []; shared: [added: SharedServer[]] }>();
  private readonly subscriptions: Disposable[];
  /** Stream frames, in order, under a share of the relay's message rate. */
  private readonly frames: TunnelFrames;
  /** Credit shared by all this guest's streams: what is in flight to the host, however many streams. */
  private readonly pool = new CreditPool();
  private readonly idPrefix = randomBytes(4).toString('hex');
  private counter = 0;
  private disposed = false;
  /** The host's connections: when the last one leaves, its servers are gone (it shares them again when back). */
  private readonly hosts = new Set<string>();

  constructor(
    private readonly client: RelayClient,
    private readonly options: TunnelGuestOptions = {},
  ) {
    this.frames = new TunnelFrames(client);
    this.subscriptions = [
      client.on('tunnel.shared', ({ servers }) => this.update(servers)),
      client.on('tunnel.opened', ({ stream_id }) => this.streams.get(stream_id)?.start()),
      client.on('tunnel.data', ({ stream_id, data }) => this.streams.get(stream_id)?.remoteData(data)),
      client.on('tunnel.ack', ({ stream_id, bytes }) => this.streams.get(stream_id)?.remoteAck(bytes)),
      client.on('tunnel.close', ({ stream_id, reason }) => {
        const stream = this.streams.get(stream_id);
        if (!stream) return;
        stream.remoteClose(reason);
        // Frees the stream's place at the relay (a guest closes every stream it opened).
        this.frames.send('tunnel.close', { stream_id, reason: 'closed' });
      }),
      client.on('error', (error) => {
        const stream = error.request_id === undefined ? undefined : this.streams.get(error.request_id);
        if (!stream) return;
        this.log(`stream ${error.request_id}: ${error.code}: ${error.message}`);
        // Refused opens left nothing at the relay; a refused chunk leaves a stream that must close.
        if (error.event_type === 'tunnel.open') stream.abort('refused', error.message);
        else stream.close(error.code === 'TUNNEL_BYTES_EXCEEDED' ? 'limit' : 'error', error.message);
      }),
      client.onConnected((connected) => this.knowHosts(connected.participants)),
      client.on('session.joined', (participant) => this.knowHosts([participant])),
      client.on('session.left', (participant) => {
        if (!this.hosts.delete(participant.connection_id) || this.hosts.size > 0) return;
        this.log('the host left: its shared servers are closed until it is back');
        this.update([]);
      }),
      client.onStateChange((state) => {
        // The relay forgets a connection's streams with it: end them here too.
        if (state === 'open') return;
        this.frames.clear();
        for (const stream of [...this.streams.values()]) stream.abort('error', 'the connection to the relay was lost');
      }),
    ];
    this.knowHosts(client.connection?.participants ?? []);
  }

  private knowHosts(participants: ReadonlyArray<{ role: string; connection_id: string }>): void {
    for (const participant of participants) if (participant.role === 'host') this.hosts.add(participant.connection_id);
  }

  /** The host's shared servers and where each is on this machine. */
  get servers(): GuestServer[] {
    return [...this.listeners.values()].map(({ server, localPort, error, streams }) => ({
      server,
      localPort,
      streams: streams.size,
      ...(error !== undefined && { error }),
    }));
  }

  /** When every listener the host's list asked for so far listens (or failed to). */
  async ready(): Promise<void> {
    await Promise.all([...this.listeners.values()].map((l) => l.ready));
  }

  onDidChange(listener: () => void): Disposable {
    return this.emitter.on('change', listener);
  }

  /** Servers the host has just shared (for a notification), once their listeners listen. */
  onDidShare(listener: (added: SharedServer[]) => void): Disposable {
    return this.emitter.on('shared', listener);
  }

  private update(servers: readonly SharedServer[]): void {
    if (this.disposed) return;
    const ids = new Set(servers.map((s) => s.share_id));
    for (const [id, listener] of [...this.listeners]) if (!ids.has(id)) this.stop(listener);
    const added = servers.filter((s) => !this.listeners.has(s.share_id));
    for (const server of added) this.listen(server);
    if (added.length > 0) void this.ready().then(() => !this.disposed && this.emitter.emit('shared', added));
    this.emitter.emit('change');
  }

  private listen(server: SharedServer): void {
    const listener = createServer({ pauseOnConnect: true }, (socket) => this.accept(entry, socket));
    const entry: Listener = { server, listener, localPort: undefined, streams: new Set(), ready: Promise.resolve() };
    entry.ready = this.bind(listener, this.options.samePort === false ? 0 : server.port)
      .catch(() => this.bind(listener, 0))
      .then(
        (port) => {
          entry.localPort = port;
          this.log(`shared server '${server.name}' (host port ${server.port}) on 127.0.0.1:${port}`);
        },
        (error: Error) => {
          entry.error = error.message;
        },
      )
      .finally(() => this.emitter.emit('change'));
    this.listeners.set(server.share_id, entry);
  }

  /** Listens on 127.0.0.1 only: nothing else on the guest's network reaches the host's server. */
  private bind(listener: Server, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      listener.once('error', onError);
      listener.listen({ host: '127.0.0.1', port, exclusive: true }, () => {
        listener.off('error', onError);
        const address = listener.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  }

  private accept(entry: Listener, socket: Socket): void {
    if (this.disposed || this.listeners.get(entry.server.share_id) !== entry || this.client.state !== 'open') {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    const streamId = `${this.idPrefix}-${(++this.counter).toString(36)}`;
    const stream = new SocketStream(
      socket,
      {
        data: (data) => this.frames.send('tunnel.data', { stream_id: streamId, data }),
        ack: (bytes) => this.frames.send('tunnel.ack', { stream_id: streamId, bytes }),
        close: (reason, message) =>
          this.frames.send('tunnel.close', { stream_id: streamId, reason, ...(message && { message: message.slice(0, 500) }) }),
      },
      {
        ...(this.options.windowBytes !== undefined && { windowBytes: this.options.windowBytes }),
        pool: this.pool,
        onEnd: () => {
          this.streams.delete(streamId);
          entry.streams.delete(stream);
          this.emitter.emit('change');
        },
      },
    );
    this.streams.set(streamId, stream);
    entry.streams.add(stream);
    this.frames.send('tunnel.open', { stream_id: streamId, share_id: entry.server.share_id });
    this.emitter.emit('change');
  }

  private stop(entry: Listener): void {
    this.listeners.delete(entry.server.share_id);
    entry.listener.close();
    for (const stream of [...entry.streams]) stream.close('unshared');
  }

  private log(message: string): void {
    this.options.log?.(message);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const subscription of this.subscriptions.splice(0)) subscription.dispose();
    for (const entry of [...this.listeners.values()]) this.stop(entry);
    for (const stream of [...this.streams.values()]) stream.close('closed');
    this.emitter.emit('change');
  }
}
