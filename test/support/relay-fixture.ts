import { once } from 'node:events';
import WebSocket from 'ws';
import { decodeServerFrame, type Role, type ServerFrame } from '../../protocol';
import { mintToken, type MintOptions } from '../../relay/auth/tokens';
import { loadConfig, type RelayConfig } from '../../relay/config/config';
import { createLogger } from '../../relay/log';
import { type Relay, startRelay } from '../../relay/relay';

export const TEST_SECRET = 'test-secret-0123456789abcdef';

/** A relay in this process on a free loopback port; settings as environment variable names. */
export async function startTestRelay(settings: Record<string, string> = {}): Promise<TestRelay> {
  const config: RelayConfig = loadConfig({ WS_HOST: '127.0.0.1', WS_PORT: '0', AUTH_SECRET: TEST_SECRET, LOG_LEVEL: 'silent', ...settings });
  const relay = await startRelay({ config, secret: TEST_SECRET, logger: createLogger(config.logLevel) });
  return new TestRelay(relay, config);
}

export class TestRelay {
  constructor(
    readonly relay: Relay,
    readonly config: RelayConfig,
  ) {}

  get url(): string {
    return this.relay.url;
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${this.relay.port}`;
  }

  token(options: Partial<MintOptions> & { user: string }): string {
    return mintToken(TEST_SECRET, { sessions: ['s1'], role: 'editor' as Role, ttl: '5m', ...options });
  }

  /** Opens a raw `ws` socket and waits for the relay's `connect` event. */
  async connect(user: string, options: Partial<MintOptions> & { query?: string } = {}): Promise<TestClient> {
    const token = this.token({ user, ...options });
    const client = new TestClient(new WebSocket(`${this.url}?token=${token}${options.query ?? ''}`));
    await client.next('connect');
    return client;
  }

  stop(): Promise<void> {
    return this.relay.stop();
  }
}

/** A raw socket that records every frame the relay sends, for assertions. */
export class TestClient {
  readonly frames: ServerFrame[] = [];
  private waiters: Array<{ match: (f: ServerFrame) => boolean; resolve: (f: ServerFrame) => void }> = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  constructor(readonly socket: WebSocket) {
    socket.on('message', (data, isBinary) => {
      if (isBinary) throw new Error('relay sent a binary frame');
      const decoded = decodeServerFrame(data.toString());
      if (!decoded.ok) throw new Error(`relay sent an invalid frame: ${decoded.error.message}: ${data.toString()}`);
      this.frames.push(decoded.frame);
      this.waiters = this.waiters.filter((w) => (w.match(decoded.frame) ? (w.resolve(decoded.frame), false) : true));
    });
    this.closed = once(socket, 'close').then(([code, reason]) => ({ code: code as number, reason: String(reason) }));
  }

  /** The first frame (already received or future) of this type that matches, with a timeout. */
  next<E extends ServerFrame['event_type']>(
    eventType: E,
    match: (frame: Extract<ServerFrame, { event_type: E }>) => boolean = () => true,
    timeoutMs = 3000,
  ): Promise<Extract<ServerFrame, { event_type: E }>> {
    type F = Extract<ServerFrame, { event_type: E }>;
    const test = (f: ServerFrame): f is F => f.event_type === eventType && match(f as F);
    const seen = this.frames.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise<F>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${eventType} frame within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        match: test,
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f as F);
        },
      });
    });
  }

  of<E extends ServerFrame['event_type']>(eventType: E): Array<Extract<ServerFrame, { event_type: E }>> {
    return this.frames.filter((f): f is Extract<ServerFrame, { event_type: E }> => f.event_type === eventType);
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  close(): void {
    this.socket.close();
  }
}
