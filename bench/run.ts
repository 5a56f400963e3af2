import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { mintToken } from '../relay/auth/tokens';
import { monotonicMs } from './clock';
import { InspectorSession } from './inspector';
import type { ClientGroup, CollectResult, Driver, Load, PublishResult } from './ipc';
import {
  baselineLaunch,
  benchRelayEnv,
  bundleBenchProcesses,
  type Bundles,
  LoadgenProcess,
  relayLaunch,
  type ServerLaunch,
  type ServerProcess,
  startServer,
} from './processes';
import { cpuPercent, otherCpuPercent, QuietWaiter, sampleProcess, sampleWindow, sysPercent, systemBusyPercent } from './proc-stats';
import {
  check,
  checksTable,
  combineRounds,
  info,
  type IdleFigures,
  idleTable,
  type ScenarioFigures,
  scenarioTable,
  summarize,
  writeBenchReport,
} from './report';
import { runBench } from './entry';

/**
 * `npm run bench`: session broadcast through the relay against a plain `ws` broadcast server
 * (the runtime's limit on this machine), measured in the same run. Prints tables and writes
 * bench-results/relay-broadcast.json. It measures; it asserts nothing.
 *
 * Knobs (environment), for exploring; the defaults are the issue's setup:
 *   BENCH_TARGETS=plain,relay       which servers; `relay-nometrics` is the relay with METRICS_ENABLED=false:
 *                                   `npm run bench:metrics` runs relay,relay-nometrics to measure what /metrics costs
 *   BENCH_RATES=100,250,500         open-loop publish rates (msgs/s); the first is the latency target's
 *   BENCH_ROUNDS=3                  rounds per scenario and target
 *   BENCH_MEASURE_MS=2500           measured window of a round
 *   BENCH_WINDOW=16                 saturation: messages in flight
 *   BENCH_CONTENT_CHARS=100         chat content length
 *   BENCH_DRIVER=wire|typed|raw     the receivers' client (see ipc.ts)
 *   BENCH_LOADGENS=1|2              load generator processes
 *   BENCH_IDLE_CONNECTIONS=10000    BENCH_SKIP_IDLE=1, BENCH_SKIP_BROADCAST=1
 *   BENCH_RELAY_BUNDLE=file         measure another relay build (e.g. with a proposed fix)
 *   BENCH_SERVER_PROF=dir           run the servers under --cpu-prof (TARGET-PHASE.cpuprofile there;
 *                                   summarize with profile-summary.ts); BENCH_LOADGEN_PROF=dir likewise
 */

const env = process.env;
const config = {
  clients: 200,
  session: 's1',
  contentChars: Number(env.BENCH_CONTENT_CHARS ?? 100),
  rates: (env.BENCH_RATES ?? '100,250,500').split(',').filter(Boolean).map(Number),
  /** Saturation: closed loop, at most this many messages in flight (sent, not yet echoed to the publisher). */
  saturationWindow: Number(env.BENCH_WINDOW ?? 16),
  /** Each scenario runs this many rounds, the targets taking turns; a figure is the median of its rounds. */
  rounds: Number(env.BENCH_ROUNDS ?? 3),
  warmupMs: 1000,
  /** Once per server, before the scenarios: an untimed run at 250 msgs/s. */
  primeMs: 2000,
  /** After a run, how long receivers may take to get what was sent (beyond: counted as loss). */
  collectMs: 3000,
  measureMs: Number(env.BENCH_MEASURE_MS ?? 2500),
  /** Latency samples wanted per second of run, all clients together (sets the sampling ratio). */
  samplesPerSecond: 10_000,
  driver: (['typed', 'raw'].includes(env.BENCH_DRIVER ?? '') ? env.BENCH_DRIVER : 'wire') as Driver,
  loadgens: Math.min(2, Math.max(1, Number(env.BENCH_LOADGENS ?? 1))),
  idleConnections: Number(env.BENCH_IDLE_CONNECTIONS ?? 10_000),
  idleSessionSize: 10,
  idleSettleMs: 1500,
  targets: (env.BENCH_TARGETS ?? 'plain,relay').split(',').map((t) => t.trim()),
  skipIdle: env.BENCH_SKIP_IDLE === '1',
  skipBroadcast: env.BENCH_SKIP_BROADCAST === '1',
  /** Before each run, wait (at most this long in all) for other processes to use under 15% of a core. */
  quietBudgetMs: 30_000,
  /** The whole bench gives up (and kills everything) after this long. */
  deadlineMs: 230_000,
};

const secret = randomBytes(24).toString('hex');

const relayEnv = benchRelayEnv(secret);

function launchFor(target: string, bundles: Bundles, phase: string, nodeArgs: string[] = []): ServerLaunch {
  const prof = env.BENCH_SERVER_PROF
    ? ['--cpu-prof', `--cpu-prof-dir=${resolve(env.BENCH_SERVER_PROF)}`, `--cpu-prof-name=${target}-${phase}.cpuprofile`]
    : [];
  if (target === 'relay') return relayLaunch(relayEnv, [...nodeArgs, ...prof]);
  if (target === 'relay-nometrics') return relayLaunch({ ...relayEnv, METRICS_ENABLED: 'false' }, [...nodeArgs, ...prof]);
  return baselineLaunch('plain', bundles.plainServer, [...nodeArgs, ...prof]);
}

function token(user: string, sessions: string[]): string {
  return mintToken(secret, { user, sessions, role: 'editor', ttl: '1h' });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));
const kb = (bytes: number | undefined) => (bytes === undefined ? '-' : (bytes / 1024).toFixed(2));
const mb = (bytes: number | undefined) => (bytes === undefined ? undefined : bytes / (1024 * 1024));

interface Scenario {
  name: string;
  load: Load;
}

/** A server under test with its load generators connected: 200 clients in one session. */
interface Rig {
  target: string;
  server: ServerProcess;
  loadgens: LoadgenProcess[];
}

async function startRig(target: string, bundles: Bundles): Promise<Rig> {
  const server = await startServer(launchFor(target, bundles, 'broadcast'));
  const loadgens = Array.from({ length: config.loadgens }, (_, i) => new LoadgenProcess(bundles.loadgen, `${target}-loadgen-${i + 1}`));
  const rig = { target, server, loadgens };
  try {
    const receivers = config.clients - 1;
    const share = (i: number) => Math.floor(receivers / loadgens.length) + (i < receivers % loadgens.length ? 1 : 0);
    for (const [i, loadgen] of loadgens.entries()) {
      const groups: ClientGroup[] = [{ token: token(`r${i}`, [config.session]), session: config.session, count: share(i) }];
      const connected = await loadgen.request(
        { type: 'connect', url: server.url, driver: config.driver, groups, concurrency: 50, timeoutMs: 20_000 },
        'connected',
        25_000,
      );
      if (connected.failed > 0) throw new Error(`${target}: ${connected.failed} receivers failed to connect: ${connected.firstError}`);
    }
    // The publisher joins last, so the server's fan-out reaches it after everyone else.
    const publisherGroup = [{ token: token('publisher', [config.session]), session: config.session, count: 1 }];
    const pub = await loadgens[0]!.request(
      {
        type: 'connect',
        url: server.url,
        driver: config.driver,
        groups: publisherGroup,
        concurrency: 1,
        timeoutMs: 10_000,
        publisher: true,
      },
      'connected',
      15_000,
    );
    if (pub.failed > 0) throw new Error(`${target}: the publisher failed to connect: ${pub.firstError}`);
    await Promise.all(loadgens.map((l) => l.request({ type: 'quiesce', quietMs: 300, timeoutMs: 10_000 }, 'quiet', 15_000)));
    return rig;
  } catch (error) {
    await stopRig(rig);
    throw error;
  }
}

async function stopRig({ server, loadgens }: Rig): Promise<void> {
  await Promise.all(loadgens.map((l) => l.stop()));
  await server.stop();
}

/**
 * Every scenario on every target, in rounds: the targets take turns (plain, relay; then relay,
 * plain; ...) so that a change in the machine's load hits both alike, and a target's figures are
 * the medians of its rounds, so one disturbed round does not decide.
 */
async function broadcast(bundles: Bundles): Promise<ScenarioFigures[]> {
  const rigs: Rig[] = [];
  try {
    for (const target of config.targets) rigs.push(await startRig(target, bundles));
    // Untimed: compiles the hot paths and lets the start-up garbage go before anything counts.
    for (const rig of rigs)
      await runScenario(rig, { name: 'priming', load: { mode: 'open', rate: 250 } }, { warmupMs: 0, measureMs: config.primeMs });
    const scenarios: Scenario[] = [
      ...config.rates.map((rate): Scenario => ({ name: `open ${rate}/s`, load: { mode: 'open', rate } })),
      { name: 'saturation', load: { mode: 'closed', window: config.saturationWindow } },
    ];
    const figures: ScenarioFigures[] = [];
    for (const scenario of scenarios) {
      const rounds = new Map<Rig, ScenarioFigures[]>(rigs.map((rig) => [rig, []]));
      for (let round = 0; round < config.rounds; round++) {
        const order = round % 2 === 0 ? rigs : [...rigs].reverse();
        for (const rig of order) {
          const result = await runScenario(rig, scenario);
          rounds.get(rig)!.push(result);
          process.stdout.write(
            `  ${rig.target.padEnd(15)} ${scenario.name.padEnd(12)} round ${round + 1}: ` +
              `${Math.round(result.deliveredPerSecond).toLocaleString('en-US').padStart(8)} deliveries/s, ` +
              `p99 ${result.latencyMs?.p99.toFixed(2) ?? '-'} ms, server CPU ${Math.round(result.serverCpuPercent ?? NaN)}% (sys ` +
              `${Math.round(result.serverSysPercent ?? NaN)}), ` +
              `loadgen CPU ${result.loadgenCpuPercent.map(Math.round).join('+')}% (sys ` +
              `${result.loadgenSysPercent.map(Math.round).join('+')}), others ${Math.round(result.otherCpuPercent ?? NaN)}%\n`,
          );
          // Whatever the server still had queued (an overloaded open-loop run) drains before the next run.
          await Promise.all(rig.loadgens.map((l) => l.request({ type: 'quiesce', quietMs: 200, timeoutMs: 5000 }, 'quiet', 8000)));
        }
      }
      for (const rig of rigs) figures.push(combineRounds(rounds.get(rig)!));
    }
    return figures;
  } finally {
    await Promise.all(rigs.map(stopRig));
  }
}

/** This machine is shared (other builds and tests run beside the bench): each run waits for a quiet moment, within a budget. */
const quiet = new QuietWaiter(config.quietBudgetMs);
const waitForQuiet = (ownPids: number[]) => quiet.wait(ownPids);

async function runScenario(
  { target, server, loadgens }: Rig,
  scenario: Scenario,
  timing = { warmupMs: config.warmupMs, measureMs: config.measureMs },
): Promise<ScenarioFigures> {
  const otherBefore = await waitForQuiet([server.pid, ...loadgens.map((l) => l.pid)]);
  const offeredMsgs = scenario.load.mode === 'open' ? scenario.load.rate : undefined;
  // Expected deliveries per second: the offered ones, or for saturation a guess high enough.
  const deliveriesGuess = (offeredMsgs ?? 1500) * config.clients;
  const sampleEvery = Math.max(1, Math.round(deliveriesGuess / config.samplesPerSecond));
  const startAt = monotonicMs() + 200;
  const spec = { load: scenario.load, startAt, ...timing, contentChars: config.contentChars, sampleEvery };
  const windowStart = startAt + timing.warmupMs;
  const windowEnd = windowStart + timing.measureMs;

  // Server and load generator CPU over the measured window only.
  const pids = [server.pid, ...loadgens.map((l) => l.pid)];
  const sampling = sampleWindow(pids, windowStart, windowEnd);

  const runTimeout = windowEnd - monotonicMs() + 10_000;
  const ran = await Promise.all(loadgens.map((l) => l.request({ type: 'run', spec }, 'ran', runTimeout)));
  const { before, after, systemBefore, systemAfter } = await sampling;
  const publish: PublishResult = ran[0]!.publish!;
  const collected: CollectResult[] = await Promise.all(
    loadgens.map((l) =>
      l.request({ type: 'collect', expectedPerClient: publish.sent, timeoutMs: config.collectMs }, 'collected', config.collectMs + 5000),
    ),
  );

  const clients = collected.reduce((a, c) => a + c.clients, 0);
  const received = collected.reduce((a, c) => a + c.received, 0);
  const receivedInWindow = collected.reduce((a, c) => a + c.receivedInWindow, 0);
  const expected = publish.sent * clients;
  const seconds = timing.measureMs / 1000;
  const serverCpu = cpuPercent(before[0], after[0]);
  const loadgenCpu = loadgens.map((_, i) => cpuPercent(before[i + 1], after[i + 1]) ?? NaN);
  const perDelivery = (percent: number | undefined) =>
    percent === undefined || receivedInWindow === 0 ? undefined : (percent * 1e4 * seconds) / receivedInWindow;
  return {
    scenario: scenario.name,
    target,
    ...(offeredMsgs !== undefined && { offeredMsgsPerSecond: offeredMsgs, offeredDeliveriesPerSecond: offeredMsgs * clients }),
    publishedMsgsPerSecond: publish.sentInWindow / seconds,
    deliveredPerSecond: receivedInWindow / seconds,
    deliveredMsgsPerSecond: receivedInWindow / seconds / clients,
    expectedDeliveries: expected,
    receivedDeliveries: received,
    lossPercent: expected > 0 ? Math.max(0, (100 * (expected - received)) / expected) : 0,
    clientsClosed: collected.reduce((a, c) => a + c.closed, 0),
    latencyMs: summarize(collected.flatMap((c) => c.latencies)),
    serverCpuPercent: serverCpu,
    serverSysPercent: sysPercent(before[0], after[0]),
    serverMicrosPerDelivery: perDelivery(serverCpu),
    serverRssMB: mb(after[0]?.rssBytes),
    serverPeakRssMB: mb(after[0]?.hwmBytes),
    loadgenCpuPercent: loadgenCpu,
    loadgenMicrosPerDelivery: perDelivery(loadgenCpu.reduce((a, b) => a + b, 0)),
    loadgenSysPercent: loadgens.map((_, i) => sysPercent(before[i + 1], after[i + 1]) ?? NaN),
    machineBusyPercent: systemBusyPercent(systemBefore, systemAfter),
    otherCpuPercent: otherCpuPercent(
      systemBusyPercent(systemBefore, systemAfter),
      pids.map((_, i) => cpuPercent(before[i], after[i])),
    ),
    otherCpuBeforePercent: otherBefore,
    publisherLagP99Ms: scenario.load.mode === 'open' ? publish.lagP99Ms : undefined,
    publishFrameBytes: publish.publishFrameBytes,
    deliveredFrameBytes: publish.deliveredFrameBytes,
  };
}

/**
 * 10,000 idle connections in sessions of 10: the server's RSS before and after, per connection.
 * The server runs with `--inspect` so that a full GC can be asked for before each reading (the
 * connection storm leaves garbage that an idle server may keep for long); the reading without
 * that GC is reported too.
 */
async function idle(target: string, bundles: Bundles): Promise<IdleFigures> {
  const server = await startServer(launchFor(target, bundles, 'idle', ['--inspect=127.0.0.1:0']));
  const loadgen = new LoadgenProcess(bundles.loadgen, 'loadgen-idle');
  let inspector: InspectorSession | undefined;
  try {
    for (let i = 0; i < 50 && !server.inspectorUrl; i++) await sleep(20);
    if (!server.inspectorUrl) throw new Error(`${target}: no inspector URL in its output`);
    inspector = await InspectorSession.open(server.inspectorUrl);
    await sleep(500);
    await waitForQuiet([server.pid, loadgen.pid]);
    const measure = async () => {
      await inspector!.collectGarbage();
      await inspector!.collectGarbage();
      await sleep(300);
      return { rss: sampleProcess(server.pid)?.rssBytes ?? NaN, memory: await inspector!.memoryUsage() };
    };
    const before = await measure();
    const sessions = Math.ceil(config.idleConnections / config.idleSessionSize);
    // One token per session, naming only it (as an invite would), shared by the session's seats.
    const groups: ClientGroup[] = [];
    for (let s = 0; s < sessions; s++) {
      const count = Math.min(config.idleSessionSize, config.idleConnections - s * config.idleSessionSize);
      groups.push({ token: token(`idle-${s}`, [`idle-${s}`]), session: `idle-${s}`, count });
    }
    const connected = await loadgen.request(
      { type: 'connect', url: server.url, driver: config.driver, groups, concurrency: 100, timeoutMs: 60_000 },
      'connected',
      65_000,
    );
    await loadgen.request({ type: 'quiesce', quietMs: 500, timeoutMs: 15_000 }, 'quiet', 20_000);
    await sleep(config.idleSettleMs);
    const settled = sampleProcess(server.pid)?.rssBytes ?? NaN;
    const after = await measure();
    const per = (bytes: number) => (connected.clients > 0 ? bytes / connected.clients : NaN);
    const figures: IdleFigures = {
      target,
      connections: connected.clients,
      failed: connected.failed,
      sessions,
      connectSeconds: connected.elapsedMs / 1000,
      rssBeforeMB: mb(before.rss)!,
      rssSettledMB: mb(settled)!,
      rssAfterGcMB: mb(after.rss)!,
      bytesPerConnection: per(after.rss - before.rss),
      bytesPerConnectionWithoutGc: per(settled - before.rss),
      heapUsedPerConnection: per(after.memory.heapUsed - before.memory.heapUsed),
      externalPerConnection: per(after.memory.external - before.memory.external),
      ...(connected.firstError && { firstError: connected.firstError }),
    };
    process.stdout.write(
      `  ${target.padEnd(5)} idle         ${connected.clients} connections in ${figures.connectSeconds.toFixed(1)} s, ` +
        `${Math.round(figures.bytesPerConnection)} bytes each after GC (${Math.round(figures.bytesPerConnectionWithoutGc)} before)\n`,
    );
    return figures;
  } finally {
    inspector?.close();
    await loadgen.stop();
    await server.stop();
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  const cpu = cpus();
  process.stdout.write(
    `Tandem relay broadcast bench: ${cpu.length} x ${cpu[0]?.model ?? '?'}, node ${process.version}, driver ${config.driver}, ` +
      `${config.loadgens} load generator process(es)\n`,
  );
  const bundles = await bundleBenchProcesses();
  const scenarios: ScenarioFigures[] = [];
  const idles: IdleFigures[] = [];
  try {
    if (!config.skipBroadcast) scenarios.push(...(await broadcast(bundles)));
    if (!config.skipIdle) for (const target of config.targets) idles.push(await idle(target, bundles));
  } finally {
    bundles.dispose();
  }

  const find = (target: string, scenario: string) => scenarios.find((s) => s.target === target && s.scenario === scenario);
  const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined && b > 0 ? a / b : undefined);
  const relaySat = find('relay', 'saturation');
  const plainSat = find('plain', 'saturation');
  const low = `open ${config.rates[0]}/s`;
  const relayIdle = idles.find((i) => i.target === 'relay');
  const plainIdle = idles.find((i) => i.target === 'plain');
  const offSat = find('relay-nometrics', 'saturation');
  const offLow = find('relay-nometrics', low);
  const lowDeliveries = `${(config.rates[0]! * config.clients) / 1000}k deliveries/s`;
  // What /metrics costs on the hot path (issue 14: within 5 %), when both variants ran in this run.
  const metricsCost = offSat
    ? [
        check(
          'sustained deliveries, metrics on/off',
          ratio(relaySat?.deliveredPerSecond, offSat.deliveredPerSecond),
          '>=',
          0.95,
          `${Math.round(relaySat?.deliveredPerSecond ?? NaN)} vs ${Math.round(offSat.deliveredPerSecond)} deliveries/s (saturation)`,
        ),
        check(
          `p99 at ${lowDeliveries}, metrics on/off`,
          ratio(find('relay', low)?.latencyMs?.p99, offLow?.latencyMs?.p99),
          '<=',
          1.05,
          `${find('relay', low)?.latencyMs?.p99.toFixed(2)} vs ${offLow?.latencyMs?.p99.toFixed(2)} ms`,
        ),
        info(
          'server CPU per delivery at saturation, metrics on/off',
          ratio(relaySat?.serverMicrosPerDelivery, offSat.serverMicrosPerDelivery),
          `${relaySat?.serverMicrosPerDelivery?.toFixed(2)} vs ${offSat.serverMicrosPerDelivery?.toFixed(2)} µs`,
        ),
      ]
    : [];
  const checks = [
    ...metricsCost,
    check(
      'sustained deliveries, relay/plain',
      ratio(relaySat?.deliveredPerSecond, plainSat?.deliveredPerSecond),
      '>=',
      0.7,
      `${Math.round(relaySat?.deliveredPerSecond ?? NaN)} vs ${Math.round(plainSat?.deliveredPerSecond ?? NaN)} deliveries/s (relay vs ` +
        `plain, saturation)`,
    ),
    check(
      `p99 at ${(config.rates[0]! * config.clients) / 1000}k deliveries/s, relay/plain`,
      ratio(find('relay', low)?.latencyMs?.p99, find('plain', low)?.latencyMs?.p99),
      '<=',
      1.5,
      `${find('relay', low)?.latencyMs?.p99.toFixed(2)} vs ${find('plain', low)?.latencyMs?.p99.toFixed(2)} ms (relay vs plain)`,
    ),
    check(
      'KB per idle connection, relay',
      relayIdle && relayIdle.bytesPerConnectionWithoutGc / 1024,
      '<=',
      10,
      `RSS growth without a forced GC (1 KB = 1024 bytes); after a full GC: relay ${kb(relayIdle?.bytesPerConnection)}, plain ws ` +
        `${kb(plainIdle?.bytesPerConnection)} KB; plain ws without GC: ${kb(plainIdle?.bytesPerConnectionWithoutGc)} KB`,
    ),
    info(
      'server CPU per delivery at saturation, plain/relay',
      ratio(plainSat?.serverMicrosPerDelivery, relaySat?.serverMicrosPerDelivery),
      `${relaySat?.serverMicrosPerDelivery?.toFixed(2)} vs ${plainSat?.serverMicrosPerDelivery?.toFixed(2)} µs (relay vs plain): the ` +
        `throughput ratio a saturated core would give, less sensitive to other load`,
    ),
  ];

  const summary = [
    '',
    `Session broadcast: ${config.clients} clients in one session (one publishes; all receive, the sender too), ` +
      `${config.contentChars}-char chat content; ` +
      `frames: ${scenarios[0]?.publishFrameBytes ?? '?'} B published, delivered ` +
      `${[...new Map(scenarios.map((s) => [s.target, s.deliveredFrameBytes]))].map(([t, b]) => `${t} ${b} B`).join(', ')}.`,
    `${config.rounds} rounds per scenario and target, the targets taking turns; figures are the medians of the rounds. Each round: ` +
      `${config.warmupMs} ms warm-up + ${config.measureMs} ms measured.`,
    `Saturation: closed loop, at most ${config.saturationWindow} messages in flight. loss: deliveries missing ` +
      `${config.collectMs / 1000} s after the run. CPU: % of one core (${cpus().length} here); µs/dlv: CPU time per delivery.`,
    `other CPU%: what processes other than the bench's own used meanwhile (this machine is shared).`,
    '',
    scenarioTable(scenarios),
    '',
    ...(idles.length ? [idleTable(idles), ''] : []),
    checksTable(checks),
    '',
  ].join('\n');
  process.stdout.write(summary);

  writeBenchReport('relay-broadcast', started, config, relayEnv, { scenarios, idle: idles, targets: checks });
}

runBench('bench', config.deadlineMs, main);
