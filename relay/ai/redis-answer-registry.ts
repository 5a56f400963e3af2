import { randomUUID } from 'node:crypto';
import type { RedisClient, RedisConnections } from '../redis/redis-connection';
import { defineScript } from '../redis/scripts';
import { answerKey, type AnswerRegistry, type BeginResult, type OrphanAnswer, type RunningAnswer } from './answer-registry';

/**
 * The running answers of every relay, in Redis, each with a lease its relay keeps alive: when a
 * relay dies in the middle of an answer, its lease expires, and the next relay to look
 * (`takeOrphans`, every third of the lease) takes the answer, a script per answer so that exactly
 * one relay does, and ends it for everyone with AI_RELAY_LOST and the text published so far. Every
 * key in one hash slot (`{ai}`), so that the scripts may run on Redis Cluster (answers are few: the
 * slot's shard carries a write per chunk, not per keystroke).
 *
 * - `<prefix>{ai}:answers`  hash: answer key -> JSON `{s, r, a, m, n, i}` (session, request, asker,
 *   model, next index, serving instance)
 * - `<prefix>{ai}:lease:<answer key>`  the serving instance, with a TTL of the lease
 * - `<prefix>{ai}:text:<answer key>`  the text published so far
 *
 * The entry is updated before each chunk is published (`progress`), so an orphan's last chunk has
 * an index past every chunk its relay published (at most one past: an index may be skipped, never
 * repeated). A relay that stalled past its lease finds its entry gone and publishes nothing more.
 * `instance` is the relay id plus a random suffix: a relay restarted under the same RELAY_ID is
 * not the one that served the answers of its predecessor.
 */

/** How long a finished-but-never-ended answer's text may stay if no relay is left to take it. */
const TEXT_TTL_SECONDS = 86_400;

interface Entry {
  s: string;
  r: string;
  a: string;
  m: string;
  n: number;
  i: string;
}

type Script<T> = (keys: readonly string[], args: readonly (string | number)[]) => Promise<T>;

export interface RedisAnswerRegistryOptions {
  relayId: string;
  leaseMs: number;
  prefix?: string;
}

export class RedisAnswerRegistry implements AnswerRegistry {
  private readonly command: RedisClient;
  private readonly instance: string;
  private readonly leaseMs: number;
  private readonly prefix: string;
  private readonly answersKey: string;
  private readonly runBegin: Script<BeginResult>;
  private readonly runProgress: Script<number>;
  private readonly runRefresh: Script<number>;
  private readonly runEnd: Script<number>;
  private readonly runTakeOrphan: Script<string[]>;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly redis: RedisConnections,
    options: RedisAnswerRegistryOptions,
  ) {
    redis.acquire();
    this.command = redis.command;
    this.instance = `${options.relayId.replace(/\s/g, '_')}:${randomUUID().slice(0, 8)}`;
    this.leaseMs = options.leaseMs;
    this.prefix = options.prefix ?? 'tandem:';
    this.answersKey = `${this.prefix}{ai}:answers`;
    this.runBegin = defineScript(this.command, 'tandemAiBegin');
    this.runProgress = defineScript(this.command, 'tandemAiProgress');
    this.runRefresh = defineScript(this.command, 'tandemAiRefresh');
    this.runEnd = defineScript(this.command, 'tandemAiEnd');
    this.runTakeOrphan = defineScript(this.command, 'tandemAiTakeOrphan');
  }

  begin(answer: RunningAnswer, maxPerSession: number): Promise<BeginResult> {
    const field = answerKey(answer.sessionId, answer.requestId);
    const sessionPrefix = field.slice(0, field.length - answer.requestId.length);
    return this.runBegin(this.keysOf(field), [field, this.entry(answer), this.instance, this.leaseMs, maxPerSession, sessionPrefix]);
  }

  async get(sessionId: string, requestId: string): Promise<RunningAnswer | undefined> {
    const entry = await this.command.hget(this.answersKey, answerKey(sessionId, requestId));
    return entry === null ? undefined : fromEntry(entry);
  }

  async progress(answer: RunningAnswer, delta: string): Promise<boolean> {
    const field = answerKey(answer.sessionId, answer.requestId);
    const args = [field, this.entry(answer), this.instance, this.leaseMs, delta, TEXT_TTL_SECONDS];
    return (await this.runProgress(this.keysOf(field), args)) === 1;
  }

  async end(answer: RunningAnswer): Promise<void> {
    const field = answerKey(answer.sessionId, answer.requestId);
    await this.runEnd(this.keysOf(field), [field, this.instance]);
  }

  async refresh(answers: readonly RunningAnswer[]): Promise<RunningAnswer[]> {
    const held = await Promise.all(
      answers.map((answer) => {
        const field = answerKey(answer.sessionId, answer.requestId);
        return this.runRefresh(this.keysOf(field).slice(0, 2), [field, this.instance, this.leaseMs]);
      }),
    );
    return answers.filter((_, i) => held[i] !== 1);
  }

  async takeOrphans(): Promise<OrphanAnswer[]> {
    const fields = await this.command.hkeys(this.answersKey);
    if (fields.length === 0) return [];
    // Only the fields without a lease are tried (one EXISTS each, cheaper than a script).
    const leased = await Promise.all(fields.map((field) => this.command.exists(this.keysOf(field)[1]!)));
    const taken = await Promise.all(
      fields.filter((_, i) => leased[i] === 0).map((field) => this.runTakeOrphan(this.keysOf(field), [field])),
    );
    return taken.flatMap((reply) => (reply.length === 2 ? [{ answer: fromEntry(reply[0]!), text: reply[1]! }] : []));
  }

  /** Lets go of Redis. Answers still running stay in the registry: their leases expire and another relay ends them. */
  close(): Promise<void> {
    return (this.closing ??= this.redis.release());
  }

  private keysOf(field: string): string[] {
    return [this.answersKey, `${this.prefix}{ai}:lease:${field}`, `${this.prefix}{ai}:text:${field}`];
  }

  private entry(answer: RunningAnswer): string {
    const entry: Entry = {
      s: answer.sessionId,
      r: answer.requestId,
      a: answer.askerUserId,
      m: answer.model,
      n: answer.nextIndex,
      i: this.instance,
    };
    return JSON.stringify(entry);
  }
}

function fromEntry(json: string): RunningAnswer {
  const entry = JSON.parse(json) as Entry;
  return { sessionId: entry.s, requestId: entry.r, askerUserId: entry.a, model: entry.m, nextIndex: entry.n };
}
