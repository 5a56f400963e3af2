import { type AiRequestOut, type AiResponsePayload, encodeServerFrame } from '../../protocol';
import type { Hub } from '../routing/hub';

/**
 * Puts an answer on the session channel, so every participant on every relay gets it in one order.
 * The envelope's `user_id` is the asker's. What the session log keeps: the question and the last
 * chunk (which carries the whole text), not the deltas in between (see the README, "AI answers").
 */
export class AnswerPublisher {
  constructor(private readonly hub: Hub) {}

  async question(sessionId: string, askerUserId: string, payload: AiRequestOut): Promise<void> {
    const data = encodeServerFrame('ai.request', payload, { userId: askerUserId, sessionId });
    await this.hub.toSession(sessionId, { eventType: 'ai.request', data }, {}, { history: true });
  }

  async chunk(sessionId: string, askerUserId: string, payload: AiResponsePayload): Promise<void> {
    const data = encodeServerFrame('ai.response', payload, { userId: askerUserId, sessionId });
    await this.hub.toSession(sessionId, { eventType: 'ai.response', data }, {}, { history: payload.done });
  }
}
