import assert from 'node:assert/strict';
import type { AiContext, AiResponsePayload, ServerFrame } from '../../../protocol';
import { clientFrame, type TestClient } from '../../support/relay-fixture';

export const AI_KEY = 'sk-test-9f8e7d6c5b4a-never-leaves-the-relay';

/** Settings of a relay that asks `baseUrl` (the fake model server). */
export function aiSettings(baseUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return { AI_BASE_URL: baseUrl, AI_API_KEY: AI_KEY, AI_MODEL: 'fake-model', ...extra };
}

export function ask(client: TestClient, requestId: string, prompt = 'What does this do?', context?: AiContext): void {
  client.send(clientFrame('ai.request', { request_id: requestId, prompt, ...(context && { context }) }));
}

export function cancel(client: TestClient, requestId: string): void {
  client.send(clientFrame('ai.cancel', { request_id: requestId }));
}

type ResponseFrame = Extract<ServerFrame, { event_type: 'ai.response' }>;

/** The chunks of one answer a client has received so far, in arrival order. */
export function chunksOf(client: TestClient, requestId: string): ResponseFrame[] {
  return client.of('ai.response').filter((f) => f.payload.request_id === requestId);
}

/** Waits for the answer's `done` chunk and returns every chunk of it, checked: indexes 0..n in order, one `done`, last. */
export async function answerAt(client: TestClient, requestId: string, timeoutMs = 10_000): Promise<AiResponsePayload[]> {
  await client.next('ai.response', (f) => f.payload.request_id === requestId && f.payload.done, timeoutMs);
  const chunks = chunksOf(client, requestId).map((f) => f.payload);
  assert.deepEqual(
    chunks.map((c) => c.index),
    chunks.map((_, i) => i),
    'indexes 0, 1, 2, ... in order',
  );
  assert.equal(chunks.filter((c) => c.done).length, 1, 'exactly one done chunk');
  assert.ok(chunks.at(-1)!.done, 'the done chunk is the last');
  return chunks;
}

/** The error frame refusing `requestId`. */
export function refusalOf(client: TestClient, requestId: string, timeoutMs = 3000) {
  return client.next('error', (f) => f.payload.request_id === requestId, timeoutMs);
}

export function joined(chunks: readonly AiResponsePayload[]): string {
  return chunks.map((c) => c.delta).join('');
}
