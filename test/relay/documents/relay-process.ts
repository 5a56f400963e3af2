/**
 * The real relay as a child process (`node dist/relay.js serve`), on a fixed free loopback port so
 * that it can be killed (SIGKILL: a crash, its in-memory state gone) and started again where its
 * clients reconnect. For tests of what survives a relay or Redis failure.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { mintToken, type MintOptions } from '../../../relay/auth/tokens';
import { ensureRelayBuilt, ROOT } from '../../support/cli';
import { within } from '../../support/wait';

const SECRET = 'relay-process-secret-0123456789';
/** Only the tail of the output is kept: enough to explain a failure. */
const LOG_LIMIT = 64 * 1024;

export class RelayProcess {
  private child: ChildProcess | undefined;
  private output = '';

  private constructor(
    readonly port: number,
    private readonly env: Record<string, string>,
  ) {}

  /** Starts `dist/relay.js serve` (built first if missing) with these settings, and waits until it listens. */
  static async start(env: Record<string, string> = {}): Promise<RelayProcess> {
    ensureRelayBuilt();
    const relay = new RelayProcess(await freePort(), env);
    await relay.start();
    return relay;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/ws`;
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The output's tail, for a failure message. */
  get log(): string {
    return this.output;
  }

  token(options: Partial<MintOptions> & { user: string }): string {
    return mintToken(SECRET, { sessions: ['s1'], role: 'editor', ttl: '10m', ...options });
  }

  /** Starts it (again, after `kill`: same port and settings) and waits until it listens. */
  async start(): Promise<void> {
    if (this.child) throw new Error('the relay is already running');
    const child = spawn(process.execPath, [ensureRelayBuilt(), 'serve'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        AUTH_SECRET: SECRET,
        WS_HOST: '127.0.0.1',
        WS_PORT: String(this.port),
        LOG_LEVEL: 'info',
        SHUTDOWN_TIMEOUT_MS: '1000',
        ...this.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const append = (chunk: Buffer) => (this.output = (this.output + chunk.toString()).slice(-LOG_LIMIT));
    child.stderr!.on('data', append);
    const listening = new Promise<void>((resolve, reject) => {
      let own = ''; // this process's output (the log may hold an earlier one's)
      child.stdout!.on('data', (chunk: Buffer) => {
        append(chunk);
        own = (own + chunk.toString()).slice(-LOG_LIMIT);
        if (own.includes('"relay listening"')) resolve();
      });
      child.once('exit', (code, signal) => {
        if (this.child === child) this.child = undefined;
        reject(new Error(`the relay exited (${code ?? signal}) before listening:\n${this.output}`));
      });
    });
    await within(listening, 15_000, `the relay on port ${this.port} to listen`);
  }

  /** A crash: SIGKILL, and waits for the exit. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  /** Graceful: SIGTERM (the relay drains its connections), and waits for the exit. */
  async stop(): Promise<void> {
    await this.signal('SIGTERM');
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.child = undefined;
    const exited = once(child, 'exit');
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    try {
      await exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** A port the kernel just handed out and took back: free unless someone grabs it meanwhile. */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}
