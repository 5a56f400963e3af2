import type { AlertStatus, MetricsAggregates, OperatorStatus } from '../../protocol';
import type { RelayStatus } from './relay-states';

/**
 * The alert rules of docker/prometheus/alerts.yml, evaluated on the live aggregates when no
 * Prometheus is configured: same names, same thresholds, without their `for:` delays (the
 * aggregates are already a one-minute window). The rules that need the Prometheus histograms (edit
 * ack and REST latency) are listed as needing Prometheus. Firing first. Pure: tested.
 */

export interface AlertInput {
  aggregates: MetricsAggregates | undefined;
  status: OperatorStatus | undefined;
  relays: RelayStatus[];
  /** The cluster's connections about five minutes ago (from the dashboard's own history), if it has watched that long. */
  connectionsFiveMinutesAgo: number | undefined;
}

interface Rule {
  name: string;
  severity: 'critical' | 'warning';
  summary: string;
  /** The instances that fire (labels), or undefined when the rule cannot be evaluated here. */
  evaluate(input: AlertInput): Array<Record<string, string>> | undefined;
}

const RULES: Rule[] = [
  {
    name: 'TandemRelayDown',
    severity: 'critical',
    summary: 'A relay stopped sending its metrics samples (crashed, stopped, or cut off from Redis).',
    evaluate: ({ relays }) => relays.filter((relay) => relay.state === 'down').map((relay) => ({ relay_id: relay.relay_id })),
  },
  {
    name: 'TandemRedisDown',
    severity: 'critical',
    summary: 'The relay cannot reach Redis: chat and edits are refused with BROKER_UNAVAILABLE.',
    evaluate: ({ status }) => (status?.redis.status === 'down' ? [{ relay_id: status.relay_id }] : []),
  },
  {
    name: 'TandemHighErrorRate',
    severity: 'warning',
    summary: 'More than 5 % of inbound frames are answered with an error (with over 1 frame/s).',
    evaluate: ({ aggregates }) =>
      aggregates && aggregates.cluster.error_ratio > 0.05 && aggregates.cluster.messages_in_per_s > 1 ? [{}] : aggregates ? [] : undefined,
  },
  {
    name: 'TandemConnectionSpike',
    severity: 'warning',
    summary: 'Connections grew by more than half, plus 100, within 5 minutes.',
    evaluate: ({ aggregates, connectionsFiveMinutesAgo: before }) =>
      aggregates && before !== undefined ? (aggregates.cluster.connections > before * 1.5 + 100 ? [{}] : []) : undefined,
  },
  {
    name: 'TandemConnectionDrop',
    severity: 'warning',
    summary: 'Connections fell by more than 30 % within 5 minutes, from over 20.',
    evaluate: ({ aggregates, connectionsFiveMinutesAgo: before }) =>
      aggregates && before !== undefined ? (before > 20 && aggregates.cluster.connections < before * 0.7 ? [{}] : []) : undefined,
  },
  {
    name: 'TandemRedisLatencyHigh',
    severity: 'warning',
    summary: 'Redis round trips are slow: p99 over 50 ms.',
    evaluate: ({ aggregates }) => (aggregates ? ((aggregates.cluster.redis_latency_ms.p99 ?? 0) > 50 ? [{}] : []) : undefined),
  },
  {
    name: 'TandemSlowConsumers',
    severity: 'warning',
    summary: 'More than 10 connections were closed as slow consumers within the window.',
    evaluate: ({ aggregates }) => (aggregates ? ((aggregates.cluster.errors.SLOW_CONSUMER ?? 0) > 10 ? [{}] : []) : undefined),
  },
  {
    name: 'TandemEditForwardsUnanswered',
    severity: 'warning',
    summary: 'More than 3 edit forwards from a relay went unanswered within 5 minutes (needs PROMETHEUS_URL).',
    evaluate: () => undefined,
  },
  {
    name: 'TandemSlowEditAcks',
    severity: 'warning',
    summary: 'p99 edit ack latency over 250 ms (needs PROMETHEUS_URL).',
    evaluate: () => undefined,
  },
  {
    name: 'TandemSlowRestResponses',
    severity: 'warning',
    summary: 'p95 REST latency over 1 s (needs PROMETHEUS_URL).',
    evaluate: () => undefined,
  },
];

export interface LocalAlert extends AlertStatus {
  /** False for a rule these figures cannot evaluate (it needs Prometheus). */
  evaluated: boolean;
}

const ORDER = { firing: 0, pending: 1, inactive: 2 } as const;

export function evaluateAlerts(input: AlertInput, since: Map<string, string>, now: number): LocalAlert[] {
  const alerts: LocalAlert[] = [];
  const active = new Set<string>();
  for (const rule of RULES) {
    const instances = rule.evaluate(input);
    if (instances === undefined || instances.length === 0) {
      alerts.push({
        name: rule.name,
        state: 'inactive',
        severity: rule.severity,
        summary: rule.summary,
        active_at: null,
        labels: {},
        evaluated: instances !== undefined,
      });
      continue;
    }
    for (const labels of instances) {
      const key = `${rule.name}${JSON.stringify(labels)}`;
      active.add(key);
      if (!since.has(key)) since.set(key, new Date(now).toISOString());
      alerts.push({
        name: rule.name,
        state: 'firing',
        severity: rule.severity,
        summary: rule.summary,
        active_at: since.get(key)!,
        labels,
        evaluated: true,
      });
    }
  }
  for (const key of [...since.keys()]) if (!active.has(key)) since.delete(key);
  return alerts.sort((a, b) => ORDER[a.state] - ORDER[b.state] || a.name.localeCompare(b.name));
}
