/**
 * The Docker deployment's files, checked by the tools that read them (no Docker engine runs
 * here): docker-compose parses the compose file, promtool the Prometheus config, nginx -t the
 * nginx config rendered for this machine.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertLinksConfigured, loadConfig } from '../../relay/config/config';
import { blockLines, readNginxTemplate, renderNginxConfig, TEMPLATE_BLOCKS } from '../../relay/cli/cluster/nginx-config';
import { ensureCertificate } from '../../relay/cli/cluster/tls';
import { parseYaml, requireBinary, ROOT, runCommand } from './helpers';

const COMPOSE_FILE = join(ROOT, 'docker', 'docker-compose.realtime.yml');
const SECRET = 'compose-test-secret-0123456789';

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  profiles?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
  ports?: Array<{ published: number | string; target: number } | string>;
  healthcheck?: { test: string[] };
}
interface ComposeConfig {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
}

describe('docker/docker-compose.realtime.yml (docker-compose config)', () => {
  let config: ComposeConfig;

  before(async () => {
    const compose = requireBinary('docker-compose', 'docker-compose');
    const result = await runCommand(compose, ['-f', COMPOSE_FILE, 'config'], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', AUTH_SECRET: SECRET },
    });
    assert.equal(result.status, 0, result.stderr);
    config = (await parseYaml(result.stdout)) as ComposeConfig;
  });

  it("has the deployment's services and named volumes", () => {
    const nodes = [1, 2, 3, 4, 5, 6].map((n) => `redis-node-${n}`);
    assert.deepEqual(Object.keys(config.services).sort(), [
      'alertmanager',
      'grafana',
      'nginx',
      'prometheus',
      'redis',
      'redis-cluster-init',
      ...nodes,
      'relay-1',
      'relay-2',
    ]);
    assert.deepEqual(Object.keys(config.volumes).sort(), [
      'grafana-data',
      'prometheus-data',
      'redis-data',
      ...nodes.map((n) => `${n}-data`),
    ]);
  });

  it('has a `cluster` profile: six Redis Cluster nodes (AOF, noeviction), the job that joins them (3 masters, 3 replicas)', () => {
    for (let n = 1; n <= 6; n++) {
      const node = config.services[`redis-node-${n}`]!;
      assert.deepEqual(node.profiles, ['cluster']);
      const command = node.command!.join(' ');
      assert.match(command, /--cluster-enabled yes/);
      assert.match(command, /--appendonly yes/);
      assert.match(command, /--maxmemory-policy noeviction/);
      assert.ok(node.volumes!.some((volume) => volume.startsWith(`redis-node-${n}-data:/data`)));
    }
    const init = config.services['redis-cluster-init']!;
    assert.deepEqual(init.profiles, ['cluster']);
    assert.match(init.command!.join(' '), /redis-cli --cluster create .* --cluster-replicas 1 --cluster-yes/s);
    // The relays' settings with the profile's nodes pass the relay's own validation.
    const env = { ...config.services['relay-1']!.environment!, REDIS_URL: '', REDIS_CLUSTER_NODES: 'redis-node-1:6379,redis-node-2:6379' };
    const relayConfig = loadConfig(Object.fromEntries(Object.entries(env).filter(([, value]) => value !== '')));
    assert.deepEqual(relayConfig.redisClusterNodes, [
      { host: 'redis-node-1', port: 6379 },
      { host: 'redis-node-2', port: 6379 },
    ]);
    assert.equal(relayConfig.redisUrl, undefined);
  });

  it('runs Redis with AOF (appendonly, fsync every second) on a volume, and a health check', () => {
    const redis = config.services.redis!;
    const command = redis.command!.join(' ');
    assert.match(command, /--appendonly yes/);
    assert.match(command, /--appendfsync everysec/);
    assert.match(command, /--maxmemory-policy noeviction/);
    assert.ok(redis.volumes!.some((volume) => volume.startsWith('redis-data:/data')));
    assert.deepEqual(redis.healthcheck!.test, ['CMD', 'redis-cli', 'ping']);
  });

  it('runs two relays from docker/Dockerfile with one AUTH_SECRET, REDIS_URL and distinct RELAY_IDs', () => {
    const relays = ['relay-1', 'relay-2'].map((name) => config.services[name]!);
    for (const [index, relay] of relays.entries()) {
      assert.equal(relay.build!.dockerfile, 'docker/Dockerfile');
      assert.equal(relay.build!.context, ROOT);
      const env = relay.environment!;
      assert.equal(env.AUTH_SECRET, SECRET);
      assert.equal(env.REDIS_URL, 'redis://redis:6379');
      assert.equal(env.RELAY_ID, `relay-${index + 1}`);
      assert.equal(env.WS_HOST, '0.0.0.0');
      assert.equal(env.TRUST_PROXY, 'true');
      assert.equal(env.NODE_ENV, 'production');
      assert.equal(relay.depends_on!.redis!.condition, 'service_healthy');
      // Each relay's settings pass the relay's own validation.
      const relayConfig = loadConfig(Object.fromEntries(Object.entries(env).filter(([, value]) => value !== '')));
      // ...including production's: links come from PUBLIC_URL or an allowed host, never any Host.
      assert.doesNotThrow(() => assertLinksConfigured(relayConfig));
      assert.deepEqual(relayConfig.allowedHosts, ['localhost', '127.0.0.1']);
    }
  });

  it('passes Redis TLS settings through to both relays, and none by default', async () => {
    for (const relay of ['relay-1', 'relay-2']) {
      const env = config.services[relay]!.environment!;
      for (const name of ['REDIS_CLUSTER_TLS', 'REDIS_TLS_CA_FILE', 'REDIS_TLS_CERT_FILE', 'REDIS_TLS_KEY_FILE'])
        assert.equal(env[name], '', name);
    }
    const tls = { REDIS_URL: 'rediss://redis:6380', REDIS_TLS_CA_FILE: '/certs/ca.pem', REDIS_TLS_CERT_FILE: '/certs/relay.pem' };
    const compose = requireBinary('docker-compose', 'docker-compose');
    const result = await runCommand(compose, ['-f', COMPOSE_FILE, 'config'], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        AUTH_SECRET: SECRET,
        ...tls,
        REDIS_TLS_KEY_FILE: '/certs/relay.key',
      },
    });
    assert.equal(result.status, 0, result.stderr);
    const rendered = (await parseYaml(result.stdout)) as ComposeConfig;
    for (const relay of ['relay-1', 'relay-2']) {
      const env = rendered.services[relay]!.environment!;
      assert.deepEqual(
        [env.REDIS_URL, env.REDIS_TLS_CA_FILE, env.REDIS_TLS_CERT_FILE, env.REDIS_TLS_KEY_FILE],
        [tls.REDIS_URL, tls.REDIS_TLS_CA_FILE, tls.REDIS_TLS_CERT_FILE, '/certs/relay.key'],
      );
    }
  });

  it('puts nginx in front with docker/nginx.conf and the certificate dir, on 80 and 443', () => {
    const nginx = config.services.nginx!;
    assert.ok(nginx.volumes!.includes(`${join(ROOT, 'docker', 'nginx.conf')}:/etc/nginx/nginx.conf:ro`), nginx.volumes!.join(', '));
    assert.ok(nginx.volumes!.some((volume) => volume.endsWith(':/etc/nginx/certs:ro')));
    const targets = nginx.ports!.map((port) => (typeof port === 'string' ? Number(port.split(':').at(-1)) : port.target)).sort();
    assert.deepEqual(targets, [443, 80]);
  });

  it('names every relay of the compose file, at its WS_PORT, in the nginx upstream', () => {
    const servers = blockLines(readNginxTemplate(), 'relays')
      .map((line) => /^\s*server\s+(\S+)/.exec(line)?.[1])
      .filter((server): server is string => server !== undefined);
    const relays = Object.keys(config.services).filter((name) => name.startsWith('relay-'));
    assert.deepEqual(servers.sort(), relays.map((name) => `${name}:${config.services[name]!.environment!.WS_PORT}`).sort());
  });

  it('mounts prometheus.yml, its alert rules, the Alertmanager config and the Grafana provisioning', () => {
    const prometheus = config.services.prometheus!.volumes!;
    assert.ok(prometheus.includes(`${join(ROOT, 'docker', 'prometheus.yml')}:/etc/prometheus/prometheus.yml:ro`));
    // prometheus.yml names `prometheus/alerts.yml`, relative to itself.
    assert.ok(prometheus.includes(`${join(ROOT, 'docker', 'prometheus')}:/etc/prometheus/prometheus:ro`), prometheus.join(', '));
    assert.ok(
      config.services.alertmanager!.volumes!.includes(`${join(ROOT, 'docker', 'alertmanager.yml')}:/etc/alertmanager/alertmanager.yml:ro`),
    );
    assert.ok(
      config.services.grafana!.volumes!.includes(`${join(ROOT, 'docker', 'grafana', 'provisioning')}:/etc/grafana/provisioning:ro`),
    );
    assert.ok(config.services.grafana!.volumes!.includes(`${join(ROOT, 'docker', 'grafana', 'dashboards')}:/etc/grafana/dashboards:ro`));
  });

  it('refuses to run without AUTH_SECRET, naming it', async () => {
    const result = await runCommand(requireBinary('docker-compose', 'docker-compose'), ['-f', COMPOSE_FILE, 'config'], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' },
    });
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /AUTH_SECRET/);
  });
});

describe('docker/prometheus.yml and the Grafana provisioning', () => {
  it('passes promtool check config', async () => {
    const result = await runCommand(requireBinary('promtool', 'prometheus'), ['check', 'config', join(ROOT, 'docker', 'prometheus.yml')]);
    assert.equal(result.status, 0, result.stdout + result.stderr);
  });

  it('scrapes each relay directly at the documented metrics path', async () => {
    const prometheus = (await parseYaml(readFileSync(join(ROOT, 'docker', 'prometheus.yml'), 'utf8'))) as {
      scrape_configs: Array<{ job_name: string; metrics_path?: string; static_configs: Array<{ targets: string[] }> }>;
    };
    const relayJob = prometheus.scrape_configs.find((job) => job.job_name === 'tandem-relay')!;
    assert.equal(relayJob.metrics_path, '/metrics');
    assert.deepEqual(relayJob.static_configs.flatMap((group) => group.targets).sort(), ['relay-1:8001', 'relay-2:8001']);
  });

  it('provisions the four dashboards from the mounted folder', async () => {
    const file = join(ROOT, 'docker', 'grafana', 'provisioning', 'dashboards', 'tandem.yml');
    const provisioning = (await parseYaml(readFileSync(file, 'utf8'))) as { providers: Array<{ type: string; options: { path: string } }> };
    assert.deepEqual(
      provisioning.providers.map(({ type, options }) => ({ type, path: options.path })),
      [{ type: 'file', path: '/etc/grafana/dashboards' }],
    );
    for (const name of ['connections', 'throughput', 'errors', 'performance']) {
      const dashboard = JSON.parse(readFileSync(join(ROOT, 'docker', 'grafana', 'dashboards', `${name}.json`), 'utf8')) as {
        uid: string;
        panels: Array<{ datasource: { uid: string } }>;
      };
      assert.equal(dashboard.uid, `tandem-${name}`);
      // The provisioned datasource's uid.
      assert.ok(dashboard.panels.every((panel) => panel.datasource.uid === 'prometheus'));
    }
  });

  it('provisions a default Prometheus datasource at the compose service', async () => {
    const file = join(ROOT, 'docker', 'grafana', 'provisioning', 'datasources', 'prometheus.yml');
    const provisioning = (await parseYaml(readFileSync(file, 'utf8'))) as {
      apiVersion: number;
      datasources: Array<{ type: string; url: string; isDefault: boolean }>;
    };
    assert.equal(provisioning.apiVersion, 1);
    assert.deepEqual(
      provisioning.datasources.map(({ type, url, isDefault }) => ({ type, url, isDefault })),
      [{ type: 'prometheus', url: 'http://prometheus:9090', isDefault: true }],
    );
  });
});

describe('docker/nginx.conf', () => {
  const template = readNginxTemplate();
  let dir: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tandem-nginx-t-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** `nginx -t` on the template rendered into `name/`. */
  async function nginxTest(name: string, tls: boolean): Promise<string> {
    const runDir = join(dir, name);
    mkdirSync(join(runDir, 'tmp'), { recursive: true });
    const certificate = tls ? ensureCertificate(join(dir, 'certs'), 1) : undefined;
    const text = renderNginxConfig(template, {
      relays: ['127.0.0.1:18001', '127.0.0.1:18002'],
      listen: { host: '127.0.0.1', port: 18443 },
      ...(certificate && { tls: { ...certificate, redirectPort: 18080 } }),
      runDir,
      logDir: runDir,
    });
    const config = join(runDir, 'nginx.conf');
    writeFileSync(config, text);
    const result = await runCommand(requireBinary('nginx', 'nginx'), ['-t', '-p', runDir, '-c', config, '-e', join(runDir, 'error.log')]);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /test is successful/);
    return text;
  }

  it('passes nginx -t rendered with TLS (443 + the redirect from 80), for loopback ports', async () => {
    const text = await nginxTest('tls', true);
    assert.match(text, /listen 127\.0\.0\.1:18443 ssl;/);
    assert.match(text, /listen 127\.0\.0\.1:18080;/);
    assert.match(text, /return 301 https:\/\/\$host\$request_uri;/);
    // The template's parameters, without Docker's resolver and `resolve`.
    assert.deepEqual(
      blockLines(text, 'relays').map((line) => line.trim()),
      ['server 127.0.0.1:18001 max_fails=1 fail_timeout=5s;', 'server 127.0.0.1:18002 max_fails=1 fail_timeout=5s;'],
    );
  });

  it('passes nginx -t rendered as plain HTTP (the local cluster of `relay deploy`)', async () => {
    const text = await nginxTest('plain', false);
    assert.match(text, /listen 127\.0\.0\.1:18443;/);
    assert.doesNotMatch(text, /ssl_certificate |return 301|^\s*user /m);
  });

  it('has every block the renderer replaces', () => {
    for (const name of TEMPLATE_BLOCKS) assert.ok(blockLines(template, name).length > 0, name);
  });

  it('proxies /ws with the upgrade headers, unbuffered, with timeouts beyond the relay heartbeat', () => {
    assert.match(template, /map \$http_upgrade \$connection_upgrade \{\s*default upgrade;/);
    assert.match(template, /proxy_http_version 1\.1;/);
    assert.match(template, /proxy_set_header Upgrade \$http_upgrade;/);
    assert.match(template, /proxy_set_header Connection \$connection_upgrade;/);
    const ws = /location = \/ws \{([^}]*)\}/.exec(template)?.[1];
    assert.ok(ws, 'a location for /ws');
    assert.match(ws, /proxy_buffering off;/);
    const heartbeatS = loadConfig({}).heartbeatIntervalMs / 1000;
    for (const directive of ['proxy_read_timeout', 'proxy_send_timeout']) {
      const seconds = Number(new RegExp(`${directive} (\\d+)s;`).exec(ws)?.[1]);
      assert.ok(seconds >= 2 * heartbeatS, `${directive} ${seconds}s is not beyond two heartbeats (${heartbeatS}s)`);
    }
  });

  it('forwards client address, scheme and host, and retries idempotent requests on the next relay', () => {
    assert.match(template, /proxy_set_header X-Forwarded-For \$remote_addr;/);
    assert.match(template, /proxy_set_header X-Forwarded-Proto \$scheme;/);
    assert.match(template, /proxy_set_header X-Forwarded-Host \$http_host;/);
    assert.match(template, /proxy_next_upstream error timeout;/);
    assert.doesNotMatch(template, /non_idempotent/);
    // Session affinity is there to be switched on, commented out: by default any relay serves any session.
    assert.doesNotMatch(template, /^\s*(ip_hash|hash|sticky)\b/m, 'no stickiness: any relay serves any session');
  });

  it('names files that exist: the compose file mounts them', () => {
    for (const path of [
      'docker/nginx.conf',
      'docker/prometheus.yml',
      'docker/grafana/provisioning/datasources/prometheus.yml',
      'docker/Dockerfile',
      '.dockerignore',
    ]) {
      assert.ok(existsSync(join(ROOT, path)), path);
    }
  });
});
