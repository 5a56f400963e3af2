/**
 * Feedback to the relay (`POST /api/feedback`): the body, checked with the protocol's schema
 * before it goes, and the choices the Send Feedback command offers. No `vscode` import: tests read it.
 */
import { type FeedbackRating, FeedbackRequest, type FeedbackSubject, MAX_FEEDBACK_COMMENT_CHARS } from '../../protocol';

export type FeedbackBody = { ok: true; body: FeedbackRequest } | { ok: false; message: string };

/** The request body, or why it is not one (a comment only when it has more than blanks). */
export function feedbackBody(rating: FeedbackRating, about: FeedbackSubject, comment?: string): FeedbackBody {
  const text = comment?.trim();
  const parsed = FeedbackRequest.safeParse({ rating, about, ...(text && { comment: text }) });
  if (parsed.success) return { ok: true, body: parsed.data };
  const issue = parsed.error.issues[0];
  const where = issue?.path.join('.');
  if (where === 'comment' && text && text.length > MAX_FEEDBACK_COMMENT_CHARS) {
    return { ok: false, message: `the comment is too long (${text.length} characters; at most ${MAX_FEEDBACK_COMMENT_CHARS})` };
  }
  return { ok: false, message: `invalid feedback${where ? ` (${where})` : ''}: ${issue?.message ?? 'rejected by the schema'}` };
}

/** What the comment input box says about a typed comment (undefined: fine). */
export function checkComment(text: string): string | undefined {
  const length = text.trim().length;
  return length > MAX_FEEDBACK_COMMENT_CHARS ? `At most ${MAX_FEEDBACK_COMMENT_CHARS} characters (${length} now).` : undefined;
}

/** The ratings Send Feedback offers: stars first, then thumbs. */
export const ratingChoices: ReadonlyArray<{ label: string; rating: FeedbackRating }> = [
  { label: '★★★★★ 5 — excellent', rating: 5 },
  { label: '★★★★☆ 4 — good', rating: 4 },
  { label: '★★★☆☆ 3 — okay', rating: 3 },
  { label: '★★☆☆☆ 2 — poor', rating: 2 },
  { label: '★☆☆☆☆ 1 — bad', rating: 1 },
  { label: '$(thumbsup) Thumbs up', rating: 'up' },
  { label: '$(thumbsdown) Thumbs down', rating: 'down' },
];

/** What Send Feedback may be about: the current session only while in one. */
export function subjectChoices(sessionId: string | undefined): Array<{ label: string; description: string; about: FeedbackSubject }> {
  const product = { label: 'Tandem', description: 'the product', about: { kind: 'product' } as const };
  return sessionId
    ? [{ label: 'This session', description: sessionId, about: { kind: 'session', session_id: sessionId } }, product]
    : [product];
}
