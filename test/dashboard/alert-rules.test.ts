import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MetricsAggregates, OperatorStatus } from '../../protocol';
import { evaluateAlerts, type AlertInput } from '../../electron-dashboard/renderer/alert-rules';
import type { RelayStatus } from '../../electron-dashboard/renderer/relay-states';

const NOW = Date.parse('2026-12-06T12:00:00.000Z');

function cluster(overrides: Partial<MetricsAggregates['cluster']> = {}): MetricsAggregates {
  return {
    cluster: {
      connections: 10,
      messages_in_per_s: 5,
      error_ratio: 0,
      errors: {},
      redis_latency_ms: { p50: 1, p95: 2, p99: 3 },
      ...overrides,
    },
  } as unknown as MetricsAggregates;
}

const status = (redis: OperatorStatus['redis']['status']) =>
  ({ relay_id: 'relay-a', redis: { status: redis } }) as unknown as OperatorStatus;
const relay = (id: string, state: RelayStatus['state']) => ({ relay_id: id, state, reasons: [], silent_s: 0, row: undefined });

function firing(input: Partial<AlertInput>, since = new Map<string, string>(), now = NOW) {
  const alerts = evaluateAlerts(
    { aggregates: cluster(), status: status('up'), relays: [], connectionsFiveMinutesAgo: undefined, ...input },
    since,
    now,
  );
  return { alerts, names: alerts.filter((a) => a.state === 'firing').map((a) => `${a.name}${JSON.stringify(a.labels)}`) };
}

describe('alert rules on the live aggregates (no Prometheus)', () => {
  it('is quiet on a healthy cluster, and lists the rules that need Prometheus as not evaluated', () => {
    const { alerts, names } = firing({});
    assert.deepEqual(names, []);
    assert.deepEqual(
      alerts.filter((a) => !a.evaluated).map((a) => a.name),
      // The connection rules wait for five minutes of the dashboard's own history.
      ['TandemConnectionDrop', 'TandemConnectionSpike', 'TandemEditForwardsUnanswered', 'TandemSlowEditAcks', 'TandemSlowRestResponses'],
    );
  });

  it('fires the shipped rules’ thresholds, firing first', () => {
    const { alerts, names } = firing({
      aggregates: cluster({
        error_ratio: 0.06,
        messages_in_per_s: 2,
        errors: { SLOW_CONSUMER: 11 },
        redis_latency_ms: { p50: 1, p95: 20, p99: 51 },
      }),
      status: status('down'),
      relays: [relay('relay-a', 'up'), relay('relay-b', 'down')],
    });
    assert.deepEqual(names, [
      'TandemHighErrorRate{}',
      'TandemRedisDown{"relay_id":"relay-a"}',
      'TandemRedisLatencyHigh{}',
      'TandemRelayDown{"relay_id":"relay-b"}',
      'TandemSlowConsumers{}',
    ]);
    assert.ok(alerts.slice(0, 5).every((a) => a.state === 'firing'));
    assert.ok(alerts.slice(5).every((a) => a.state === 'inactive'));
  });

  it('compares connections with five minutes ago: a spike and a drop', () => {
    assert.deepEqual(firing({ aggregates: cluster({ connections: 260 }), connectionsFiveMinutesAgo: 100 }).names, [
      'TandemConnectionSpike{}',
    ]);
    assert.deepEqual(firing({ aggregates: cluster({ connections: 250 }), connectionsFiveMinutesAgo: 100 }).names, []);
    assert.deepEqual(firing({ aggregates: cluster({ connections: 13 }), connectionsFiveMinutesAgo: 20 }).names, [], 'from 20 or fewer');
    assert.deepEqual(firing({ aggregates: cluster({ connections: 20 }), connectionsFiveMinutesAgo: 30 }).names, ['TandemConnectionDrop{}']);
  });

  it('keeps when each alert became active while it stays active, and forgets it once resolved', () => {
    const since = new Map<string, string>();
    const first = firing({ status: status('down') }, since, NOW).alerts.find((a) => a.name === 'TandemRedisDown')!;
    const later = firing({ status: status('down') }, since, NOW + 30_000).alerts.find((a) => a.name === 'TandemRedisDown')!;
    assert.equal(later.active_at, first.active_at);
    firing({ status: status('up') }, since, NOW + 60_000);
    assert.equal(since.size, 0);
  });
});
