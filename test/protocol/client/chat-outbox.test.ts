import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChatOutbox } from '../../../protocol/client/chat-outbox';
import type { ServerFrame } from '../../../protocol/codec';

// The chat outbox alone: what waits for its echo, what goes out on which connection. How the
// typed client uses it (after the missed events, across reconnects) is in session-log.test.ts.

/** A chat message as the relay shows it back. */
function echo(clientMessageId: string, userId = 'alice'): ServerFrame {
  return {
    event_type: 'chat.message',
    payload: {
      content: `chat ${clientMessageId}`,
      client_message_id: clientMessageId,
      message_id: `m-${clientMessageId}`,
      display_name: userId,
    },
    timestamp: new Date().toISOString(),
    session_id: 's1',
    user_id: userId,
  } as ServerFrame;
}

const ids = (outbox: ChatOutbox) => outbox.pendingChat.map((m) => m.client_message_id);

describe('ChatOutbox', () => {
  it('keeps messages in send order, with an id made up for those without one', () => {
    const outbox = new ChatOutbox(10);
    assert.equal(outbox.add({ content: 'a', client_message_id: 'a' }).client_message_id, 'a');
    const made = outbox.add({ content: 'no id' }).client_message_id;
    assert.equal(typeof made, 'string');
    assert.notEqual(outbox.add({ content: 'no id either' }).client_message_id, made, 'a new id each time');
    assert.equal(ids(outbox).length, 3);
    assert.deepEqual(ids(outbox).slice(0, 2), ['a', made]);
  });

  it('takes one message per id: a known id returns the pending one', () => {
    const outbox = new ChatOutbox(10);
    const first = outbox.add({ content: 'first', client_message_id: 'x' });
    const again = outbox.add({ content: 'again', client_message_id: 'x' });
    assert.equal(again.content, 'first');
    assert.deepEqual(first, again);
    assert.deepEqual(ids(outbox), ['x']);
  });

  it('refuses an invalid message (TypeError) and more than its capacity (RangeError)', () => {
    const outbox = new ChatOutbox(2);
    assert.throws(() => outbox.add({ content: '' }), TypeError);
    outbox.add({ content: 'one' });
    outbox.add({ content: 'two' });
    assert.throws(() => outbox.add({ content: 'three' }), RangeError);
    assert.equal(outbox.pendingChat.length, 2);
  });

  it('hands out each message once per connection, and all still pending again on the next', () => {
    const outbox = new ChatOutbox(10);
    outbox.add({ content: 'a', client_message_id: 'a' });
    outbox.add({ content: 'b', client_message_id: 'b' });
    assert.deepEqual(
      outbox.takeUnsent(1).map((m) => m.client_message_id),
      ['a', 'b'],
    );
    outbox.add({ content: 'c', client_message_id: 'c' });
    assert.deepEqual(
      outbox.takeUnsent(1).map((m) => m.client_message_id),
      ['c'],
      'only what connection 1 has not had',
    );
    assert.deepEqual(
      outbox.takeUnsent(2).map((m) => m.client_message_id),
      ['a', 'b', 'c'],
      'a new connection: everything pending, in send order',
    );
    assert.deepEqual(outbox.takeUnsent(2), []);
  });

  it('drops a message once this user sees it come back, not when someone else sends the same id', () => {
    const outbox = new ChatOutbox(10);
    outbox.connected('alice');
    for (const id of ['a', 'b', 'c']) outbox.add({ content: id, client_message_id: id });
    outbox.received(echo('b', 'bob'));
    outbox.received({ event_type: 'system.notification', payload: { level: 'info', message: 'b' } } as ServerFrame);
    assert.deepEqual(ids(outbox), ['a', 'b', 'c']);
    outbox.received(echo('b'));
    outbox.received(echo('unknown'));
    assert.deepEqual(ids(outbox), ['a', 'c']);
    assert.deepEqual(
      outbox.takeUnsent(1).map((m) => m.client_message_id),
      ['a', 'c'],
    );
  });

  it('knows no echo before the first connect', () => {
    const outbox = new ChatOutbox(10);
    outbox.add({ content: 'a', client_message_id: 'a' });
    outbox.received(echo('a'));
    assert.deepEqual(ids(outbox), ['a']);
  });

  it('gives copies, and forgets everything on request', () => {
    const outbox = new ChatOutbox(10);
    outbox.add({ content: 'a', client_message_id: 'a' });
    outbox.pendingChat[0]!.content = 'changed';
    assert.equal(outbox.pendingChat[0]!.content, 'a');
    outbox.forgetPendingChat();
    assert.deepEqual(outbox.pendingChat, []);
    assert.deepEqual(outbox.takeUnsent(1), []);
  });
});
