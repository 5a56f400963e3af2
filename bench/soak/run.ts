import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { startRedisServer } from '../../test/support/redis-server';
import { RelayProcess } from '../../test/support/relay-process';
import { runBench } from '../entry';
import { sampleProcess } from '../proc-stats';
import { median, n0, n2, summarize, table, writeBenchReport } from '../report';
import { Crowd } from '../crowd/crowd';
import { benchRelayEnv } from '../processes';

/**
 * `npm run soak`: two relays on one Redis and a crowd of editors for a long while, to see that
 * nothing is lost or doubled and nothing grows. Sessions of 4 participants, spread over both
 * relays; each participant types tokens into the session's document and deletes its oldest ones
 * (so the text, and what Redis keeps, stays bounded), chats now and then, and drops its
 * connection now and then (it reconnects and resumes by itself).
 *
 * At the end it checks every session: the participants' texts are one text, every token typed
 * and not deleted is in it once, every deleted one is gone, and every chat message reached each
 * other participant exactly once. Every 10 s it samples both relays' RSS, Redis's used memory
 * and the keystroke-to-remote p99 of that window; after the warm-up (the first half) memory
 * should stay within 10 % and the p99 should not rise. Prints a table, writes bench-results/soak.json,
 * exits 1 if anything was lost or doubled.
 *
 * Knobs: SOAK_MINUTES=30, SOAK_CLIENTS=200 (a multiple of 4), SOAK_KEYS_PER_SECOND=2 (tokens
 * typed or deleted per participant), SOAK_CHAT_EVERY_S=20, SOAK_RECONNECT_EVERY_S=90,
 * SOAK_LIVE_TOKENS=12 (each participant's tokens kept in the text), SOAK_SESSION_LOG=200 (the relays'
 * SESSION_LOG_SIZE: every bounded window must fill during the warm-up for "flat after it" to mean
 * anything, and at these rates a session logs about 15 events a minute, so the default log of
 * 1,000 would still be filling after an hour; the document histories fill within minutes; a log of 200
 * fills in about 13 minutes), SOAK_WARMUP_MINUTES (default: the first half, 15 minutes of a 30-minute
 * run: the logs of 200 must be full, and Redis trims its streams by whole nodes of 100 entries).
 */

const env = process.env;
const config = {
  minutes: Number(env.SOAK_MINUTES ?? 30),
  clients: Math.max(4, Math.floor(Number(env.SOAK_CLIENTS ?? 200) / 4) * 4),
  keysPerSecond: Number(env.SOAK_KEYS_PER_SECOND ?? 2),
  chatEverySeconds: Number(env.SOAK_CHAT_EVERY_S ?? 20),
  reconnectEverySeconds: Number(env.SOAK_RECONNECT_EVERY_S ?? 90),
  liveTokens: Number(env.SOAK_LIVE_TOKENS ?? 12),
  sessionLog: Number(env.SOAK_SESSION_LOG ?? 200),
  /** Samples before this are the warm-up (default: the first half, 15 minutes of a 30-minute run: the session logs fill in about 13). */
  warmupMinutes: Number(env.SOAK_WARMUP_MINUTES ?? Number(env.SOAK_MINUTES ?? 30) / 2),
};
const TICK_MS = 50;
const SAMPLE_MS = 10_000;
const SETTLE_MS = 120_000;

interface Sample {
  minute: number;
  relayRssMB: number[];
  redisUsedMB: number;
  p99Ms: number | undefined;
  keystrokes: number;
  reconnects: number;
}

runBench('soak', (config.minutes + 10) * 60_000, async () => {
  const startedAt = Date.now();
  const secret = randomBytes(24).toString('hex');
  const relayEnv = {
    ...benchRelayEnv(secret),
    DOCUMENT_MAX_LENGTH: String(4 * 1024 * 1024),
    SESSION_LOG_SIZE: String(config.sessionLog),
    // The relays' metrics stream (default 50,000 entries) would take hours to fill at this rate.
    STREAM_METRICS_MAXLEN: '1000',
  };
  delete (relayEnv as Record<string, string>).WS_PORT;
  const redis = await startRedisServer();
  const relays = [
    await RelayProcess.start({ ...relayEnv, REDIS_URL: redis.url, RELAY_ID: 'soak-1' }),
    await RelayProcess.start({ ...relayEnv, REDIS_URL: redis.url, RELAY_ID: 'soak-2' }),
  ];
  const redisClient = new Redis(redis.url, { lazyConnect: true });
  await redisClient.connect();
  let crowd: Crowd | undefined;
  const allLatencies: number[] = [];
  const samples: Sample[] = [];
  try {
    process.stdout.write(
      `Soak: ${config.clients} participants in ${config.clients / 4} sessions over 2 relays on one Redis, ${config.minutes} min; ` +
        `${config.keysPerSecond} keys/s each, a chat every ~${config.chatEverySeconds} s, ` +
        `a dropped connection every ~${config.reconnectEverySeconds} s.\n`,
    );
    crowd = await Crowd.join({
      relays: relays.map((relay) => relay.url),
      secret,
      sessions: config.clients / 4,
      keysPerSecond: config.keysPerSecond,
      chatEverySeconds: config.chatEverySeconds,
      reconnectEverySeconds: config.reconnectEverySeconds,
      liveTokens: config.liveTokens,
      name: 'soak',
    });
    process.stdout.write(`All ${crowd.size} connected and joined in ${Math.round((Date.now() - startedAt) / 1000)} s.\n`);

    const endAt = Date.now() + config.minutes * 60_000;
    let nextSample = Date.now() + SAMPLE_MS;
    process.stdout.write('minute  relay RSS MB (1, 2)  Redis MB  p99 ms  keys  drops\n');
    let last = performance.now();
    while (Date.now() < endAt) {
      await new Promise((resolve) => setTimeout(resolve, TICK_MS));
      const now = performance.now();
      crowd.tick(now - last);
      last = now;
      if (Date.now() >= nextSample) {
        nextSample += SAMPLE_MS;
        const info = await redisClient.info('memory');
        const windowLatencies = crowd.takeLatencies();
        const sample: Sample = {
          minute: (Date.now() - startedAt) / 60_000,
          relayRssMB: relays.map((relay) => (sampleProcess(relay.pid!)?.rssBytes ?? 0) / 2 ** 20),
          redisUsedMB: Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0) / 2 ** 20,
          p99Ms: summarize(windowLatencies)?.p99,
          keystrokes: crowd.keystrokes,
          reconnects: crowd.reconnects,
        };
        allLatencies.push(...windowLatencies);
        samples.push(sample);
        process.stdout.write(
          `${sample.minute.toFixed(1).padStart(6)}  ${sample.relayRssMB
            .map((mb) => mb.toFixed(1))
            .join(', ')
            .padEnd(19)}  ` +
            `${sample.redisUsedMB.toFixed(1).padStart(8)}  ${n2(sample.p99Ms).padStart(6)}  ` +
            `${String(sample.keystrokes).padStart(4)}  ${sample.reconnects}\n`,
        );
      }
    }

    // Quiet: everyone back, in step, one text per session; the last chats reach everyone.
    await crowd.settle(SETTLE_MS);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const findings = crowd.verify();
    const afterWarmup = samples.filter((sample) => sample.minute >= config.warmupMinutes);
    const growth = (values: number[]) => {
      const [first, last] = [median(values.slice(0, 3)), median(values.slice(-3))];
      return values.length >= 2 && first && last !== undefined ? last / first - 1 : undefined;
    };
    const figures = {
      totals: { keystrokes: crowd.keystrokes, reconnects: crowd.reconnects, chats: crowd.chats },
      latencyMs: summarize(allLatencies),
      growthAfterWarmup: {
        relayRss: relays.map((_, i) => growth(afterWarmup.map((s) => s.relayRssMB[i]!))),
        redisUsedMemory: growth(afterWarmup.map((s) => s.redisUsedMB)),
        p99: growth(afterWarmup.map((s) => s.p99Ms ?? 0)),
      },
      findings,
      samples,
    };
    process.stdout.write(
      `\n${table(
        ['figure', 'value'],
        [
          ['keystrokes (inserts + deletes)', n0(crowd.keystrokes)],
          ['dropped connections (each resumed)', n0(crowd.reconnects)],
          ['chat messages', n0(crowd.chats)],
          ['keystroke-to-remote p50 / p99 ms', `${n2(figures.latencyMs?.p50)} / ${n2(figures.latencyMs?.p99)}`],
          ['relay RSS growth after warm-up', figures.growthAfterWarmup.relayRss.map(percent).join(', ')],
          ['Redis used memory growth after warm-up', percent(figures.growthAfterWarmup.redisUsedMemory)],
          ['p99 change after warm-up', percent(figures.growthAfterWarmup.p99)],
          ['lost or doubled', findings.length === 0 ? 'none' : `${findings.length}: ${findings.slice(0, 5).join('; ')}`],
        ],
        [0],
      )}\n`,
    );
    writeBenchReport('soak', startedAt, config, relayEnv, figures);
    if (findings.length > 0) throw new Error(`${findings.length} findings: ${findings.slice(0, 10).join('; ')}`);
  } finally {
    crowd?.dispose();
    redisClient.disconnect();
    await Promise.all(relays.map((relay) => relay.stop()));
    await redis.dispose();
  }
});

function percent(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? '-' : `${value >= 0 ? '+' : ''}${(100 * value).toFixed(1)} %`;
}
