import { createServer, type Server, type Socket, connect } from 'node:net';
import { freePort } from '../../relay/cli/cluster/probes';

/**
 * A TCP proxy in front of a real redis-server that can make Redis vanish at one exact command:
 * `cutOn(text)` arms it, and the first chunk a client sends that contains `text` is not
 * forwarded; instead every connection through the proxy is dropped and new ones are refused,
 * as when Redis dies at that moment, until `restore()`. It lets a test put an outage between
 * two steps of the relay that follow each other within a microsecond, which stopping the real
 * process cannot do.
 */
export class RedisCutProxy {
  private readonly sockets = new Set<Socket>();
  private armed: string | undefined;
  private refusing = false;
  /** Whether the armed cut has happened (and not been restored since). */
  cut = false;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(redisPort: number): Promise<RedisCutProxy> {
    const port = await freePort();
    const server = createServer();
    const proxy = new RedisCutProxy(server, port);
    server.on('connection', (client: Socket) => proxy.accept(client, redisPort));
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return proxy;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  cutOn(text: string): void {
    this.armed = text;
  }

  restore(): void {
    this.cut = false;
    this.refusing = false;
  }

  async close(): Promise<void> {
    this.dropAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket, redisPort: number): void {
    if (this.refusing) return void client.destroy();
    const upstream = connect(redisPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        this.sockets.delete(socket);
        (socket === client ? upstream : client).destroy();
      });
    }
    client.on('data', (chunk: Buffer) => {
      if (this.armed !== undefined && chunk.includes(this.armed)) {
        this.armed = undefined;
        this.cut = true;
        this.refusing = true;
        return this.dropAll();
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
  }

  private dropAll(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }
}
