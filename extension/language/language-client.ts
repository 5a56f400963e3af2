/**
 * The guest's side of the host's language features, on a `RelayClient`: one `language.request`
 * per question, answered by the host's `language.response`. Never blocks typing: every call is
 * asynchronous, bounded by a timeout, and ends at once when its cancellation fires (the host is
 * told with a `cancel`, so it does not send an answer nobody waits for). A call that cannot be
 * answered (host gone, not shared, too slow) resolves to undefined: an editor shows nothing
 * rather than an error for a hover. No `vscode` import: it runs in plain Node too.
 */
import { randomBytes } from 'node:crypto';
import type { Disposable, RelayClient } from '../../protocol/client';
import type { LanguageErrorCode, LanguageRequestIn, LanguageResult } from '../../protocol';

/** The part of `vscode.CancellationToken` used here. */
export interface Cancellation {
  readonly isCancellationRequested: boolean;
  onCancellationRequested(listener: () => void): { dispose(): void };
}

export type LanguageQuestion = LanguageRequestIn extends infer R ? (R extends LanguageRequestIn ? Omit<R, 'request_id'> : never) : never;

/** Why a question got no answer (for a log line, or a message such as "not shared"). */
export interface LanguageFailure {
  code: LanguageErrorCode | 'Cancelled';
  message: string;
}

interface Pending {
  settle(outcome: LanguageResult | LanguageFailure): void;
}

export class LanguageClient implements Disposable {
  private readonly pending = new Map<string, Pending>();
  private readonly subscriptions: Disposable[];
  private readonly idPrefix = `lang-${randomBytes(6).toString('hex')}`;
  private counter = 0;

  constructor(
    private readonly client: RelayClient,
    private readonly timeoutMs = 10_000,
  ) {
    this.subscriptions = [
      client.on('language.response', (response) => {
        this.pending.get(response.request_id)?.settle(response.ok ? response.result : response.error);
      }),
      client.on('error', (error) => {
        if (error.request_id === undefined) return;
        this.pending.get(error.request_id)?.settle({ code: 'Unavailable', message: `${error.code}: ${error.message}` });
      }),
      client.onStateChange((state) => {
        if (state !== 'open') this.failAll({ code: 'Unavailable', message: 'the connection to the relay was lost' });
      }),
    ];
  }

  /** The host's answer, or why there is none. */
  ask(question: LanguageQuestion, token?: Cancellation): Promise<LanguageResult | LanguageFailure> {
    if (token?.isCancellationRequested) return Promise.resolve({ code: 'Cancelled', message: 'cancelled' });
    if (this.client.state !== 'open') return Promise.resolve({ code: 'Unavailable', message: 'not connected to the relay' });
    const id = `${this.idPrefix}-${(++this.counter).toString(36)}`;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.cancel(id);
        settle({ code: 'Timeout', message: `the host did not answer within ${Math.round(this.timeoutMs / 1000)} s` });
      }, this.timeoutMs);
      const cancellation = token?.onCancellationRequested(() => {
        this.cancel(id);
        settle({ code: 'Cancelled', message: 'cancelled' });
      });
      const settle = (outcome: LanguageResult | LanguageFailure) => {
        if (!this.pending.delete(id)) return;
        clearTimeout(timer);
        cancellation?.dispose();
        resolve(outcome);
      };
      this.pending.set(id, { settle });
      if (!this.client.send('language.request', { ...question, request_id: id } as LanguageRequestIn)) {
        settle({ code: 'Unavailable', message: 'not connected to the relay' });
      }
    });
  }

  /** The answer if there is one of this kind; undefined otherwise. */
  async result<K extends LanguageResult['kind']>(
    question: LanguageQuestion,
    kind: K,
    token?: Cancellation,
  ): Promise<Extract<LanguageResult, { kind: K }> | undefined> {
    const outcome = await this.ask(question, token);
    return 'kind' in outcome && outcome.kind === kind ? (outcome as Extract<LanguageResult, { kind: K }>) : undefined;
  }

  private cancel(id: string): void {
    if (this.pending.has(id)) this.client.send('language.request', { request_id: id, op: 'cancel' });
  }

  private failAll(failure: LanguageFailure): void {
    for (const pending of [...this.pending.values()]) pending.settle(failure);
  }

  dispose(): void {
    for (const subscription of this.subscriptions.splice(0)) subscription.dispose();
    this.failAll({ code: 'Unavailable', message: 'the session is over' });
  }
}

export function isFailure(outcome: LanguageResult | LanguageFailure): outcome is LanguageFailure {
  return !('kind' in outcome);
}
