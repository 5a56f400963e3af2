/**
 * The cluster without Docker, from installed binaries: one redis-server (AOF), N relays of this
 * CLI's own script, nginx from docker/nginx.conf in front. Every process is detached, with its pid
 * in cluster.json and its output in logs/, so the cluster outlives `relay deploy` and is found
 * again by `status` and `stop`. Loopback only, except nginx's listener (`--host`).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ClusterState, claimState, type ProcessRecord, readState, removeState, writeState } from './cluster-state';
import { DeployError } from './deploy-error';
import { readNginxTemplate, renderNginxConfig } from './nginx-config';
import { freePort, httpGet, httpStatus, portProblem, redisPing } from './probes';
import { findBinary, groupMembers, isAlive, type Started, spawnDetached, type StopOutcome, stopGroup, waitUntil } from './processes';

export interface LocalUpOptions {
  /** The cluster's state dir (cluster.json, logs/, redis/, nginx/). */
  dir: string;
  relays: number;
  /** nginx listens here; everything else on 127.0.0.1. */
  host: string;
  port: number;
  /** Bound for each start-up step. */
  timeoutMs: number;
  secret: string;
  /** The relays' environment (their settings); deploy sets the ones that wire the cluster. */
  env: NodeJS.ProcessEnv;
  /** How to run a relay: `[node, ...execArgv, script]`, then `serve`. */
  relayCommand: string[];
  signal: AbortSignal;
}

const REDIS_HINT = "install Debian's redis-server package (sudo apt-get install redis-server), or deploy with Docker";
const NGINX_HINT = "install Debian's nginx package (sudo apt-get install nginx), or deploy with Docker";

/** Checks what can be checked before anything starts, then starts the cluster; all or nothing. */
export async function startLocalCluster(options: LocalUpOptions): Promise<ClusterState> {
  const { dir, env } = options;
  const existing = readState(dir);
  if (existing?.mode === 'docker')
    throw new DeployError(`a Docker cluster was deployed from ${dir}: stop it with \`relay deploy stop\` first`);
  const redisServer = findBinary('redis-server', env.REDIS_SERVER_BIN, REDIS_HINT);
  const nginx = findBinary('nginx', env.NGINX_BIN, NGINX_HINT);
  const state: ClusterState = {
    version: 1,
    mode: 'local',
    status: 'starting',
    deployer_pid: process.pid,
    started_at: new Date().toISOString(),
    dir,
    url: `http://${urlHost(probeHost(options.host))}:${options.port}`,
    processes: [],
  };
  // The lock first: with a cluster on --port, "already running" is the useful answer, not "busy".
  claimState(state);
  const started = new Launched(state);
  try {
    await checkPort(options.host, options.port);
    for (const sub of ['logs', 'redis', join('nginx', 'tmp')]) mkdirSync(join(dir, sub), { recursive: true });
    const ports = await distinctFreePorts(options.relays + 1);
    const redis = await startRedis(redisServer, ports[0]!, options, started);
    await Promise.all(ports.slice(1).map((port, index) => startRelay(index + 1, port, redis, options, started)));
    await startNginx(nginx, options, started);
    state.status = 'up';
    writeState(state);
    return state;
  } catch (error) {
    await Promise.all(started.records.map((record) => stopGroup(record.pid, record.marker, 5000).catch(() => undefined)));
    removeState(dir);
    throw error;
  }
}

async function checkPort(host: string, port: number): Promise<void> {
  const problem = await portProblem(host, port);
  if (problem === undefined) return;
  if (problem === 'EADDRINUSE') throw new DeployError(`port ${port} on ${host} is busy: choose another with --port`);
  if (problem === 'EACCES') throw new DeployError(`port ${port} on ${host} needs privileges: choose one above 1023 with --port`);
  if (problem === 'EADDRNOTAVAIL') throw new DeployError(`${host} is not an address of this machine: choose another with --host`);
  throw new DeployError(`cannot listen on ${host}:${port} (${problem})`);
}

async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

async function startRedis(binary: string, port: number, options: LocalUpOptions, started: Launched): Promise<ProcessRecord> {
  const dataDir = join(options.dir, 'redis');
  const conf = join(dataDir, 'redis.conf');
  // AOF fsynced every second: a crashed relay or redis-server loses nothing (the kernel has the
  // writes), a crashed machine at most a second of edits, which clients then resync.
  const lines = [
    `port ${port}`,
    'bind 127.0.0.1',
    'protected-mode yes',
    `dir "${dataDir}"`,
    'daemonize no',
    'logfile ""',
    'appendonly yes',
    'appendfsync everysec',
    // Document op logs and session streams must never be evicted to make room.
    'maxmemory-policy noeviction',
  ];
  writeFileSync(conf, lines.join('\n') + '\n');
  const log = join(options.dir, 'logs', 'redis.log');
  const record: ProcessRecord = {
    name: 'redis',
    kind: 'redis',
    pid: 0,
    marker: 'redis-server',
    port,
    url: `redis://127.0.0.1:${port}`,
    log,
  };
  const child = launch(binary, [conf], record, options, started, options.env);
  await waitReady(record, child, () => redisPing(port), options);
  return record;
}

async function startRelay(index: number, port: number, redis: ProcessRecord, options: LocalUpOptions, started: Launched): Promise<void> {
  const name = `relay-${index}`;
  const [command, ...args] = options.relayCommand as [string, ...string[]];
  const script = args.at(-1) ?? command;
  const record: ProcessRecord = {
    name,
    kind: 'relay',
    pid: 0,
    marker: script,
    port,
    url: `http://127.0.0.1:${port}`,
    log: join(options.dir, 'logs', `${name}.log`),
  };
  const env: NodeJS.ProcessEnv = {
    ...options.env,
    WS_HOST: '127.0.0.1',
    WS_PORT: String(port),
    REDIS_URL: redis.url,
    RELAY_ID: name,
    AUTH_SECRET: options.secret,
    // Behind nginx: client addresses, scheme and host come from its X-Forwarded-* headers.
    TRUST_PROXY: 'true',
  };
  const child = launch(command, [...args, 'serve'], record, options, started, env);
  await waitReady(record, child, async () => (await httpStatus(`${record.url}/health`)) === 200, options);
}

async function startNginx(binary: string, options: LocalUpOptions, started: Launched): Promise<void> {
  const runDir = join(options.dir, 'nginx');
  const logDir = join(options.dir, 'logs');
  const conf = join(runDir, 'nginx.conf');
  const relays = started.records.filter((record) => record.kind === 'relay').map((record) => `127.0.0.1:${record.port}`);
  writeFileSync(
    conf,
    renderNginxConfig(readNginxTemplate(), { relays, listen: { host: options.host, port: options.port }, runDir, logDir }),
  );
  const errorLog = join(logDir, 'nginx-error.log');
  const base = ['-p', runDir, '-c', conf, '-e', errorLog];
  const test = spawnSync(binary, [...base, '-t', '-q'], { encoding: 'utf8', timeout: options.timeoutMs });
  if (test.status !== 0) {
    const reason = (test.stderr || test.error?.message || '').split('\n').find((line) => line.includes('[emerg]')) ?? test.stderr.trim();
    throw new DeployError(`nginx refused the generated ${conf}: ${reason}`);
  }
  const record: ProcessRecord = {
    name: 'nginx',
    kind: 'nginx',
    pid: 0,
    marker: 'nginx',
    port: options.port,
    url: `http://${urlHost(probeHost(options.host))}:${options.port}`,
    log: errorLog,
  };
  // In the foreground (daemon off): the pid we record is the master's, its workers in its group.
  const output = join(logDir, 'nginx.log');
  const child = launch(binary, [...base, '-g', 'daemon off;'], record, options, started, options.env, output);
  await waitReady(record, child, async () => (await httpStatus(`${record.url}/health`)) === 200, options, [errorLog, output]);
}

function launch(
  command: string,
  args: string[],
  record: ProcessRecord,
  options: LocalUpOptions,
  started: Launched,
  env: NodeJS.ProcessEnv,
  output = record.log,
): Started {
  const child = spawnDetached(command, args, { logFile: output, env, cwd: options.dir });
  record.pid = child.pid;
  started.add(record);
  return child;
}

/**
 * What has been started so far, written to cluster.json at once: if this CLI dies mid-start
 * (SIGKILL, a crash), `relay deploy stop` still finds every process.
 */
class Launched {
  readonly records: ProcessRecord[] = [];

  constructor(private readonly state: ClusterState) {}

  add(record: ProcessRecord): void {
    this.records.push(record);
    this.state.processes = [...this.records];
    writeState(this.state);
  }
}

/** Waits for `ready`; a process that exits first, or never gets ready, fails with the last line it logged. */
async function waitReady(
  record: ProcessRecord,
  child: Started,
  ready: () => Promise<boolean>,
  options: LocalUpOptions,
  logs = [record.log],
): Promise<void> {
  let exited = false;
  const ok = await waitUntil(
    async () => {
      if (child.exit) return (exited = true);
      return ready();
    },
    options.timeoutMs,
    options.signal,
  );
  if (ok && !exited) return;
  const why = exited
    ? `exited during start-up (${child.exit?.signal ?? `code ${child.exit?.code}`})`
    : `was not ready within ${options.timeoutMs} ms`;
  const log = logs.find((path) => lastLine(path) !== undefined) ?? record.log;
  throw new DeployError(`${record.name} ${why}: ${lastLine(log) ?? '(no output)'} (log: ${log})`);
}

function lastLine(path: string): string | undefined {
  try {
    const last = readFileSync(path, 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean)
      .at(-1);
    return last && last.length > 300 ? `${last.slice(0, 300)}...` : last;
  } catch {
    return undefined;
  }
}

export interface ProcessStatus {
  name: string;
  pid: number;
  up: boolean;
  url: string;
  /** HTTP status of /health (relays, nginx), or PING answered (redis) as 200. 0: no answer. */
  health: number;
}

export interface LocalStatus {
  state: ClusterState;
  processes: ProcessStatus[];
  /** GET /health through nginx: the service as clients see it. */
  health: { status: number; body: string };
}

export async function localStatus(state: ClusterState): Promise<LocalStatus> {
  const processes = await Promise.all(
    state.processes.map(async (record): Promise<ProcessStatus> => {
      const up = record.kind === 'nginx' ? groupMembers(record.pid, record.marker).length > 0 : isAlive(record.pid, record.marker);
      const health = !up
        ? 0
        : record.kind === 'redis'
          ? (await redisPing(record.port))
            ? 200
            : 0
          : await httpStatus(`${record.url}/health`);
      return { name: record.name, pid: record.pid, up, url: record.url, health };
    }),
  );
  const nginx = state.processes.find((record) => record.kind === 'nginx');
  const health = nginx
    ? await httpGet(`${nginx.url}/health`).catch((error: Error) => ({ status: 0, body: error.message }))
    : { status: 0, body: '' };
  return { state, processes, health };
}

/**
 * Stops relays first (they tell their clients `disconnect`, reason shutdown, and drain), then
 * nginx, then Redis (which the draining relays still use; SIGTERM makes it flush the AOF).
 * Logs and Redis data stay for the next deploy; `purge` removes the whole state dir.
 */
export async function stopLocalCluster(
  state: ClusterState,
  timeoutMs: number,
  purge: boolean,
): Promise<Array<{ name: string; outcome: StopOutcome }>> {
  const stop = (record: ProcessRecord) =>
    stopGroup(record.pid, record.marker, timeoutMs).then((outcome) => ({ name: record.name, outcome }));
  const ofKind = (kind: ProcessRecord['kind']) => state.processes.filter((record) => record.kind === kind);
  const outcomes = [
    ...(await Promise.all(ofKind('relay').map(stop))),
    ...(await Promise.all(ofKind('nginx').map(stop))),
    ...(await Promise.all(ofKind('redis').map(stop))),
  ];
  removeState(state.dir);
  rmSync(join(state.dir, 'nginx'), { recursive: true, force: true });
  if (purge) rmSync(state.dir, { recursive: true, force: true });
  return outcomes;
}

/** A URL's host part: IPv6 in brackets. */
function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** Where to reach a listener bound to `host` from this machine (a wildcard is reached on loopback). */
function probeHost(host: string): string {
  return host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
}
