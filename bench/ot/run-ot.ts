import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { mintToken } from '../../relay/auth/tokens';
import { monotonicMs } from '../clock';
import { baselineLaunch, benchRelayEnv, relayLaunch, type ServerLaunch, type ServerProcess, startServer } from '../processes';
import { cpuPercent, type ProcSample, sampleProcess } from '../proc-stats';
import { startRedisServer, type RedisServer } from '../../test/support/redis-server';
import {
  check,
  checksTable,
  combineLatencies,
  info,
  type LatencySummary,
  median,
  n0,
  n2,
  summarize,
  table,
  type TargetCheck,
  writeBenchReport,
} from '../report';
import type { OtLoad, OtResult, OtTarget } from './ot-ipc';
import { bundleOtProcesses, documentText, type OtBundles, OtLoadgen, trackOtChild } from './ot-process';
import { runBench } from '../entry';

/**
 * The OT bench: shared editing through the relay against ShareDB (in memory, `text-unicode`
 * over `ws`), the same editing workload in the same run. Prints a table and writes
 * bench-results/ot.json. It measures; it asserts nothing.
 *   1. transform and apply throughput in-process (bench/ot/ot-throughput.ts, run as is);
 *   2. commit throughput on one document: 4 editors typing single characters in a closed loop
 *      (relay and ShareDB);
 *   3. keystroke-to-remote latency, 2, 5 and 10 editors each typing 10 characters a second, on
 *      the relay in memory, the relay on Redis (one relay with REDIS_URL to a `redis-server` the
 *      bench starts on a free port), ShareDB, ShareDB with `sharedb-redis-pubsub` (every op
 *      through a `redis-server` of its own, as ShareDB scales out: the relay on Redis is held to
 *      its p99), and the floor: a plain `ws` server that only forwards the same edit frames to the
 *      document's other editors (bench/ot/forward-server.ts).
 * The targets take turns (rotating who goes first) over OT_BENCH_ROUNDS rounds; the table and the
 * checks show each figure's median over the rounds (each round's own are in the JSON).
 * Run: npm run build && node --import tsx bench/ot/run-ot.ts
 *
 * Knobs (environment): OT_BENCH_TARGETS=relay,sharedb,floor,relay-redis,sharedb-redis (commit runs:
 *   relay and sharedb only; floor has no acks)  OT_BENCH_EDITORS=2,5,10  OT_BENCH_WINDOWS=1,16  OT_BENCH_ROUNDS=3
 *   OT_BENCH_MEASURE_MS=4000 (throughput window)  OT_BENCH_LATENCY_MS=5000 (shortest latency window)
 *   OT_BENCH_LATENCY_SAMPLES=1000 (remote samples a latency window aims at, up to 30 s)  OT_BENCH_DOC_KB=10
 *   OT_BENCH_SKIP_INPROCESS=1  BENCH_RELAY_BUNDLE=file (another relay build)
 */

const env = process.env;
const ALL_TARGETS: readonly OtTarget[] = ['relay', 'sharedb', 'floor', 'relay-redis', 'sharedb-redis'];
/** Targets that acknowledge ops (the floor does not), and of those, the ones the commit runs compare. */
const COMMIT_TARGETS: readonly OtTarget[] = ['relay', 'sharedb'];
const list = (value: string | undefined, fallback: string) =>
  (value ?? fallback)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
const config = {
  targets: list(env.OT_BENCH_TARGETS, ALL_TARGETS.join(',')).filter((t): t is OtTarget => ALL_TARGETS.includes(t as OtTarget)),
  rounds: Math.max(1, Number(env.OT_BENCH_ROUNDS ?? 3)),
  throughputEditors: 4,
  /** Closed loop: keystrokes each editor keeps unacknowledged (beyond one, the client libraries compose them). */
  windows: list(env.OT_BENCH_WINDOWS, '1,16').map(Number),
  throughputMeasureMs: Number(env.OT_BENCH_MEASURE_MS ?? 4000),
  latencyEditors: list(env.OT_BENCH_EDITORS, '2,5,10').map(Number),
  charsPerSecond: 10,
  /** At least this long, and long enough for `latencySamples` remote samples (a p99 needs hundreds), up to 30 s. */
  latencyMeasureMs: Number(env.OT_BENCH_LATENCY_MS ?? 5000),
  latencySamples: Number(env.OT_BENCH_LATENCY_SAMPLES ?? 1000),
  warmupMs: 1000,
  drainMs: 2000,
  /** Once per server, untimed, before anything counts. */
  primeMs: 1500,
  docChars: Number(env.OT_BENCH_DOC_KB ?? 10) * 1024,
  inProcessSeconds: 0.5,
  skipInProcess: env.OT_BENCH_SKIP_INPROCESS === '1',
};

/** Remote samples per second: every keystroke reaches every other editor. */
function latencyWindowMs(editors: number): number {
  const samplesPerSecond = editors * (editors - 1) * config.charsPerSecond;
  return Math.min(30_000, Math.max(config.latencyMeasureMs, Math.ceil((config.latencySamples / samplesPerSecond) * 1000)));
}

/** Every run's windows and its fixed costs (load generator, connects, drain), with room to spare. */
function deadlineMs(): number {
  const perRun = config.warmupMs + config.drainMs + 5000;
  const commitTargets = config.targets.filter((t) => COMMIT_TARGETS.includes(t)).length;
  const commit = config.windows.length * commitTargets * (config.throughputMeasureMs + perRun);
  const latency = config.latencyEditors.reduce((a, editors) => a + config.targets.length * (latencyWindowMs(editors) + perRun), 0);
  return 180_000 + config.rounds * (commit + latency) + config.targets.length * (config.primeMs + perRun);
}

const root = resolve(__dirname, '..', '..');
const secret = randomBytes(24).toString('hex');
const SESSION = 'ot-bench';

const relayEnv = benchRelayEnv(secret);

/** The `redis-server` of each target on Redis (one each: neither sees the other's keys or load). */
type RedisOf = Partial<Record<OtTarget, RedisServer>>;

function launch(target: OtTarget, bundles: OtBundles, redis: RedisOf): ServerLaunch {
  switch (target) {
    case 'relay':
      return relayLaunch(relayEnv);
    case 'relay-redis':
      return { ...relayLaunch({ ...relayEnv, REDIS_URL: redis['relay-redis']!.url }), name: 'relay-redis' };
    case 'sharedb':
      return baselineLaunch('sharedb', bundles.sharedbServer);
    case 'sharedb-redis': {
      const base = baselineLaunch('sharedb-redis', bundles.sharedbServer);
      return { ...base, env: { ...base.env, SHAREDB_REDIS_URL: redis['sharedb-redis']!.url } };
    }
    case 'floor':
      return baselineLaunch('floor', bundles.forwardServer);
  }
}

// ---- runs --------------------------------------------------------------------------------------

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

interface RunFigures {
  scenario: string;
  target: OtTarget;
  editors: number;
  load: OtLoad;
  /** Keystrokes acknowledged per second (single-character ops, as typed). */
  ackedOpsPerSecond: number;
  typedOpsPerSecond: number;
  /** Document revisions per second (ops as the server committed them: composed keystrokes count once). */
  commitsPerSecond: number;
  keystrokesPerCommit: number | undefined;
  remoteLatencyMs: LatencySummary | undefined;
  ackLatencyMs: LatencySummary | undefined;
  /** Remote arrivals of the window's keystrokes not seen by the end of the drain. */
  missingArrivals: number;
  serverCpuPercent: number | undefined;
  /** Server CPU time per committed keystroke, and per commit (document revision). */
  serverMicrosPerOp: number | undefined;
  serverMicrosPerCommit: number | undefined;
  serverRssMB: number | undefined;
  loadgenCpuPercent: number | undefined;
  problems: string[];
  /** Set on the figures of several rounds (medians, pooled counts): each round's own. */
  rounds?: RunFigures[];
  /** Of several rounds: the highest load generator CPU of any. */
  loadgenCpuMaxPercent?: number | undefined;
}

/** One scenario's rounds on one target as one: the median of each figure (of latencies, of each percentile), summed misses. */
function combineRuns(rounds: RunFigures[]): RunFigures {
  const med = (pick: (r: RunFigures) => number | undefined) => median(rounds.map(pick));
  const cpus = rounds.map((r) => r.loadgenCpuPercent).filter((c): c is number => c !== undefined);
  return {
    ...rounds[0]!,
    ackedOpsPerSecond: med((r) => r.ackedOpsPerSecond)!,
    typedOpsPerSecond: med((r) => r.typedOpsPerSecond)!,
    commitsPerSecond: med((r) => r.commitsPerSecond)!,
    keystrokesPerCommit: med((r) => r.keystrokesPerCommit),
    remoteLatencyMs: combineLatencies(rounds.map((r) => r.remoteLatencyMs)),
    ackLatencyMs: combineLatencies(rounds.map((r) => r.ackLatencyMs)),
    missingArrivals: rounds.reduce((a, r) => a + r.missingArrivals, 0),
    serverCpuPercent: med((r) => r.serverCpuPercent),
    serverMicrosPerOp: med((r) => r.serverMicrosPerOp),
    serverMicrosPerCommit: med((r) => r.serverMicrosPerCommit),
    serverRssMB: med((r) => r.serverRssMB),
    loadgenCpuPercent: med((r) => r.loadgenCpuPercent),
    loadgenCpuMaxPercent: cpus.length ? Math.max(...cpus) : undefined,
    problems: rounds.flatMap((r) => r.problems).slice(0, 20),
    rounds,
  };
}

let runCount = 0;

async function runOnce(
  target: OtTarget,
  server: ServerProcess,
  bundles: OtBundles,
  scenario: string,
  editors: number,
  load: OtLoad,
  measureMs: number,
  warmupMs = config.warmupMs,
): Promise<RunFigures> {
  const loadgen = new OtLoadgen(bundles.loadgen);
  try {
    // Hosts: whichever connects first creates the document, which only a host may do.
    const tokens = Array.from({ length: editors }, (_, i) =>
      mintToken(secret, { user: `editor-${i}`, sessions: [SESSION], role: 'host', ttl: '1h' }),
    );
    const text = documentText(config.docChars);
    loadgen.send({ type: 'setup', target, url: server.url, tokens, editors, document: `bench/run-${++runCount}.txt`, text, load });
    await loadgen.next('ready', 20_000);
    const startAt = monotonicMs() + 200;
    const windowStart = startAt + warmupMs;
    const windowEnd = windowStart + measureMs;
    const pids = [server.pid, loadgen.pid];
    let before: Array<ProcSample | undefined> = [];
    let after: Array<ProcSample | undefined> = [];
    const sampling = Promise.all([
      sleep(windowStart - monotonicMs()).then(() => (before = pids.map(sampleProcess))),
      sleep(windowEnd - monotonicMs()).then(() => (after = pids.map(sampleProcess))),
    ]);
    loadgen.send({ type: 'go', startAt, warmupMs, measureMs, drainMs: config.drainMs });
    const result: OtResult = await loadgen.next('result', windowEnd - monotonicMs() + config.drainMs + 10_000);
    await sampling;
    const seconds = measureMs / 1000;
    const serverCpu = cpuPercent(before[0], after[0]);
    const figures: RunFigures = {
      scenario,
      target,
      editors,
      load,
      ackedOpsPerSecond: result.ackedInWindow / seconds,
      typedOpsPerSecond: result.typedInWindow / seconds,
      commitsPerSecond: result.commitsInWindow / seconds,
      keystrokesPerCommit: result.commitsInWindow > 0 ? result.ackedInWindow / result.commitsInWindow : undefined,
      remoteLatencyMs: summarize(result.latencies),
      ackLatencyMs: summarize(result.ackLatencies),
      missingArrivals: result.expectedArrivals - result.arrivals,
      serverCpuPercent: serverCpu,
      serverMicrosPerOp:
        serverCpu === undefined || result.ackedInWindow === 0 ? undefined : (serverCpu * 1e4 * seconds) / result.ackedInWindow,
      serverMicrosPerCommit:
        serverCpu === undefined || result.commitsInWindow === 0 ? undefined : (serverCpu * 1e4 * seconds) / result.commitsInWindow,
      serverRssMB: after[0] ? after[0].rssBytes / 2 ** 20 : undefined,
      loadgenCpuPercent: cpuPercent(before[1], after[1]),
      problems: result.problems,
    };
    process.stdout.write(
      `  ${target.padEnd(11)} ${scenario.padEnd(28)} ${Math.round(figures.ackedOpsPerSecond).toLocaleString('en-US').padStart(7)} ` +
        `ops/s, ${Math.round(figures.commitsPerSecond).toLocaleString('en-US').padStart(7)} commits/s, ` +
        `remote p50/p99 ${n2(figures.remoteLatencyMs?.p50)}/${n2(figures.remoteLatencyMs?.p99)} ms, ack p99 ` +
        `${n2(figures.ackLatencyMs?.p99)} ms, server CPU ${n0(serverCpu)}%, loadgen CPU ${n0(figures.loadgenCpuPercent)}%` +
        `${result.problems.length ? `, PROBLEMS: ${result.problems[0]}` : ''}\n`,
    );
    return figures;
  } finally {
    await loadgen.stop();
  }
}

// ---- in-process figures -------------------------------------------------------------------

interface InProcessFigure {
  name: string;
  perSecond: number;
}

/** bench/ot/ot-throughput.ts as it is, its printed lines read back. */
function inProcess(): Promise<{ header: string; figures: InProcessFigure[] }> {
  const script = join(__dirname, 'ot-throughput.ts');
  return new Promise((resolvePromise, reject) => {
    const child = execFile(
      process.execPath,
      ['--import', 'tsx', script],
      { cwd: root, env: { ...env, OT_BENCH_SECONDS: String(config.inProcessSeconds) }, timeout: 60_000 },
      (error, stdout) => {
        if (error) return reject(error);
        const lines = stdout.split('\n');
        const figures: InProcessFigure[] = [];
        for (const line of lines) {
          const match = /^(.+?)\s+([\d,]+) \/s$/.exec(line.trim());
          if (match) figures.push({ name: match[1]!, perSecond: Number(match[2]!.replace(/,/g, '')) });
        }
        resolvePromise({ header: lines[0] ?? '', figures });
      },
    );
    trackOtChild(child);
  });
}

// ---- report ----------------------------------------------------------------------------------

function runsTable(runs: RunFigures[]): string {
  return table(
    [
      'scenario',
      'target',
      'editors',
      'ops/s',
      'commits/s',
      'keys/commit',
      'remote p50',
      'remote p99',
      'samples',
      'missing',
      'ack p50',
      'ack p99',
      'srv CPU%',
      'srv µs/op',
      'srv µs/commit',
      'srv RSS MB',
      'gen CPU%',
      'gen CPU% max',
      'rounds',
    ],
    runs.map((r) => [
      r.scenario,
      r.target,
      String(r.editors),
      n0(r.ackedOpsPerSecond),
      n0(r.commitsPerSecond),
      n2(r.keystrokesPerCommit),
      n2(r.remoteLatencyMs?.p50),
      n2(r.remoteLatencyMs?.p99),
      n0(r.remoteLatencyMs?.samples),
      r.load.mode === 'open' ? String(r.missingArrivals) : '',
      n2(r.ackLatencyMs?.p50),
      n2(r.ackLatencyMs?.p99),
      n0(r.serverCpuPercent),
      n2(r.serverMicrosPerOp),
      n2(r.serverMicrosPerCommit),
      r.serverRssMB === undefined ? '-' : r.serverRssMB.toFixed(1),
      n0(r.loadgenCpuPercent),
      n0(r.loadgenCpuMaxPercent ?? r.loadgenCpuPercent),
      String(r.rounds?.length ?? 1),
    ]),
  );
}

// ---- main ------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const started = Date.now();
  const cpu = cpus();
  process.stdout.write(
    `Tandem OT bench: ${cpu.length} x ${cpu[0]?.model ?? '?'}, node ${process.version}; targets ${config.targets.join(', ')}\n`,
  );

  let inProcessFigures: InProcessFigure[] = [];
  let inProcessHeader = '';
  if (!config.skipInProcess) {
    process.stdout.write('In-process transform/apply/commit (bench/ot/ot-throughput.ts):\n');
    ({ header: inProcessHeader, figures: inProcessFigures } = await inProcess());
    for (const f of inProcessFigures) process.stdout.write(`  ${f.name.padEnd(62)} ${n0(f.perSecond).padStart(11)} /s\n`);
  }

  const bundles = await bundleOtProcesses();
  const servers = new Map<OtTarget, ServerProcess>();
  const redis: RedisOf = {};
  const rounds: RunFigures[] = [];
  try {
    for (const target of ['relay-redis', 'sharedb-redis'] as const)
      if (config.targets.includes(target)) redis[target] = await startRedisServer();
    for (const target of config.targets) servers.set(target, await startServer(launch(target, bundles, redis)));
    process.stdout.write(
      `Through the servers (each run: a fresh document and load generator process; ${config.rounds} round(s), targets taking turns):\n`,
    );
    for (const [target, server] of servers)
      await runOnce(
        target,
        server,
        bundles,
        'priming (untimed)',
        config.throughputEditors,
        // The floor acknowledges nothing: it is primed with typing at a steady rate instead.
        target === 'floor' ? { mode: 'open', rate: 100 } : { mode: 'closed', window: 4 },
        config.primeMs,
        0,
      );
    let turn = 0;
    const each = async (targets: readonly OtTarget[], run: (target: OtTarget, server: ServerProcess) => Promise<RunFigures>) => {
      // Who goes first rotates, so that a change in the machine's load hits every target alike.
      const present = [...servers].filter(([target]) => targets.includes(target));
      const first = present.length ? turn++ % present.length : 0;
      for (const [target, server] of [...present.slice(first), ...present.slice(0, first)]) rounds.push(await run(target, server));
    };
    for (let round = 1; round <= config.rounds; round++) {
      if (config.rounds > 1) process.stdout.write(`round ${round} of ${config.rounds}\n`);
      for (const window of config.windows) {
        const scenario = `commit, closed, window ${window}`;
        await each(COMMIT_TARGETS, (target, server) =>
          runOnce(target, server, bundles, scenario, config.throughputEditors, { mode: 'closed', window }, config.throughputMeasureMs),
        );
      }
      for (const editors of config.latencyEditors) {
        const scenario = `latency, ${config.charsPerSecond} chars/s each`;
        await each(ALL_TARGETS, (target, server) =>
          runOnce(target, server, bundles, scenario, editors, { mode: 'open', rate: config.charsPerSecond }, latencyWindowMs(editors)),
        );
      }
    }
  } finally {
    await Promise.all([...servers.values()].map((s) => s.stop()));
    await Promise.all(Object.values(redis).map((server) => server.dispose()));
    bundles.dispose();
  }

  // One row per scenario and target (medians over the rounds), sorted by scenario, then target.
  const key = (r: RunFigures) => `${r.scenario}|${r.editors}`;
  const scenarioOrder = [...new Set(rounds.map(key))];
  const groups = new Map<string, RunFigures[]>();
  for (const r of rounds) groups.set(`${key(r)}|${r.target}`, [...(groups.get(`${key(r)}|${r.target}`) ?? []), r]);
  const runs = [...groups.values()].map((group) => (group.length === 1 ? group[0]! : combineRuns(group)));
  runs.sort(
    (a, b) =>
      scenarioOrder.indexOf(key(a)) - scenarioOrder.indexOf(key(b)) || ALL_TARGETS.indexOf(a.target) - ALL_TARGETS.indexOf(b.target),
  );

  const find = (target: OtTarget, scenario: string, editors: number) =>
    runs.find((r) => r.target === target && r.scenario === scenario && r.editors === editors);
  const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined && b > 0 ? a / b : undefined);
  const inproc = (name: string) => inProcessFigures.find((f) => f.name === name)?.perSecond;
  // Sustained commit throughput: the best closed-loop figure of each target (its ops/s, i.e. keystrokes committed).
  const best = (target: OtTarget) =>
    runs.filter((r) => r.target === target && r.load.mode === 'closed').sort((a, b) => b.ackedOpsPerSecond - a.ackedOpsPerSecond)[0];
  const relayBest = best('relay');
  const sharedbBest = best('sharedb');
  const w1 = `commit, closed, window 1`;
  const checks = [
    check(
      'single-char transforms/s (in-process)',
      inproc('single-character: transform'),
      '>=',
      1_000_000,
      '100 KB document; ot-throughput.ts',
    ),
    info('paste-sized transforms/s (in-process)', inproc('paste-sized: transform'), '2 KB pastes on a 100 KB document'),
    check(
      'single-char commits/s, in memory (in-process)',
      inproc('single-character: commit, TextDocument (3 transforms + apply)'),
      '>=',
      20_000,
      '3 transforms + apply on a TextDocument, no I/O',
    ),
    check(
      'commit ops/s through the relay, 4 editors',
      relayBest?.ackedOpsPerSecond,
      '>=',
      20_000,
      `best closed-loop run (${relayBest?.scenario ?? '-'}): ${n0(relayBest?.commitsPerSecond)} commits/s; window 1 (no composing): ` +
        `${n0(find('relay', w1, 4)?.ackedOpsPerSecond)} ops/s`,
    ),
    check(
      'commit ops/s, relay/ShareDB',
      ratio(relayBest?.ackedOpsPerSecond, sharedbBest?.ackedOpsPerSecond),
      '>=',
      2,
      `${n0(relayBest?.ackedOpsPerSecond)} vs ${n0(sharedbBest?.ackedOpsPerSecond)} ops/s (best closed-loop runs)`,
    ),
    info(
      'commit ops/s, relay/ShareDB, window 1',
      ratio(find('relay', w1, 4)?.ackedOpsPerSecond, find('sharedb', w1, 4)?.ackedOpsPerSecond),
      `${n0(find('relay', w1, 4)?.ackedOpsPerSecond)} vs ${n0(find('sharedb', w1, 4)?.ackedOpsPerSecond)} ops/s: one op in flight per ` +
        `editor, every keystroke its own commit`,
    ),
    info(
      'server CPU per commit, ShareDB/relay, window 1',
      ratio(find('sharedb', w1, 4)?.serverMicrosPerCommit, find('relay', w1, 4)?.serverMicrosPerCommit),
      `${n2(find('relay', w1, 4)?.serverMicrosPerCommit)} vs ${n2(find('sharedb', w1, 4)?.serverMicrosPerCommit)} µs (relay vs ` +
        `ShareDB): the commit-rate ratio a saturated server core would give, less sensitive to the load generator`,
    ),
    ...config.latencyEditors.flatMap((editors) => {
      const scenario = `latency, ${config.charsPerSecond} chars/s each`;
      const relay = find('relay', scenario, editors)?.remoteLatencyMs;
      const sharedb = find('sharedb', scenario, editors)?.remoteLatencyMs;
      return [
        check(`remote p99 ms, ${editors} editors, relay`, relay?.p99, '<=', 10, `p50 ${n2(relay?.p50)} ms, ${relay?.samples ?? 0} samples`),
        check(
          `remote p99, ${editors} editors, relay/ShareDB`,
          ratio(relay?.p99, sharedb?.p99),
          '<=',
          0.5,
          `${n2(relay?.p99)} vs ${n2(sharedb?.p99)} ms; p50 ${n2(relay?.p50)} vs ${n2(sharedb?.p50)} ms`,
        ),
      ];
    }),
    ...floorChecks(find),
    ...shareDbOnRedisChecks(find),
    info(
      'load generator CPU %, latency runs (highest of any round)',
      Math.max(...runs.filter((r) => r.load.mode === 'open').map((r) => r.loadgenCpuMaxPercent ?? r.loadgenCpuPercent ?? 0)),
      'of one core; the load generator is one process, so near 100 % it, not the server, would set the latency',
    ),
  ];

  const summary = [
    '',
    `Editors insert single characters at random places in one document (${config.docChars} chars of ASCII code at the start), both ` +
      `sides through their own client library ` +
      `(relay: RelayClient + ClientDocument; ShareDB: sharedb/lib/client + ot-text-unicode), which keep one op in flight and compose ` +
      `what is typed meanwhile.`,
    `commit: ${config.throughputEditors} editors in a closed loop, each keeping <window> keystrokes unacknowledged; ${config.warmupMs} ` +
      `ms warm-up + ${config.throughputMeasureMs} ms measured. ` +
      `ops/s: keystrokes acknowledged; commits/s: document revisions (one may carry several composed keystrokes).`,
    `floor: a plain ws server that forwards each edit frame as is to the document's other editors (no OT, no ack); its ` +
      `editors send the same frames through the same codec and apply what they receive to their text before taking the time. ` +
      `relay-redis: one relay with REDIS_URL (srv CPU is the relay's alone, not Redis's). sharedb-redis: ShareDB with ` +
      `sharedb-redis-pubsub on a redis-server of its own (latency runs only).`,
    `latency: every editor types ${config.charsPerSecond} distinct characters a second (open loop, staggered); remote: from the ` +
      `keystroke until another editor's client has the op (one sample per receiving editor); ` +
      `ack: until the typist's ack. ${config.warmupMs} ms warm-up + ${config.latencyMeasureMs} ms measured (longer for few editors: up ` +
      `to 30 s, for ${config.latencySamples} remote samples). All editors in one load generator process: one clock.`,
    ...(inProcessHeader ? [`In-process: ${inProcessHeader}`] : []),
    '',
    runsTable(runs),
    '',
    checksTable(checks),
    '',
  ].join('\n');
  process.stdout.write(summary);

  writeBenchReport('ot', started, config, relayEnv, {
    inProcess: { header: inProcessHeader, figures: inProcessFigures },
    runs,
    targets: checks,
  });
}

/**
 * Issue 16 item 3: keystroke-to-remote p99 against the floor (a server that only forwards the
 * frames), in memory and on Redis, at each editor count; only when the floor ran.
 */
function floorChecks(find: (target: OtTarget, scenario: string, editors: number) => RunFigures | undefined): TargetCheck[] {
  if (!config.targets.includes('floor')) return [];
  const scenario = `latency, ${config.charsPerSecond} chars/s each`;
  return config.latencyEditors.flatMap((editors) => {
    const floor = find('floor', scenario, editors)?.remoteLatencyMs;
    const vsFloor = (target: OtTarget, label: string, bound: number) => {
      const relay = find(target, scenario, editors)?.remoteLatencyMs;
      return check(
        `remote p99, ${editors} editors, ${label}/floor`,
        relay && floor && floor.p99 > 0 ? relay.p99 / floor.p99 : undefined,
        '<=',
        bound,
        `${n2(relay?.p99)} vs ${n2(floor?.p99)} ms; p50 ${n2(relay?.p50)} vs ${n2(floor?.p50)} ms; ${relay?.samples ?? 0} vs ` +
          `${floor?.samples ?? 0} samples`,
      );
    };
    return [
      ...(config.targets.includes('relay') ? [vsFloor('relay', 'relay', 1.25)] : []),
      ...(config.targets.includes('relay-redis') ? [vsFloor('relay-redis', 'relay on Redis', 1.5)] : []),
    ];
  });
}

/**
 * Issue 16 item 2: on Redis, the relay's keystroke-to-remote p99 no higher than that of ShareDB
 * with `sharedb-redis-pubsub` (each on a `redis-server` of its own), at each editor count; only
 * when both ran.
 */
function shareDbOnRedisChecks(find: (target: OtTarget, scenario: string, editors: number) => RunFigures | undefined): TargetCheck[] {
  if (!config.targets.includes('relay-redis') || !config.targets.includes('sharedb-redis')) return [];
  const scenario = `latency, ${config.charsPerSecond} chars/s each`;
  return config.latencyEditors.map((editors) => {
    const relay = find('relay-redis', scenario, editors)?.remoteLatencyMs;
    const sharedb = find('sharedb-redis', scenario, editors)?.remoteLatencyMs;
    return check(
      `remote p99, ${editors} editors, relay on Redis/ShareDB + redis pub/sub`,
      relay && sharedb && sharedb.p99 > 0 ? relay.p99 / sharedb.p99 : undefined,
      '<=',
      1,
      `${n2(relay?.p99)} vs ${n2(sharedb?.p99)} ms; p50 ${n2(relay?.p50)} vs ${n2(sharedb?.p50)} ms; ${relay?.samples ?? 0} vs ` +
        `${sharedb?.samples ?? 0} samples`,
    );
  });
}

runBench('ot bench', deadlineMs(), main);
