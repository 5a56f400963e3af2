import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { type RedisCluster, startRedisCluster } from '../../test/support/redis-cluster';
import { type RedisServer, startRedisServer } from '../../test/support/redis-server';
import { RelayProcess } from '../../test/support/relay-process';
import { Crowd } from '../crowd/crowd';
import { runBench } from '../entry';
import { benchRelayEnv } from '../processes';
import { type ProcSample, sampleProcess } from '../proc-stats';
import { n0, n2, summarize, table, writeBenchReport } from '../report';

/**
 * `npm run bench:sessions`: how the relay's cost grows with the number of sessions. For each
 * setup (one relay in memory, one relay on Redis, two relays on one Redis with participants
 * alternating between them, and two relays on a Redis Cluster of 3 masters without replicas,
 * `cluster-2`, whose sessions spread over the shards) and each size, a fresh crowd of sessions of 4 participants, each
 * typing SESSIONS_KEYS_PER_SECOND tokens a second and moving its cursor twice a second, one in
 * four chatting every 10 s; after a warm-up, a measured window: keystrokes/s offered, remote
 * deliveries/s, keystroke-to-remote p50/p99, the relays' (and Redis's) CPU per keystroke, the load
 * generator's own CPU. Then the crowd stops, settles and is checked: nothing lost or doubled.
 * A size is sustained when every keystroke reached the other three within the window's end
 * plus a second and its p99 stays under a second.
 *
 * Knobs: SESSIONS_SIZES=25,50,100,150,200,250 (sessions), SESSIONS_SETUPS=memory,redis,redis-2,cluster-2,
 * SESSIONS_KEYS_PER_SECOND=5, SESSIONS_WARMUP_S=5, SESSIONS_MEASURE_S=20, BENCH_RELAY_PROF=dir (a CPU
 * profile of each relay).
 */

const env = process.env;
const config = {
  sizes: (env.SESSIONS_SIZES ?? '25,50,100,150,200,250').split(',').map(Number),
  setups: (env.SESSIONS_SETUPS ?? 'memory,redis,redis-2,cluster-2').split(',') as Setup[],
  keysPerSecond: Number(env.SESSIONS_KEYS_PER_SECOND ?? 5),
  warmupSeconds: Number(env.SESSIONS_WARMUP_S ?? 5),
  measureSeconds: Number(env.SESSIONS_MEASURE_S ?? 20),
};
/** A CPU profile of each relay, as the other benches write them (see bench/profile-summary.ts). */
const relayNodeArgs = env.BENCH_RELAY_PROF ? ['--cpu-prof', `--cpu-prof-dir=${resolve(env.BENCH_RELAY_PROF)}`] : [];
type Setup = 'memory' | 'redis' | 'redis-2' | 'cluster-2';
const TICK_MS = 20;

interface Figures {
  setup: Setup;
  sessions: number;
  participants: number;
  offeredKeysPerSecond: number;
  deliveriesPerSecond: number;
  /** Remote deliveries seen over those expected (3 per insert keystroke), in the window and a second after. */
  deliveredShare: number;
  p50Ms: number | undefined;
  p99Ms: number | undefined;
  serverCpuPercent: number;
  serverCpuUsPerKeystroke: number;
  loadgenCpuPercent: number;
  sustained: boolean;
  findings: number;
}

runBench('sessions', 60 * 60_000, async () => {
  const startedAt = Date.now();
  const secret = randomBytes(24).toString('hex');
  const relayEnv: Record<string, string> = { ...benchRelayEnv(secret) };
  delete relayEnv.WS_PORT;
  const results: Figures[] = [];
  process.stdout.write(
    `Sessions of 4, ${config.keysPerSecond} keys/s and 2 cursor moves/s per participant; ` +
      `${config.warmupSeconds} s warm-up, ${config.measureSeconds} s measured per size.\n`,
  );
  for (const setup of config.setups) {
    for (const sessions of config.sizes) {
      const figures = await measure(setup, sessions, secret, relayEnv);
      results.push(figures);
      process.stdout.write(
        `${setup.padEnd(8)} ${String(sessions).padStart(5)} sessions: ${n0(figures.offeredKeysPerSecond)} keys/s, ` +
          `p99 ${n2(figures.p99Ms)} ms, ` +
          `${n2(figures.serverCpuUsPerKeystroke)} µs server CPU/key, delivered ${(100 * figures.deliveredShare).toFixed(1)} %` +
          `${figures.sustained ? '' : ' (not sustained)'}${figures.findings ? `, ${figures.findings} lost or doubled!` : ''}\n`,
      );
      // Past saturation a larger size only says the same louder.
      if (!figures.sustained) break;
    }
  }
  process.stdout.write(
    `\n${table(
      ['setup', 'sessions', 'keys/s', 'deliveries/s', 'delivered', 'p50 ms', 'p99 ms', 'srv CPU%', 'srv µs/key', 'gen CPU%', 'sustained'],
      results.map((f) => [
        f.setup,
        n0(f.sessions),
        n0(f.offeredKeysPerSecond),
        n0(f.deliveriesPerSecond),
        `${(100 * f.deliveredShare).toFixed(1)} %`,
        n2(f.p50Ms),
        n2(f.p99Ms),
        n0(f.serverCpuPercent),
        n2(f.serverCpuUsPerKeystroke),
        n0(f.loadgenCpuPercent),
        f.sustained ? 'yes' : 'no',
      ]),
      [0],
    )}\n`,
  );
  for (const setup of config.setups) {
    const sustained = results.filter((f) => f.setup === setup && f.sustained);
    if (sustained.length < 2) continue;
    const [first, last] = [sustained[0]!, sustained[sustained.length - 1]!];
    process.stdout.write(
      `${setup}: server CPU per keystroke from ${first.sessions} to ${last.sessions} sessions: ` +
        `${n2(last.serverCpuUsPerKeystroke / first.serverCpuUsPerKeystroke)}× (target ≤ 1.3)\n`,
    );
  }
  writeBenchReport('sessions', startedAt, config, relayEnv, { results });
  if (results.some((f) => f.findings > 0)) throw new Error('keystrokes or chat messages were lost or doubled');
});

async function measure(setup: Setup, sessions: number, secret: string, relayEnv: Record<string, string>): Promise<Figures> {
  let redis: RedisServer | undefined;
  let cluster: RedisCluster | undefined;
  const relays: RelayProcess[] = [];
  let crowd: Crowd | undefined;
  try {
    if (setup === 'redis' || setup === 'redis-2') redis = await startRedisServer();
    // No replicas: on 2 cores their replication would only take CPU from the shards measured.
    if (setup === 'cluster-2') cluster = await startRedisCluster({ masters: 3, replicas: 0 });
    const settings = {
      ...relayEnv,
      ...(redis && { REDIS_URL: redis.url }),
      ...(cluster && { REDIS_CLUSTER_NODES: cluster.nodesSetting }),
    };
    for (let i = 0; i < (setup === 'memory' || setup === 'redis' ? 1 : 2); i++)
      relays.push(await RelayProcess.start({ ...settings, RELAY_ID: `sessions-${i + 1}` }, relayNodeArgs));
    crowd = await Crowd.join({
      relays: relays.map((relay) => relay.url),
      secret,
      sessions,
      keysPerSecond: config.keysPerSecond,
      cursorsPerSecond: 2,
      // One participant in four chats every 10 s: 1 in 40 s on average per participant.
      chatEverySeconds: 40,
      name: `${setup}-${sessions}`,
    });
    const redisPids = [redis, ...(cluster?.servers ?? [])].flatMap((server) => (server?.pid !== undefined ? [server.pid] : []));
    const pids = [...relays.map((relay) => relay.pid!), ...redisPids];
    const run = async (seconds: number) => {
      const end = performance.now() + seconds * 1000;
      let last = performance.now();
      while (performance.now() < end) {
        await new Promise((resolve) => setTimeout(resolve, TICK_MS));
        const now = performance.now();
        crowd!.tick(now - last);
        last = now;
      }
    };
    await run(config.warmupSeconds);
    crowd.takeLatencies();
    const before = {
      at: performance.now(),
      keys: crowd.keystrokes,
      inserts: crowd.inserts,
      servers: pids.map(sampleProcess),
      loadgen: process.cpuUsage(),
    };
    await run(config.measureSeconds);
    const keys = crowd.keystrokes - before.keys;
    const inserts = crowd.inserts - before.inserts;
    const elapsedMs = performance.now() - before.at;
    const servers = pids.map(sampleProcess);
    const loadgen = process.cpuUsage(before.loadgen);
    // A second for what is on its way.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const latencies = crowd.takeLatencies();
    const summary = summarize(latencies);
    const serverCpuMs = sum(servers.map((after, i) => cpuMs(before.servers[i], after)));
    const expectedDeliveries = inserts * 3;
    await crowd.settle(60_000);
    const findings = crowd.verify().length;
    const deliveredShare = Math.min(1, latencies.length / Math.max(1, expectedDeliveries));
    return {
      setup,
      sessions,
      participants: crowd.size,
      offeredKeysPerSecond: (keys * 1000) / elapsedMs,
      deliveriesPerSecond: (latencies.length * 1000) / elapsedMs,
      deliveredShare,
      p50Ms: summary?.p50,
      p99Ms: summary?.p99,
      serverCpuPercent: (100 * serverCpuMs) / elapsedMs,
      serverCpuUsPerKeystroke: (serverCpuMs * 1000) / Math.max(1, keys),
      loadgenCpuPercent: (100 * (loadgen.user + loadgen.system)) / 1000 / elapsedMs,
      sustained: deliveredShare >= 0.95 && (summary?.p99 ?? Infinity) < 1000,
      findings,
    };
  } finally {
    crowd?.dispose();
    for (const relay of relays) await relay.stop();
    await redis?.dispose();
    await cluster?.dispose();
  }
}

function cpuMs(from: ProcSample | undefined, to: ProcSample | undefined): number {
  return from && to ? to.cpuMs - from.cpuMs : 0;
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
