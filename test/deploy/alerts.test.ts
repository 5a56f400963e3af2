/**
 * The alert rules (docker/prometheus/alerts.yml), by the tool Prometheus ships for them: they
 * parse (`promtool check rules`), each fires on a synthetic unhealthy series and stays quiet on a
 * healthy one (`promtool test rules docker/prometheus/alerts.test.yml`), and prometheus.yml,
 * which loads them and names the Alertmanager, passes `promtool check config`; the Alertmanager's
 * own config passes `amtool check-config` and routes each of them.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseYaml, requireBinary, ROOT, runCommand } from './helpers';

const RULES = join(ROOT, 'docker', 'prometheus', 'alerts.yml');
const RULE_TESTS = join(ROOT, 'docker', 'prometheus', 'alerts.test.yml');

/** The spec's four (error rate, connection spikes or drops, slow responses, Redis latency) and relay down, Redis down, slow consumers. */
const EXPECTED_ALERTS = [
  'TandemConnectionDrop',
  'TandemConnectionSpike',
  'TandemEditForwardsUnanswered',
  'TandemHighErrorRate',
  'TandemRedisDown',
  'TandemRedisLatencyHigh',
  'TandemRelayDown',
  'TandemSlowConsumers',
  'TandemSlowEditAcks',
  'TandemSlowRestResponses',
];

interface RuleFile {
  groups: Array<{ rules: Array<{ alert: string; expr: string; for?: string }> }>;
}
interface RuleTests {
  tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts: unknown[] }> }>;
}

describe('docker/prometheus/alerts.yml (promtool)', () => {
  const promtool = () => requireBinary('promtool', 'prometheus');

  it('passes promtool check rules', async () => {
    const result = await runCommand(promtool(), ['check', 'rules', RULES]);
    assert.equal(result.status, 0, result.stdout + result.stderr);
  });

  it('passes its unit tests: promtool test rules alerts.test.yml', async () => {
    const result = await runCommand(promtool(), ['test', 'rules', RULE_TESTS]);
    assert.equal(result.status, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /SUCCESS/);
  });

  it('has the expected alerts, each unit-tested both firing and quiet', async () => {
    const rules = (await parseYaml(readFileSync(RULES, 'utf8'))) as RuleFile;
    const names = rules.groups.flatMap((group) => group.rules.map((rule) => rule.alert)).sort();
    assert.deepEqual(names, EXPECTED_ALERTS);
    const tests = (await parseYaml(readFileSync(RULE_TESTS, 'utf8'))) as RuleTests;
    const cases = tests.tests.flatMap((test) => test.alert_rule_test ?? []);
    for (const name of names) {
      assert.ok(
        cases.some((c) => c.alertname === name && c.exp_alerts.length > 0),
        `${name} is never expected to fire`,
      );
      assert.ok(
        cases.some((c) => c.alertname === name && c.exp_alerts.length === 0),
        `${name} is never expected to stay quiet`,
      );
    }
  });

  it('is loaded by prometheus.yml, which sends alerts to the Alertmanager (promtool check config)', async () => {
    const config = (await parseYaml(readFileSync(join(ROOT, 'docker', 'prometheus.yml'), 'utf8'))) as {
      rule_files: string[];
      alerting: { alertmanagers: Array<{ static_configs: Array<{ targets: string[] }> }> };
    };
    assert.deepEqual(config.rule_files, ['prometheus/alerts.yml']);
    assert.deepEqual(config.alerting.alertmanagers[0]!.static_configs[0]!.targets, ['alertmanager:9093']);
    const result = await runCommand(promtool(), ['check', 'config', join(ROOT, 'docker', 'prometheus.yml')]);
    assert.equal(result.status, 0, result.stdout + result.stderr);
    assert.ok(result.stdout.includes(`SUCCESS: ${EXPECTED_ALERTS.length} rules found`), result.stdout);
  });
});

describe('docker/alertmanager.yml (amtool)', () => {
  const config = join(ROOT, 'docker', 'alertmanager.yml');
  const amtool = () => requireBinary('amtool', 'prometheus-alertmanager');

  it('passes amtool check-config', async () => {
    const result = await runCommand(amtool(), ['check-config', config]);
    assert.equal(result.status, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /SUCCESS/);
  });

  it('routes every alert of the rules to the operators’ receiver', async () => {
    for (const alertname of EXPECTED_ALERTS) {
      const result = await runCommand(amtool(), [
        'config',
        'routes',
        'test',
        `--config.file=${config}`,
        `alertname=${alertname}`,
        'relay_id=r1',
      ]);
      assert.equal(result.status, 0, result.stdout + result.stderr);
      assert.equal(result.stdout.trim(), 'operators', alertname);
    }
  });
});
