import type { IncomingMessage } from 'node:http';
import { type FeedbackAccepted, FeedbackRequest, ProtocolError } from '../../protocol';
import { sessionHash } from '../ai/model-performance';
import { verifyUser } from '../auth/tokens';
import type { FeedbackEntry } from '../streams/stream-entries';
import { userHash } from '../streams/stream-entries';
import { bearerToken, readBody } from './http-util';
import type { RequestLimits } from './request-limits';

export interface FeedbackApiDeps {
  secret: string;
  relayId: string;
  limits: RequestLimits;
  /** Appends to the feedback stream; returns the entry id. */
  append(entry: FeedbackEntry): Promise<string>;
}

/**
 * `POST /api/feedback`: a rating (1-5 or up/down), an optional comment, and what it is about. Any
 * participant (session token) or user (personal token) may send it, within the REST budgets per
 * address and per user; a session token only about its own sessions. The stream keeps hashes of
 * the user and the session, never the ids.
 */
export class FeedbackApi {
  constructor(private readonly deps: FeedbackApiDeps) {}

  async submit(request: IncomingMessage): Promise<FeedbackAccepted> {
    const { limits, secret } = this.deps;
    limits.checkAddress(request);
    const user = verifyUser(secret, bearerToken(request));
    limits.checkUser(user.userId);
    const body = await readBody(request, FeedbackRequest);
    const { about } = body;
    if (about.kind !== 'product' && user.sessions && !user.sessions.includes(about.session_id)) {
      throw new ProtocolError('SESSION_FORBIDDEN', `the token does not allow session "${about.session_id}"`, 'about.session_id');
    }
    const id = await this.deps.append({
      relay_id: this.deps.relayId,
      at: new Date().toISOString(),
      user_hash: userHash(user.userId),
      rating: body.rating,
      ...(body.comment !== undefined && { comment: body.comment }),
      about: {
        kind: about.kind,
        ...(about.kind !== 'product' && { session_hash: sessionHash(about.session_id) }),
        ...(about.kind === 'ai_answer' && { request_id: about.request_id }),
      },
    });
    return { id };
  }
}
