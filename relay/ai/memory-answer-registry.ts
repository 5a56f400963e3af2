import { answerKey, type AnswerRegistry, type BeginResult, type RunningAnswer } from './answer-registry';

/** Single process: the only relay, so there are never orphans (a graceful stop ends its answers itself). */
export class MemoryAnswerRegistry implements AnswerRegistry {
  private readonly answers = new Map<string, RunningAnswer>();
  private readonly perSession = new Map<string, number>();

  async begin(answer: RunningAnswer, maxPerSession: number): Promise<BeginResult> {
    const key = answerKey(answer.sessionId, answer.requestId);
    if (this.answers.has(key)) return 'in_use';
    const running = this.perSession.get(answer.sessionId) ?? 0;
    if (running >= maxPerSession) return 'session_full';
    this.answers.set(key, { ...answer });
    this.perSession.set(answer.sessionId, running + 1);
    return 'ok';
  }

  async get(sessionId: string, requestId: string): Promise<RunningAnswer | undefined> {
    const answer = this.answers.get(answerKey(sessionId, requestId));
    return answer && { ...answer };
  }

  async progress(answer: RunningAnswer): Promise<boolean> {
    const kept = this.answers.get(answerKey(answer.sessionId, answer.requestId));
    if (kept) kept.nextIndex = answer.nextIndex;
    return kept !== undefined;
  }

  async end(answer: RunningAnswer): Promise<void> {
    if (!this.answers.delete(answerKey(answer.sessionId, answer.requestId))) return;
    const running = (this.perSession.get(answer.sessionId) ?? 1) - 1;
    if (running > 0) this.perSession.set(answer.sessionId, running);
    else this.perSession.delete(answer.sessionId);
  }

  async refresh(): Promise<RunningAnswer[]> {
    return [];
  }

  async takeOrphans() {
    return [];
  }

  async close(): Promise<void> {
    this.answers.clear();
    this.perSession.clear();
  }
}
