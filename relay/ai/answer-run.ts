import type { AiOutcome, AiResponsePayload, ErrorCode } from '../../protocol';
import type { Logger } from '../log';
import type { AnswerPublisher } from './answer-publisher';
import type { AnswerRegistry, RunningAnswer } from './answer-registry';
import { DeltaCoalescer } from './delta-coalescer';
import type { ModelClient, ModelMessage, ModelUsage } from './model-client';
import { classifyModelFailure, failureMessages, type ModelFailure, type StopReason } from './model-errors';
import { estimateTokens, type ModelPerformanceSink, sessionHash, tokensPerSecond } from './model-performance';

export interface AnswerRunDeps {
  model: ModelClient;
  registry: AnswerRegistry;
  publisher: AnswerPublisher;
  sink: ModelPerformanceSink;
  log: Logger;
  relayId: string;
  maxAnswerChars: number;
  timeoutMs: number;
}

const stopCodes: Partial<Record<StopReason, ErrorCode>> = {
  timeout: 'AI_TIMEOUT',
  too_large: 'AI_ANSWER_TOO_LARGE',
  shutdown: 'AI_RELAY_LOST',
  publish_failed: 'AI_RELAY_LOST',
};

const stopMessages: Partial<Record<StopReason, string>> = {
  timeout: 'the AI model sent nothing for too long',
  too_large: 'the answer reached the relay’s size limit and was stopped there',
  shutdown: 'the relay serving this answer is shutting down',
  publish_failed: 'the relay serving this answer lost its message broker',
};

/**
 * One answer, from the model's first byte to its last chunk: streams the model's deltas to the
 * session (coalesced), watches the time between tokens (AI_TIMEOUT_MS) and the size
 * (AI_MAX_ANSWER_CHARS), stops on `stop`, and always ends with exactly one `done` chunk, unless
 * another relay has ended it meanwhile (`lost`). Then it leaves a model-performance record.
 */
export class AnswerRun {
  private readonly controller = new AbortController();
  private stopReason: StopReason | undefined;
  private cancelledBy: string | undefined;
  /** The text published so far. */
  private text = '';
  /** Chars given to the coalescer (published or pending). */
  private answered = 0;
  /** Publications go one after another; false once one failed or the answer was lost. */
  private sending: Promise<boolean> = Promise.resolve(true);
  private finished: Promise<void> | undefined;

  constructor(
    readonly answer: RunningAnswer,
    private readonly messages: ModelMessage[],
    private readonly deps: AnswerRunDeps,
  ) {}

  /** Runs the answer to its end; never rejects. */
  run(): Promise<void> {
    return (this.finished ??= this.stream().catch((error: unknown) => {
      this.deps.log.error({ err: error, request: this.answer.requestId }, 'ai answer failed unexpectedly');
    }));
  }

  /** Stops the model request; the answer ends with the outcome `reason` gives. The first reason wins. */
  stop(reason: StopReason, by?: string): void {
    if (this.stopReason) return;
    this.stopReason = reason;
    this.cancelledBy = by;
    this.controller.abort(reason);
  }

  private async stream(): Promise<void> {
    const { model, maxAnswerChars, timeoutMs } = this.deps;
    const startedAt = Date.now();
    let firstTokenAt: number | undefined;
    let usage: ModelUsage | undefined;
    let opened = false;
    let whole = false;
    let failure: ModelFailure | undefined;
    const coalescer = new DeltaCoalescer((text) => void this.send(text));
    let timer = setTimeout(() => this.stop('timeout'), timeoutMs);
    try {
      const chunks = await model.open(this.messages, this.controller.signal);
      opened = true;
      for await (const chunk of chunks) {
        if (chunk.usage) usage = chunk.usage;
        if (chunk.finished) whole = true;
        if (this.stopReason) break;
        if (chunk.delta === '') continue;
        firstTokenAt ??= Date.now();
        clearTimeout(timer);
        timer = setTimeout(() => this.stop('timeout'), timeoutMs);
        const room = maxAnswerChars - this.answered;
        const delta = chunk.delta.length > room ? chunk.delta.slice(0, room) : chunk.delta;
        this.answered += delta.length;
        coalescer.push(delta);
        if (delta.length < chunk.delta.length) {
          this.stop('too_large');
          break;
        }
      }
      if (!whole && !this.stopReason) failure = { code: 'AI_STREAM_CUT', cause: 'the stream ended without a finish_reason' };
    } catch (error) {
      if (!this.stopReason) failure = classifyModelFailure(error, opened);
    } finally {
      clearTimeout(timer);
    }
    const outcome: AiOutcome = this.stopReason === 'cancelled' ? 'cancelled' : failure || this.stopReason ? 'failed' : 'completed';
    const code = failure?.code ?? (this.stopReason && stopCodes[this.stopReason]);
    const last: Partial<AiResponsePayload> = { outcome };
    if (outcome === 'cancelled' && this.cancelledBy) last.cancelled_by = this.cancelledBy;
    if (code) last.error = { code, message: (this.stopReason && stopMessages[this.stopReason]) ?? failureMessages[code] ?? code };
    const published = this.stopReason === 'lost' ? false : await this.send(coalescer.drain(), last);
    if (published) await this.deps.registry.end(this.answer).catch(() => undefined);
    const endedAt = Date.now();
    this.record(outcome, code, { startedAt, firstTokenAt, endedAt, usage });
    this.deps.log.info(
      {
        request: this.answer.requestId,
        session: this.answer.sessionId,
        outcome,
        code,
        cause: failure?.cause,
        ttft_ms: firstTokenAt === undefined ? undefined : firstTokenAt - startedAt,
        total_ms: endedAt - startedAt,
      },
      'ai answer ended',
    );
  }

  /**
   * Publishes the next chunk after the ones before it (`last`: the `done` chunk, with the whole
   * text). The registry hears of it first, so that a relay that finishes this answer as an orphan
   * uses an index past every chunk published.
   */
  private send(delta: string, last?: Partial<AiResponsePayload>): Promise<boolean> {
    this.sending = this.sending.then(async (ok) => {
      if (!ok) return false;
      const { answer } = this;
      const index = answer.nextIndex;
      answer.nextIndex = index + 1;
      try {
        if (!(await this.deps.registry.progress(answer, delta))) {
          this.stop('lost');
          return false;
        }
        const payload: AiResponsePayload = { request_id: answer.requestId, index, delta, done: last !== undefined, model: answer.model };
        if (last) Object.assign(payload, last, { text: this.text + delta });
        await this.deps.publisher.chunk(answer.sessionId, answer.askerUserId, payload);
        this.text += delta;
        return true;
      } catch (error) {
        this.deps.log.warn({ err: error, request: answer.requestId }, 'could not publish an ai answer chunk');
        this.stop('publish_failed');
        return false;
      }
    });
    return this.sending;
  }

  private record(
    outcome: AiOutcome,
    code: ErrorCode | undefined,
    times: { startedAt: number; firstTokenAt: number | undefined; endedAt: number; usage: ModelUsage | undefined },
  ): void {
    const { usage } = times;
    const tokensOut = usage?.completionTokens ?? estimateTokens(this.answered);
    const promptChars = this.messages.reduce((sum, message) => sum + message.content.length, 0);
    this.deps.sink.record({
      model: this.answer.model,
      request_id: this.answer.requestId,
      session_hash: sessionHash(this.answer.sessionId),
      relay_id: this.deps.relayId,
      started_at: new Date(times.startedAt).toISOString(),
      time_to_first_token_ms: times.firstTokenAt === undefined ? null : times.firstTokenAt - times.startedAt,
      total_ms: times.endedAt - times.startedAt,
      tokens_in: usage?.promptTokens ?? estimateTokens(promptChars),
      tokens_out: tokensOut,
      tokens_estimated: usage === undefined,
      tokens_per_second: tokensPerSecond(tokensOut, times.firstTokenAt, times.endedAt),
      answer_chars: this.text.length,
      outcome,
      ...(code && { error_code: code }),
    });
  }
}
