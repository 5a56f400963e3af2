/**
 * The real relay as a child process (`node dist/relay.js serve`), on a fixed free loopback port so
 * that it can be killed (SIGKILL: a crash, its in-memory state gone) and started again where its
 * clients reconnect. For node tests and, bundled by esbuild, for extension-host suites: so only
 * node built-ins and bundleable modules in here (test/support/cli.ts finds the repo from its own
 * __dirname, wrong once bundled, so node tests call its ensureRelayBuilt() themselves; the
 * extension-host runner builds first).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { mintToken, type MintOptions } from '../../relay/auth/tokens';
import { freePort } from '../../relay/cli/cluster/probes';
import { within } from './wait';

/** The repo root, found upwards: suites run bundled from out/test/extension-host/suites/, node tests from test/. */
export const REPO_ROOT = (() => {
  let dir = __dirname;
  while (!existsSync(join(dir, 'relay', 'cli', 'main.ts')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
})();

const RELAY_BUNDLE = join(REPO_ROOT, 'dist', 'relay.js');
/** Only the output's tail is kept: enough to explain a failure and to read a test's log records. */
const LOG_LIMIT = 1024 * 1024;
const START_TIMEOUT_MS = 20_000;
/** How long `stop` waits for a graceful exit before it kills. */
const STOP_TIMEOUT_MS = 10_000;

export interface RelayExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

// A test that fails before its cleanup must not leave relays behind it.
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export class RelayProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<RelayExit> | undefined;
  private output = '';
  private relayId = '';

  private constructor(
    readonly port: number,
    readonly secret: string,
    private readonly settings: Record<string, string>,
    /** Options for node itself, before the bundle (e.g. a benchmark's `--cpu-prof`, which NODE_OPTIONS may not carry). */
    private readonly nodeArgs: readonly string[] = [],
  ) {}

  /**
   * Starts a relay with these settings (environment variable names, over test defaults) and waits
   * until it listens. AUTH_SECRET is random unless given (relays of one cluster need the same).
   */
  static async start(settings: Record<string, string> = {}, nodeArgs: readonly string[] = []): Promise<RelayProcess> {
    const relay = new RelayProcess(await freePort(), settings.AUTH_SECRET ?? randomBytes(24).toString('hex'), settings, nodeArgs);
    await relay.launch();
    return relay;
  }

  /** Its id (RELAY_ID, or the one it generated), as it logged it on its last start. */
  get id(): string {
    return this.relayId;
  }
  /** The running process's id (undefined when stopped), e.g. to sample its memory and CPU. */
  get pid(): number | undefined {
    return this.child?.pid;
  }
  /** host:port, for a proxy's upstream list. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }
  get httpUrl(): string {
    return `http://${this.address}`;
  }
  /** The WebSocket endpoint (what `TestRelay.url` is for an in-process relay). */
  get url(): string {
    return `ws://${this.address}/ws`;
  }
  /** The output's tail (of every start so far), for a failure message. */
  get log(): string {
    return this.output;
  }

  /** The JSON log records in the output's tail, optionally only those with this `msg`. */
  records(message?: string): Array<Record<string, unknown>> {
    const records = parseRecords(this.output);
    return message === undefined ? records : records.filter((record) => record.msg === message);
  }

  /** A token this relay accepts: an editor of session s1 unless the claims say otherwise. */
  token(claims: Partial<MintOptions> & { user: string }): string {
    return mintToken(this.secret, { sessions: ['s1'], role: 'editor', ttl: '10m', ...claims });
  }

  /** A crash: SIGKILL, and waits for the exit. */
  async kill(): Promise<void> {
    await this.end('SIGKILL');
  }

  /** Starts it again on the same port and settings (in-memory state is gone, as after a crash). */
  async restart(): Promise<void> {
    await this.kill();
    await this.launch();
  }

  /** Graceful: the signal (the relay drains its connections), SIGKILL if it has not exited within 10 s. */
  async stop(signal: 'SIGTERM' | 'SIGINT' = 'SIGTERM'): Promise<RelayExit | undefined> {
    return this.end(signal);
  }

  /** Signals the running child (if it has not exited already) and returns how it exited; undefined if none. */
  private async end(signal: NodeJS.Signals): Promise<RelayExit | undefined> {
    const { child, exited } = this;
    if (!child || !exited) return undefined;
    this.child = undefined;
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    try {
      return await exited;
    } finally {
      clearTimeout(timer);
    }
  }

  private async launch(): Promise<void> {
    if (this.child) throw new Error(`the relay on port ${this.port} is already running`);
    if (!existsSync(RELAY_BUNDLE)) throw new Error(`${RELAY_BUNDLE} is missing: build it first (node scripts/build.mjs)`);
    const child = spawn(process.execPath, [...this.nodeArgs, RELAY_BUNDLE, 'serve'], {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        // In an extension host, process.execPath may be Electron: this makes it plain Node.
        ELECTRON_RUN_AS_NODE: '1',
        AUTH_SECRET: this.secret,
        LOG_LEVEL: 'info',
        SHUTDOWN_TIMEOUT_MS: '1000',
        ...this.settings,
        WS_HOST: '127.0.0.1',
        WS_PORT: String(this.port),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    live.add(child);
    const exited = new Promise<RelayExit>((resolve) =>
      child.once('exit', (code, signal) => {
        live.delete(child);
        resolve({ code, signal });
      }),
    );
    this.exited = exited;
    const append = (chunk: Buffer) => (this.output = (this.output + chunk.toString()).slice(-LOG_LIMIT));
    child.stdout!.on('data', append);
    child.stderr!.on('data', append);
    const listening = new Promise<string>((resolve, reject) => {
      let own = ''; // this start's output (the log may hold an earlier one's)
      const watch = (chunk: Buffer) => {
        own += chunk.toString();
        if (!own.includes('"relay listening"')) return;
        const record = parseRecords(own).find((r) => r.msg === 'relay listening');
        if (!record) return; // its line is not complete yet
        child.stdout!.off('data', watch);
        resolve(String(record.relay));
      };
      child.stdout!.on('data', watch);
      void exited.then(({ code, signal }) => reject(new Error(`the relay exited (${code ?? signal}) before listening`)));
    });
    try {
      this.relayId = await within(listening, START_TIMEOUT_MS, `the relay on port ${this.port} to listen`);
    } catch (error) {
      await this.kill();
      throw new Error(`${(error as Error).message}:\n${this.output}`);
    }
  }
}

/** The JSON lines of `text`; anything else (or a line cut by the tail) is skipped. */
function parseRecords(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
}
