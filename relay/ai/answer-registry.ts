/**
 * The answers running in every session, across relays: who asked (for `ai.cancel`), how far each
 * has got, and which relay serves it. With Redis a relay that dies leaves its answers behind as
 * orphans, which another relay finishes (see `RedisAnswerRegistry`).
 */
export interface RunningAnswer {
  sessionId: string;
  requestId: string;
  askerUserId: string;
  model: string;
  /** The index of the next chunk to publish (the last chunk's, if it ended now). */
  nextIndex: number;
}

/** An answer whose relay is gone, with the text it had published. */
export interface OrphanAnswer {
  answer: RunningAnswer;
  text: string;
}

export type BeginResult = 'ok' | 'in_use' | 'session_full';

export interface AnswerRegistry {
  /** Records a new answer served here, unless its id is running in the session or the session has `maxPerSession` running. */
  begin(answer: RunningAnswer, maxPerSession: number): Promise<BeginResult>;
  get(sessionId: string, requestId: string): Promise<RunningAnswer | undefined>;
  /**
   * Before publishing a chunk: records `delta` and the index after it. False when this relay no
   * longer holds the answer (another relay finished it as an orphan): publish nothing more.
   */
  progress(answer: RunningAnswer, delta: string): Promise<boolean>;
  /** The answer's last chunk is published: forget it. */
  end(answer: RunningAnswer): Promise<void>;
  /** Keeps this relay's answers alive; returns those it no longer holds. */
  refresh(answers: readonly RunningAnswer[]): Promise<RunningAnswer[]>;
  /** Answers whose relay is gone, each handed to exactly one caller across relays. */
  takeOrphans(): Promise<OrphanAnswer[]>;
  close(): Promise<void>;
}

/** Unambiguous whatever the ids' characters (an Identifier may hold `:`). */
export function answerKey(sessionId: string, requestId: string): string {
  return `${sessionId.length}:${sessionId}:${requestId}`;
}
