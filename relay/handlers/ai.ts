import type { AiAnswers } from '../ai/ai-answers';
import type { Handler } from '../routing/router';

/**
 * `ai.request`: checked and limited here, then served by this relay (see `AiAnswers`); the question
 * and its answer go to the whole session. Who may ask depends on the relay's settings
 * (AI_VIEWERS_MAY_ASK), so roles are checked by `AiAnswers`, not by the router.
 */
export function aiRequestHandler(ai: AiAnswers): Handler<'ai.request'> {
  return { handle: (connection, { payload }) => ai.ask(connection, payload) };
}

/** `ai.cancel`: the asker or the session's host stops a running answer, on whichever relay serves it. */
export function aiCancelHandler(ai: AiAnswers): Handler<'ai.cancel'> {
  return { handle: (connection, { payload }) => ai.cancel(connection, payload) };
}
