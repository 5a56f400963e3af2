import { monotonicMs } from '../clock';
import type { ClientGroup, CollectResult, Driver, Load, PublishResult, RunSpec } from '../ipc';
import { LoadgenProcess } from '../processes';
import { cpuPercent, otherCpuPercent, sampleWindow, sysPercent, systemBusyPercent } from '../proc-stats';
import { combineLatencies, combineRounds, type LatencySummary, median, type ScenarioFigures, summarize } from '../report';
import { type BenchContext, type Cluster, sessionToken, startCluster, type TargetSpec } from './cluster';

/**
 * The broadcast part of the scale-out bench: one session, its clients split half and half over
 * two load generator processes, each with a publisher; on a two-server target each load
 * generator (its receivers and its publisher) is on its own server, so every message crosses
 * Redis to reach half the session. The same load on every target, in the same run.
 */

export interface BroadcastConfig {
  /** Clients in the session, the two publishers included; every message reaches all of them. */
  clients: number;
  contentChars: number;
  /** Open-loop publish rates, msgs/s for the whole session (split between the publishers). */
  rates: number[];
  /** Saturation: each publisher keeps at most this many messages in flight. */
  saturationWindow: number;
  rounds: number;
  warmupMs: number;
  measureMs: number;
  primeMs: number;
  collectMs: number;
  samplesPerSecond: number;
  /** `wire` (counting receivers) or `typed`; Socket.IO targets get their counterpart. */
  driver: 'wire' | 'typed';
}

export interface Scenario {
  name: string;
  load: Load;
}

export interface ScaleoutFigures extends ScenarioFigures {
  /** Each server's CPU (% of one core), and Redis's; `serverCpuPercent` is their sum. */
  serverCpuPercents: number[];
  redisCpuPercent: number | undefined;
  /**
   * Latency of the messages the other load generator's publisher sent: on a two-server target,
   * exactly those that crossed from one server to the other through Redis.
   */
  crossLatencyMs: LatencySummary | undefined;
}

interface Rig {
  cluster: Cluster;
  loadgens: LoadgenProcess[];
  session: string;
}

const LOADGENS = 2;
const TAGS = ['A', 'B'];

function driverFor(spec: TargetSpec, driver: BroadcastConfig['driver']): Driver {
  if (spec.kind === 'relay') return driver;
  return driver === 'wire' ? 'sio-wire' : 'sio';
}

async function startRig(context: BenchContext, spec: TargetSpec, config: BroadcastConfig): Promise<Rig> {
  const cluster = await startCluster(context, spec);
  const session = `broadcast-${spec.name}`;
  const loadgens = Array.from({ length: LOADGENS }, (_, i) => new LoadgenProcess(context.loadgenBundle, `${spec.name}-loadgen-${i + 1}`));
  const rig = { cluster, loadgens, session };
  try {
    const driver = driverFor(spec, config.driver);
    const receivers = config.clients - LOADGENS;
    const share = (i: number) => Math.floor(receivers / LOADGENS) + (i < receivers % LOADGENS ? 1 : 0);
    const urlOf = (i: number) => cluster.servers[i % cluster.servers.length]!.url;
    for (const [i, loadgen] of loadgens.entries()) {
      const groups: ClientGroup[] = [{ token: sessionToken(context, `r${i}`, [session]), session, count: share(i) }];
      const connected = await loadgen.request(
        { type: 'connect', url: urlOf(i), driver, groups, concurrency: 50, timeoutMs: 20_000 },
        'connected',
        25_000,
      );
      if (connected.failed > 0) throw new Error(`${spec.name}: ${connected.failed} receivers failed to connect: ${connected.firstError}`);
    }
    // The publishers join last, so the fan-out reaches them after everyone else.
    for (const [i, loadgen] of loadgens.entries()) {
      const groups = [{ token: sessionToken(context, `publisher-${TAGS[i]}`, [session]), session, count: 1 }];
      const pub = await loadgen.request(
        { type: 'connect', url: urlOf(i), driver, groups, concurrency: 1, timeoutMs: 10_000, publisher: true },
        'connected',
        15_000,
      );
      if (pub.failed > 0) throw new Error(`${spec.name}: publisher ${TAGS[i]} failed to connect: ${pub.firstError}`);
    }
    await Promise.all(loadgens.map((l) => l.request({ type: 'quiesce', quietMs: 300, timeoutMs: 10_000 }, 'quiet', 15_000)));
    return rig;
  } catch (error) {
    await stopRig(rig);
    throw error;
  }
}

async function stopRig({ cluster, loadgens }: Rig): Promise<void> {
  await Promise.all(loadgens.map((l) => l.stop()));
  await cluster.stop();
}

/** Every scenario on every target, in rounds; the targets take turns so a change in the machine's load hits all alike. */
export async function broadcast(
  context: BenchContext,
  specs: TargetSpec[],
  config: BroadcastConfig,
  log: (line: string) => void,
): Promise<ScaleoutFigures[]> {
  const rigs: Rig[] = [];
  try {
    for (const spec of specs) rigs.push(await startRig(context, spec, config));
    // Untimed: compiles the hot paths and lets the start-up garbage go before anything counts.
    for (const rig of rigs)
      await runScenario(
        context,
        rig,
        config,
        { name: 'priming', load: { mode: 'open', rate: config.rates[0] ?? 200 } },
        { warmupMs: 0, measureMs: config.primeMs },
      );
    const scenarios: Scenario[] = [
      ...config.rates.map((rate): Scenario => ({ name: `open ${(rate * config.clients) / 1000}k dlv/s`, load: { mode: 'open', rate } })),
      { name: 'saturation', load: { mode: 'closed', window: config.saturationWindow } },
    ];
    const figures: ScaleoutFigures[] = [];
    for (const scenario of scenarios) {
      const rounds = new Map<Rig, ScaleoutFigures[]>(rigs.map((rig) => [rig, []]));
      for (let round = 0; round < config.rounds; round++) {
        // Rotated each round: every target goes first once in three rounds.
        const order = rigs.map((_, i) => rigs[(i + round) % rigs.length]!);
        for (const rig of order) {
          const result = await runScenario(context, rig, config, scenario);
          rounds.get(rig)!.push(result);
          log(
            `  ${rig.cluster.spec.name.padEnd(11)} ${scenario.name.padEnd(17)} round ${round + 1}: ` +
              `${Math.round(result.deliveredPerSecond).toLocaleString('en-US').padStart(8)} deliveries/s, ` +
              `p50/p99 ${result.latencyMs?.p50.toFixed(2) ?? '-'}/${result.latencyMs?.p99.toFixed(2) ?? '-'} ms (cross ` +
              `${result.crossLatencyMs?.p99.toFixed(2) ?? '-'}), loss ${result.lossPercent.toFixed(2)}%, ` +
              `servers CPU ${result.serverCpuPercents.map(Math.round).join('+')}% ` +
              `${result.redisCpuPercent === undefined ? '' : `redis ${Math.round(result.redisCpuPercent)}%, `}` +
              `loadgens ${result.loadgenCpuPercent.map(Math.round).join('+')}%, others ${Math.round(result.otherCpuPercent ?? NaN)}%`,
          );
          // Whatever a server still had queued (an overloaded open-loop run) drains before the next run.
          await Promise.all(rig.loadgens.map((l) => l.request({ type: 'quiesce', quietMs: 200, timeoutMs: 5000 }, 'quiet', 8000)));
        }
      }
      for (const rig of rigs) {
        const all = rounds.get(rig)!;
        figures.push({
          ...combineRounds(all),
          serverCpuPercents: all[0]!.serverCpuPercents.map((_, i) => median(all.map((r) => r.serverCpuPercents[i])) ?? NaN),
          redisCpuPercent: median(all.map((r) => r.redisCpuPercent)),
          crossLatencyMs: combineLatencies(all.map((r) => r.crossLatencyMs)),
        });
      }
    }
    return figures;
  } finally {
    await Promise.all(rigs.map(stopRig));
  }
}

async function runScenario(
  context: BenchContext,
  { cluster, loadgens }: Rig,
  config: BroadcastConfig,
  scenario: Scenario,
  timing = { warmupMs: config.warmupMs, measureMs: config.measureMs },
): Promise<ScaleoutFigures> {
  const serverPids = cluster.pids;
  const pids = [...serverPids, ...loadgens.map((l) => l.pid)];
  const otherBefore = await context.quiet.wait(pids);
  const offeredMsgs = scenario.load.mode === 'open' ? scenario.load.rate : undefined;
  // Expected deliveries per second: the offered ones, or for saturation a guess high enough.
  const deliveriesGuess = (offeredMsgs ?? 1500) * config.clients;
  const sampleEvery = Math.max(1, Math.round(deliveriesGuess / config.samplesPerSecond));
  const startAt = monotonicMs() + 200;
  const windowStart = startAt + timing.warmupMs;
  const windowEnd = windowStart + timing.measureMs;
  const specFor = (i: number): RunSpec => ({
    load: scenario.load.mode === 'open' ? { mode: 'open', rate: scenario.load.rate / loadgens.length } : scenario.load,
    startAt,
    ...timing,
    contentChars: config.contentChars,
    sampleEvery,
    publisherTag: TAGS[i],
  });

  // CPU over the measured window only.
  const sampling = sampleWindow(pids, windowStart, windowEnd);
  const runTimeout = windowEnd - monotonicMs() + 10_000;
  const ran = await Promise.all(loadgens.map((l, i) => l.request({ type: 'run', spec: specFor(i) }, 'ran', runTimeout)));
  const { before, after, systemBefore, systemAfter } = await sampling;
  const publishes: PublishResult[] = ran.map((r) => r.publish!);
  const sent = publishes.reduce((a, p) => a + p.sent, 0);
  const collected: CollectResult[] = await Promise.all(
    loadgens.map((l) =>
      l.request({ type: 'collect', expectedPerClient: sent, timeoutMs: config.collectMs }, 'collected', config.collectMs + 5000),
    ),
  );

  const clients = collected.reduce((a, c) => a + c.clients, 0);
  const received = collected.reduce((a, c) => a + c.received, 0);
  const receivedInWindow = collected.reduce((a, c) => a + c.receivedInWindow, 0);
  const expected = sent * clients;
  const seconds = timing.measureMs / 1000;
  const cpu = (i: number) => cpuPercent(before[i], after[i]);
  const serverCpuPercents = cluster.servers.map((_, i) => cpu(i) ?? NaN);
  const redisCpuPercent = cluster.redisPid ? cpu(cluster.servers.length) : undefined;
  const serverCpu = sum(serverPids.map((_, i) => cpu(i)));
  const loadgenCpu = loadgens.map((_, i) => cpu(serverPids.length + i) ?? NaN);
  const perDelivery = (percent: number | undefined) =>
    percent === undefined || receivedInWindow === 0 ? undefined : (percent * 1e4 * seconds) / receivedInWindow;
  const machineBusy = systemBusyPercent(systemBefore, systemAfter);
  return {
    scenario: scenario.name,
    target: cluster.spec.name,
    ...(offeredMsgs !== undefined && { offeredMsgsPerSecond: offeredMsgs, offeredDeliveriesPerSecond: offeredMsgs * clients }),
    publishedMsgsPerSecond: publishes.reduce((a, p) => a + p.sentInWindow, 0) / seconds,
    deliveredPerSecond: receivedInWindow / seconds,
    deliveredMsgsPerSecond: receivedInWindow / seconds / clients,
    expectedDeliveries: expected,
    receivedDeliveries: received,
    lossPercent: expected > 0 ? Math.max(0, (100 * (expected - received)) / expected) : 0,
    clientsClosed: collected.reduce((a, c) => a + c.closed, 0),
    latencyMs: summarize(collected.flatMap((c) => c.latencies)),
    serverCpuPercent: serverCpu,
    serverSysPercent: sum(serverPids.map((_, i) => sysPercent(before[i], after[i]))),
    serverMicrosPerDelivery: perDelivery(serverCpu),
    serverRssMB: sum(serverPids.map((_, i) => mb(after[i]?.rssBytes))),
    serverPeakRssMB: sum(serverPids.map((_, i) => mb(after[i]?.hwmBytes))),
    loadgenCpuPercent: loadgenCpu,
    loadgenSysPercent: loadgens.map((_, i) => sysPercent(before[serverPids.length + i], after[serverPids.length + i]) ?? NaN),
    loadgenMicrosPerDelivery: perDelivery(loadgenCpu.reduce((a, b) => a + b, 0)),
    machineBusyPercent: machineBusy,
    otherCpuPercent: otherCpuPercent(
      machineBusy,
      pids.map((_, i) => cpu(i)),
    ),
    otherCpuBeforePercent: otherBefore,
    publisherLagP99Ms: scenario.load.mode === 'open' ? Math.max(...publishes.map((p) => p.lagP99Ms)) : undefined,
    publishFrameBytes: publishes[0]!.publishFrameBytes,
    deliveredFrameBytes: publishes[0]!.deliveredFrameBytes,
    serverCpuPercents,
    redisCpuPercent,
    crossLatencyMs: summarize(collected.flatMap((c) => c.otherLatencies ?? [])),
  };
}

/** Undefined if any part is unknown: a sum with a hole in it would look like a figure. */
function sum(values: Array<number | undefined>): number | undefined {
  return values.some((v) => v === undefined || !Number.isFinite(v)) ? undefined : values.reduce<number>((a, v) => a + v!, 0);
}

const mb = (bytes: number | undefined) => (bytes === undefined ? undefined : bytes / (1024 * 1024));
