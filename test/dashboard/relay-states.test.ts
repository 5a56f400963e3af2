import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MetricsAggregates } from '../../protocol';
import { RelayStates, silenceLimitMs, stateOf, type RelayRow } from '../../electron-dashboard/renderer/relay-states';

const T0 = Date.parse('2026-12-06T12:00:00.000Z');

function row(relayId: string, lastSampleAt: number, overrides: Partial<RelayRow> = {}): RelayRow {
  return {
    relay_id: relayId,
    last_sample_at: new Date(lastSampleAt).toISOString(),
    uptime_s: 60,
    cpu_percent: 2,
    sample_interval_ms: 500,
    samples: 10,
    connections: 3,
    sessions: 1,
    documents: 0,
    messages_in_per_s: 10,
    messages_out_per_s: 20,
    messages_in: {},
    messages_out: {},
    errors: {},
    errors_per_s: 0,
    error_ratio: 0,
    event_loop_lag_ms: { p50: 1, p95: 2, p99: 3 },
    redis_latency_ms: { p50: 1, p95: 1, p99: 2 },
    latency_ms: {},
    memory_rss_bytes: 1,
    heap_used_bytes: 1,
    ...overrides,
  };
}

const aggregates = (relays: RelayRow[]) => ({ relays }) as unknown as MetricsAggregates;

describe('relay states', () => {
  it('is up while samples arrive, down once they stop for three intervals plus two seconds', () => {
    assert.equal(silenceLimitMs(500), 3500);
    assert.equal(stateOf(row('a', T0), true, T0 + 3500).state, 'up');
    const down = stateOf(row('a', T0), true, T0 + 3501);
    assert.equal(down.state, 'down');
    assert.match(down.reasons[0]!, /no sample for 4 s/);
    assert.equal(stateOf(row('a', T0, { sample_interval_ms: 5000 }), true, T0 + 16_000).state, 'up', 'the default interval allows 17 s');
  });

  it('is degraded by event-loop lag, errors with traffic, or slow Redis, and says why', () => {
    assert.deepEqual(stateOf(row('a', T0, { event_loop_lag_ms: { p50: 50, p95: 90, p99: 150 } }), true, T0).reasons, [
      'event-loop lag p99 150 ms',
    ]);
    assert.equal(stateOf(row('a', T0, { error_ratio: 0.2, messages_in_per_s: 0.5 }), true, T0).state, 'up', 'errors without traffic');
    assert.equal(stateOf(row('a', T0, { error_ratio: 0.2, messages_in_per_s: 5 }), true, T0).state, 'degraded');
    assert.equal(stateOf(row('a', T0, { redis_latency_ms: { p50: 10, p95: 40, p99: 80 } }), true, T0).state, 'degraded');
  });

  it('keeps listing a relay that left the window, as down, until forgotten', () => {
    const states = new RelayStates();
    assert.deepEqual(
      states.update(aggregates([row('b', T0), row('a', T0)]), T0).map((s) => [s.relay_id, s.state]),
      [
        ['a', 'up'],
        ['b', 'up'],
      ],
    );
    const later = states.update(aggregates([row('a', T0 + 60_000)]), T0 + 60_000);
    assert.deepEqual(
      later.map((s) => [s.relay_id, s.state]),
      [
        ['a', 'up'],
        ['b', 'down'],
      ],
    );
    assert.equal(later[1]!.row, undefined, 'no figures for a relay that left');
    states.forget('b');
    assert.deepEqual(
      states.update(aggregates([row('a', T0 + 61_000)]), T0 + 61_000).map((s) => s.relay_id),
      ['a'],
    );
  });
});
