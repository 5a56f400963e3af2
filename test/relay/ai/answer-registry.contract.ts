import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { AnswerRegistry, RunningAnswer } from '../../../relay/ai/answer-registry';

let counter = 0;

export function answer(extra: Partial<RunningAnswer> = {}): RunningAnswer {
  return { sessionId: `s-${process.pid}-${++counter}`, requestId: 'q:1', askerUserId: 'alice', model: 'm', nextIndex: 0, ...extra };
}

/** What every AnswerRegistry does, whatever keeps it. `create` gives a fresh registry (one relay). */
export function answerRegistryContract(create: () => Promise<AnswerRegistry>): void {
  it('begins an answer once per (session, request id), and up to the session’s limit', async () => {
    const registry = await create();
    const first = answer();
    assert.equal(await registry.begin(first, 2), 'ok');
    assert.equal(await registry.begin({ ...first, askerUserId: 'bob' }, 2), 'in_use');
    assert.equal(await registry.begin({ ...first, requestId: 'q:2' }, 2), 'ok');
    assert.equal(await registry.begin({ ...first, requestId: 'q:3' }, 2), 'session_full');
    assert.equal(
      await registry.begin({ ...first, sessionId: `${first.sessionId}:q`, requestId: '1' }, 1),
      'ok',
      'ids with `:` do not mix sessions',
    );
    await registry.end({ ...first, requestId: 'q:2' });
    assert.equal(await registry.begin({ ...first, requestId: 'q:3' }, 2), 'ok', 'room again once one ended');
    await registry.close();
  });

  it('reads an answer back with its progress, and forgets it at the end', async () => {
    const registry = await create();
    const running = answer();
    await registry.begin(running, 1);
    assert.deepEqual(await registry.get(running.sessionId, running.requestId), running);
    assert.equal(await registry.progress({ ...running, nextIndex: 3 }, 'abc'), true);
    assert.equal((await registry.get(running.sessionId, running.requestId))?.nextIndex, 3);
    assert.deepEqual(await registry.refresh([running]), [], 'still held');
    await registry.end(running);
    assert.equal(await registry.get(running.sessionId, running.requestId), undefined);
    assert.equal(await registry.progress(running, 'x'), false, 'no longer held');
    assert.deepEqual(await registry.takeOrphans(), []);
    await registry.close();
  });
}
