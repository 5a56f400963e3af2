import { createHash } from 'node:crypto';
import type { AiOutcome, ErrorCode } from '../../protocol';

/**
 * One answer's numbers, for the model-performance stream. No user id, and the session only as a
 * short hash (enough to group one session's answers, not to find the session).
 */
export interface ModelPerformanceRecord {
  model: string;
  request_id: string;
  session_hash: string;
  relay_id: string;
  /** ISO 8601: when the relay sent the request to the model. */
  started_at: string;
  /** Until the first non-empty delta; null when none came. */
  time_to_first_token_ms: number | null;
  total_ms: number;
  tokens_in: number;
  tokens_out: number;
  /** True when the server sent no usage (`stream_options.include_usage`): then about 4 characters a token. */
  tokens_estimated: boolean;
  /** `tokens_out` per second from the first token to the end (0 without tokens). */
  tokens_per_second: number;
  /** Characters of answer sent to the session. */
  answer_chars: number;
  outcome: AiOutcome;
  error_code?: ErrorCode;
}

/** Where records go. A later issue writes them to the model-performance Redis Stream. */
export interface ModelPerformanceSink {
  record(record: ModelPerformanceRecord): void;
}

/** Single process: the last `capacity` records, oldest first; lost on restart. */
export class MemoryModelPerformanceSink implements ModelPerformanceSink {
  private readonly records: ModelPerformanceRecord[] = [];

  constructor(private readonly capacity = 1000) {}

  record(record: ModelPerformanceRecord): void {
    this.records.push(record);
    if (this.records.length > this.capacity) this.records.splice(0, this.records.length - this.capacity);
  }

  recent(): readonly ModelPerformanceRecord[] {
    return this.records;
  }
}

export function sessionHash(sessionId: string): string {
  return createHash('sha256').update(`tandem-session:${sessionId}`).digest('hex').slice(0, 16);
}

/** About four characters a token (English and code, BPE tokenizers): only when the server sent no usage. */
export function estimateTokens(chars: number): number {
  return Math.ceil(chars / 4);
}

export function tokensPerSecond(tokens: number, firstTokenAt: number | undefined, endedAt: number): number {
  if (tokens === 0 || firstTokenAt === undefined) return 0;
  const seconds = Math.max(endedAt - firstTokenAt, 1) / 1000;
  return Math.round((tokens / seconds) * 10) / 10;
}
