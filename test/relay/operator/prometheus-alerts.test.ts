import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OperatorAlerts } from '../../../protocol';
import { mintOperatorToken } from '../../../relay/auth/tokens';
import { freePort, requireBinary, ROOT } from '../../deploy/helpers';
import { ensureRelayBuilt } from '../../support/cli';
import { httpRequest } from '../../support/relay-fixture';
import { RelayProcess } from '../../support/relay-process';
import { callApi, expectApiError } from '../../support/rest-api';
import { waitUntil } from '../../support/wait';

/**
 * The alerts panel's source with PROMETHEUS_URL: a real Prometheus (Debian's) loaded with the
 * shipped rules (docker/prometheus/alerts.yml, untouched) and scraping one relay that is up and
 * one address where nothing listens, so TandemRelayDown becomes pending. The relay reads the rules'
 * state from Prometheus's API and answers it, active ones first.
 */
describe('GET /api/operator/alerts from a real Prometheus', { timeout: 120_000 }, () => {
  let dir: string;
  let prometheus: ChildProcess | undefined;
  let prometheusUrl: string;
  let relay: RelayProcess;
  let output = '';

  before(async () => {
    ensureRelayBuilt();
    dir = mkdtempSync(join(tmpdir(), 'tandem-dashboard-prometheus-'));
    const port = await freePort();
    const nobody = await freePort();
    prometheusUrl = `http://127.0.0.1:${port}`;
    relay = await RelayProcess.start({ PROMETHEUS_URL: prometheusUrl });
    const config = join(dir, 'prometheus.yml');
    // JSON is YAML.
    writeFileSync(
      config,
      JSON.stringify({
        global: { scrape_interval: '1s', evaluation_interval: '1s' },
        rule_files: [join(ROOT, 'docker', 'prometheus', 'alerts.yml')],
        scrape_configs: [{ job_name: 'tandem-relay', static_configs: [{ targets: [relay.address, `127.0.0.1:${nobody}`] }] }],
      }),
    );
    prometheus = spawn(
      requireBinary('prometheus', 'prometheus'),
      [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const child = prometheus;
    process.once('exit', () => child.kill('SIGKILL'));
    child.stdout!.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
    child.stderr!.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
    await waitUntil(
      async () => {
        if (child.exitCode !== null) throw new Error(`prometheus exited: ${output}`);
        return (await httpRequest(`${prometheusUrl}/-/ready`, {}, 1000).catch(() => ({ status: 0 }))).status === 200;
      },
      'prometheus to be ready',
      30_000,
      100,
    );
  });

  after(async () => {
    await relay?.stop();
    if (prometheus && prometheus.exitCode === null) {
      const exited = once(prometheus, 'exit');
      prometheus.kill('SIGTERM');
      await exited;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('answers 502 PROMETHEUS_UNAVAILABLE when Prometheus does not answer', async () => {
    const lonely = await RelayProcess.start({ PROMETHEUS_URL: `http://127.0.0.1:${await freePort()}` });
    try {
      const operator = mintOperatorToken(lonely.secret, { user: 'ops', ttl: '10m' });
      const status = await callApi(lonely, 'GET', '/api/operator/status', { token: operator });
      assert.equal(JSON.parse(status.text).alerts_source, 'prometheus');
      expectApiError(await callApi(lonely, 'GET', '/api/operator/alerts', { token: operator }), 502, 'PROMETHEUS_UNAVAILABLE');
    } finally {
      await lonely.stop();
    }
  });

  it('lists every shipped rule, the relay that cannot be scraped as TandemRelayDown first', async () => {
    const operator = mintOperatorToken(relay.secret, { user: 'ops', ttl: '10m' });
    let alerts: OperatorAlerts | undefined;
    await waitUntil(
      async () => {
        const response = await callApi(relay, 'GET', '/api/operator/alerts', { token: operator });
        assert.equal(response.status, 200, response.text);
        alerts = OperatorAlerts.parse(JSON.parse(response.text));
        return alerts.alerts.some((alert) => alert.name === 'TandemRelayDown' && alert.state !== 'inactive');
      },
      `TandemRelayDown to become active (prometheus: ${output})`,
      60_000,
      500,
    );
    const first = alerts!.alerts[0]!;
    assert.equal(first.name, 'TandemRelayDown');
    assert.equal(first.state, 'pending', 'its `for: 1m` has not passed');
    assert.match(first.labels.instance ?? '', /^127\.0\.0\.1:\d+$/);
    assert.ok(first.active_at);
    assert.equal(first.severity, 'critical');
    const names = new Set(alerts!.alerts.map((alert) => alert.name));
    for (const name of ['TandemRedisDown', 'TandemHighErrorRate', 'TandemSlowEditAcks', 'TandemRedisLatencyHigh', 'TandemSlowConsumers']) {
      assert.ok(names.has(name), `${name} is listed`);
    }
    assert.ok(alerts!.alerts.slice(1).every((alert) => alert.state === 'inactive' || alert.name === 'TandemRelayDown'));
  });
});
