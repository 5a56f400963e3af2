import { z } from 'zod';
import { ErrorCode } from '../errors';
import { DisplayName, Identifier, UserId } from './common';

/**
 * AI answers. A participant asks with `ai.request`; the relay (which alone holds the model's key)
 * echoes the question to the whole session as `ai.request` with the asker added, then streams the
 * answer to the whole session as `ai.response` chunks: `index` 0, 1, 2, ... and exactly one last
 * chunk with `done: true`, which says how it ended (`outcome`) and carries the whole `text`. The
 * asker or the session's host may stop it with `ai.cancel`.
 */

/** Hard caps of the wire; the relay's own limits (AI_MAX_PROMPT_CHARS) are usually lower. */
export const MAX_AI_PROMPT_CHARS = 32_000;
export const MAX_AI_SELECTION_CHARS = 60_000;

/** The asker's id for one question; unique among the session's running answers. */
export const AiRequestId = Identifier;

/** What the question is about: a selection of a file, with where it is. Lines count from 1. */
export const AiContext = z.strictObject({
  selection: z.string().max(MAX_AI_SELECTION_CHARS).optional(),
  /** A workspace-relative path, shown to the model and to the participants. */
  file: z.string().min(1).max(1024).optional(),
  /** A VS Code language id (`typescript`, `cpp`, ...): the code fence's info string. */
  language: z
    .string()
    .regex(/^[\w.+#-]{1,64}$/u, 'must be 1-64 letters, digits or . + # - _')
    .optional(),
  line_start: z.number().int().min(1).max(10_000_000).optional(),
  /** At or after `line_start`. */
  line_end: z.number().int().min(1).max(10_000_000).optional(),
});
export type AiContext = z.infer<typeof AiContext>;

/** What a client sends to ask. */
export const AiRequestIn = z.strictObject({
  request_id: AiRequestId,
  prompt: z.string().min(1).max(MAX_AI_PROMPT_CHARS),
  context: AiContext.optional(),
});
export type AiRequestIn = z.infer<typeof AiRequestIn>;

/**
 * The question as everyone in the session sees it, before the first chunk of its answer (the
 * envelope's `user_id` is the asker's too): enough to render "Alice asked: ...".
 */
export const AiRequestOut = AiRequestIn.extend({
  display_name: DisplayName,
  /** The model that answers. */
  model: z.string().max(200),
});
export type AiRequestOut = z.infer<typeof AiRequestOut>;

/** Stops a running answer: only its asker (any of their connections) or the session's host. */
export const AiCancelPayload = z.strictObject({ request_id: AiRequestId });
export type AiCancelPayload = z.infer<typeof AiCancelPayload>;

/** How an answer ended, on its last chunk. */
export const AiOutcome = z.enum(['completed', 'cancelled', 'failed']);
export type AiOutcome = z.infer<typeof AiOutcome>;

/** Why an answer failed: one of the `AI_*` error codes (see `errorCodes`), and a sentence. */
export const AiError = z.strictObject({
  code: ErrorCode,
  message: z.string().max(2000),
});
export type AiError = z.infer<typeof AiError>;

/**
 * One chunk of a streamed AI answer, to everyone in the session (the envelope's `user_id` is the
 * asker's). Chunks come in `index` order; the last one has `done: true` (and an empty or final
 * `delta`). The fields after `model` are only on the last chunk.
 */
export const AiResponsePayload = z.strictObject({
  request_id: AiRequestId,
  index: z.number().int().nonnegative(),
  delta: z.string(),
  done: z.boolean(),
  model: z.string().max(200).optional(),
  /** Last chunk: how the answer ended. */
  outcome: AiOutcome.optional(),
  /** Last chunk with `outcome: failed`: why. */
  error: AiError.optional(),
  /** Last chunk with `outcome: cancelled`: who stopped it. */
  cancelled_by: UserId.optional(),
  /**
   * Last chunk: the whole answer as sent (every delta joined), so a client that missed chunks (it
   * reconnected meanwhile: deltas are not kept in the session log) still ends with all of it.
   */
  text: z.string().optional(),
});
export type AiResponsePayload = z.infer<typeof AiResponsePayload>;
