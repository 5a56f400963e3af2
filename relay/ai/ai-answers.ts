import type { AiCancelPayload, AiRequestIn } from '../../protocol';
import { ProtocolError } from '../../protocol';
import type { Broker, Disposable } from '../broker/broker';
import type { AiSettings } from '../config/config';
import type { Connection } from '../gateway/connection';
import type { Logger } from '../log';
import type { AnswerPublisher } from './answer-publisher';
import { answerKey, type AnswerRegistry, type OrphanAnswer, type RunningAnswer } from './answer-registry';
import { AnswerRun } from './answer-run';
import type { ModelClient } from './model-client';
import { failureMessages } from './model-errors';
import type { ModelPerformanceSink } from './model-performance';
import { buildMessages, promptChars } from './prompt';

/** The broker channel on which a relay tells the one serving an answer to stop it. */
const CONTROL_CHANNEL = 'ai.control';

export interface AiAnswersDeps {
  /** Undefined: AI_MODEL is unset, every `ai.request` gets AI_NOT_CONFIGURED. */
  settings: AiSettings | undefined;
  model: ModelClient | undefined;
  registry: AnswerRegistry;
  /** How often this relay renews its answers' leases and looks for orphans: every third of it. */
  leaseMs: number;
  publisher: AnswerPublisher;
  broker: Broker;
  sink: ModelPerformanceSink;
  relayId: string;
  log: Logger;
}

/**
 * The relay's AI answers: checks and limits for `ai.request` and `ai.cancel`, the answers this
 * relay serves, and, with Redis, the answers of relays that died (finished here with
 * AI_RELAY_LOST, see `RedisAnswerRegistry`). The relay that receives a question serves it.
 */
export class AiAnswers {
  private readonly runs = new Map<string, AnswerRun>();
  /** Answers being begun here (registered, question not yet out): a cancel that arrives meanwhile waits here for its run. */
  private readonly beginning = new Map<string, { cancelledBy?: string }>();
  /** Questions past the local limit check whose run has not started yet. */
  private starting = 0;
  private control: Promise<Disposable> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private tickFailed = false;
  private stopping = false;

  constructor(private readonly deps: AiAnswersDeps) {}

  async start(): Promise<void> {
    this.control = this.deps.broker.subscribe(CONTROL_CHANNEL, (publication) => this.onControl(publication.data));
    await this.control;
    this.timer = setInterval(() => void this.tick(), Math.max(100, Math.floor(this.deps.leaseMs / 3))).unref();
  }

  get running(): number {
    return this.runs.size;
  }

  async ask(connection: Connection, request: AiRequestIn): Promise<void> {
    const { settings, model } = this.deps;
    const id = request.request_id;
    if (!settings || !model) throw new ProtocolError('AI_NOT_CONFIGURED', undefined, undefined, id);
    if (connection.role === 'viewer' && !settings.viewersMayAsk) {
      throw new ProtocolError('AI_FORBIDDEN', 'a viewer may not ask the AI model on this relay', undefined, id);
    }
    const { line_start: start, line_end: end } = request.context ?? {};
    if (start !== undefined && end !== undefined && end < start) {
      throw new ProtocolError(
        'VALIDATION_FAILED',
        'payload.context.line_end: must not be before line_start',
        'payload.context.line_end',
        id,
      );
    }
    const chars = promptChars(request);
    if (chars > settings.maxPromptChars) {
      throw new ProtocolError(
        'AI_PROMPT_TOO_LARGE',
        `the prompt and selection have ${chars} characters; this relay takes at most ${settings.maxPromptChars}`,
        undefined,
        id,
      );
    }
    if (this.stopping || this.runs.size + this.starting >= settings.maxConcurrent) {
      throw new ProtocolError('AI_TOO_MANY_REQUESTS', `this relay serves at most ${settings.maxConcurrent} answers at once`, undefined, id);
    }
    this.starting++;
    try {
      await this.begin(connection, request, settings, model);
    } finally {
      this.starting--;
    }
  }

  async cancel(connection: Connection, request: AiCancelPayload): Promise<void> {
    const id = request.request_id;
    if (!this.deps.settings) throw new ProtocolError('AI_NOT_CONFIGURED', undefined, undefined, id);
    const answer = await this.deps.registry.get(connection.sessionId, id);
    if (!answer) throw new ProtocolError('AI_REQUEST_NOT_FOUND', undefined, undefined, id);
    if (answer.askerUserId !== connection.userId && connection.role !== 'host') {
      throw new ProtocolError('AI_FORBIDDEN', 'only the asker or the session’s host may cancel this answer', undefined, id);
    }
    const key = answerKey(connection.sessionId, id);
    const local = this.runs.get(key);
    if (local) return local.stop('cancelled', connection.userId);
    const beginning = this.beginning.get(key);
    if (beginning) return void (beginning.cancelledBy ??= connection.userId);
    const data = JSON.stringify({ key, by: connection.userId });
    await this.deps.broker.publish(CONTROL_CHANNEL, { eventType: 'ai.cancel', data });
  }

  /**
   * Graceful stop: the answers served here end now with AI_RELAY_LOST (published while the
   * clients are still connected), and nothing new starts. The registry is the storage's to close.
   */
  async shutdown(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    const runs = [...this.runs.values()];
    for (const run of runs) run.stop('shutdown');
    await Promise.all(runs.map((run) => run.run()));
    await this.control?.then((subscription) => subscription.dispose()).catch(() => undefined);
  }

  private async begin(connection: Connection, request: AiRequestIn, settings: AiSettings, model: ModelClient): Promise<void> {
    const { registry, publisher } = this.deps;
    const answer: RunningAnswer = {
      sessionId: connection.sessionId,
      requestId: request.request_id,
      askerUserId: connection.userId,
      model: model.model,
      nextIndex: 0,
    };
    const key = answerKey(answer.sessionId, answer.requestId);
    const begun = await registry.begin(answer, settings.maxConcurrentPerSession);
    if (begun === 'in_use') throw new ProtocolError('AI_REQUEST_ID_IN_USE', undefined, undefined, request.request_id);
    if (begun === 'session_full') {
      const message = `a session may have at most ${settings.maxConcurrentPerSession} answers running at once`;
      throw new ProtocolError('AI_TOO_MANY_REQUESTS', message, undefined, request.request_id);
    }
    this.beginning.set(key, {});
    try {
      await publisher.question(answer.sessionId, answer.askerUserId, {
        ...request,
        display_name: connection.principal.displayName,
        model: model.model,
      });
      this.launch(key, answer, request, settings, model);
    } catch (error) {
      await registry.end(answer).catch(() => undefined);
      throw error;
    } finally {
      this.beginning.delete(key);
    }
  }

  private launch(key: string, answer: RunningAnswer, request: AiRequestIn, settings: AiSettings, model: ModelClient): void {
    const { registry, publisher } = this.deps;
    const run = new AnswerRun(answer, buildMessages(request, settings.systemPrompt), {
      model,
      registry,
      publisher,
      sink: this.deps.sink,
      log: this.deps.log,
      relayId: this.deps.relayId,
      maxAnswerChars: settings.maxAnswerChars,
      timeoutMs: settings.timeoutMs,
    });
    this.runs.set(key, run);
    const early = this.beginning.get(key)?.cancelledBy;
    if (early !== undefined) run.stop('cancelled', early);
    void run.run().finally(() => this.runs.delete(key));
  }

  private onControl(data: string): void {
    let message: { key?: unknown; by?: unknown };
    try {
      message = JSON.parse(data) as typeof message;
    } catch {
      return;
    }
    if (typeof message.key !== 'string' || typeof message.by !== 'string') return;
    const beginning = this.beginning.get(message.key);
    if (beginning) beginning.cancelledBy ??= message.by;
    this.runs.get(message.key)?.stop('cancelled', message.by);
  }

  /** Keeps this relay's answers alive in the registry, and ends those of relays that are gone. */
  private async tick(): Promise<void> {
    if (this.ticking || this.stopping) return;
    this.ticking = true;
    try {
      const lost = await this.deps.registry.refresh([...this.runs.values()].map((run) => run.answer));
      for (const answer of lost) this.runs.get(answerKey(answer.sessionId, answer.requestId))?.stop('lost');
      for (const orphan of await this.deps.registry.takeOrphans()) await this.finishOrphan(orphan);
      this.tickFailed = false;
    } catch (error) {
      // Once per outage, not every tick.
      if (!this.tickFailed) this.deps.log.warn({ err: error }, 'could not check the running ai answers');
      this.tickFailed = true;
    } finally {
      this.ticking = false;
    }
  }

  /** The last chunk of an answer whose relay died: what it had published, and AI_RELAY_LOST. */
  private async finishOrphan({ answer, text }: OrphanAnswer): Promise<void> {
    this.deps.log.warn({ request: answer.requestId, session: answer.sessionId }, 'ending an ai answer whose relay is gone');
    await this.deps.publisher.chunk(answer.sessionId, answer.askerUserId, {
      request_id: answer.requestId,
      index: answer.nextIndex,
      delta: '',
      done: true,
      model: answer.model,
      outcome: 'failed',
      error: { code: 'AI_RELAY_LOST', message: failureMessages.AI_RELAY_LOST! },
      text,
    });
  }
}
