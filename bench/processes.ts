import { type ChildProcess, fork, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { build } from 'esbuild';
import { inspectorUrl } from './inspector';
import type { FromLoadgen, ToLoadgen } from './ipc';

/**
 * The processes of a bench run: the server under test (the relay's bundle, or the plain `ws`
 * baseline) and the load generators. Everything runs as plain `node` on bundles (no tsx on a
 * hot path), and every child is killed when the bench ends, however it ends.
 */

const root = resolve(__dirname, '..');
/** `npm run build`'s bundle, or another (e.g. a patched relay, to measure a fix) named by BENCH_RELAY_BUNDLE. */
export const relayBundle = process.env.BENCH_RELAY_BUNDLE ? resolve(process.env.BENCH_RELAY_BUNDLE) : join(root, 'dist', 'relay.js');

const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});
// Signals end the bench through 'exit', so its children go with it.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

export interface Bundles {
  plainServer: string;
  loadgen: string;
  dispose(): void;
}

/** Compiles the baseline server and the load generator to a temporary folder. */
export async function bundleBenchProcesses(): Promise<Bundles> {
  const { files, dispose } = await bundleEntries({
    plainServer: join(__dirname, 'plain-ws-server.ts'),
    loadgen: join(__dirname, 'loadgen.ts'),
  });
  return { ...files, dispose };
}

/**
 * Compiles each entry (name -> .ts path) to `<name>.js` in a temporary folder that goes with the
 * bench however it ends: the processes then run as plain `node`, with no tsx on a hot path.
 */
export async function bundleEntries<K extends string>(entries: Record<K, string>): Promise<{ files: Record<K, string>; dispose(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-bench-'));
  tempDirs.add(dir);
  const files = {} as Record<K, string>;
  await Promise.all(
    (Object.entries(entries) as Array<[K, string]>).map(([name, entry]) => {
      files[name] = join(dir, `${name}.js`);
      return build({
        entryPoints: [entry],
        outfile: files[name],
        bundle: true,
        platform: 'node',
        target: 'node20',
        format: 'cjs',
        logLevel: 'error',
      });
    }),
  );
  return {
    files,
    dispose: () => {
      rmSync(dir, { recursive: true, force: true });
      tempDirs.delete(dir);
    },
  };
}

export interface ServerProcess {
  name: string;
  pid: number;
  /** `ws://127.0.0.1:PORT/ws` */
  url: string;
  /** The last lines it printed, for error reports. */
  output: string[];
  /** Set once a server started with `--inspect` has printed it. */
  inspectorUrl?: string;
  stop(): Promise<void>;
}

export interface ServerLaunch {
  name: string;
  args: string[];
  env: Record<string, string>;
  /** Finds the WebSocket URL in one line of the server's output. */
  readUrl(line: string): string | undefined;
  timeoutMs: number;
}

export function startServer(launch: ServerLaunch): Promise<ServerProcess> {
  const child = track(spawn(process.execPath, launch.args, { env: { ...process.env, ...launch.env }, stdio: ['ignore', 'pipe', 'pipe'] }));
  const output: string[] = [];
  const remember = (line: string) => {
    output.push(line);
    if (output.length > 20) output.shift();
  };
  const server: ServerProcess = { name: launch.name, pid: child.pid!, url: '', output, stop: () => stopChild(child, 5000) };
  createInterface({ input: child.stderr! }).on('line', (line) => {
    remember(line);
    server.inspectorUrl ??= inspectorUrl(line);
  });
  const lines = createInterface({ input: child.stdout! });
  return new Promise((resolvePromise, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${launch.name}: ${why}\n${output.join('\n')}`));
    };
    const onExit = (code: number | null, signal: string | null) => fail(`exited (${signal ?? code}) before listening`);
    const timer = setTimeout(() => fail(`not listening after ${launch.timeoutMs} ms`), launch.timeoutMs);
    child.once('exit', onExit);
    lines.on('line', (line) => {
      remember(line);
      const url = server.url ? undefined : launch.readUrl(line);
      if (!url) return;
      clearTimeout(timer);
      child.off('exit', onExit);
      server.url = url;
      resolvePromise(server);
    });
  });
}

/** SIGTERM (unless it was asked to exit another way), then SIGKILL if it has not exited within `graceMs`. */
export function stopChild(child: ChildProcess, graceMs: number, terminate = true): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolvePromise) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolvePromise();
    });
    if (terminate) child.kill('SIGTERM');
  });
}

type Message = { type: string };
type Reply<M extends Message, T extends M['type']> = Extract<M, { type: T }>;

/**
 * A load generator process, asked one thing at a time over IPC. The message types default to
 * `loadgen.ts`'s; other generators (e.g. the scale-out bench's reconnecting clients) bring their
 * own, with the same conventions: a `fatal` reply ends it, `exit` asks it to leave.
 */
export class LoadgenProcess<To extends Message = ToLoadgen, From extends Message = FromLoadgen> {
  private readonly child: ChildProcess;
  private waiting: { type: string; resolve: (message: From) => void; reject: (error: Error) => void } | undefined;
  private exited: Error | undefined;

  constructor(
    bundle: string,
    readonly name: string,
  ) {
    const prof = process.env.BENCH_LOADGEN_PROF ? ['--cpu-prof', `--cpu-prof-dir=${resolve(process.env.BENCH_LOADGEN_PROF)}`] : [];
    this.child = track(fork(bundle, [], { execArgv: prof, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
    this.child.on('message', (message: From) => {
      const waiting = this.waiting;
      if (message.type === 'fatal') return this.fail(new Error(`${name}: ${(message as { message?: string }).message}`));
      if (!waiting || waiting.type !== message.type) return;
      this.waiting = undefined;
      waiting.resolve(message);
    });
    this.child.once('exit', (code, signal) => this.fail(new Error(`${name} exited (${signal ?? code})`)));
  }

  get pid(): number {
    return this.child.pid!;
  }

  request<T extends From['type']>(message: To, reply: T, timeoutMs: number): Promise<Reply<From, T>> {
    if (this.exited) return Promise.reject(this.exited);
    if (this.waiting) return Promise.reject(new Error(`${this.name}: already waiting for "${this.waiting.type}"`));
    return new Promise((resolvePromise, reject) => {
      const timer = setTimeout(() => {
        this.waiting = undefined;
        reject(new Error(`${this.name}: no "${reply}" within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting = {
        type: reply,
        resolve: (answer) => {
          clearTimeout(timer);
          resolvePromise(answer as Reply<From, T>);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.child.send(message);
    });
  }

  private fail(error: Error): void {
    this.exited ??= error;
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.reject(error);
  }

  async stop(): Promise<void> {
    const asked = this.child.connected;
    if (asked) this.child.send({ type: 'exit' });
    await stopChild(this.child, 3000, !asked);
  }
}

/** Generous limits: the benches measure throughput, not the relay's protections. */
export function benchRelayEnv(secret: string): Record<string, string> {
  return {
    NODE_ENV: 'production',
    // Production wants to know which host links may name; the benches make none.
    ALLOWED_HOSTS: '127.0.0.1',
    WS_HOST: '127.0.0.1',
    WS_PORT: '0',
    AUTH_SECRET: secret,
    // Info: its 'relay listening' line carries the port. Nothing on the hot path logs at info.
    LOG_LEVEL: 'info',
    WS_MAX_MESSAGES_PER_SECOND: '1000000',
    WS_MAX_CONNECTIONS_PER_IP_PER_MINUTE: '10000000',
    WS_MAX_CONNECTIONS: '100000',
    WS_MAX_BUFFERED_BYTES: String(64 * 1024 * 1024),
    SHUTDOWN_TIMEOUT_MS: '1000',
  };
}

/** The bundled relay (`node dist/relay.js serve`); its URL comes from its 'relay listening' log line. */
export function relayLaunch(env: Record<string, string>, nodeArgs: string[] = []): ServerLaunch {
  // BENCH_RELAY_PROF=dir writes a CPU profile of each relay there (open it in Chrome DevTools).
  const prof = process.env.BENCH_RELAY_PROF ? ['--cpu-prof', `--cpu-prof-dir=${resolve(process.env.BENCH_RELAY_PROF)}`] : [];
  // BENCH_RELAY_NODE_ARGS="--max-semi-space-size=32": node flags for experiments with the relay.
  prof.push(...(process.env.BENCH_RELAY_NODE_ARGS ?? '').split(' ').filter(Boolean));
  return {
    name: 'relay',
    args: [...prof, ...nodeArgs, relayBundle, 'serve'],
    env,
    readUrl: (line) => {
      try {
        const record = JSON.parse(line) as { msg?: string; url?: string };
        return record.msg === 'relay listening' ? record.url : undefined;
      } catch {
        return undefined;
      }
    },
    timeoutMs: 10_000,
  };
}

/** A baseline server bundle that prints `{"listening":PORT}` once it listens. */
export function baselineLaunch(name: string, bundle: string, nodeArgs: string[] = []): ServerLaunch {
  return {
    name,
    args: [...nodeArgs, bundle],
    env: { WS_HOST: '127.0.0.1', WS_PORT: '0' },
    readUrl: (line) => {
      const match = /^\{"listening":(\d+)\}$/.exec(line.trim());
      return match ? `ws://127.0.0.1:${match[1]}/ws` : undefined;
    },
    timeoutMs: 10_000,
  };
}
