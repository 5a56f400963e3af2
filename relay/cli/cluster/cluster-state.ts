/**
 * cluster.json in the cluster's state dir: what `relay deploy` started (pids, ports, logs), read
 * by `status` and `stop`. Created exclusively, so it is also the lock against a second deploy.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeployError } from './deploy-error';
import { isAlive } from './processes';

export interface ProcessRecord {
  /** `redis`, `relay-1`, ..., `nginx` */
  name: string;
  kind: 'redis' | 'relay' | 'nginx';
  pid: number;
  /** Part of the process's command line: tells our process from a later one with the same pid. */
  marker: string;
  port: number;
  /** http:// (relays, nginx) or redis:// */
  url: string;
  log: string;
}

export interface ClusterState {
  version: 1;
  mode: 'local' | 'docker';
  status: 'starting' | 'up';
  /** The `relay deploy` process that wrote this; it holds the lock while `starting`. */
  deployer_pid: number;
  started_at: string;
  dir: string;
  /** What clients use: http://host:port (nginx). */
  url?: string;
  processes: ProcessRecord[];
  /** Docker mode: how to reach the compose project again. */
  compose?: { command: string[]; file: string; cert_dir: string };
}

/** A marker for the deploying CLI's own pid (its command line has `deploy`). */
const DEPLOYER_MARKER = 'deploy';

export function statePath(dir: string): string {
  return join(dir, 'cluster.json');
}

export function readState(dir: string): ClusterState | undefined {
  let text: string;
  try {
    text = readFileSync(statePath(dir), 'utf8');
  } catch {
    return undefined;
  }
  try {
    return JSON.parse(text) as ClusterState;
  } catch {
    throw new DeployError(`${statePath(dir)} is not valid JSON: remove it once no cluster runs`);
  }
}

/** Whether the `relay deploy` that wrote a `starting` state is still at it. */
export function deployerRunning(state: ClusterState): boolean {
  return state.status === 'starting' && state.deployer_pid !== process.pid && isAlive(state.deployer_pid, DEPLOYER_MARKER);
}

/** Whether anything the state names still runs (or its deploy is still starting it). */
export function stateIsLive(state: ClusterState): boolean {
  if (state.mode === 'docker') return true;
  if (deployerRunning(state)) return true;
  return state.processes.some((record) => isAlive(record.pid, record.marker));
}

/**
 * Takes the lock: writes `state` only if no cluster.json exists. A stale one (nothing it names
 * runs any more: a crash, a reboot) is replaced; a live one is a clear error.
 */
export function claimState(state: ClusterState): void {
  mkdirSync(state.dir, { recursive: true, mode: 0o700 });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(statePath(state.dir), JSON.stringify(state, null, 2) + '\n', { flag: 'wx', mode: 0o600 });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const existing = readState(state.dir);
    if (existing && stateIsLive(existing)) throw alreadyRunning(existing);
    rmSync(statePath(state.dir), { force: true });
  }
  throw new DeployError(`could not claim ${statePath(state.dir)}: another deploy is starting`);
}

export function alreadyRunning(state: ClusterState): DeployError {
  const where = state.url ? ` at ${state.url}` : '';
  const how = state.status === 'starting' ? ` (deploy pid ${state.deployer_pid} is starting it)` : '';
  return new DeployError(`a cluster is already running${where}${how}, state in ${state.dir}: stop it with \`relay deploy stop\``);
}

/** Replaces the state atomically (write, then rename): a reader never sees half a file. */
export function writeState(state: ClusterState): void {
  const path = statePath(state.dir);
  writeFileSync(`${path}.tmp`, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}

export function removeState(dir: string): void {
  rmSync(statePath(dir), { force: true });
}
