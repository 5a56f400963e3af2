import { z } from 'zod';
import { type AlertStatus, type OperatorAlerts, ProtocolError } from '../../protocol';

/**
 * The alert rules' state from Prometheus's HTTP API (`/api/v1/rules?type=alert`), read by the
 * relay so that the dashboard's page talks to its own origin only. Every rule is listed: each
 * active instance (pending, firing) with its labels, or the rule once as inactive.
 */

const Alert = z.object({
  labels: z.record(z.string(), z.string()).default({}),
  annotations: z.record(z.string(), z.string()).default({}),
  state: z.string(),
  activeAt: z.string().optional(),
});
const Rule = z.object({
  name: z.string(),
  type: z.string().optional(),
  state: z.string().optional(),
  labels: z.record(z.string(), z.string()).default({}),
  annotations: z.record(z.string(), z.string()).default({}),
  alerts: z.array(Alert).default([]),
});
const RulesReply = z.object({ status: z.literal('success'), data: z.object({ groups: z.array(z.object({ rules: z.array(Rule) })) }) });

const ORDER: Record<AlertStatus['state'], number> = { firing: 0, pending: 1, inactive: 2 };
const TIMEOUT_MS = 3000;

export async function prometheusAlerts(prometheusUrl: string, fetchImpl: typeof fetch = fetch): Promise<OperatorAlerts> {
  const url = `${prometheusUrl.replace(/\/+$/, '')}/api/v1/rules?type=alert`;
  let json: unknown;
  try {
    const response = await fetchImpl(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    json = await response.json();
  } catch (error) {
    throw new ProtocolError(
      'PROMETHEUS_UNAVAILABLE',
      `Prometheus (PROMETHEUS_URL) did not answer: ${(error as Error).message}`.slice(0, 500),
    );
  }
  const parsed = RulesReply.safeParse(json);
  if (!parsed.success) throw new ProtocolError('PROMETHEUS_UNAVAILABLE', 'Prometheus answered something that is not its rules API');
  const alerts: AlertStatus[] = [];
  for (const group of parsed.data.data.groups) {
    for (const rule of group.rules) {
      if (rule.type !== undefined && rule.type !== 'alerting') continue;
      const severity = rule.labels.severity ?? '';
      const summary = rule.annotations.summary ?? rule.annotations.description ?? '';
      if (rule.alerts.length === 0) {
        alerts.push({ name: rule.name, state: 'inactive', severity, summary: clip(summary), active_at: null, labels: {} });
        continue;
      }
      for (const alert of rule.alerts) {
        const state = alert.state === 'firing' ? 'firing' : alert.state === 'pending' ? 'pending' : 'inactive';
        const labels = Object.fromEntries(Object.entries(alert.labels).filter(([key]) => key !== 'alertname' && key !== 'severity'));
        alerts.push({
          name: rule.name,
          state,
          severity: alert.labels.severity ?? severity,
          summary: clip(alert.annotations.summary ?? summary),
          active_at: alert.activeAt && !alert.activeAt.startsWith('0001') ? new Date(alert.activeAt).toISOString() : null,
          labels,
        });
      }
    }
  }
  alerts.sort((a, b) => ORDER[a.state] - ORDER[b.state] || a.name.localeCompare(b.name));
  return { source: 'prometheus', generated_at: new Date().toISOString(), alerts };
}

const clip = (text: string) => text.slice(0, 2000);
