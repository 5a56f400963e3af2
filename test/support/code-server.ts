/**
 * A real VS Code (code-server 4.100.3, VS Code 1.100.3) for extension-host tests: one process per
 * call, on a free loopback port, with a user-data dir and extensions dir of its own. The install is
 * made by `node scripts/install-code-server.mjs` (see notes/vscode-under-test.md).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from './wait';
import { freePort } from '../../relay/cli/cluster/probes';

export const CODE_SERVER_VERSION = '4.100.3';

/** Same rule as scripts/install-code-server.mjs (kept in step by hand: that one is plain JS). */
export function codeServerDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TANDEM_CODE_SERVER_DIR) return env.TANDEM_CODE_SERVER_DIR;
  const cache = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(cache, 'tandem', `code-server-${CODE_SERVER_VERSION}`);
}

/**
 * code-server's entry.js; throws, saying how to install it, when the install is missing or
 * unfinished (no marker): a missing VS Code fails the test, it never skips it.
 */
export function codeServerEntry(env: NodeJS.ProcessEnv = process.env): string {
  const dir = codeServerDir(env);
  const entry = join(dir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
  if (!installComplete(dir) || !existsSync(entry)) {
    throw new Error(
      `code-server ${CODE_SERVER_VERSION} is not installed (for Node ${process.version}) in ${dir}: run \`node ` +
        `scripts/install-code-server.mjs\` (or \`npm run test:all\`, which installs it)`,
    );
  }
  return entry;
}

/** The install script's marker, written last; its ABI must be this Node's (native modules). */
function installComplete(dir: string): boolean {
  try {
    const marker = JSON.parse(readFileSync(join(dir, '.tandem-install-complete'), 'utf8')) as { version?: string; modules?: string };
    return marker.version === CODE_SERVER_VERSION && marker.modules === process.versions.modules;
  } catch {
    return false;
  }
}

/** Settings that keep a test window quiet: no trust prompt, welcome page, update or experiment traffic. */
const BASE_SETTINGS: Record<string, unknown> = {
  'security.workspace.trust.enabled': false,
  'workbench.startupEditor': 'none',
  'workbench.enableExperiments': false,
  'workbench.tips.enabled': false,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
};

export interface CodeServerOptions {
  /** Folder the window opens (absolute). */
  folder: string;
  /** Merged over the quiet defaults into `User/settings.json`. */
  settings?: Record<string, unknown>;
  /** Added to the environment; the extension host inherits it (how tests get a results path). */
  env?: Record<string, string>;
  /** How long to wait for the first HTTP answer; a busy 2-core machine needs several seconds. */
  startTimeoutMs?: number;
  /** A .vsix to install into this server's extensions dir first, as a user would. */
  vsix?: string;
}

/** Highest number of log characters kept: enough for a failure report, bounded on a chatty run. */
const LOG_LIMIT = 1_000_000;

export class CodeServer {
  private output = '';
  private stopped: Promise<void> | undefined;
  readonly exited: Promise<void>;

  constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    readonly folder: string,
    /** Removed by stop(): user-data and extensions dirs, and its XDG and temp dirs. */
    private readonly tempRoot: string,
  ) {
    const append = (chunk: string) => {
      this.output += chunk;
      if (this.output.length > LOG_LIMIT) this.output = `[...]\n${this.output.slice(-LOG_LIMIT / 2)}`;
    };
    child.stdout?.setEncoding('utf8').on('data', append);
    child.stderr?.setEncoding('utf8').on('data', append);
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    // Started detached, code-server would outlive a test process that exits without stop() (an
    // uncaught error, process.exit): kill its group then, synchronously, as 'exit' requires.
    process.once('exit', this.killOnExit);
    void this.exited.then(() => process.off('exit', this.killOnExit));
  }

  private readonly killOnExit = () => {
    try {
      if (this.child.pid !== undefined) process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  };

  /** `http://127.0.0.1:PORT`, no trailing slash. */
  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Everything code-server printed so far (print it when a test fails). */
  log(): string {
    return this.output;
  }

  /**
   * The extension's own log (its `Tandem` output channel) from every extension host this server
   * started, oldest first: a window that reloads gets a new one. Read it before stop().
   */
  extensionLog(): string {
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.name === 'Tandem.log') files.push(path);
      }
    };
    const logs = join(this.tempRoot, 'user-data', 'logs');
    if (existsSync(logs)) walk(logs);
    return files
      .sort()
      .map((file) => `--- ${file.slice(logs.length + 1)}\n${readFileSync(file, 'utf8')}`)
      .join('\n');
  }

  /**
   * Kills code-server and its children (extension host, pty host, file watcher: one process
   * group, since it was started detached), then removes its temp dirs. Safe to call twice.
   */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      await killGroup(this.child, this.exited);
      rmSync(this.tempRoot, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    })();
    return this.stopped;
  }
}

async function killGroup(child: ChildProcess, exited: Promise<void>): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-pid, name);
    } catch {
      // The group is already gone.
    }
  };
  signal('SIGTERM');
  // code-server shuts its children down on SIGTERM; whatever is left after 5 s is killed.
  const graceful = await Promise.race([exited.then(() => true), sleep(5000).then(() => false)]);
  // Children can outlive the leader: a KILL to the whole group is cheap and final.
  signal('SIGKILL');
  if (!graceful) await Promise.race([exited, sleep(2000)]);
}

/** Starts code-server on a free loopback port and resolves once it answers HTTP. */
export async function startCodeServer(options: CodeServerOptions): Promise<CodeServer> {
  const entry = codeServerEntry();
  // Another process can take the port between freePort() and code-server's listen: try again then.
  for (let attempt = 1; ; attempt++) {
    const server = spawnCodeServer(entry, await freePort(), options);
    try {
      await waitForHttp(server, options.startTimeoutMs ?? 60_000);
      return server;
    } catch (error) {
      const log = server.log();
      await server.stop();
      if (attempt < 3 && log.includes('EADDRINUSE')) continue;
      throw new Error(`${(error as Error).message}\n--- code-server log ---\n${log}`);
    }
  }
}

function spawnCodeServer(entry: string, port: number, options: CodeServerOptions): CodeServer {
  const tempRoot = mkdtempSync(join(tmpdir(), 'tandem-code-server-'));
  const userDataDir = join(tempRoot, 'user-data');
  const extensionsDir = join(tempRoot, 'extensions');
  mkdirSync(join(userDataDir, 'User'), { recursive: true });
  mkdirSync(extensionsDir);
  // code-server and VS Code also write outside the user-data dir: a config.yaml with a password
  // (~/.config), logs and a heartbeat (~/.local/share), a device id (~/.cache) and IPC sockets for
  // every extension host and the git extension (/tmp). Kept in tempRoot, they go with stop().
  const home = { XDG_CONFIG_HOME: 'config', XDG_DATA_HOME: 'data', XDG_CACHE_HOME: 'cache', TMPDIR: 'tmp' };
  const homeEnv = Object.fromEntries(Object.entries(home).map(([name, dir]) => [name, join(tempRoot, dir)]));
  for (const dir of Object.values(homeEnv)) mkdirSync(dir);
  writeFileSync(join(userDataDir, 'User', 'settings.json'), JSON.stringify({ ...BASE_SETTINGS, ...options.settings }, null, 2));
  if (options.vsix) {
    const installed = spawnSync(
      process.execPath,
      [entry, '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir, '--install-extension', options.vsix],
      {
        env: { ...process.env, ...homeEnv, NO_COLOR: '1' },
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    if (installed.status !== 0 || !/successfully installed/.test(installed.stdout)) {
      throw new Error(`code-server could not install ${options.vsix}: ${installed.stdout}${installed.stderr}`);
    }
  }
  const args = [
    entry,
    '--auth',
    'none',
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--user-data-dir',
    userDataDir,
    '--extensions-dir',
    extensionsDir,
    '--disable-telemetry',
    '--disable-update-check',
    options.folder,
  ];
  const child = spawn(process.execPath, args, {
    // Its own process group, so stop() reaches the extension host and other children too.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Keeps colour codes out of the captured log (it is read in CI output and artifact files).
    env: { ...process.env, ...homeEnv, ...options.env, NO_COLOR: '1', FORCE_COLOR: '0' },
  });
  return new CodeServer(child, port, options.folder, tempRoot);
}

async function waitForHttp(server: CodeServer, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = 'no answer yet';
  while (Date.now() < deadline) {
    if (!server.running) throw new Error('code-server exited before answering HTTP');
    try {
      // /healthz is code-server's own liveness endpoint: it answers once the HTTP server is up.
      const response = await fetch(`${server.origin}/healthz`, { signal: AbortSignal.timeout(2000) });
      await response.arrayBuffer();
      if (response.ok) return;
      lastError = `HTTP ${response.status}`;
    } catch (error) {
      lastError = (error as Error).message;
    }
    await sleep(200);
  }
  throw new Error(`code-server did not answer HTTP on ${server.origin} within ${timeoutMs} ms (${lastError})`);
}

export interface WorkbenchUrlOptions {
  /** Absolute path of the extension under development (the repo root: its package.json). */
  extensionDevelopmentPath: string;
  /** Absolute path of the tests module (`run()`), without or with `.js`. */
  extensionTestsPath: string;
  /** Folder to open; defaults to the one code-server was started with. */
  folder?: string;
}

/**
 * The workbench URL that loads a development extension and runs a tests module, the way VS Code's
 * own browser integration tests do: a `payload` of [name, value] pairs. The paths are remote
 * (`vscode-remote://HOST:PORT/abs/path`): the extension host runs on the server side.
 */
export function workbenchUrl(server: CodeServer, options: WorkbenchUrlOptions): string {
  const remote = (path: string) => `vscode-remote://127.0.0.1:${server.port}${path}`;
  const payload = [
    ['extensionDevelopmentPath', remote(options.extensionDevelopmentPath)],
    ['extensionTestsPath', remote(options.extensionTestsPath)],
    ['skipWelcome', 'true'],
  ];
  const folder = encodeURIComponent(options.folder ?? server.folder);
  return `${server.origin}/?folder=${folder}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
}
