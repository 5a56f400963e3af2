import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeModelServer } from '../../support/fake-model-server';
import { startTestRelay, type TestRelay } from '../../support/relay-fixture';
import { sleep } from '../../support/wait';
import { aiSettings, answerAt, ask } from './ai-helpers';

/** Malformed `ai.request` and `ai.cancel` frames get a clear error and change nothing. */
describe('AI answers: bad input', () => {
  let model: FakeModelServer;
  let relay: TestRelay;

  before(async () => {
    model = await FakeModelServer.start();
    relay = await startTestRelay(aiSettings(model.baseUrl));
  });
  after(async () => {
    await relay?.stop();
    await model?.close();
  });

  const cases: Array<{ what: string; frame: unknown; path?: string; code?: string; requestId?: string }> = [
    { what: 'no prompt', frame: { request_id: 'b1' }, path: 'payload.prompt', requestId: 'b1' },
    { what: 'an empty prompt', frame: { request_id: 'b2', prompt: '' }, path: 'payload.prompt', requestId: 'b2' },
    { what: 'a prompt that is not a string', frame: { request_id: 'b3', prompt: 42 }, path: 'payload.prompt', requestId: 'b3' },
    { what: 'an unknown field', frame: { request_id: 'b4', prompt: 'hi', temperature: 2 }, path: 'payload.temperature', requestId: 'b4' },
    { what: 'a bad request id', frame: { request_id: 'has space', prompt: 'hi' }, path: 'payload.request_id' },
    { what: 'no request id', frame: { prompt: 'hi' }, path: 'payload.request_id' },
    {
      what: 'a context that is no object',
      frame: { request_id: 'b5', prompt: 'hi', context: 'main.ts' },
      path: 'payload.context',
      requestId: 'b5',
    },
    {
      what: 'a bad language id',
      frame: { request_id: 'b6', prompt: 'hi', context: { language: 'type script' } },
      path: 'payload.context.language',
      requestId: 'b6',
    },
    {
      what: 'a line number below 1',
      frame: { request_id: 'b7', prompt: 'hi', context: { line_start: 0 } },
      path: 'payload.context.line_start',
      requestId: 'b7',
    },
    {
      what: 'line_end before line_start',
      frame: { request_id: 'b8', prompt: 'hi', context: { line_start: 9, line_end: 3 } },
      path: 'payload.context.line_end',
      requestId: 'b8',
    },
    {
      what: 'an unknown context field',
      frame: { request_id: 'b9', prompt: 'hi', context: { cursor: 3 } },
      path: 'payload.context.cursor',
      requestId: 'b9',
    },
    {
      what: 'a prompt over the wire limit',
      frame: { request_id: 'b10', prompt: 'x'.repeat(32_001) },
      path: 'payload.prompt',
      requestId: 'b10',
    },
  ];

  it('malformed ai.request frames: VALIDATION_FAILED naming the field (and the request when readable); nothing asked', async () => {
    const alice = await relay.connect('alice');
    const bob = await relay.connect('bob');
    for (const { what, frame, path, requestId } of cases) {
      const before = alice.of('error').length;
      alice.send({ event_type: 'ai.request', payload: frame });
      await alice.until(() => alice.of('error').length > before, `an error for ${what}`);
      const error = alice.of('error')[before]!.payload;
      assert.equal(error.code, 'VALIDATION_FAILED', what);
      assert.equal(error.path, path, what);
      assert.equal(error.event_type, 'ai.request', what);
      assert.equal(error.request_id, requestId, what);
    }
    // Nothing reached the model or the session: the next good question is the first one anyone sees.
    ask(alice, 'good');
    await answerAt(bob, 'good');
    assert.deepEqual(
      bob.of('ai.request').map((f) => f.payload.request_id),
      ['good'],
    );
    assert.equal(model.requests.length, 1);
  });

  it('malformed ai.cancel frames, and ai.response from a client: clear errors, the answer runs on', async () => {
    const alice = await relay.connect('alice');
    model.enqueue({ deltas: ['a', 'b'], holdAfter: 1 });
    ask(alice, 'keep');
    await alice.next('ai.response', (f) => f.payload.request_id === 'keep');
    const bad: Array<[unknown, string, string | undefined]> = [
      [{ event_type: 'ai.cancel', payload: {} }, 'VALIDATION_FAILED', 'payload.request_id'],
      [{ event_type: 'ai.cancel', payload: { request_id: 'keep', why: 'x' } }, 'VALIDATION_FAILED', 'payload.why'],
      [{ event_type: 'ai.cancel', payload: null }, 'VALIDATION_FAILED', 'payload'],
      [{ event_type: 'ai.response', payload: { request_id: 'keep', index: 9, delta: 'x', done: true } }, 'WRONG_DIRECTION', 'event_type'],
      [{ event_type: 'ai.cancel', payload: { request_id: 'nope' } }, 'AI_REQUEST_NOT_FOUND', undefined],
    ];
    for (const [frame, code, path] of bad) {
      const before = alice.of('error').length;
      alice.send(frame);
      await alice.until(() => alice.of('error').length > before, `an error for ${JSON.stringify(frame)}`);
      const error = alice.of('error')[before]!.payload;
      assert.deepEqual([error.code, error.path], [code, path], JSON.stringify(frame));
    }
    assert.equal(alice.of('error').at(-1)!.payload.request_id, 'nope');
    await sleep(20);
    assert.ok(!alice.of('ai.response').some((f) => f.payload.done), 'still running');
    model.release();
    const chunks = await answerAt(alice, 'keep');
    assert.deepEqual([chunks.at(-1)!.outcome, chunks.at(-1)!.text], ['completed', 'ab']);
  });
});
