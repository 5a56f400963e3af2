/**
 * A real relay for extension-host suites and end-to-end tests: the built bundle (`dist/relay.js serve`, made by
 * `npm run build`, which the runner does first) as a child of the extension host, on a fixed free
 * loopback port so that it can be killed and started again where clients will find it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';

/** The repo root, found upwards: suites run bundled from out/test/extension-host/suites/, node tests from test/. */
export const REPO_ROOT = (() => {
  let dir = __dirname;
  while (!existsSync(join(dir, 'relay', 'cli', 'main.ts')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
})();

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export class RelayProcess {
  private child: ChildProcess | undefined;
  private output = '';

  private constructor(
    readonly port: number,
    readonly secret: string,
    private readonly env: Record<string, string>,
  ) {}

  static async start(env: Record<string, string> = {}): Promise<RelayProcess> {
    const relay = new RelayProcess(await freePort(), randomBytes(24).toString('hex'), env);
    await relay.launch();
    return relay;
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }
  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}/ws`;
  }
  /** What the relay logged, for failure messages. */
  get log(): string {
    return this.output;
  }

  /** Kills it abruptly (SIGKILL): clients see the connection drop. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }

  /** Starts it again on the same port (in-memory state is gone, as after a crash). */
  async restart(): Promise<void> {
    await this.kill();
    await this.launch();
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }

  private async launch(): Promise<void> {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'dist', 'relay.js'), 'serve'], {
      env: {
        PATH: process.env.PATH ?? '',
        ELECTRON_RUN_AS_NODE: '1',
        AUTH_SECRET: this.secret,
        WS_HOST: '127.0.0.1',
        WS_PORT: String(this.port),
        LOG_LEVEL: 'info',
        SHUTDOWN_TIMEOUT_MS: '500',
        ...this.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const listening = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the relay did not start within 15 s:\n${this.output}`)), 15_000);
      const onData = (chunk: Buffer) => {
        this.output += chunk.toString();
        if (this.output.includes('"relay listening"')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the relay exited with ${code}:\n${this.output}`));
      });
    });
    await listening;
  }
}
