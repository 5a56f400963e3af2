import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { mintToken } from '../../relay/auth/tokens';
import { OtPeer } from '../../test/support/ot-peer';
import { startRedisServer } from '../../test/support/redis-server';
import { RelayProcess } from '../../test/support/relay-process';
import { runBench } from '../entry';
import { sampleProcess } from '../proc-stats';
import { n0, n2, summarize, table, writeBenchReport } from '../report';
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
 * and the keystroke-to-remote p99 of that window; after the warm-up (the first fifth) memory
 * should stay within 10 % and the p99 should not rise. Prints a table, writes bench-results/soak.json,
 * exits 1 if anything was lost or doubled.
 *
 * Knobs: SOAK_MINUTES=30, SOAK_CLIENTS=200 (a multiple of 4), SOAK_KEYS_PER_SECOND=2 (tokens
 * typed or deleted per participant), SOAK_CHAT_EVERY_S=20, SOAK_RECONNECT_EVERY_S=90,
 * SOAK_LIVE_TOKENS=12 (each participant's tokens kept in the text).
 */

const env = process.env;
const config = {
  minutes: Number(env.SOAK_MINUTES ?? 30),
  clients: Math.max(4, Math.floor(Number(env.SOAK_CLIENTS ?? 200) / 4) * 4),
  keysPerSecond: Number(env.SOAK_KEYS_PER_SECOND ?? 2),
  chatEverySeconds: Number(env.SOAK_CHAT_EVERY_S ?? 20),
  reconnectEverySeconds: Number(env.SOAK_RECONNECT_EVERY_S ?? 90),
  liveTokens: Number(env.SOAK_LIVE_TOKENS ?? 12),
};
const TICK_MS = 50;
const SAMPLE_MS = 10_000;
const SETTLE_MS = 120_000;
const DOCUMENT = 'soak.txt';
const TOKEN = /⟦[^⟧]*⟧/g;

/** One participant: its peer, the tokens it typed, and what it received. */
interface Participant {
  readonly index: number;
  readonly session: number;
  readonly peer: OtPeer;
  /** Its tokens in the text, oldest first. */
  readonly live: string[];
  typed: number;
  /** Tokens of others seen in an edit: latency measured once per token and receiver. */
  readonly seen: Set<string>;
  /** Chat messages received, by client_message_id. */
  readonly chats: Map<string, number>;
}

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
  const relayEnv = { ...benchRelayEnv(secret), DOCUMENT_MAX_LENGTH: String(4 * 1024 * 1024) };
  delete (relayEnv as Record<string, string>).WS_PORT;
  const redis = await startRedisServer();
  const relays = [
    await RelayProcess.start({ ...relayEnv, REDIS_URL: redis.url, RELAY_ID: 'soak-1' }),
    await RelayProcess.start({ ...relayEnv, REDIS_URL: redis.url, RELAY_ID: 'soak-2' }),
  ];
  const redisClient = new Redis(redis.url, { lazyConnect: true });
  await redisClient.connect();
  const participants: Participant[] = [];
  const sentAt = new Map<string, number>();
  const deleted = new Set<string>();
  const sentChats = new Map<string, number>(); // client_message_id -> sender index
  let windowLatencies: number[] = [];
  const allLatencies: number[] = [];
  let keystrokes = 0;
  let reconnects = 0;
  const samples: Sample[] = [];
  try {
    process.stdout.write(
      `Soak: ${config.clients} participants in ${config.clients / 4} sessions over 2 relays on one Redis, ${config.minutes} min; ` +
        `${config.keysPerSecond} keys/s each, a chat every ~${config.chatEverySeconds} s, ` +
        `a dropped connection every ~${config.reconnectEverySeconds} s.\n`,
    );
    for (let session = 0; session < config.clients / 4; session++) {
      for (let seat = 0; seat < 4; seat++) {
        const index = session * 4 + seat;
        const relay = relays[index % 2]!;
        const token = mintToken(secret, {
          user: `u${index}`,
          sessions: [`soak-${session}`],
          role: seat === 0 ? 'host' : 'editor',
          ttl: '2h',
        });
        // The host creates the document (only a host may); the others open it once it exists.
        const peer = new OtPeer(relay.url, token, `c${index}`, DOCUMENT, seat === 0 ? '' : undefined);
        const participant: Participant = { index, session, peer, live: [], typed: 0, seen: new Set(), chats: new Map() };
        peer.client.on('collaboration.edit', (edit) => {
          if (edit.document !== DOCUMENT || edit.client_id === peer.clientId) return;
          for (const component of edit.op) {
            if (typeof component !== 'string') continue;
            for (const [token] of component.matchAll(TOKEN)) {
              const at = sentAt.get(token);
              if (at === undefined || participant.seen.has(token)) continue;
              participant.seen.add(token);
              windowLatencies.push(performance.now() - at);
            }
          }
        });
        peer.client.on('chat.message', (chat) => {
          const id = chat.client_message_id;
          if (id) participant.chats.set(id, (participant.chats.get(id) ?? 0) + 1);
        });
        participants.push(participant);
        await peer.start();
      }
    }
    process.stdout.write(`All ${participants.length} connected and joined in ${Math.round((Date.now() - startedAt) / 1000)} s.\n`);

    const perTick = (perSecond: number) => (perSecond * TICK_MS) / 1000;
    const act = (participant: Participant) => {
      const { peer } = participant;
      if (!peer.doc || peer.client.state !== 'open') return;
      if (Math.random() < perTick(config.keysPerSecond)) {
        const text = peer.text;
        if (participant.live.length < config.liveTokens) {
          const token = `⟦c${participant.index}.${participant.typed++}⟧`;
          // Between two tokens, never inside one.
          const boundaries = [0, ...[...text.matchAll(/⟧/g)].map((match) => match.index + 1)];
          const at = boundaries[Math.floor(Math.random() * boundaries.length)]!;
          sentAt.set(token, performance.now());
          peer.edit(at === 0 ? [token, text.length].filter((c) => c !== 0) : [at, token, text.length - at].filter((c) => c !== 0));
          participant.live.push(token);
        } else {
          const token = participant.live.shift()!;
          const at = text.indexOf(token);
          if (at < 0) throw new Error(`${peer.clientId} cannot find its own token ${token}`);
          peer.edit([at, { d: token }, text.length - at - token.length].filter((c) => c !== 0));
          deleted.add(token);
        }
        keystrokes++;
      }
      if (Math.random() < perTick(1 / config.chatEverySeconds)) {
        const id = peer.client.sendChat({ content: `hello from c${participant.index}` });
        sentChats.set(id, participant.index);
      }
      if (Math.random() < perTick(1 / config.reconnectEverySeconds)) {
        peer.drop();
        reconnects++;
      }
    };

    const endAt = Date.now() + config.minutes * 60_000;
    let nextSample = Date.now() + SAMPLE_MS;
    process.stdout.write('minute  relay RSS MB (1, 2)  Redis MB  p99 ms  keys  drops\n');
    while (Date.now() < endAt) {
      for (const participant of participants) act(participant);
      await new Promise((resolve) => setTimeout(resolve, TICK_MS));
      if (Date.now() >= nextSample) {
        nextSample += SAMPLE_MS;
        const info = await redisClient.info('memory');
        const sample: Sample = {
          minute: (Date.now() - startedAt) / 60_000,
          relayRssMB: relays.map((relay) => (sampleProcess(relay.pid!)?.rssBytes ?? 0) / 2 ** 20),
          redisUsedMB: Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0) / 2 ** 20,
          p99Ms: summarize(windowLatencies)?.p99,
          keystrokes,
          reconnects,
        };
        allLatencies.push(...windowLatencies);
        windowLatencies = [];
        samples.push(sample);
        process.stdout.write(
          `${sample.minute.toFixed(1).padStart(6)}  ${sample.relayRssMB
            .map((mb) => mb.toFixed(1))
            .join(', ')
            .padEnd(19)}  ` +
            `${sample.redisUsedMB.toFixed(1).padStart(8)}  ${n2(sample.p99Ms).padStart(6)}  ` +
            `${String(keystrokes).padStart(4)}  ${reconnects}\n`,
        );
      }
    }

    // Quiet: everyone back, in step, one text per session.
    const settledBy = Date.now() + SETTLE_MS;
    const sessions = groupBySession(participants);
    const unsettled = () =>
      sessions.filter((group) => !group.every((p) => p.peer.settled) || new Set(group.map((p) => p.peer.text)).size !== 1);
    while (unsettled().length > 0 && Date.now() < settledBy) await new Promise((resolve) => setTimeout(resolve, 200));
    // The last chats reach everyone.
    await new Promise((resolve) => setTimeout(resolve, 2000));

    const findings = verify(sessions, deleted, sentChats, unsettled().length);
    const afterWarmup = samples.slice(Math.max(1, Math.floor(samples.length / 5)));
    const growth = (values: number[]) => (values.length >= 2 ? mid(values.slice(-3)) / mid(values.slice(0, 3)) - 1 : undefined);
    const figures = {
      totals: { keystrokes, reconnects, chats: sentChats.size, tokensTyped: sentAt.size, tokensDeleted: deleted.size },
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
          ['keystrokes (inserts + deletes)', n0(keystrokes)],
          ['dropped connections (each resumed)', n0(reconnects)],
          ['chat messages', n0(sentChats.size)],
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
    for (const participant of participants) participant.peer.dispose();
    redisClient.disconnect();
    await Promise.all(relays.map((relay) => relay.stop()));
    await redis.dispose();
  }
});

function groupBySession(participants: Participant[]): Participant[][] {
  const groups: Participant[][] = [];
  for (const participant of participants) (groups[participant.session] ??= []).push(participant);
  return groups;
}

/** Everything lost, doubled or diverged; empty when the soak kept its promise. */
function verify(sessions: Participant[][], deleted: Set<string>, sentChats: Map<string, number>, unsettled: number): string[] {
  const findings: string[] = [];
  if (unsettled > 0) findings.push(`${unsettled} sessions not settled on one text`);
  for (const group of sessions) {
    for (const participant of group) findings.push(...participant.peer.problems);
    const text = group[0]!.peer.text;
    const counts = new Map<string, number>();
    for (const [token] of text.matchAll(TOKEN)) counts.set(token, (counts.get(token) ?? 0) + 1);
    for (const participant of group) {
      for (let n = 0; n < participant.typed; n++) {
        const token = `⟦c${participant.index}.${n}⟧`;
        const expected = deleted.has(token) ? 0 : 1;
        const found = counts.get(token) ?? 0;
        if (found !== expected) findings.push(`${token}: ${found} times in session ${participant.session}, expected ${expected}`);
      }
    }
    for (const [id, sender] of sentChats) {
      if (Math.floor(sender / 4) !== group[0]!.session) continue;
      for (const participant of group) {
        if (participant.index === sender) continue;
        const got = participant.chats.get(id) ?? 0;
        if (got !== 1) findings.push(`chat ${id} of c${sender}: ${got} times at c${participant.index}`);
      }
    }
  }
  return findings;
}

function mid(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function percent(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? '-' : `${value >= 0 ? '+' : ''}${(100 * value).toFixed(1)} %`;
}
