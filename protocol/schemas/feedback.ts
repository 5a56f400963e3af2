import { z } from 'zod';
import { SessionId } from './common';
import { RequestId } from './workspace';

/** Longest feedback comment, in characters. */
export const MAX_FEEDBACK_COMMENT_CHARS = 2000;

/** Stars (1-5) or a thumb. */
export const FeedbackRating = z.union([z.number().int().min(1).max(5), z.enum(['up', 'down'])]);
export type FeedbackRating = z.infer<typeof FeedbackRating>;

/** What the feedback is about: one AI answer (its `request_id` in its session), a session, or the product. */
export const FeedbackSubject = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('ai_answer'), session_id: SessionId, request_id: RequestId }),
  z.strictObject({ kind: z.literal('session'), session_id: SessionId }),
  z.strictObject({ kind: z.literal('product') }),
]);
export type FeedbackSubject = z.infer<typeof FeedbackSubject>;

/** The body of `POST /api/feedback`. */
export const FeedbackRequest = z.strictObject({
  rating: FeedbackRating,
  comment: z.string().min(1).max(MAX_FEEDBACK_COMMENT_CHARS).optional(),
  about: FeedbackSubject,
});
export type FeedbackRequest = z.infer<typeof FeedbackRequest>;

/** The answer of `POST /api/feedback` (202): the feedback stream entry's id. */
export const FeedbackAccepted = z.strictObject({ id: z.string().regex(/^\d+-\d+$/u) });
export type FeedbackAccepted = z.infer<typeof FeedbackAccepted>;
