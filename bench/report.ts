import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
/** Figures and the printed tables of the bench. It measures and prints; it never asserts. */

export interface LatencySummary {
  samples: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

export function summarize(latencies: number[]): LatencySummary | undefined {
  if (latencies.length === 0) return undefined;
  const sorted = Float64Array.from(latencies).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { samples: sorted.length, p50: at(0.5), p99: at(0.99), p999: at(0.999), max: sorted[sorted.length - 1]! };
}

export interface ScenarioFigures {
  scenario: string;
  target: string;
  /** Planned publish rate (msgs/s); absent for the saturation run. */
  offeredMsgsPerSecond?: number;
  offeredDeliveriesPerSecond?: number;
  publishedMsgsPerSecond: number;
  deliveredPerSecond: number;
  /** Deliveries per second divided by the number of clients. */
  deliveredMsgsPerSecond: number;
  expectedDeliveries: number;
  receivedDeliveries: number;
  lossPercent: number;
  clientsClosed: number;
  latencyMs: LatencySummary | undefined;
  serverCpuPercent: number | undefined;
  /** The kernel's part of it (socket system calls). */
  serverSysPercent: number | undefined;
  /**
   * Server CPU time per delivery (µs): less sensitive than throughput to other load on a shared
   * machine; 1e6 / this is what one core could deliver per second.
   */
  serverMicrosPerDelivery: number | undefined;
  serverRssMB: number | undefined;
  serverPeakRssMB: number | undefined;
  loadgenCpuPercent: number[];
  loadgenSysPercent: number[];
  loadgenMicrosPerDelivery: number | undefined;
  machineBusyPercent: number | undefined;
  /** CPU used by processes other than the server and the load generators, % of one core. */
  otherCpuPercent: number | undefined;
  otherCpuBeforePercent: number | undefined;
  publisherLagP99Ms: number | undefined;
  publishFrameBytes: number;
  deliveredFrameBytes: number;
  /** Set on combined figures: each round's own. */
  rounds?: ScenarioFigures[];
}

export function median(values: Array<number | undefined>): number | undefined {
  const known = values.filter((v): v is number => v !== undefined && Number.isFinite(v)).sort((a, b) => a - b);
  if (known.length === 0) return undefined;
  const middle = known.length >> 1;
  return known.length % 2 ? known[middle] : (known[middle - 1]! + known[middle]!) / 2;
}

/**
 * One scenario's rounds on one target as one set of figures: the median of each figure (for
 * latency, the median of the rounds' percentiles), the sums of deliveries, the worst loss.
 */
export function combineRounds(rounds: ScenarioFigures[]): ScenarioFigures {
  const first = rounds[0]!;
  const med = (pick: (f: ScenarioFigures) => number | undefined) => median(rounds.map(pick));
  const expected = rounds.reduce((a, r) => a + r.expectedDeliveries, 0);
  const received = rounds.reduce((a, r) => a + r.receivedDeliveries, 0);
  return {
    ...first,
    publishedMsgsPerSecond: med((f) => f.publishedMsgsPerSecond)!,
    deliveredPerSecond: med((f) => f.deliveredPerSecond)!,
    deliveredMsgsPerSecond: med((f) => f.deliveredMsgsPerSecond)!,
    expectedDeliveries: expected,
    receivedDeliveries: received,
    lossPercent: expected > 0 ? Math.max(0, (100 * (expected - received)) / expected) : 0,
    clientsClosed: rounds.reduce((a, r) => a + r.clientsClosed, 0),
    latencyMs: combineLatencies(rounds.map((r) => r.latencyMs)),
    serverCpuPercent: med((f) => f.serverCpuPercent),
    serverSysPercent: med((f) => f.serverSysPercent),
    serverMicrosPerDelivery: med((f) => f.serverMicrosPerDelivery),
    serverRssMB: med((f) => f.serverRssMB),
    serverPeakRssMB: Math.max(...rounds.map((r) => r.serverPeakRssMB ?? 0)),
    loadgenCpuPercent: first.loadgenCpuPercent.map((_, i) => med((f) => f.loadgenCpuPercent[i]) ?? NaN),
    loadgenSysPercent: first.loadgenSysPercent.map((_, i) => med((f) => f.loadgenSysPercent[i]) ?? NaN),
    loadgenMicrosPerDelivery: med((f) => f.loadgenMicrosPerDelivery),
    machineBusyPercent: med((f) => f.machineBusyPercent),
    otherCpuPercent: med((f) => f.otherCpuPercent),
    otherCpuBeforePercent: med((f) => f.otherCpuBeforePercent),
    publisherLagP99Ms: med((f) => f.publisherLagP99Ms),
    rounds,
  };
}

/** Rounds' latencies as one: the median of each percentile, all the samples, the worst max. */
export function combineLatencies(rounds: Array<LatencySummary | undefined>): LatencySummary | undefined {
  const latencies = rounds.filter((l): l is LatencySummary => l !== undefined);
  if (latencies.length === 0) return undefined;
  return {
    samples: latencies.reduce((a, l) => a + l.samples, 0),
    p50: median(latencies.map((l) => l.p50))!,
    p99: median(latencies.map((l) => l.p99))!,
    p999: median(latencies.map((l) => l.p999))!,
    max: Math.max(...latencies.map((l) => l.max)),
  };
}

export interface IdleFigures {
  target: string;
  connections: number;
  failed: number;
  sessions: number;
  connectSeconds: number;
  /** After a full GC, before connecting. */
  rssBeforeMB: number;
  /** Once the connections settled, without a GC. */
  rssSettledMB: number;
  /** After a full GC. */
  rssAfterGcMB: number;
  /** RSS growth per connection, GC'd before and after (the headline figure). */
  bytesPerConnection: number;
  bytesPerConnectionWithoutGc: number;
  /** V8 heap and `external` (Buffers, native) growth per connection, after GC. */
  heapUsedPerConnection: number;
  externalPerConnection: number;
  firstError?: string;
}

export const n0 = (value: number | undefined) =>
  value === undefined || !Number.isFinite(value) ? '-' : Math.round(value).toLocaleString('en-US');
export const n2 = (value: number | undefined) => (value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(2));
const n1 = (value: number | undefined) => (value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(1));

/** The first two columns (and `leftColumns`) are aligned left, the others (numbers) right. */
export function table(headers: string[], rows: string[][], leftColumns: number[] = []): string {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => (row[i] ?? '').length)));
  const left = (i: number) => i < 2 || leftColumns.includes(i);
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (left(i) ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function scenarioTable(figures: ScenarioFigures[]): string {
  return table(
    [
      'scenario',
      'target',
      'offered/s',
      'delivered/s',
      'msgs/s',
      'loss %',
      'p50 ms',
      'p99 ms',
      'p99.9 ms',
      'samples',
      'srv CPU%',
      'srv µs/dlv',
      'srv RSS MB',
      'gen CPU%',
      'gen µs/dlv',
      'other CPU%',
      'pub lag p99',
    ],
    figures.map((f) => [
      f.scenario,
      f.target,
      n0(f.offeredDeliveriesPerSecond),
      n0(f.deliveredPerSecond),
      n0(f.publishedMsgsPerSecond),
      f.lossPercent === 0 ? '0' : f.lossPercent.toFixed(3),
      n2(f.latencyMs?.p50),
      n2(f.latencyMs?.p99),
      n2(f.latencyMs?.p999),
      n0(f.latencyMs?.samples),
      n0(f.serverCpuPercent),
      n2(f.serverMicrosPerDelivery),
      n1(f.serverRssMB),
      f.loadgenCpuPercent.map((c) => n0(c)).join('+'),
      n2(f.loadgenMicrosPerDelivery),
      n0(f.otherCpuPercent),
      n2(f.publisherLagP99Ms),
    ]),
  );
}

export function idleTable(figures: IdleFigures[]): string {
  return table(
    [
      'idle',
      'target',
      'connections',
      'failed',
      'connect s',
      'RSS before MB',
      'RSS settled MB',
      'RSS after GC MB',
      'bytes/conn',
      'no-GC bytes/conn',
      'heap B/conn',
      'external B/conn',
    ],
    figures.map((f) => [
      'idle',
      f.target,
      n0(f.connections),
      n0(f.failed),
      n1(f.connectSeconds),
      n1(f.rssBeforeMB),
      n1(f.rssSettledMB),
      n1(f.rssAfterGcMB),
      n0(f.bytesPerConnection),
      n0(f.bytesPerConnectionWithoutGc),
      n0(f.heapUsedPerConnection),
      n0(f.externalPerConnection),
    ]),
  );
}

export interface TargetCheck {
  name: string;
  /** relay / baseline (or the relay's own figure where the target names no baseline). */
  measured: number | undefined;
  /** `>=` or `<=` this; absent: a figure shown for information, with no target. */
  bound?: number;
  direction?: '>=' | '<=';
  detail: string;
  met: boolean | undefined;
}

export function check(name: string, measured: number | undefined, direction: '>=' | '<=', bound: number, detail: string): TargetCheck {
  const met = measured === undefined || !Number.isFinite(measured) ? undefined : direction === '>=' ? measured >= bound : measured <= bound;
  return { name, measured: measured !== undefined && Number.isFinite(measured) ? measured : undefined, bound, direction, detail, met };
}

export function info(name: string, measured: number | undefined, detail: string): TargetCheck {
  return { name, measured: measured !== undefined && Number.isFinite(measured) ? measured : undefined, detail, met: undefined };
}

export function checksTable(checks: TargetCheck[]): string {
  return table(
    ['target', 'measured', 'goal', 'verdict', 'detail'],
    checks.map((c) => [
      c.name,
      c.measured === undefined ? '-' : c.measured.toFixed(2),
      c.bound === undefined ? '' : `${c.direction} ${c.bound}`,
      c.bound === undefined ? 'info' : c.met === undefined ? 'n/a' : c.met ? 'met' : 'MISSED',
      c.detail,
    ]),
    [4],
  );
}

/**
 * Writes `bench-results/<name>.json` with the machine, the config (secret redacted) and the
 * figures, and says where; every bench reports the same way.
 */
export function writeBenchReport(name: string, startedAt: number, config: object, relayEnv: Record<string, string>, figures: object): void {
  const out = resolve(__dirname, '..', 'bench-results');
  mkdirSync(out, { recursive: true });
  const file = join(out, `${name}.json`);
  const cpu = cpus();
  const report = {
    bench: name,
    date: new Date().toISOString(),
    durationSeconds: (Date.now() - startedAt) / 1000,
    machine: {
      cpus: cpu.length,
      cpuModel: cpu[0]?.model,
      node: process.version,
      platform: process.platform,
      totalMemoryMB: Math.round(totalmem() / 2 ** 20),
    },
    config: { ...config, relayEnv: { ...relayEnv, AUTH_SECRET: '[redacted]' } },
    ...figures,
  };
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`Written to ${file} in ${Math.round((Date.now() - startedAt) / 1000)} s.\n`);
}
