/**
 * A real `redis-server` for tests that must stop, kill, freeze or restart Redis: its own process
 * on a free loopback port with its own temp dir, never the shared instance on 6379.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import type { TestCertificates } from './test-certificates';
import { sleep } from './wait';
import { freePort } from '../../relay/cli/cluster/probes';

export interface RedisServerOptions {
  /** `none`: data lives in memory only. `aof-always`: AOF fsynced on every write, so even SIGKILL loses nothing. */
  persistence?: 'none' | 'aof-always';
  /** Extra redis.conf lines, e.g. `maxmemory 10mb`. */
  config?: string[];
  /** Upper bound for start, stop and restart (default 10 s). */
  timeoutMs?: number;
  /** TLS only: `port 0` and `tls-port` (so `port` is the TLS port), with these certificates. */
  tls?: RedisServerTls;
}

export interface RedisServerTls {
  certificates: TestCertificates;
  /** `tls-auth-clients`: whether a client must show a certificate signed by the CA (default false). */
  authClients?: boolean;
}

const BINARY = process.env.REDIS_SERVER_BIN ?? 'redis-server';
/** Only the tail of the server's output is kept: enough to explain a failure. */
const LOG_LIMIT = 64 * 1024;

const live = new Set<RedisServer>();
// A test process that dies or forgets `dispose()` must not leave servers or temp dirs behind.
process.once('exit', () => {
  for (const server of live) server.disposeSync();
});

/** Starts a server on a free port; retries with another port if one was taken meanwhile. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  for (let attempt = 1; ; attempt++) {
    const server = new RedisServer(await freePort(), options);
    try {
      await server.start();
      return server;
    } catch (error) {
      server.disposeSync();
      if (attempt >= 3 || !server.log.includes('Address already in use')) throw error;
    }
  }
}

export class RedisServer {
  readonly dir = mkdtempSync(join(tmpdir(), 'tandem-redis-'));
  private process: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private frozen = false;
  private output = '';
  private readonly timeoutMs: number;
  private readonly tls: RedisServerTls | undefined;

  constructor(
    readonly port: number,
    options: RedisServerOptions,
  ) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.tls = options.tls;
    const aof = options.persistence === 'aof-always';
    const lines = [
      ...(this.tls ? tlsConfig(port, this.tls) : [`port ${port}`]),
      'bind 127.0.0.1',
      `dir ${this.dir}`,
      'daemonize no',
      'logfile ""',
      'save ""',
      `appendonly ${aof ? 'yes' : 'no'}`,
      'appendfsync always',
      ...(options.config ?? []),
    ];
    writeFileSync(join(this.dir, 'redis.conf'), lines.join('\n') + '\n');
    live.add(this);
  }

  /** The running redis-server's process id, e.g. to sample its CPU. */
  get pid(): number | undefined {
    return this.process?.pid;
  }

  get url(): string {
    return `${this.tls ? 'rediss' : 'redis'}://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.process !== undefined;
  }

  /** The server's recent output (all starts), to explain a failure. */
  get log(): string {
    return this.output;
  }

  /** Starts the process (again, after `stop`/`kill`: same port, same dir) and waits until it answers PING. */
  async start(): Promise<void> {
    if (this.process) throw new Error('redis-server is already running');
    const child = spawn(BINARY, [join(this.dir, 'redis.conf')], { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    this.process = child;
    this.frozen = false;
    const append = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-LOG_LIMIT);
    };
    child.stdout!.on('data', append);
    child.stderr!.on('data', append);
    this.exited = new Promise((resolve) => {
      child.once('exit', () => {
        if (this.process === child) this.process = undefined;
        resolve();
      });
      child.once('error', (error) => {
        append(Buffer.from(`spawn failed: ${error.message}\n`));
        if (this.process === child) this.process = undefined;
        resolve();
      });
    });
    const deadline = Date.now() + this.timeoutMs;
    // A server with `requirepass` answers NOAUTH: it is up all the same.
    while (!/^(\+PONG|-NOAUTH)/.test(await ping(this.port, this.tls?.certificates).catch(() => ''))) {
      if (this.process !== child) throw new Error(`redis-server exited during start-up:\n${this.logTail()}`);
      if (Date.now() > deadline) {
        await this.kill();
        throw new Error(`redis-server did not answer PING within ${this.timeoutMs} ms:\n${this.logTail()}`);
      }
      await sleep(20);
    }
  }

  /** Graceful shutdown (SIGTERM; with AOF the data is on disk), then waits for the exit. */
  async stop(): Promise<void> {
    await this.signal('SIGTERM');
  }

  /** A crash: SIGKILL, then waits for the exit. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  /** Stops (if running) and starts again on the same port with the same dir. */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /**
   * Unreachable without a disconnect: SIGSTOP. Connections stay open and new ones are even
   * accepted by the kernel, but nothing is answered, as with a hung server or a lost network.
   */
  freeze(): void {
    if (!this.process) throw new Error('redis-server is not running');
    this.process.kill('SIGSTOP');
    this.frozen = true;
  }

  /** Undoes `freeze`: everything queued meanwhile is answered. */
  thaw(): void {
    if (!this.process || !this.frozen) return;
    this.process.kill('SIGCONT');
    this.frozen = false;
  }

  /** Unreachable for `ms`, then answering again. */
  async pause(ms: number): Promise<void> {
    this.freeze();
    try {
      await sleep(ms);
    } finally {
      this.thaw();
    }
  }

  /** The output's tail, for a failure message. */
  logTail(lines = 40): string {
    return this.output.split('\n').slice(-lines).join('\n');
  }

  /**
   * Writes the output to stderr if the test failed: `afterEach((t) => server.printLogIfFailed(t))`.
   * Node sets `passed` on the test context (since 20.12); its type declarations do not say so yet.
   */
  printLogIfFailed(context: object): void {
    if ((context as { passed?: boolean }).passed === false)
      process.stderr.write(`--- redis-server :${this.port} output ---\n${this.logTail()}\n---\n`);
  }

  /** Kills the process and removes the temp dir. */
  async dispose(): Promise<void> {
    await this.kill();
    this.disposeSync();
  }

  /** For the exit hook: nothing asynchronous runs there. */
  disposeSync(): void {
    if (this.process) {
      this.process.kill('SIGKILL');
      this.process = undefined;
    }
    rmSync(this.dir, { recursive: true, force: true });
    live.delete(this);
  }

  private async signal(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    const child = this.process;
    if (!child) return;
    child.kill(signal);
    // A stopped process only acts on SIGTERM once it runs again.
    if (this.frozen) this.thaw();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), this.timeoutMs)));
    try {
      if ((await Promise.race([this.exited, timeout])) === 'timeout') {
        child.kill('SIGKILL');
        await this.exited;
      }
    } finally {
      clearTimeout(timer);
    }
  }
}

/** redis.conf lines for a TLS-only server (the client certificate is the one a test relay shows). */
function tlsConfig(port: number, tls: RedisServerTls): string[] {
  const { certificates } = tls;
  return [
    'port 0',
    `tls-port ${port}`,
    `tls-cert-file ${certificates.serverCertFile}`,
    `tls-key-file ${certificates.serverKeyFile}`,
    `tls-ca-cert-file ${certificates.caFile}`,
    `tls-auth-clients ${tls.authClients ? 'yes' : 'no'}`,
  ];
}

/** One inline PING over a fresh socket (TLS with `certificates`); resolves with the first reply line. */
function ping(port: number, certificates?: TestCertificates, timeoutMs = 1000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = certificates
      ? tlsConnect({
          host: '127.0.0.1',
          port,
          ca: readFileSync(certificates.caFile),
          cert: readFileSync(certificates.clientCertFile),
          key: readFileSync(certificates.clientKeyFile),
          // Whether it is up, not whom its certificate names: a test may give it a certificate for another name.
          checkServerIdentity: () => undefined,
        })
      : createConnection({ host: '127.0.0.1', port });
    let reply = '';
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error('PING timed out')));
    socket.once(certificates ? 'secureConnect' : 'connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      const end = reply.indexOf('\r\n');
      if (end < 0) return;
      socket.destroy();
      resolve(reply.slice(0, end));
    });
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('closed before a reply')));
  });
}
