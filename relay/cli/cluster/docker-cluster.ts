/**
 * The cluster on a Docker engine: docker/docker-compose.realtime.yml (Redis with AOF, two relays,
 * nginx with TLS, Prometheus, Grafana), as docker/docker-compose.realtime.yml deploys it. Compose keeps its own state, so
 * `up` is idempotent (it also rebuilds the relay image from this checkout).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { type ClusterState, removeState, writeState } from './cluster-state';
import { DeployError } from './deploy-error';
import { repoFile } from './repo-files';
import { ensureCertificate } from './tls';

export const COMPOSE_FILE = 'docker/docker-compose.realtime.yml';

/** Whether a Docker engine answers (`docker info`); a missing client or daemon is simply "no". */
export function dockerEngineRunning(): boolean {
  return spawnSync('docker', ['info'], { stdio: 'ignore', timeout: 15_000 }).status === 0;
}

/** `docker compose` (the plugin) or, failing that, the standalone `docker-compose`. */
export function composeCommand(): string[] {
  if (spawnSync('docker', ['compose', 'version'], { stdio: 'ignore', timeout: 15_000 }).status === 0) return ['docker', 'compose'];
  if (spawnSync('docker-compose', ['version'], { stdio: 'ignore', timeout: 15_000 }).status === 0) return ['docker-compose'];
  throw new DeployError("Docker Compose not found: install the compose plugin (Debian: docker-compose-plugin) or Debian's docker-compose");
}

export interface DockerUpOptions {
  dir: string;
  secret: string;
  env: NodeJS.ProcessEnv;
}

export function startDockerCluster(options: DockerUpOptions): ClusterState & { certificateGenerated: boolean } {
  const command = composeCommand();
  const file = repoFile(COMPOSE_FILE);
  // TLS_CERT_DIR: the operator's certificate; otherwise a self-signed one kept in the state dir.
  const certDir = options.env.TLS_CERT_DIR || join(options.dir, 'certs');
  const { generated } = ensureCertificate(certDir);
  const env = { ...options.env, AUTH_SECRET: options.secret, TLS_CERT_DIR: certDir };
  run(command, ['-f', file, 'up', '-d', '--build'], env, 'up');
  const httpsPort = options.env.HTTPS_PORT || '443';
  const state: ClusterState = {
    version: 1,
    mode: 'docker',
    status: 'up',
    deployer_pid: process.pid,
    started_at: new Date().toISOString(),
    dir: options.dir,
    url: `https://localhost${httpsPort === '443' ? '' : `:${httpsPort}`}`,
    processes: [],
    compose: { command, file, cert_dir: certDir },
  };
  writeState(state);
  return { ...state, certificateGenerated: generated };
}

/** `compose ps`, output straight to the terminal; true if compose succeeded. */
export function dockerStatus(state: ClusterState, env: NodeJS.ProcessEnv): boolean {
  const { command, file, cert_dir: certDir } = composeOf(state);
  return spawnSync(command[0]!, [...command.slice(1), '-f', file, 'ps'], { stdio: 'inherit', env: composeEnv(env, certDir) }).status === 0;
}

/** `compose down`: containers and network go, the named volumes (Redis AOF, Prometheus, Grafana) stay. */
export function stopDockerCluster(state: ClusterState, env: NodeJS.ProcessEnv): void {
  const { command, file, cert_dir: certDir } = composeOf(state);
  run(command, ['-f', file, 'down'], composeEnv(env, certDir), 'down');
  removeState(state.dir);
}

/**
 * Compose interpolates the whole file for every command and the file requires AUTH_SECRET; `ps`
 * and `down` never pass it to a container, so any value does when the environment has none.
 */
function composeEnv(env: NodeJS.ProcessEnv, certDir: string): NodeJS.ProcessEnv {
  return { ...env, TLS_CERT_DIR: certDir, AUTH_SECRET: env.AUTH_SECRET || 'not-used-by-ps-or-down' };
}

function composeOf(state: ClusterState): NonNullable<ClusterState['compose']> {
  if (!state.compose) throw new DeployError(`${state.dir}/cluster.json has no compose project`);
  return state.compose;
}

function run(command: string[], args: string[], env: NodeJS.ProcessEnv, what: string): void {
  const result = spawnSync(command[0]!, [...command.slice(1), ...args], { stdio: 'inherit', env });
  if (result.status !== 0)
    throw new DeployError(`${command.join(' ')} ${what} failed (${result.error?.message ?? `exit ${result.status}`})`);
}
