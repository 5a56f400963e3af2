/**
 * A real Prometheus (Debian's `prometheus`, on a free loopback port, with a generated config and
 * a temp storage dir, scraping every second) against two relay processes on a real redis-server
 * that this test starts, under a little load: a metric read back through Prometheus's HTTP API,
 * `promtool check metrics` on a loaded relay's output, every Grafana panel's query answered with
 * data from the relays, and one alert fired for real (Redis killed: TandemRedisDown) and delivered to a real
 * Alertmanager (Debian's, with the shipped docker/alertmanager.yml). The rules
 * are the shipped ones (docker/prometheus/alerts.yml), expressions untouched; only their `for`
 * is shortened in the test's copy.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { mintToken } from '../../relay/auth/tokens';
import { metricFamilies, promtoolCheckMetrics } from '../support/prometheus-text';
import { clientFrame, httpRequest, openTestClient, type TestClient } from '../support/relay-fixture';
import type { RelayProcess } from '../support/relay-process';
import { type RedisServer, startRedisServer } from '../support/redis-server';
import { sleep, waitUntil } from '../support/wait';
import { freePort, parseYaml, requireBinary, ROOT, startRelays, TEST_SECRET } from './helpers';

const RULES = join(ROOT, 'docker', 'prometheus', 'alerts.yml');
const ALERTMANAGER_CONFIG = join(ROOT, 'docker', 'alertmanager.yml');
const DASHBOARDS = join(ROOT, 'docker', 'grafana', 'dashboards');
/** Grafana's variables, as a query of "All relays" over the test's short history sees them. */
const GRAFANA_VARIABLES: Array<[RegExp, string]> = [
  [/\$__rate_interval/g, '30s'],
  [/\$relay/g, '.*'],
];

interface RuleFile {
  groups: Array<{ name: string; rules: Array<{ alert: string; expr: string; for?: string }> }>;
}
interface Dashboard {
  title: string;
  panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
}
interface QueryAnswer {
  status: string;
  error?: string;
  data: { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> };
}

/** A Prometheus-family server (Prometheus, Alertmanager) as this process's child, killed when the test process exits. */
class ServiceProcess {
  private output = '';
  protected constructor(
    readonly port: number,
    private readonly child: ChildProcess,
  ) {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (this.output = (this.output + chunk).slice(-65536)));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.output = (this.output + chunk).slice(-65536)));
    process.once('exit', () => child.kill('SIGKILL'));
  }

  /** Starts `binary` with `args(port)` on a free port and waits until its `/-/ready` answers 200. */
  protected static async launch<T extends ServiceProcess>(
    make: (port: number, child: ChildProcess) => T,
    binary: string,
    args: (port: number) => string[],
  ): Promise<T> {
    const port = await freePort();
    const child = spawn(binary, args(port), { stdio: ['ignore', 'pipe', 'pipe'] });
    const service = make(port, child);
    await waitUntil(
      async () => {
        if (child.exitCode !== null) throw new Error(`${binary} exited during start-up: ${service.output}`);
        return (await httpRequest(`${service.url}/-/ready`, {}, 1000).catch(() => ({ status: 0 }))).status === 200;
      },
      `${binary} to be ready`,
      30_000,
      100,
    );
    return service;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get log(): string {
    return this.output;
  }

  protected async getJson<T>(path: string): Promise<T> {
    return JSON.parse((await httpRequest(`${this.url}${path}`, {}, 10_000)).text) as T;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

class PrometheusProcess extends ServiceProcess {
  static start(dir: string, config: string): Promise<PrometheusProcess> {
    return ServiceProcess.launch(
      (port, child) => new PrometheusProcess(port, child),
      requireBinary('prometheus', 'prometheus'),
      (port) => [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
    );
  }

  query(expr: string): Promise<QueryAnswer> {
    return this.getJson(`/api/v1/query?query=${encodeURIComponent(expr)}`);
  }

  /** The value of a query answering one sample, NaN when it answers none. */
  async value(expr: string): Promise<number> {
    const answer = await this.query(expr);
    assert.equal(answer.status, 'success', `${expr}: ${answer.error}`);
    return answer.data.result.length === 0 ? NaN : Number(answer.data.result[0]!.value[1]);
  }

  async alerts(): Promise<Array<{ labels: Record<string, string>; state: string }>> {
    return (await this.getJson<{ data: { alerts: Array<{ labels: Record<string, string>; state: string }> } }>('/api/v1/alerts')).data
      .alerts;
  }
}

/** Debian's `prometheus-alertmanager` with the shipped docker/alertmanager.yml (its waits cut to a second), no cluster. */
class AlertmanagerProcess extends ServiceProcess {
  static async start(dir: string): Promise<AlertmanagerProcess> {
    const config = (await parseYaml(readFileSync(ALERTMANAGER_CONFIG, 'utf8'))) as { route: Record<string, unknown> };
    config.route.group_wait = '1s';
    config.route.group_interval = '1s';
    const file = join(dir, 'alertmanager.yml');
    writeFileSync(file, JSON.stringify(config, null, 2));
    return ServiceProcess.launch(
      (port, child) => new AlertmanagerProcess(port, child),
      requireBinary('prometheus-alertmanager', 'prometheus-alertmanager'),
      (port) => [
        `--config.file=${file}`,
        `--storage.path=${join(dir, 'alertmanager')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--cluster.listen-address=',
        '--log.level=warn',
      ],
    );
  }

  /** The alerts it holds (active, inhibited or silenced), from its v2 API. */
  async alerts(): Promise<
    Array<{ labels: Record<string, string>; status: { state: string; inhibitedBy: string[] }; receivers: Array<{ name: string }> }>
  > {
    return this.getJson('/api/v2/alerts');
  }
}

/** The shipped rules with every `for` cut to `forSeconds`: the expressions are the ones Prometheus runs in production. */
async function testCopyOfRules(dir: string, forSeconds: number): Promise<string> {
  const rules = (await parseYaml(readFileSync(RULES, 'utf8'))) as RuleFile;
  for (const group of rules.groups) for (const rule of group.rules) if (rule.for !== undefined) rule.for = `${forSeconds}s`;
  const file = join(dir, 'alerts.yml');
  // JSON is YAML.
  writeFileSync(file, JSON.stringify(rules, null, 2));
  return file;
}

function dashboards(): Dashboard[] {
  return readdirSync(DASHBOARDS)
    .filter((name) => name.endsWith('.json'))
    .map((name) => JSON.parse(readFileSync(join(DASHBOARDS, name), 'utf8')) as Dashboard);
}

function withVariables(expr: string): string {
  return GRAFANA_VARIABLES.reduce((text, [pattern, value]) => text.replace(pattern, value), expr);
}

describe('Prometheus scraping two relays on Redis (real processes)', () => {
  let dir: string;
  let redis: RedisServer;
  let relays: RelayProcess[];
  let prometheus: PrometheusProcess;
  let alertmanager: AlertmanagerProcess;
  const clients: TestClient[] = [];
  let chats = 0;

  const token = (user: string, role: 'host' | 'editor') => mintToken(TEST_SECRET, { user, sessions: ['s1'], role, ttl: '10m' });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tandem-prometheus-'));
    redis = await startRedisServer();
    relays = await startRelays(['prom-relay-1', 'prom-relay-2'], {
      REDIS_URL: redis.url,
      // A model that is never asked: its AI series exist (at zero) for the dashboards' queries.
      AI_MODEL: 'test-model',
      AI_BASE_URL: 'http://127.0.0.1:9/v1',
    });
    const rules = await testCopyOfRules(dir, 2);
    alertmanager = await AlertmanagerProcess.start(dir);
    const config = join(dir, 'prometheus.yml');
    writeFileSync(
      config,
      JSON.stringify({
        global: { scrape_interval: '1s', evaluation_interval: '1s' },
        rule_files: [rules],
        alerting: { alertmanagers: [{ static_configs: [{ targets: [`127.0.0.1:${alertmanager.port}`] }] }] },
        scrape_configs: [
          { job_name: 'tandem-relay', metrics_path: '/metrics', static_configs: [{ targets: relays.map((relay) => relay.address) }] },
        ],
      }),
    );
    prometheus = await PrometheusProcess.start(dir, config);

    // A little load: a host and an editor on each relay of one session, chat and edits across relays.
    const [one, two] = relays as [RelayProcess, RelayProcess];
    const host = await openTestClient(`${one.url}?token=${token('host', 'host')}`);
    const editor = await openTestClient(`${two.url}?token=${token('editor', 'editor')}`);
    clients.push(host, editor);
    host.send(clientFrame('collaboration.open', { document: 'a.ts', text: '' }));
    await host.next('collaboration.snapshot');
    editor.send(clientFrame('collaboration.open', { document: 'a.ts' }));
    await editor.next('collaboration.snapshot');
    for (let seq = 0; seq < 20; seq++) {
      host.send(clientFrame('chat.message', { content: `hello ${seq}` }));
      chats++;
      host.send(
        clientFrame('collaboration.edit', { document: 'a.ts', rev: seq, client_id: 'host-1', seq, op: seq === 0 ? ['x'] : [seq, 'x'] }),
      );
      await host.next('collaboration.ack', (frame) => frame.payload.seq === seq, 5000);
      await sleep(20);
    }
    await httpRequest(`${one.httpUrl}/health`);
    await httpRequest(`${two.httpUrl}/api/sessions/s1`);
    // A refused upgrade (no token).
    await httpRequest(`${one.httpUrl}/ws`, {
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
      },
    });
  });

  after(async () => {
    for (const client of clients) client.socket.terminate();
    await prometheus?.stop();
    await alertmanager?.stop();
    await Promise.all((relays ?? []).map((relay) => relay.stop()));
    await redis?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reads the relays’ metrics back through Prometheus’s HTTP API', async () => {
    await waitUntil(
      async () => (await prometheus.value('count(up{job="tandem-relay"} == 1)')) === 2,
      `both relays scraped (prometheus says: ${prometheus.log})`,
      20_000,
      250,
    );
    await waitUntil(
      async () => (await prometheus.value('sum(tandem_messages_received_total{event_type="chat.message"})')) === chats,
      'the chat messages counted',
      20_000,
      250,
    );
    assert.equal(await prometheus.value('sum(tandem_connections)'), 2);
    assert.equal(await prometheus.value('count(tandem_redis_up == 1)'), 2);
    assert.equal(await prometheus.value('sum(tandem_edit_ack_seconds_count)'), 20);
    // Every chat reached both participants, one on each relay.
    assert.equal(await prometheus.value('sum(tandem_messages_sent_total{event_type="chat.message"})'), 2 * chats);
    const relaysSeen = await prometheus.query('count by (relay_id) (tandem_connections)');
    assert.deepEqual(relaysSeen.data.result.map((r) => r.metric.relay_id).sort(), ['prom-relay-1', 'prom-relay-2']);
    assert.ok((await prometheus.value('sum(tandem_redis_command_duration_seconds_count)')) > 0);
  });

  it('passes promtool check metrics on a loaded relay’s /metrics', async () => {
    const response = await httpRequest(`${relays[0]!.httpUrl}/metrics`);
    assert.equal(response.status, 200);
    const result = promtoolCheckMetrics(requireBinary('promtool', 'prometheus'), response.text);
    assert.equal(result.status, 0, result.output);
  });

  it('answers every Grafana panel’s query with data from the relays, naming only metrics they export', async () => {
    const exported = metricFamilies((await httpRequest(`${relays[0]!.httpUrl}/metrics`)).text);
    const series = new Set([...exported.keys()].flatMap((name) => [name, `${name}_bucket`, `${name}_sum`, `${name}_count`]));
    const boards = dashboards();
    assert.equal(boards.length, 4);
    // A rate needs two samples in its window: give the scrapes a few seconds past the load.
    await sleep(3000);
    let queries = 0;
    for (const board of boards) {
      for (const panel of board.panels) {
        assert.ok(panel.targets.length > 0, `${board.title} / ${panel.title} has no query`);
        for (const { expr } of panel.targets) {
          const names = [...expr.matchAll(/\b((?:tandem|nodejs|process)_\w+)/g)].map((m) => m[1]!);
          assert.ok(names.length > 0, `${panel.title}: ${expr} names no relay metric`);
          for (const name of names) assert.ok(series.has(name), `${board.title} / ${panel.title}: ${name} is not exported by the relay`);
          const answer = await prometheus.query(withVariables(expr));
          assert.equal(answer.status, 'success', `${board.title} / ${panel.title}: ${expr}: ${answer.error}`);
          assert.ok(answer.data.result.length > 0, `${board.title} / ${panel.title}: no data for ${expr}`);
          queries++;
        }
      }
    }
    assert.ok(queries >= 30, `${queries} queries`);
  });

  it('fires TandemRedisDown for real when Redis dies', async () => {
    assert.deepEqual(
      (await prometheus.alerts()).filter((alert) => alert.labels.alertname === 'TandemRedisDown'),
      [],
      'no Redis alert while it is up',
    );
    await redis.kill();
    await waitUntil(
      async () => {
        const firing = (await prometheus.alerts()).filter((a) => a.labels.alertname === 'TandemRedisDown' && a.state === 'firing');
        return firing.length === 2;
      },
      'TandemRedisDown firing for both relays',
      30_000,
      250,
    );
    assert.equal(await prometheus.value('count(tandem_redis_up == 0)'), 2);
    // Prometheus hands them to the Alertmanager, which routes them to the shipped receiver.
    await waitUntil(
      async () => {
        const held = (await alertmanager.alerts()).filter((alert) => alert.labels.alertname === 'TandemRedisDown');
        return (
          held.length === 2 && held.every((alert) => alert.status.state === 'active' && alert.receivers.some((r) => r.name === 'operators'))
        );
      },
      'TandemRedisDown for both relays at the Alertmanager, routed to "operators"',
      30_000,
      250,
    );
  });
});
