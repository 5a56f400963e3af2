import { cpuPercent, sampleProcess } from '../proc-stats';
import { monotonicMs } from '../clock';
import { runBench } from '../entry';
import { info, checksTable, median, n0, n2, table, type TargetCheck, writeBenchReport } from '../report';
import { encodePublications } from '../../relay/broker/redis-publication';
import type { CommittedOp, CommitPublication } from '../../relay/documents/document-store';
import { RedisDocumentStore } from '../../relay/documents/redis-document-store';
import { RedisConnections } from '../../relay/redis/redis-connection';
import { startRedisServer } from '../../test/support/redis-server';

/**
 * `npm run bench:redis-floor`: what a document commit through Redis costs below the relay, on this
 * machine. The Redis figures of `bench:scaleout` (commits/s against memory, server + Redis CPU per
 * commit) include WebSockets, OT and the load generator; this takes the relay's own store
 * (`RedisDocumentStore`, its Lua commit script and its publication, with a subscriber that
 * receives it as a relay does) in one process against a `redis-server` it starts, and beside it
 * the cheapest round trip there is (PING) and an empty script with a commit's arguments. Each
 * step runs one command at a time in a closed loop; the steps take turns over the rounds
 * (medians reported). It measures; it asserts nothing. Writes bench-results/redis-floor.json.
 *
 * Per step: the round trip (µs), this process's CPU (the store's side: encoding, the reply, the
 * publication it receives back), Redis's CPU (from /proc) and, for scripts, Redis's own time in
 * the script (INFO commandstats). Knobs: REDIS_FLOOR_CALLS=3000 REDIS_FLOOR_ROUNDS=3
 */

const CALLS = Number(process.env.REDIS_FLOOR_CALLS ?? 3000);
const ROUNDS = Math.max(1, Number(process.env.REDIS_FLOOR_ROUNDS ?? 3));
const SESSION = 'floor';
const DOCUMENT = 'doc.txt';
/** A long text (1 MB): what a commit costs as the text grows (its snapshots, see `snapshotEvery`). */
const LONG_DOCUMENT = 'long.txt';
const GROUP = 4;

interface StepFigures {
  step: string;
  /** Operations per call: ops committed by one commit call, else 1. */
  perCall: number;
  roundTripUs: number;
  clientCpuUs: number;
  redisCpuUs: number | undefined;
  /** Redis's time inside the script per call (commandstats), for the script steps. */
  scriptUs: number | undefined;
}

type Step = { name: string; perCall: number; call: () => Promise<void>; script: boolean };

runBench('redis-floor', 10 * 60_000, async () => {
  const startedAt = Date.now();
  const redis = await startRedisServer();
  const connections = await RedisConnections.open(redis.url, { name: 'redis-floor' });
  const store = new RedisDocumentStore(connections);
  try {
    await store.create(SESSION, DOCUMENT, 'x'.repeat(10 * 1024));
    await store.create(SESSION, LONG_DOCUMENT, 'x'.repeat(1024 * 1024));
    // The publication goes to a subscriber of this process, as to every relay with clients on the document.
    const message = { eventType: 'collaboration.edit', data: '{"event_type":"collaboration.edit","payload":{}}' };
    const [shard] = encodePublications('tandem:', `doc:${DOCUMENT}`, [message]);
    await connections.subscriber.ssubscribe(shard);
    const revs = new Map<string, number>();
    let seq = 0;
    const entry = (document: string): CommittedOp => {
      const rev = (revs.get(document) ?? 0) + 1;
      revs.set(document, rev);
      return { rev, op: [1 + (rev % 1000), 'a'], userId: 'u', clientId: 'c', seq: ++seq };
    };
    const publication: CommitPublication = { channel: `doc:${DOCUMENT}`, message };
    const commit = async (ops: number, document = DOCUMENT) => {
      const entries = Array.from({ length: ops }, () => entry(document));
      if (
        !(await store.commit(
          SESSION,
          document,
          entries,
          entries.map(() => publication),
        ))
      )
        throw new Error(`commit at revision ${entries[0]!.rev} refused`);
    };
    // An empty script with as many keys and arguments as a one-op commit (5 and 14 + 7).
    const emptySha = (await connections.command.script('LOAD', 'return 1')) as string;
    const args = Array.from({ length: 21 }, (_, i) => `argument ${i}`);
    const steps: Step[] = [
      { name: 'PING', perCall: 1, script: false, call: async () => void (await connections.command.ping()) },
      {
        name: 'empty script, a commit’s arguments',
        perCall: 1,
        script: true,
        call: async () => void (await connections.command.evalsha(emptySha, 5, 'k1', 'k2', 'k3', 'k4', 'k5', ...args)),
      },
      { name: 'commit, 1 op', perCall: 1, script: true, call: () => commit(1) },
      { name: `commit, group of ${GROUP} ops`, perCall: GROUP, script: true, call: () => commit(GROUP) },
      { name: 'commit, 1 op, 1 MB text', perCall: 1, script: true, call: () => commit(1, LONG_DOCUMENT) },
    ];
    // Past the documents' kept history (1,000 ops), so that every commit also trims, as in use.
    for (let i = 0; i < 1200; i++) await commit(1);
    for (let i = 0; i < 1200; i++) await commit(1, LONG_DOCUMENT);

    const rounds: StepFigures[][] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const order = steps.map((_, i) => steps[(i + round) % steps.length]!);
      const figures: StepFigures[] = [];
      for (const step of order) figures.push(await measure(step, connections, redis.pid));
      rounds.push(figures);
      process.stdout.write(`round ${round + 1} of ${ROUNDS}: ${figures.map((f) => `${f.step} ${n0(f.roundTripUs)} µs`).join(', ')}\n`);
    }
    const medians: StepFigures[] = steps.map((step) => {
      const of = (key: 'roundTripUs' | 'clientCpuUs' | 'redisCpuUs' | 'scriptUs') =>
        median(rounds.map((r) => r.find((f) => f.step === step.name)?.[key]));
      return {
        step: step.name,
        perCall: step.perCall,
        roundTripUs: of('roundTripUs')!,
        clientCpuUs: of('clientCpuUs')!,
        redisCpuUs: of('redisCpuUs'),
        scriptUs: of('scriptUs'),
      };
    });
    process.stdout.write(
      `\n${table(
        ['step (one call in flight)', 'round trip µs', 'client CPU µs', 'Redis CPU µs', 'in the script µs', 'client + Redis CPU µs per op'],
        medians.map((f) => [
          f.step,
          n0(f.roundTripUs),
          n0(f.clientCpuUs),
          n0(f.redisCpuUs),
          n0(f.scriptUs),
          n0(f.redisCpuUs === undefined ? undefined : (f.clientCpuUs + f.redisCpuUs) / f.perCall),
        ]),
        [0],
      )}\n`,
    );
    const [ping, empty, single, group, long] = medians as [StepFigures, StepFigures, StepFigures, StepFigures, StepFigures];
    const cpuPerOp = (f: StepFigures) => (f.redisCpuUs === undefined ? undefined : (f.clientCpuUs + f.redisCpuUs) / f.perCall);
    const targets: TargetCheck[] = [
      info(
        'PING round trip (µs), client + Redis CPU (µs)',
        ping.roundTripUs,
        `CPU ${n0(cpuPerOp(ping))} µs: the cost of any round trip here`,
      ),
      info('empty script with a commit’s arguments, Redis time in it (µs)', empty.scriptUs, `round trip ${n0(empty.roundTripUs)} µs`),
      info(
        'store commit of 1 op: store + Redis CPU per commit (µs)',
        cpuPerOp(single),
        `round trip ${n0(single.roundTripUs)} µs (${n2(single.roundTripUs / ping.roundTripUs)}x PING), ` +
          `${n0(single.scriptUs)} µs in the script`,
      ),
      info(
        `store commit in groups of ${GROUP}: store + Redis CPU per op (µs)`,
        cpuPerOp(group),
        `round trip ${n0(group.roundTripUs)} µs, ${n0(group.scriptUs)} µs in the script per call`,
      ),
      info(
        'store commit of 1 op on a 1 MB text: store + Redis CPU per commit (µs)',
        cpuPerOp(long),
        `${n2((cpuPerOp(long) ?? NaN) / (cpuPerOp(single) ?? NaN))}x the 10 KB text's; round trip ${n0(long.roundTripUs)} µs`,
      ),
    ];
    process.stdout.write(`\n${checksTable(targets)}\n`);
    writeBenchReport('redis-floor', startedAt, { calls: CALLS, rounds: ROUNDS, group: GROUP }, {}, { targets, rounds, medians });
  } finally {
    await store.close();
    await connections.close();
    await redis.stop();
  }
});

/** `CALLS` calls of `step`, one at a time, after a short warm-up. */
async function measure(step: Step, connections: RedisConnections, redisPid: number | undefined): Promise<StepFigures> {
  for (let i = 0; i < 200; i++) await step.call();
  await connections.command.config('RESETSTAT');
  const redisBefore = redisPid === undefined ? undefined : sampleProcess(redisPid);
  const cpuBefore = process.cpuUsage();
  const startedAt = monotonicMs();
  for (let i = 0; i < CALLS; i++) await step.call();
  const elapsedMs = monotonicMs() - startedAt;
  const cpu = process.cpuUsage(cpuBefore);
  const redisAfter = redisPid === undefined ? undefined : sampleProcess(redisPid);
  const redisPercent = cpuPercent(redisBefore, redisAfter);
  const stats = step.script ? ((await connections.command.info('commandstats')) as string) : '';
  const perCall = stats.match(/cmdstat_evalsha:calls=\d+,usec=\d+,usec_per_call=([\d.]+)/)?.[1];
  return {
    step: step.name,
    perCall: step.perCall,
    roundTripUs: (elapsedMs * 1000) / CALLS,
    clientCpuUs: (cpu.user + cpu.system) / CALLS,
    redisCpuUs: redisPercent === undefined ? undefined : (redisPercent * elapsedMs * 10) / CALLS,
    scriptUs: perCall === undefined ? undefined : Number(perCall),
  };
}
