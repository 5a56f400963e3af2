import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Histogram, Registry } from 'prom-client';
import { HistogramLatencies, quantiles } from '../../../relay/streams/histogram-latencies';

describe('latency percentiles from the Prometheus histograms', () => {
  it('estimates like histogram_quantile: linear within a bucket, the last finite bound past it', () => {
    // 100 observations: 50 in (0, 0.01], 40 in (0.01, 0.1], 10 in (0.1, 1].
    const buckets = new Map([
      [0.01, 50],
      [0.1, 90],
      [1, 100],
      [Infinity, 100],
    ]);
    assert.deepEqual(quantiles(buckets), { p50: 10, p95: 550, p99: 910 });
    assert.equal(quantiles(new Map([[Infinity, 0]])), undefined, 'nothing observed');
    assert.deepEqual(
      quantiles(
        new Map([
          [0.5, 0],
          [Infinity, 4],
        ]),
      ),
      { p50: 500, p95: 500, p99: 500 },
    );
  });

  it('takes what each path observed since the previous sample, over all its labels', async () => {
    const registry = new Registry();
    const rest = new Histogram({
      name: 'tandem_http_request_duration_seconds',
      help: 'x',
      labelNames: ['route'],
      buckets: [0.01, 0.1, 1],
      registers: [registry],
    });
    const editAck = new Histogram({ name: 'tandem_edit_ack_seconds', help: 'x', buckets: [0.01, 0.1], registers: [registry] });
    const latencies = new HistogramLatencies(registry);
    for (let i = 0; i < 10; i++) rest.observe({ route: i % 2 ? '/a' : '/b' }, 0.005);
    editAck.observe(0.05);
    const first = await latencies.sample();
    assert.ok(first.rest && first.rest.p99 <= 10, JSON.stringify(first));
    assert.ok(first.edit_ack && first.edit_ack.p50 > 10 && first.edit_ack.p50 <= 100);
    assert.equal(first.broadcast, undefined, 'a path without a histogram is left out');
    for (let i = 0; i < 10; i++) rest.observe({ route: '/a' }, 0.5);
    const second = await latencies.sample();
    assert.ok(second.rest && second.rest.p50 > 100, 'only the new observations count');
    assert.equal(second.edit_ack, undefined, 'nothing new: no figure');
  });
});
