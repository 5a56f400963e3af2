import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { MemoryModelPerformanceSink } from '../../../relay/ai/model-performance';
import { FakeModelServer, PROMPT_TOKENS } from '../../support/fake-model-server';
import { LogSink, startTestRelay, type TestClient, type TestRelay } from '../../support/relay-fixture';
import { AI_KEY, aiSettings, answerAt, ask, cancel, chunksOf, joined, refusalOf } from './ai-helpers';

/** AI answers on one relay (embedded storage), at the wire, against a local OpenAI-compatible server. */
describe('AI answers on one relay', () => {
  let model: FakeModelServer;
  let relay: TestRelay;
  const logs = new LogSink();
  const performance = new MemoryModelPerformanceSink();
  let sessionCounter = 0;
  const session = () => [`ai-${++sessionCounter}`];

  before(async () => {
    model = await FakeModelServer.start();
    relay = await startTestRelay(
      aiSettings(model.baseUrl, { AI_MAX_CONCURRENT_PER_SESSION: '1', AI_MAX_CONCURRENT: '2', AI_MAX_PROMPT_CHARS: '500' }),
      { logSink: logs, modelPerformance: performance },
    );
  });
  after(async () => {
    await relay?.stop();
    await model?.close();
  });
  afterEach(() => model.release());

  it('streams one answer to everyone in the session: the question, then the same ordered chunks and one done', async () => {
    const sessions = session();
    const alice = await relay.connect('alice', { sessions, name: 'Alice' });
    const bob = await relay.connect('bob', { sessions });
    const carol = await relay.connect('carol', { sessions, role: 'viewer' });
    model.enqueue({ deltas: ['The ', 'function ', 'adds ', 'two ', 'numbers.'] });
    ask(alice, 'q1', 'What does this do?', {
      selection: 'const add = (a, b) => a + b;',
      file: 'src/add.ts',
      language: 'typescript',
      line_start: 3,
      line_end: 3,
    });
    const answers = [];
    for (const client of [alice, bob, carol]) {
      const question = await client.next('ai.request');
      assert.equal(question.user_id, 'alice', 'the asker');
      assert.equal(question.payload.display_name, 'Alice');
      assert.equal(question.payload.prompt, 'What does this do?');
      assert.equal(question.payload.context?.file, 'src/add.ts');
      assert.equal(question.payload.model, 'fake-model');
      const chunks = await answerAt(client, 'q1');
      const last = chunks.at(-1)!;
      assert.equal(joined(chunks), 'The function adds two numbers.');
      assert.equal(last.text, 'The function adds two numbers.');
      assert.equal(last.outcome, 'completed');
      assert.equal(last.error, undefined);
      assert.ok(chunks.every((c) => c.model === 'fake-model'));
      assert.ok(chunksOf(client, 'q1').every((f) => f.user_id === 'alice'));
      // The question comes before the first chunk.
      assert.ok(client.frames.indexOf(question) < client.frames.indexOf(chunksOf(client, 'q1')[0]!));
      answers.push(chunks);
    }
    assert.deepEqual(answers[1], answers[0], 'identical chunk sequences');
    assert.deepEqual(answers[2], answers[0]);

    const request = model.requests.at(-1)!;
    assert.equal(request.authorization, `Bearer ${AI_KEY}`, 'the key goes to the model’s server');
    assert.equal(request.body.model, 'fake-model');
    assert.equal(request.body.stream, true);
    assert.deepEqual(request.body.stream_options, { include_usage: true });
    const [system, user] = request.body.messages!;
    assert.equal(system!.role, 'system');
    assert.equal(user!.role, 'user');
    assert.match(user!.content, /File: src\/add\.ts, line 3/);
    assert.match(user!.content, /```typescript\nconst add = \(a, b\) => a \+ b;\n```/);
    assert.ok(user!.content.endsWith('What does this do?'));
  });

  it('joins a fast model’s many deltas into fewer chunks, losing nothing', async () => {
    const alice = await relay.connect('alice', { sessions: session() });
    const deltas = Array.from({ length: 400 }, (_, i) => `${i} `);
    model.enqueue({ deltas });
    ask(alice, 'many');
    const chunks = await answerAt(alice, 'many');
    assert.equal(joined(chunks), deltas.join(''));
    assert.ok(chunks.length < deltas.length, `${chunks.length} chunks for ${deltas.length} deltas`);
  });

  it('the asker cancels: the answer ends `cancelled` for everyone and the model’s request is dropped', async () => {
    const sessions = session();
    const alice = await relay.connect('alice', { sessions });
    const bob = await relay.connect('bob', { sessions });
    model.enqueue({ deltas: ['partial ', 'answer'], holdAfter: 1 });
    ask(alice, 'c1');
    await bob.next('ai.response', (f) => f.payload.request_id === 'c1');
    const requests = model.requests.length;
    cancel(alice, 'c1');
    for (const client of [alice, bob]) {
      const last = (await answerAt(client, 'c1')).at(-1)!;
      assert.equal(last.outcome, 'cancelled');
      assert.equal(last.cancelled_by, 'alice');
      assert.equal(last.text, 'partial ');
    }
    await model.waitForAbort(requests - 1);
  });

  it('someone else cannot cancel (AI_FORBIDDEN with the request id); the session’s host can', async () => {
    const sessions = session();
    const alice = await relay.connect('alice', { sessions });
    const bob = await relay.connect('bob', { sessions });
    const hal = await relay.connect('hal', { sessions, role: 'host' });
    model.enqueue({ deltas: ['a', 'b'], holdAfter: 1 });
    ask(alice, 'c2');
    await alice.next('ai.response', (f) => f.payload.request_id === 'c2');
    cancel(bob, 'c2');
    const refusal = await refusalOf(bob, 'c2');
    assert.equal(refusal.payload.code, 'AI_FORBIDDEN');
    assert.equal(refusal.payload.event_type, 'ai.cancel');
    cancel(hal, 'c2');
    const last = (await answerAt(alice, 'c2')).at(-1)!;
    assert.deepEqual([last.outcome, last.cancelled_by], ['cancelled', 'hal']);
    cancel(alice, 'c2');
    assert.equal((await refusalOf(alice, 'c2')).payload.code, 'AI_REQUEST_NOT_FOUND', 'it has ended');
  });

  it('a viewer may not ask by default: AI_FORBIDDEN, and nobody sees a question', async () => {
    const sessions = session();
    const viewer = await relay.connect('vera', { sessions, role: 'viewer' });
    const bob = await relay.connect('bob', { sessions });
    const requests = model.requests.length;
    ask(viewer, 'v1');
    const refusal = await refusalOf(viewer, 'v1');
    assert.equal(refusal.payload.code, 'AI_FORBIDDEN');
    assert.equal(refusal.payload.event_type, 'ai.request');
    ask(bob, 'b1');
    await answerAt(bob, 'b1');
    assert.deepEqual(
      bob.of('ai.request').map((f) => f.payload.request_id),
      ['b1'],
      'the viewer’s question went nowhere',
    );
    assert.equal(model.requests.length, requests + 1);
  });

  it('limits: answers per session and per relay (AI_TOO_MANY_REQUESTS), a running id (AI_REQUEST_ID_IN_USE)', async () => {
    const [s1, s2, s3] = [session(), session(), session()];
    const alice = await relay.connect('alice', { sessions: s1 });
    const bob = await relay.connect('bob', { sessions: s2 });
    const carol = await relay.connect('carol', { sessions: s3 });
    model.enqueue({ holdAfter: 1 }, { holdAfter: 1 });
    ask(alice, 'l1');
    await alice.next('ai.response', (f) => f.payload.request_id === 'l1');
    ask(alice, 'l1');
    assert.equal((await refusalOf(alice, 'l1')).payload.code, 'AI_REQUEST_ID_IN_USE');
    ask(alice, 'l2');
    const perSession = await refusalOf(alice, 'l2');
    assert.equal(perSession.payload.code, 'AI_TOO_MANY_REQUESTS');
    assert.match(perSession.payload.message, /session/);
    ask(bob, 'l3');
    await bob.next('ai.response', (f) => f.payload.request_id === 'l3');
    ask(carol, 'l4');
    const perRelay = await refusalOf(carol, 'l4');
    assert.equal(perRelay.payload.code, 'AI_TOO_MANY_REQUESTS');
    assert.match(perRelay.payload.message, /relay/);
    model.release();
    assert.equal((await answerAt(alice, 'l1')).at(-1)!.outcome, 'completed');
    assert.equal((await answerAt(bob, 'l3')).at(-1)!.outcome, 'completed');
    ask(carol, 'l5');
    assert.equal((await answerAt(carol, 'l5')).at(-1)!.outcome, 'completed', 'room again once they ended');
  });

  it('a prompt and selection over AI_MAX_PROMPT_CHARS: AI_PROMPT_TOO_LARGE, nothing asked', async () => {
    const sessions = session();
    const alice = await relay.connect('alice', { sessions });
    const bob = await relay.connect('bob', { sessions });
    const requests = model.requests.length;
    ask(alice, 'big', 'x'.repeat(300), { selection: 'y'.repeat(201) });
    const refusal = await refusalOf(alice, 'big');
    assert.equal(refusal.payload.code, 'AI_PROMPT_TOO_LARGE');
    assert.match(refusal.payload.message, /501/);
    ask(alice, 'fits', 'x'.repeat(300), { selection: 'y'.repeat(200) });
    await answerAt(bob, 'fits');
    assert.equal(model.requests.length, requests + 1);
    assert.equal(bob.of('ai.request').length, 1);
  });

  it('model performance: one record per answer, with the server’s usage or an estimate said to be one', async () => {
    const alice = await relay.connect('alice', { sessions: ['perf-session'] });
    model.enqueue({ deltas: ['one', 'two', 'three'] }, { deltas: ['four', 'five'], usage: false });
    ask(alice, 'p1');
    await answerAt(alice, 'p1');
    ask(alice, 'p2');
    await answerAt(alice, 'p2');
    const [p1, p2] = ['p1', 'p2'].map((id) => performance.recent().find((r) => r.request_id === id)!);
    assert.ok(p1 && p2, 'a record for each');
    for (const record of [p1, p2]) {
      assert.equal(record.model, 'fake-model');
      assert.equal(record.outcome, 'completed');
      assert.equal(record.error_code, undefined);
      assert.ok(record.session_hash.length > 0 && !record.session_hash.includes('perf-session'), 'the session only hashed');
      assert.ok(!Number.isNaN(Date.parse(record.started_at)));
      assert.ok(record.time_to_first_token_ms !== null && record.time_to_first_token_ms >= 0);
      assert.ok(record.total_ms >= record.time_to_first_token_ms);
      assert.ok(record.tokens_per_second > 0 && Number.isFinite(record.tokens_per_second));
    }
    assert.deepEqual([p1.tokens_in, p1.tokens_out, p1.tokens_estimated, p1.answer_chars], [PROMPT_TOKENS, 3, false, 11]);
    assert.equal(p2.tokens_estimated, true);
    assert.equal(p2.tokens_out, Math.ceil('fourfive'.length / 4));
    assert.ok(p2.tokens_in > 0);
  });

  it('a reconnecting client gets the question and the whole answer from the session log, not each delta', async () => {
    const sessions = session();
    const alice = await relay.connect('alice', { sessions });
    const { epoch, offset } = (await alice.next('connect')).payload.session_log!;
    model.enqueue({ deltas: ['a', 'b', 'c'], delayMs: 60 });
    ask(alice, 'log1');
    const chunks = await answerAt(alice, 'log1');
    const late = await relay.connect('bob', { sessions, query: `&since_offset=${offset}&since_epoch=${epoch}` });
    await late.next('ai.response', (f) => f.payload.done);
    assert.deepEqual(
      late.of('ai.request').map((f) => f.payload.request_id),
      ['log1'],
    );
    const replayed = chunksOf(late, 'log1').map((f) => f.payload);
    assert.deepEqual(replayed, [chunks.at(-1)], 'only the last chunk, which has the whole text');
    assert.equal(replayed[0]!.text, 'abc');
  });

  it('the key appears in no frame and no log line', () => {
    assert.ok(logs.lines.length > 0);
    assert.ok(!logs.text.includes(AI_KEY), 'not in the log');
    for (const client of relay.clients) {
      for (const frame of client.frames) assert.ok(!JSON.stringify(frame).includes(AI_KEY), 'not in a frame');
    }
    assert.ok(!JSON.stringify(performance.recent()).includes(AI_KEY));
    assert.ok(logs.records('ai answer ended').length > 0, 'answers are logged');
  });
});

/** Failures of the model's server, each mapped to its code, each ending the answer with one failed chunk. */
describe('AI answers: every failure ends the answer with its code', () => {
  let model: FakeModelServer;
  let relay: TestRelay;
  let alice: TestClient;
  const logs = new LogSink();
  const performance = new MemoryModelPerformanceSink();
  let counter = 0;

  before(async () => {
    model = await FakeModelServer.start();
    relay = await startTestRelay(aiSettings(model.baseUrl, { AI_TIMEOUT_MS: '400', AI_MAX_ANSWER_CHARS: '100' }), {
      logSink: logs,
      modelPerformance: performance,
    });
    alice = await relay.connect('alice');
  });
  after(async () => {
    await relay?.stop();
    await model?.close();
  });

  async function failure(script: Parameters<FakeModelServer['enqueue']>[0]) {
    const id = `f${++counter}`;
    model.enqueue(script);
    ask(alice, id);
    const chunks = await answerAt(alice, id);
    const last = chunks.at(-1)!;
    assert.equal(last.outcome, 'failed');
    assert.ok(last.error, 'with an error');
    assert.equal(last.text, joined(chunks), 'the text is what was sent');
    const record = performance.recent().find((r) => r.request_id === id);
    assert.equal(record?.outcome, 'failed');
    assert.equal(record?.error_code, last.error.code);
    return last;
  }

  for (const [status, code] of [
    [401, 'AI_PROVIDER_REFUSED'],
    [403, 'AI_PROVIDER_REFUSED'],
    [429, 'AI_RATE_LIMITED'],
    [500, 'AI_PROVIDER_UNAVAILABLE'],
    [404, 'AI_PROVIDER_UNAVAILABLE'],
  ] as const) {
    it(`HTTP ${status}: ${code}`, async () => {
      const last = await failure({ status });
      assert.equal(last.error!.code, code);
      assert.equal(last.text, '');
      assert.ok(!last.error!.message.includes('scripted'), 'the provider’s own message is not passed on');
    });
  }

  it('no first token within AI_TIMEOUT_MS (a hung server): AI_TIMEOUT', async () => {
    const last = await failure({ hang: true });
    assert.equal(last.error!.code, 'AI_TIMEOUT');
    await model.waitForAbort(model.requests.length - 1);
  });

  it('a stream that stalls mid-way: AI_TIMEOUT, with what came before', async () => {
    const last = await failure({ deltas: ['so far'], end: 'stall' });
    assert.deepEqual([last.error!.code, last.text], ['AI_TIMEOUT', 'so far']);
  });

  it('a stream cut mid-way (connection reset): AI_STREAM_CUT, with what came before', async () => {
    const last = await failure({ deltas: ['half ', 'an answer'], end: 'cut' });
    assert.deepEqual([last.error!.code, last.text], ['AI_STREAM_CUT', 'half an answer']);
  });

  it('an answer over AI_MAX_ANSWER_CHARS is stopped there: AI_ANSWER_TOO_LARGE, with exactly the first 100 characters', async () => {
    const deltas = Array.from({ length: 30 }, (_, i) => `${String(i).padStart(9, '-')}|`);
    const last = await failure({ deltas, holdAfter: 20 });
    assert.equal(last.error!.code, 'AI_ANSWER_TOO_LARGE');
    assert.equal(last.text, deltas.join('').slice(0, 100));
    await model.waitForAbort(model.requests.length - 1);
  });

  it('an unreachable server: AI_PROVIDER_UNAVAILABLE', async () => {
    const closed = await FakeModelServer.start();
    const baseUrl = closed.baseUrl;
    await closed.close();
    const other = await startTestRelay(aiSettings(baseUrl));
    try {
      const bob = await other.connect('bob');
      ask(bob, 'u1');
      const last = (await answerAt(bob, 'u1')).at(-1)!;
      assert.deepEqual([last.outcome, last.error?.code], ['failed', 'AI_PROVIDER_UNAVAILABLE']);
    } finally {
      await other.stop();
    }
  });

  it('the key appears in no frame and no log line, failures included', () => {
    assert.ok(!logs.text.includes(AI_KEY));
    for (const frame of alice.frames) assert.ok(!JSON.stringify(frame).includes(AI_KEY));
  });
});

describe('AI answers: configuration and shutdown', () => {
  it('without AI_MODEL: AI_NOT_CONFIGURED, with the request id', async () => {
    const relay = await startTestRelay();
    try {
      const alice = await relay.connect('alice');
      ask(alice, 'n1');
      const refusal = await refusalOf(alice, 'n1');
      assert.equal(refusal.payload.code, 'AI_NOT_CONFIGURED');
      assert.equal(refusal.payload.message, 'no AI model is configured on this relay');
      cancel(alice, 'n2');
      assert.equal((await refusalOf(alice, 'n2')).payload.code, 'AI_NOT_CONFIGURED');
    } finally {
      await relay.stop();
    }
  });

  it('AI_VIEWERS_MAY_ASK=true lets viewers ask', async () => {
    const model = await FakeModelServer.start();
    const relay = await startTestRelay(aiSettings(model.baseUrl, { AI_VIEWERS_MAY_ASK: 'true' }));
    try {
      const viewer = await relay.connect('vera', { role: 'viewer' });
      ask(viewer, 'v2');
      assert.equal((await answerAt(viewer, 'v2')).at(-1)!.outcome, 'completed');
    } finally {
      await relay.stop();
      await model.close();
    }
  });

  it('a graceful stop ends running answers with AI_RELAY_LOST before the clients are let go', async () => {
    const model = await FakeModelServer.start();
    const relay = await startTestRelay(aiSettings(model.baseUrl));
    try {
      const alice = await relay.connect('alice');
      model.enqueue({ deltas: ['x', 'y'], holdAfter: 1 });
      ask(alice, 's1');
      await alice.next('ai.response', (f) => f.payload.request_id === 's1');
      const stopped = relay.relay.stop();
      const last = (await answerAt(alice, 's1')).at(-1)!;
      assert.deepEqual([last.outcome, last.error?.code, last.text], ['failed', 'AI_RELAY_LOST', 'x']);
      const disconnect = await alice.next('disconnect');
      assert.ok(alice.frames.indexOf(disconnect) > alice.frames.indexOf(chunksOf(alice, 's1').at(-1)!));
      await stopped;
    } finally {
      await relay.stop();
      await model.close();
    }
  });
});
