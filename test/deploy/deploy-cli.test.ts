/**
 * `relay deploy` as an operator runs it (the bundle, a temp RELAY_STATE_DIR, free ports): the
 * local cluster of real redis-server, relays and nginx processes, its status, a chat through it,
 * its stop, the one-line refusals; and the Docker path against a stand-in `docker` command.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { mintPersonalToken } from '../../relay/auth/tokens';
import { type ClusterState, readState } from '../../relay/cli/cluster/cluster-state';
import { groupMembers, isAlive } from '../../relay/cli/cluster/processes';
import { clientFrame, httpRequest, openTestClient, type TestClient } from '../support/relay-fixture';
import { ensureRelayBuilt } from '../support/cli';
import { freePort, requireBinary, ROOT, runRelay } from './helpers';

/** A `docker` that answers `info` only when FAKE_DOCKER_ENGINE is set, and logs every call. */
const FAKE_DOCKER = `#!/bin/sh
echo "docker $*" >> "$FAKE_DOCKER_LOG"
[ -n "$FAKE_DOCKER_ENGINE" ] || exit 1
[ "$1 $2" = "compose -f" ] && echo "env AUTH_SECRET=\${AUTH_SECRET:+set} TLS_CERT_DIR=$TLS_CERT_DIR" >> "$FAKE_DOCKER_LOG"
exit 0
`;

function makeFakeDocker(dir: string): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'docker'), FAKE_DOCKER);
  chmodSync(join(bin, 'docker'), 0o755);
  return bin;
}

/** Nothing of the cluster runs: leaders and group members (nginx workers) alike; zombies do not count. */
function leftovers(state: ClusterState): string[] {
  return state.processes
    .filter((p) => isAlive(p.pid, p.marker) || groupMembers(p.pid, p.marker).length > 0)
    .map((p) => `${p.name} (pid ${p.pid})`);
}

describe('relay deploy without Docker: a local cluster', () => {
  let dir: string;
  let env: Record<string, string>;
  let port: number;
  let clusterDir: string;
  const clients: TestClient[] = [];

  before(async () => {
    requireBinary('redis-server', 'redis-server');
    requireBinary('nginx', 'nginx');
    ensureRelayBuilt();
    dir = mkdtempSync(join(tmpdir(), 'tandem-deploy-'));
    clusterDir = join(dir, 'state', 'cluster');
    env = {
      PATH: `${makeFakeDocker(dir)}:${process.env.PATH ?? ''}`,
      RELAY_STATE_DIR: join(dir, 'state'),
      FAKE_DOCKER_LOG: join(dir, 'docker.log'),
    };
    port = await freePort();
  });

  after(async () => {
    for (const client of clients) client.socket.terminate();
    // Whatever a failed test left running goes: through the CLI, then by pid.
    const state = readState(clusterDir);
    if (state) {
      await runRelay(['deploy', 'stop', '--timeout', '5'], env, 30_000);
      for (const p of state.processes) {
        for (const pid of groupMembers(p.pid, p.marker)) process.kill(pid, 'SIGKILL');
      }
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('says which Debian package a missing program comes from, and starts nothing', async () => {
    const empty = join(dir, 'empty-bin');
    mkdirSync(empty);
    const other = join(dir, 'other-state');
    const noRedis = await runRelay(['deploy', '--local', '--port', String(port)], { PATH: empty, RELAY_STATE_DIR: other });
    assert.equal(noRedis.status, 1, noRedis.stderr);
    assert.equal(
      noRedis.stderr,
      "relay deploy: redis-server not found: install Debian's redis-server package (sudo apt-get install redis-server), or deploy with " +
        'Docker\n',
    );
    const noNginx = await runRelay(['deploy', '--local', '--port', String(port)], {
      RELAY_STATE_DIR: other,
      REDIS_SERVER_BIN: requireBinary('redis-server', 'redis-server'),
      NGINX_BIN: join(empty, 'nginx'),
    });
    assert.equal(noNginx.status, 1, noNginx.stderr);
    assert.match(
      noNginx.stderr,
      /^relay deploy: nginx not found at .*: install Debian's nginx package \(sudo apt-get install nginx\), or deploy with Docker\n$/,
    );
    assert.equal(existsSync(join(other, 'cluster', 'cluster.json')), false);
  });

  it('refuses a busy port in one line, and starts nothing', async () => {
    const blocker = createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const busy = (blocker.address() as { port: number }).port;
    try {
      const result = await runRelay(['deploy', '--local', '--port', String(busy)], env);
      assert.equal(result.status, 1, result.stderr);
      assert.equal(result.stderr, `relay deploy: port ${busy} on 127.0.0.1 is busy: choose another with --port\n`);
      assert.equal(readState(clusterDir), undefined);
    } finally {
      blocker.close();
    }
  });

  it('starts all or nothing: when nginx cannot start, what was started is stopped; one line says why', async () => {
    const other = join(dir, 'failing-state');
    // A stale cluster.json (its processes are long gone) does not block a deploy.
    mkdirSync(join(other, 'cluster'), { recursive: true });
    const stale = {
      version: 1,
      mode: 'local',
      status: 'up',
      deployer_pid: 999_999_999,
      started_at: '',
      dir: join(other, 'cluster'),
      processes: [{ name: 'redis', kind: 'redis', pid: 999_999_999, marker: 'redis-server', port: 1, url: '', log: '' }],
    };
    writeFileSync(join(other, 'cluster', 'cluster.json'), JSON.stringify(stale));
    // An nginx that accepts its configuration (-t) and then fails, as on a port taken meanwhile.
    const fakeNginx = join(dir, 'failing-nginx');
    writeFileSync(
      fakeNginx,
      '#!/bin/sh\nfor a; do [ "$a" = -t ] && exit 0; done\necho "nginx: [emerg] bind() failed (98: Address in use)" >&2\nexit 1\n',
    );
    chmodSync(fakeNginx, 0o755);
    const result = await runRelay(
      ['deploy', '--local', '--port', String(port)],
      { ...env, RELAY_STATE_DIR: other, NGINX_BIN: fakeNginx },
      90_000,
    );
    assert.equal(result.status, 1, result.stdout + result.stderr);
    assert.match(
      result.stderr,
      new RegExp(
        String.raw`^relay deploy: nginx exited during start-up \(code 1\): ` +
          String.raw`nginx: \[emerg\] bind\(\) failed \(98: Address in use\) \(log: .*nginx\.log\)\n$`,
      ),
    );
    assert.equal(readState(join(other, 'cluster')), undefined, 'no cluster.json left');
    const logs = join(other, 'cluster', 'logs');
    assert.match(readFileSync(join(logs, 'redis.log'), 'utf8'), /ready to exit, bye bye/, 'redis-server was stopped');
    for (const relay of ['relay-1', 'relay-2'])
      assert.match(readFileSync(join(logs, `${relay}.log`), 'utf8'), /"msg":"stopped"/, `${relay} was stopped`);
  });

  it('refuses bad options as usage errors (exit 2)', async () => {
    for (const [args, expected] of [
      [['deploy', '--relays', 'two'], /--relays must be an integer between 1 and 64 \(got "two"\)/],
      [['deploy', '--port', '70000'], /--port must be an integer between 1 and 65535/],
      [['deploy', 'restart'], /unknown deploy command "restart"/],
      [['deploy', '--local', '--docker'], /choose one of --local and --docker/],
    ] as Array<[string[], RegExp]>) {
      const result = await runRelay(args, env);
      assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, expected);
    }
  });

  it('starts redis-server, two relays and nginx, and prints the URLs and a token command', async () => {
    const started = Date.now();
    const result = await runRelay(['deploy', '--port', String(port)], env, 90_000);
    assert.equal(result.status, 0, result.stdout + result.stderr);
    process.stderr.write(`# relay deploy took ${Date.now() - started} ms\n`);
    assert.match(readFileSync(env.FAKE_DOCKER_LOG!, 'utf8'), /^docker info$/m);
    const out = result.stdout;
    assert.match(out, /No Docker engine: starting a local cluster/);
    assert.match(out, new RegExp(`http +http://127\\.0\\.0\\.1:${port} `));
    assert.match(out, new RegExp(`ws +ws://127\\.0\\.0\\.1:${port}/ws`));
    assert.match(out, /relay-1 +http:\/\/127\.0\.0\.1:\d+ +pid \d+/);
    assert.match(out, /relay-2 +http:\/\/127\.0\.0\.1:\d+ +pid \d+/);
    assert.match(out, /redis +redis:\/\/127\.0\.0\.1:\d+ +pid \d+, AOF/);
    assert.ok(
      out.includes(`RELAY_STATE_DIR=${env.RELAY_STATE_DIR} node dist/relay.js token --user alice --name Alice --session s1 --role host`),
      out,
    );
    const state = readState(clusterDir)!;
    assert.equal(state.status, 'up');
    assert.deepEqual(
      state.processes.map((p) => p.name),
      ['redis', 'relay-1', 'relay-2', 'nginx'],
    );
  });

  it('status shows every process up and /health through nginx', async () => {
    const json = await runRelay(['deploy', 'status', '--json'], env);
    assert.equal(json.status, 0, json.stdout + json.stderr);
    const status = JSON.parse(json.stdout) as {
      running: boolean;
      url: string;
      processes: Array<{ name: string; up: boolean; health: number }>;
      health: { status: number; body: { status: string; checks: { redis: { status: string } } } };
    };
    assert.equal(status.url, `http://127.0.0.1:${port}`);
    assert.deepEqual(
      status.processes.map(({ name, up, health }) => ({ name, up, health })),
      ['redis', 'relay-1', 'relay-2', 'nginx'].map((name) => ({ name, up: true, health: 200 })),
    );
    assert.equal(status.health.status, 200);
    assert.equal(status.health.body.checks.redis.status, 'up');
    const text = await runRelay(['deploy', 'status'], env);
    assert.equal(text.status, 0);
    assert.match(text.stdout, /relay-2 +up +pid \d+ +http:\/\/127\.0\.0\.1:\d+ +\/health 200/);
    assert.match(text.stdout, /Through nginx: GET \/health 200/);
  });

  it('refuses a second deploy while the cluster runs', async () => {
    const result = await runRelay(['deploy', '--local', '--port', String(await freePort())], env);
    assert.equal(result.status, 1);
    assert.equal(
      result.stderr,
      `relay deploy: a cluster is already running at http://127.0.0.1:${port}, state in ${clusterDir}: stop it with \`relay deploy ` +
        `stop\`\n`,
    );
  });

  it('carries a chat between clients on different relays, through nginx and Redis', async () => {
    // The printed command: the same development secret as the cluster's relays.
    const mint = (user: string) =>
      runRelay(['token', '--user', user, '--session', 's1', '--role', 'host'], { RELAY_STATE_DIR: env.RELAY_STATE_DIR! });
    const byRelay = new Map<string, TestClient>();
    for (let i = 0; i < 8 && byRelay.size < 2; i++) {
      const token = (await mint(`user-${i}`)).stdout.trim();
      const client = await openTestClient(`ws://127.0.0.1:${port}/ws?token=${token}`, {}, 10_000);
      clients.push(client);
      const relayId = (client.frames[0]!.payload as { relay_id: string }).relay_id;
      if (!byRelay.has(relayId)) byRelay.set(relayId, client);
    }
    assert.deepEqual([...byRelay.keys()].sort(), ['relay-1', 'relay-2'], 'nginx spreads connections over both relays');
    const [sender, receiver] = [byRelay.get('relay-1')!, byRelay.get('relay-2')!];
    sender.send(clientFrame('chat.message', { content: 'across relays' }));
    const received = await receiver.next('chat.message', (frame) => frame.payload.content === 'across relays', 10_000);
    assert.equal(received.session_id, 's1');

    // REST through nginx: invite links name the address clients used (TRUST_PROXY=true).
    const secret = readFileSync(join(env.RELAY_STATE_DIR!, 'dev-secret'), 'utf8').trim();
    const response = await httpRequest(`http://127.0.0.1:${port}/api/sessions`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${mintPersonalToken(secret, { user: 'alice', ttl: '5m' })}`, 'Content-Type': 'application/json' },
      body: '{}',
    });
    assert.equal(response.status, 201, response.text);
    assert.equal((JSON.parse(response.text) as { relay_url: string }).relay_url, `http://127.0.0.1:${port}`);
  });

  it('stop ends every process, leaves none behind, and keeps logs and the AOF', async () => {
    const state = readState(clusterDir)!;
    const started = Date.now();
    const result = await runRelay(['deploy', 'stop'], env, 60_000);
    assert.equal(result.status, 0, result.stdout + result.stderr);
    process.stderr.write(`# relay deploy stop took ${Date.now() - started} ms\n`);
    for (const name of ['relay-1', 'relay-2', 'nginx', 'redis']) assert.match(result.stdout, new RegExp(`${name} +stopped`));
    assert.deepEqual(leftovers(state), []);
    assert.equal(readState(clusterDir), undefined);
    assert.ok(existsSync(join(clusterDir, 'redis', 'appendonlydir')), 'the AOF stays for the next deploy');
    assert.ok(existsSync(join(clusterDir, 'logs', 'relay-1.log')));
    const status = await runRelay(['deploy', 'status'], env);
    assert.equal(status.status, 3);
    assert.match(status.stdout, /No cluster is deployed/);
  });
});

describe('relay deploy with a Docker engine', () => {
  let dir: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tandem-deploy-docker-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('runs docker compose -f docker/docker-compose.realtime.yml up -d, then ps and down', async () => {
    requireBinary('openssl', 'openssl');
    const log = join(dir, 'docker.log');
    const env = {
      PATH: `${makeFakeDocker(dir)}:${process.env.PATH ?? ''}`,
      RELAY_STATE_DIR: join(dir, 'state'),
      FAKE_DOCKER_LOG: log,
      FAKE_DOCKER_ENGINE: '1',
      HTTP_PORT: String(await freePort()),
    };
    const refused = await runRelay(['deploy', '--relays', '3'], env);
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /--relays, --port and --host are for the local cluster/);

    writeFileSync(log, '');
    const up = await runRelay(['deploy'], env);
    assert.equal(up.status, 0, up.stdout + up.stderr);
    const compose = `docker compose -f ${join(ROOT, 'docker', 'docker-compose.realtime.yml')}`;
    const certDir = join(dir, 'state', 'cluster', 'certs');
    assert.deepEqual(readFileSync(log, 'utf8').trim().split('\n'), [
      'docker info',
      'docker compose version',
      `${compose} up -d --build`,
      `env AUTH_SECRET=set TLS_CERT_DIR=${certDir}`,
    ]);
    assert.ok(existsSync(join(certDir, 'tls.crt')) && existsSync(join(certDir, 'tls.key')), 'a self-signed certificate for nginx');
    assert.match(up.stdout, /wss +wss:\/\/localhost\/ws/);

    const status = await runRelay(['deploy', 'status'], env);
    assert.match(readFileSync(log, 'utf8'), new RegExp(`^${compose} ps$`, 'm'));
    assert.equal(status.status, 1, 'no nginx answers /health on HTTP_PORT here');
    const stop = await runRelay(['deploy', 'stop'], env);
    assert.equal(stop.status, 0, stop.stderr);
    assert.match(readFileSync(log, 'utf8'), new RegExp(`^${compose} down$`, 'm'));
    assert.equal(readState(join(dir, 'state', 'cluster')), undefined);
  });
});
