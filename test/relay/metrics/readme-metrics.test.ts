import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { RelayMetrics } from '../../../relay/metrics/relay-metrics';
import { RelayStats } from '../../../relay/stats';

const readme = readFileSync(join(__dirname, '..', '..', '..', 'README.md'), 'utf8');

describe('README: the metrics table', () => {
  it('lists every metric the relay’s registry exposes, with its type, labels and help', async () => {
    const metrics = new RelayMetrics({
      relayId: 'readme',
      stats: new RelayStats(),
      gauges: { connections: () => 0, sessions: () => 0, openDocuments: () => 0, redisUp: () => true },
      aiModel: 'model',
    });
    const families = (await metrics.registry.getMetricsAsJSON()).filter((metric) => metric.name.startsWith('tandem_'));
    assert.ok(families.length >= 20, `${families.length} metrics`);
    for (const { name, type, help } of families) {
      const labelNames = (metrics.registry.getSingleMetric(name) as unknown as { labelNames: string[] }).labelNames;
      const labels = labelNames.length === 0 ? '-' : labelNames.map((label) => `\`${label}\``).join(', ');
      const row = `| \`${name}\` | ${String(type)} | ${labels} | ${help} |`;
      assert.ok(readme.includes(row), `README lacks the row\n${row}`);
    }
    // And no row for a metric the relay does not have.
    const rows = [...readme.matchAll(/^\| `(tandem_\w+)` \|/gm)].map((match) => match[1]!);
    assert.deepEqual(rows.sort(), families.map((metric) => metric.name).sort());
  });
});
