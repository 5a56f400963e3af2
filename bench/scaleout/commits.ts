import { monotonicMs } from '../clock';
import type { OtResult } from '../ot/ot-ipc';
import { documentText, OtLoadgen } from '../ot/ot-process';
import { cpuPercent, type ProcSample, sampleProcess } from '../proc-stats';
import { type LatencySummary, summarize } from '../report';
import { type BenchContext, type Cluster, sessionToken, startCluster, type TargetSpec } from './cluster';

/**
 * Document commits through Redis: the OT bench's load generator (`ot/ot-loadgen.ts`: the
 * protocol's RelayClient + ClientDocument, one op in flight per editor, composing meanwhile)
 * against a relay alone (in memory), one relay on Redis, and two relays on one Redis with the
 * editors alternating between them, so that every commit races the other relay's through the
 * atomic Lua commit; and ShareDB with sharedb-redis-pubsub (its own client library, one op in
 * flight too), on its memory database (one process's) or on PostgreSQL, one server or two (as it
 * is deployed to scale out: its servers share the database). Editors type single characters in
 * a closed loop, one document. The targets take turns, `rounds` times (a shared machine's noise
 * hits them alike); the figures are each target's medians. `baselineBundle`: the relay targets run a second time with that relay build
 * (`<target>@base`), to compare a change with what it changes in the same run.
 */

export interface CommitConfig {
  editors: number[];
  /** Keystrokes each editor keeps unacknowledged (1: every keystroke its own commit). */
  window: number;
  warmupMs: number;
  measureMs: number;
  drainMs: number;
  docChars: number;
  rounds: number;
  baselineBundle?: string;
}

export interface CommitFigures {
  target: string;
  editors: number;
  /** The rounds this figure is the median of. */
  rounds: number;
  /** Document revisions per second (each a commit through the store: with Redis, one Lua script). */
  commitsPerSecond: number;
  /** Keystrokes acknowledged per second (several may share a commit). */
  ackedOpsPerSecond: number;
  ackLatencyMs: LatencySummary | undefined;
  serverCpuPercents: number[];
  redisCpuPercent: number | undefined;
  /** The PostgreSQL server's processes, for a target on PostgreSQL. */
  databaseCpuPercent?: number | undefined;
  loadgenCpuPercent: number | undefined;
  /** Server CPU time (relays or ShareDB servers, Redis, PostgreSQL) per commit, µs. */
  serverMicrosPerCommit: number | undefined;
  problems: string[];
}

const SESSION = 'commit-bench';
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));
let documents = 0;

export async function commits(
  context: BenchContext,
  otLoadgenBundle: string,
  specs: TargetSpec[],
  config: CommitConfig,
  log: (line: string) => void,
): Promise<CommitFigures[]> {
  const variants: Array<{ spec: TargetSpec; label: string; bundle?: string }> = specs.flatMap((spec) => [
    { spec, label: spec.name },
    ...(config.baselineBundle && spec.kind === 'relay' ? [{ spec, label: `${spec.name}@base`, bundle: config.baselineBundle }] : []),
  ]);
  const runs = new Map<string, CommitFigures[]>();
  for (let round = 1; round <= config.rounds; round++) {
    log(`  round ${round} of ${config.rounds}`);
    for (const { spec, label, bundle } of variants) {
      let cluster: Cluster;
      try {
        cluster = await startCluster(context, spec, {}, bundle);
      } catch (error) {
        // A baseline that cannot run here (say, a dependency not installed) leaves the others to measure.
        log(`  ${label}: could not start (${(error as Error).message.split('\n')[0]}); left out`);
        continue;
      }
      try {
        for (const editors of config.editors) {
          const figures = await runOnce(context, otLoadgenBundle, cluster, label, editors, config, log);
          const key = `${label}\u0000${editors}`;
          runs.set(key, [...(runs.get(key) ?? []), figures]);
        }
      } finally {
        await cluster.stop();
      }
    }
  }
  return [...runs.values()].map(median);
}

/** Per figure, the median of the rounds (the run with the median commits/s for its CPU split and latencies). */
function median(rounds: CommitFigures[]): CommitFigures {
  const sorted = [...rounds].sort((a, b) => a.commitsPerSecond - b.commitsPerSecond);
  const middle = sorted[Math.floor((sorted.length - 1) / 2)]!;
  const mid = (values: Array<number | undefined>) => {
    const known = values.filter((v): v is number => v !== undefined && Number.isFinite(v)).sort((a, b) => a - b);
    return known.length ? known[Math.floor((known.length - 1) / 2)] : undefined;
  };
  return {
    ...middle,
    rounds: rounds.length,
    ackedOpsPerSecond: mid(rounds.map((r) => r.ackedOpsPerSecond))!,
    serverMicrosPerCommit: mid(rounds.map((r) => r.serverMicrosPerCommit)),
    problems: rounds.flatMap((r) => r.problems).slice(0, 20),
  };
}

async function runOnce(
  context: BenchContext,
  bundle: string,
  cluster: Cluster,
  label: string,
  editors: number,
  config: CommitConfig,
  log: (line: string) => void,
): Promise<CommitFigures> {
  const loadgen = new OtLoadgen(bundle);
  try {
    // The first editor opens the document with its text: only a host may create one.
    const tokens = Array.from({ length: editors }, (_, i) => sessionToken(context, `editor-${i}`, [SESSION], i === 0 ? 'host' : 'editor'));
    const urls = cluster.servers.map((s) => s.url);
    loadgen.send({
      type: 'setup',
      target: cluster.spec.kind === 'sharedb' ? 'sharedb' : 'relay',
      url: urls[0]!,
      urls,
      tokens,
      editors,
      document: `bench/commits-${++documents}.txt`,
      text: documentText(config.docChars),
      load: { mode: 'closed', window: config.window },
    });
    await loadgen.next('ready', 20_000);
    const pids = [...cluster.pids, loadgen.pid];
    await context.quiet.wait(pids);
    const startAt = monotonicMs() + 200;
    const windowStart = startAt + config.warmupMs;
    const windowEnd = windowStart + config.measureMs;
    let before: Array<ProcSample | undefined> = [];
    let after: Array<ProcSample | undefined> = [];
    let databasePids: number[] = [];
    let databaseBefore: Array<ProcSample | undefined> = [];
    let databaseAfter: Array<ProcSample | undefined> = [];
    const sampling = Promise.all([
      sleep(windowStart - monotonicMs()).then(() => {
        before = pids.map(sampleProcess);
        databasePids = cluster.databasePids?.() ?? [];
        databaseBefore = databasePids.map(sampleProcess);
      }),
      sleep(windowEnd - monotonicMs()).then(() => {
        after = pids.map(sampleProcess);
        databaseAfter = databasePids.map(sampleProcess);
      }),
    ]);
    loadgen.send({ type: 'go', startAt, warmupMs: config.warmupMs, measureMs: config.measureMs, drainMs: config.drainMs });
    const result: OtResult = await loadgen.next('result', windowEnd - monotonicMs() + config.drainMs + 10_000);
    await sampling;
    const seconds = config.measureMs / 1000;
    const cpu = (i: number) => cpuPercent(before[i], after[i]);
    // A backend that ended within the window is left out (its CPU is not known): a slight undercount.
    const databaseCpu = cluster.databasePids
      ? databasePids.reduce((sum, _, i) => sum + (cpuPercent(databaseBefore[i], databaseAfter[i]) ?? 0), 0)
      : undefined;
    const serverCpu = cluster.pids.reduce<number | undefined>(
      (a, _, i) => (a === undefined || cpu(i) === undefined ? undefined : a + cpu(i)!),
      databaseCpu ?? 0,
    );
    const figures: CommitFigures = {
      target: label,
      editors,
      rounds: 1,
      commitsPerSecond: result.commitsInWindow / seconds,
      ackedOpsPerSecond: result.ackedInWindow / seconds,
      ackLatencyMs: summarize(result.ackLatencies),
      serverCpuPercents: cluster.servers.map((_, i) => cpu(i) ?? NaN),
      redisCpuPercent: cluster.redisPid ? cpu(cluster.servers.length) : undefined,
      databaseCpuPercent: databaseCpu,
      loadgenCpuPercent: cpu(cluster.pids.length),
      serverMicrosPerCommit:
        serverCpu === undefined || result.commitsInWindow === 0 ? undefined : (serverCpu * 1e4 * seconds) / result.commitsInWindow,
      problems: result.problems,
    };
    log(
      `  ${figures.target.padEnd(11)} commits, ${String(editors).padStart(2)} editors: ` +
        `${Math.round(figures.commitsPerSecond).toLocaleString('en-US').padStart(6)} commits/s ` +
        `(${Math.round(figures.ackedOpsPerSecond).toLocaleString('en-US')} keystrokes/s), ack p50/p99 ` +
        `${figures.ackLatencyMs?.p50.toFixed(2) ?? '-'}/${figures.ackLatencyMs?.p99.toFixed(2) ?? '-'} ms, ` +
        `servers CPU ` +
        `${figures.serverCpuPercents.map(Math.round).join('+')}%` +
        `${figures.redisCpuPercent === undefined ? '' : ` redis ${Math.round(figures.redisCpuPercent)}%`}` +
        `${figures.databaseCpuPercent === undefined ? '' : ` postgres ${Math.round(figures.databaseCpuPercent)}%`}` +
        `, loadgen ${Math.round(figures.loadgenCpuPercent ?? NaN)}%` +
        `${result.problems.length ? `, PROBLEMS: ${result.problems[0]}` : ''}`,
    );
    return figures;
  } finally {
    await loadgen.stop();
  }
}
