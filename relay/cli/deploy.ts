/**
 * `relay deploy`: the documented Docker deployment as one command. With a Docker engine it runs
 * docker/docker-compose.realtime.yml; without one it starts the same topology from installed
 * binaries (relay/cli/cluster/local-cluster.ts). `status` and `stop` find it again through
 * cluster.json in the state dir.
 */
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { resolveAuthSecret } from '../config/auth-secret';
import { loadConfig } from '../config/config';
import { alreadyRunning, type ClusterState, deployerRunning, readState, stateIsLive } from './cluster/cluster-state';
import { DeployError } from './cluster/deploy-error';
import { dockerEngineRunning, dockerStatus, startDockerCluster, stopDockerCluster } from './cluster/docker-cluster';
import { type LocalStatus, localStatus, startLocalCluster, stopLocalCluster } from './cluster/local-cluster';
import { httpStatus } from './cluster/probes';

export const deployUsage = `  deploy [up]           start a cluster: with a Docker engine, docker compose -f
                        docker/docker-compose.realtime.yml up -d; without one, from installed
                        programs: redis-server (AOF), N relays, nginx in front (loopback)
    --relays N          relays in the local cluster (default 2)
    --port PORT         nginx's port for the local cluster (default 8080)
    --host HOST         nginx's address for the local cluster (default 127.0.0.1)
    --local | --docker  skip the Docker check and choose
    --timeout SECONDS   bound for each start-up and stop step (default 30)
  deploy status         each process up or down, and /health through nginx; exit 0 all up,
                        1 degraded, 3 nothing deployed
    --json              as JSON
  deploy stop           stop everything: SIGTERM, SIGKILL after --timeout; logs and Redis
                        data stay
    --purge             remove them too
`;

class DeployUsageError extends Error {}

/** Runs `relay deploy ARGS`; sets the exit code, prints operator errors as one line. */
export async function deploy(args: string[]): Promise<void> {
  try {
    process.exitCode = await run(args);
  } catch (error) {
    if (!(error instanceof DeployError || error instanceof DeployUsageError)) throw error;
    process.stderr.write(`relay deploy: ${error.message}\n`);
    if (error instanceof DeployUsageError) process.stderr.write('Run `relay help` for usage.\n');
    process.exitCode = error instanceof DeployUsageError ? 2 : 1;
  }
}

async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      relays: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      local: { type: 'boolean', default: false },
      docker: { type: 'boolean', default: false },
      timeout: { type: 'string' },
      json: { type: 'boolean', default: false },
      purge: { type: 'boolean', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  const [command = 'up', ...extra] = positionals;
  if (extra.length > 0) throw new DeployUsageError(`unexpected argument "${extra[0]}"`);
  const config = loadConfig();
  const dir = join(config.stateDir, 'cluster');
  const timeoutMs = integerOption('--timeout', values.timeout, 30, 1, 3600) * 1000;
  switch (command) {
    case 'up': {
      if (values.local && values.docker) throw new DeployUsageError('choose one of --local and --docker');
      const relays = integerOption('--relays', values.relays, 2, 1, 64);
      const port = integerOption('--port', values.port, 8080, 1, 65535);
      const docker = values.docker || (!values.local && dockerEngineRunning());
      if (values.docker && !dockerEngineRunning())
        throw new DeployError('no Docker engine answers (`docker info` failed): start Docker, or run `relay deploy --local`');
      const existing = readState(dir);
      if (existing?.mode === 'local' && stateIsLive(existing)) throw alreadyRunning(existing);
      const { secret, generatedAt } = resolveAuthSecret(config);
      if (generatedAt) process.stdout.write(`AUTH_SECRET is not set: the cluster uses the development secret in ${generatedAt}\n`);
      if (docker) {
        if (values.relays !== undefined || values.port !== undefined || values.host !== undefined) {
          throw new DeployUsageError(
            '--relays, --port and --host are for the local cluster; with Docker the compose file runs two relays (HTTP_PORT and ' +
              'HTTPS_PORT choose its ports), or add --local',
          );
        }
        process.stdout.write('Docker engine found: docker compose up\n');
        const state = startDockerCluster({ dir, secret, env: process.env });
        printDockerUp(state, state.certificateGenerated);
        return 0;
      }
      if (!values.local) process.stdout.write('No Docker engine: starting a local cluster from installed binaries (redis-server, nginx)\n');
      const abort = new AbortController();
      const onSignal = () => abort.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        const state = await startLocalCluster({
          dir,
          relays,
          host: values.host ?? '127.0.0.1',
          port,
          timeoutMs,
          secret,
          env: process.env,
          relayCommand: relayCommand(),
          signal: abort.signal,
        });
        printLocalUp(state);
        return 0;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    }
    case 'status': {
      const state = readState(dir);
      if (!state) {
        process.stdout.write(values.json ? `${JSON.stringify({ running: false, dir })}\n` : `No cluster is deployed (state dir ${dir}).\n`);
        return 3;
      }
      if (state.mode === 'docker') {
        const ok = dockerStatus(state, process.env);
        const health = await httpStatus(`http://127.0.0.1:${process.env.HTTP_PORT || '80'}/health`);
        process.stdout.write(`Through nginx: GET /health ${health || 'no answer'}\n`);
        return ok && health === 200 ? 0 : 1;
      }
      const status = await localStatus(state);
      process.stdout.write(values.json ? `${JSON.stringify(statusJson(status))}\n` : statusText(status));
      return status.processes.every((p) => p.up && p.health === 200) && status.health.status === 200 ? 0 : 1;
    }
    case 'stop': {
      const state = readState(dir);
      if (!state) {
        process.stdout.write(`No cluster is deployed (state dir ${dir}).\n`);
        return 0;
      }
      if (state.mode === 'docker') {
        stopDockerCluster(state, process.env);
        process.stdout.write('Stopped (docker compose down); the volumes (Redis AOF, Prometheus, Grafana) are kept.\n');
        return 0;
      }
      if (deployerRunning(state)) {
        throw new DeployError(`deploy (pid ${state.deployer_pid}) is still starting this cluster: interrupt it (Ctrl-C) and it cleans up`);
      }
      const outcomes = await stopLocalCluster(state, timeoutMs, values.purge);
      for (const { name, outcome } of outcomes) process.stdout.write(`  ${name.padEnd(9)} ${outcome}\n`);
      process.stdout.write(
        values.purge
          ? `Stopped; ${dir} removed.\n`
          : `Stopped. Logs are kept in ${join(dir, 'logs')}, Redis data in ${join(dir, 'redis')} (--purge removes them).\n`,
      );
      return 0;
    }
    default:
      throw new DeployUsageError(`unknown deploy command "${command}" (up, status or stop)`);
  }
}

function integerOption(name: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(value >= min && value <= max)) throw new DeployUsageError(`${name} must be an integer between ${min} and ${max} (got "${text}")`);
  return value;
}

/** This CLI run again: the bundle under plain node, or the sources with the same loader (tsx). */
function relayCommand(): string[] {
  const execArgv = process.execArgv.filter((arg) => !arg.startsWith('--inspect'));
  return [process.execPath, ...execArgv, resolve(process.argv[1] ?? 'dist/relay.js')];
}

/** How to run this CLI from the current directory, for the printed token commands. */
function cliHint(): string {
  const script = resolve(process.argv[1] ?? 'dist/relay.js');
  const shown = relative(process.cwd(), script);
  const env = process.env.AUTH_SECRET
    ? ''
    : process.env.RELAY_STATE_DIR
      ? `RELAY_STATE_DIR=${shellQuote(process.env.RELAY_STATE_DIR)} `
      : '';
  return `${env}node ${shellQuote(shown.startsWith('..') ? script : shown)}`;
}

function shellQuote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

function printLocalUp(state: ClusterState): void {
  const url = state.url!;
  const relays = state.processes.filter((p) => p.kind === 'relay');
  const redis = state.processes.find((p) => p.kind === 'redis')!;
  const nginx = state.processes.find((p) => p.kind === 'nginx')!;
  const cli = cliHint();
  const lines = [
    `Tandem cluster is up: ${relays.length} relay${relays.length === 1 ? '' : 's'} on one Redis, behind nginx.`,
    `  http      ${url}  (REST and /health)`,
    `  ws        ${url.replace(/^http/, 'ws')}/ws?token=<JWT>`,
    ...relays.map((p) => `  ${p.name.padEnd(9)} ${p.url}  pid ${p.pid}`),
    `  redis     ${redis.url}  pid ${redis.pid}, AOF in ${join(state.dir, 'redis')}`,
    `  nginx     pid ${nginx.pid}, config ${join(state.dir, 'nginx', 'nginx.conf')}`,
    `  logs      ${join(state.dir, 'logs')}`,
    `Tokens${process.env.AUTH_SECRET ? ' (with the same AUTH_SECRET in the environment)' : ''}:`,
    `  ${cli} token --user alice --name Alice --session s1 --role host`,
    `  ${cli} token --user alice --name Alice --personal    # for the extension, tandem.relayUrl = ${url}`,
    'Status: relay deploy status    Stop: relay deploy stop',
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

function printDockerUp(state: ClusterState, certificateGenerated: boolean): void {
  const cert = state.compose!.cert_dir;
  const lines = [
    `Tandem cluster is up (Docker): two relays on Redis behind nginx, Prometheus and Grafana.`,
    `  https     ${state.url}  (REST and /health)`,
    `  wss       ${state.url!.replace(/^https/, 'wss')}/ws?token=<JWT>`,
    '  metrics   Prometheus http://127.0.0.1:9090, Grafana http://127.0.0.1:3000',
    `  TLS       ` +
      `${cert}${certificateGenerated ? ' (a self-signed certificate was generated: replace tls.crt and tls.key with yours)' : ''}`,
    `Tokens${process.env.AUTH_SECRET ? ' (with the same AUTH_SECRET in the environment)' : ''}:`,
    `  ${cliHint()} token --user alice --name Alice --session s1 --role host`,
    'Status: relay deploy status    Stop: relay deploy stop',
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

function statusJson({ state, processes, health }: LocalStatus) {
  let body: unknown = health.body;
  try {
    body = JSON.parse(health.body);
  } catch {
    // Not JSON (an nginx error page, or no answer): keep the text.
  }
  return {
    running: true,
    mode: state.mode,
    status: state.status,
    dir: state.dir,
    url: state.url,
    started_at: state.started_at,
    processes,
    health: { status: health.status, body },
  };
}

function statusText({ state, processes, health }: LocalStatus): string {
  const lines = [`Tandem cluster (${state.mode}, ${state.status}) at ${state.url}, started ${state.started_at}, state in ${state.dir}`];
  for (const p of processes) {
    const check = p.up
      ? p.url.startsWith('redis:')
        ? `PING ${p.health === 200 ? 'ok' : 'no answer'}`
        : `/health ${p.health || 'no answer'}`
      : '';
    lines.push(
      `  ${p.name.padEnd(9)} ${(p.up ? 'up' : 'down').padEnd(5)} pid ${String(p.pid).padEnd(8)} ${p.url.padEnd(24)} ${check}`.trimEnd(),
    );
  }
  lines.push(`Through nginx: GET /health ${health.status || 'no answer'} ${health.body.trim().slice(0, 300)}`.trimEnd());
  return lines.join('\n') + '\n';
}
