import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type AiExchangeEntry, ChatModel, type ChatMessageEntry } from '../../../extension/chat/chat-model';
import { quoteSelection } from '../../../extension/commands/chat-commands-quote';

const me = { userId: 'u-me', displayName: 'Me' };
const t = '2025-01-01T10:00:00.000Z';
const out = (id: string, content: string, clientId?: string) => ({
  content,
  message_id: id,
  display_name: 'Someone',
  ...(clientId && { client_message_id: clientId }),
});

describe('ChatModel', () => {
  it('matches our optimistic copy with its echo by client_message_id, and shows nothing twice (replays)', () => {
    const model = new ChatModel();
    model.sending('c1', me, 'hello', t);
    assert.equal((model.entries[0] as ChatMessageEntry).status, 'pending');
    assert.ok(model.received(out('m1', 'hello', 'c1'), 'u-me', t, 'u-me'));
    assert.ok(model.received(out('m2', 'hi', 'c1'), 'u-bob', t, 'u-me'), 'the same client id from someone else is another message');
    assert.equal(model.received(out('m1', 'hello', 'c1'), 'u-me', t, 'u-me'), undefined, 'a replayed echo');
    assert.equal(model.received(out('m2', 'hi', 'c1'), 'u-bob', t, 'u-me'), undefined);
    assert.deepEqual(
      model.entries.map((e) => [(e as ChatMessageEntry).content, (e as ChatMessageEntry).status, (e as ChatMessageEntry).own]),
      [
        ['hello', 'sent', true],
        ['hi', 'sent', false],
      ],
    );
  });

  it('marks a refused message with its reason; Retry makes it pending again, Discard removes it; a sent one stays', () => {
    const model = new ChatModel();
    model.sending('c1', me, 'too long', t);
    model.refused('c1', { code: 'RATE_LIMITED', message: 'slow down' });
    const entry = model.entries[0] as ChatMessageEntry;
    assert.deepEqual([entry.status, entry.error?.code], ['refused', 'RATE_LIMITED']);
    model.retrying('c1');
    assert.deepEqual([entry.status, entry.error], ['pending', undefined]);
    model.received(out('m1', 'too long', 'c1'), 'u-me', t, 'u-me');
    assert.equal(model.refused('c1', { code: 'X', message: 'late' }), undefined, 'a sent message is not refused afterwards');
    assert.equal(model.discard('c1'), false);
    model.sending('c2', me, 'bye', t);
    model.refused('c2', { code: 'MESSAGE_TOO_LONG', message: 'too long' });
    assert.equal(model.discard('c2'), true);
    assert.equal(model.entries.length, 1);
  });

  it('grows an AI answer in index order (early chunks wait), ends it with the whole text, ignores chunks after the end', () => {
    const model = new ChatModel();
    model.asking('r1', me, 'why?', undefined, t);
    const entry = model.entries[0] as AiExchangeEntry;
    assert.equal(entry.status, 'asking');
    model.aiRequested({ request_id: 'r1', prompt: 'why?', display_name: 'Me', model: 'm' }, 'u-me', t, 'u-me');
    assert.equal(entry.status, 'streaming');
    const chunk = (index: number, delta: string, done = false, extra = {}) =>
      model.aiChunk({ request_id: 'r1', index, delta, done, ...extra }, 'u-me', t, 'u-me');
    chunk(1, ' world');
    assert.equal(entry.text, '');
    chunk(0, 'Hello');
    assert.equal(entry.text, 'Hello world');
    chunk(0, 'Hello');
    assert.equal(entry.text, 'Hello world');
    chunk(3, '', true, { outcome: 'completed', text: 'Hello world!' });
    assert.deepEqual([entry.status, entry.text], ['completed', 'Hello world!']);
    chunk(2, 'late');
    assert.equal(entry.text, 'Hello world!');
  });

  it('ends answers as cancelled or failed with why, a refused question as failed, and a silent one as interrupted', () => {
    const model = new ChatModel();
    model.asking('r1', me, 'q', undefined, t);
    model.aiRefused('r1', { code: 'AI_NOT_CONFIGURED', message: 'no AI model is configured on this relay' });
    assert.deepEqual(
      [(model.entries[0] as AiExchangeEntry).status, (model.entries[0] as AiExchangeEntry).error?.code],
      ['failed', 'AI_NOT_CONFIGURED'],
    );
    model.aiRequested({ request_id: 'r2', prompt: 'q', display_name: 'Bob', model: 'm' }, 'u-bob', t, 'u-me');
    model.aiChunk(
      { request_id: 'r2', index: 0, delta: '', done: true, outcome: 'cancelled', cancelled_by: 'u-me', text: '' },
      'u-bob',
      t,
      'u-me',
    );
    assert.deepEqual(
      [(model.entries[1] as AiExchangeEntry).status, (model.entries[1] as AiExchangeEntry).cancelledBy],
      ['cancelled', 'u-me'],
    );
    model.aiRequested({ request_id: 'r3', prompt: 'q', display_name: 'Bob', model: 'm' }, 'u-bob', t, 'u-me');
    model.aiRequested({ request_id: 'r4', prompt: 'q', display_name: 'Bob', model: 'm' }, 'u-bob', t, 'u-me');
    const ended = model.interruptRunning((id) => id === 'r4');
    assert.deepEqual(
      ended.map((e) => e.requestId),
      ['r3'],
    );
    // A last chunk that comes after all still ends it properly.
    model.aiChunk({ request_id: 'r3', index: 5, delta: '', done: true, outcome: 'completed', text: 'all of it' }, 'u-bob', t, 'u-me');
    assert.deepEqual(
      [(model.entries[2] as AiExchangeEntry).status, (model.entries[2] as AiExchangeEntry).text],
      ['completed', 'all of it'],
    );
  });

  it('quotes a selection as file:lines and a fence longer than any in the code', () => {
    assert.equal(
      quoteSelection({ text: 'a\n```\nb\n', file: 'src/a.md', language: 'markdown', lineStart: 3, lineEnd: 5 }),
      'src/a.md:3-5\n````markdown\na\n```\nb\n````',
    );
    assert.equal(
      quoteSelection({ text: 'x', file: 'a.ts', language: 'typescript', lineStart: 2, lineEnd: 2 }),
      'a.ts:2\n```typescript\nx\n```',
    );
  });
});
