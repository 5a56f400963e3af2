/**
 * Real processes for the deployment tests: relays from the bundle, nginx from a rendered
 * docker/nginx.conf, any command with a bound. Everything started here is killed when the test
 * process exits, even if a test forgot to stop it (relays: by test/support/relay-process).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderNginxConfig, readNginxTemplate, type NginxRenderOptions } from '../../relay/cli/cluster/nginx-config';
import { freePort, httpStatus } from '../../relay/cli/cluster/probes';
import { findBinary } from '../../relay/cli/cluster/processes';
import { ensureRelayBuilt, ROOT } from '../support/cli';
import { TEST_SECRET } from '../support/relay-fixture';
import { RelayProcess } from '../support/relay-process';
import { waitUntil } from '../support/wait';

export { freePort, ROOT, TEST_SECRET };

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) killTree(child, 'SIGKILL');
});

/** The path of a program the tests need; a missing one fails the test (never skips) and says what to install. */
export function requireBinary(name: string, debianPackage: string): string {
  try {
    return findBinary(name, undefined, '');
  } catch {
    throw new Error(`${name} is missing: run \`npm run test:all\` as root or with sudo (or apt-get install -y ${debianPackage})`);
  }
}

export interface CommandResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (killed after `timeoutMs`). */
export async function runCommand(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<CommandResult> {
  const child = spawn(command, args, { cwd: options.cwd ?? ROOT, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  try {
    const [status, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
    return { status, signal, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}

/** `node dist/relay.js ARGS` with exactly `env` (plus PATH and HOME unless given). */
export function runRelay(args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<CommandResult> {
  return runCommand(process.execPath, [ensureRelayBuilt(), ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    timeoutMs,
  });
}

/**
 * Relays from the bundle to put behind a proxy: each its RELAY_ID, all with TEST_SECRET (a token is
 * good on any of them) and trusting the proxy's forwarded headers; debug logs, for their records.
 */
export async function startRelays(ids: string[], settings: Record<string, string> = {}): Promise<RelayProcess[]> {
  ensureRelayBuilt();
  return Promise.all(
    ids.map((id) => RelayProcess.start({ RELAY_ID: id, AUTH_SECRET: TEST_SECRET, TRUST_PROXY: 'true', LOG_LEVEL: 'DEBUG', ...settings })),
  );
}

/** nginx running a rendered docker/nginx.conf, in the foreground, as this process's child. */
export class NginxProcess {
  private stderr = '';
  private readonly exited: Promise<void>;

  private constructor(
    readonly dir: string,
    readonly config: string,
    private readonly child: ChildProcess,
  ) {
    live.add(child);
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = once(child, 'exit').then(() => void live.delete(child));
  }

  /**
   * Renders the template (docker/nginx.conf unless given) into `dir` (nginx.conf, tmp/, logs/) and
   * starts nginx; `healthUrl` answers 200 when it is up.
   */
  static async start(
    dir: string,
    options: Omit<NginxRenderOptions, 'runDir' | 'logDir'>,
    healthUrl: (nginx: NginxProcess) => string | Promise<string>,
    template = readNginxTemplate(),
  ): Promise<NginxProcess> {
    const nginx = requireBinary('nginx', 'nginx');
    mkdirSync(join(dir, 'tmp'), { recursive: true });
    mkdirSync(join(dir, 'logs'), { recursive: true });
    const config = join(dir, 'nginx.conf');
    writeFileSync(config, renderNginxConfig(template, { ...options, runDir: dir, logDir: join(dir, 'logs') }));
    // Detached: its own process group, so a stop reaches the workers too.
    const child = spawn(nginx, ['-p', dir, '-c', config, '-e', join(dir, 'logs', 'nginx-error.log'), '-g', 'daemon off;'], {
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const instance = new NginxProcess(dir, config, child);
    const url = await healthUrl(instance);
    await waitUntil(
      async () => {
        if (child.exitCode !== null) throw new Error(`nginx exited during start-up: ${instance.stderr}`);
        return (await httpStatus(url, 1000)) !== 0;
      },
      'nginx to answer',
      20_000,
      50,
    );
    return instance;
  }

  get accessLog(): string {
    return join(this.dir, 'logs', 'nginx-access.log');
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    killTree(this.child, 'SIGTERM');
    const timer = setTimeout(() => killTree(this.child, 'SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }
}

function killTree(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}

/**
 * YAML as JSON, through Debian's python3-yaml (docker-compose depends on it): no YAML parser
 * among this project's own dependencies, and this one is what docker-compose itself uses.
 */
export async function parseYaml(text: string): Promise<unknown> {
  const python = '/usr/bin/python3';
  const child = spawn(python, ['-c', 'import sys, json, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin.end(text);
  const [status] = (await once(child, 'close')) as [number | null];
  if (status !== 0)
    throw new Error(`${python} could not parse YAML (apt-get install -y python3-yaml): ${stderr.trim().split('\n').at(-1)}`);
  return JSON.parse(stdout) as unknown;
}
