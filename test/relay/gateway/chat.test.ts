import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestRelay, type TestRelay } from '../../support/relay-fixture';

describe('chat over the gateway', () => {
  let relay: TestRelay;
  before(async () => {
    relay = await startTestRelay();
  });
  after(() => relay.stop());

  it('delivers a chat message to everyone in the session, sender included, stamped by the relay', async () => {
    const alice = await relay.connect('alice', { name: 'Alice' });
    const bob = await relay.connect('bob');
    alice.send({
      event_type: 'chat.message',
      payload: { content: 'Hello, world!' },
      timestamp: new Date().toISOString(),
      user_id: 'mallory',
    });
    const atBob = await bob.next('chat.message');
    const atAlice = await alice.next('chat.message');
    assert.equal(atBob.user_id, 'alice', 'user_id comes from the token, not the frame');
    assert.equal(atBob.session_id, 's1');
    assert.equal(atBob.payload.content, 'Hello, world!');
    assert.equal(atBob.payload.display_name, 'Alice');
    assert.equal(atAlice.payload.message_id, atBob.payload.message_id);
  });

  it('says who is typing to the others, not the sender; a repeat within a second is not passed on; nothing is logged', async () => {
    const alice = await relay.connect('alice', { name: 'Alice', sessions: ['typing'] });
    const bob = await relay.connect('bob', { sessions: ['typing'] });
    const frame = (typing: unknown) => ({ event_type: 'chat.typing', payload: { typing }, timestamp: new Date().toISOString() });
    alice.send(frame(true));
    const atBob = await bob.next('chat.typing');
    assert.equal(atBob.user_id, 'alice');
    assert.deepEqual(atBob.payload, { typing: true, display_name: 'Alice' });
    // A repeat at once is dropped; a change (stopped typing) is not; a message follows in order.
    alice.send(frame(true));
    alice.send(frame(false));
    alice.send({ event_type: 'chat.message', payload: { content: 'done' }, timestamp: new Date().toISOString() });
    await bob.next('chat.message');
    assert.deepEqual(
      bob.of('chat.typing').map((f) => f.payload.typing),
      [true, false],
    );
    assert.equal(alice.of('chat.typing').length, 0, 'not to the sender');
    // A bad frame is refused and passes nothing on.
    alice.send(frame('yes'));
    const refused = await alice.next('error');
    assert.equal(refused.payload.code, 'VALIDATION_FAILED');
    assert.equal(refused.payload.path, 'payload.typing');
    // Never logged: a late joiner replaying the session from its start sees the message, no typing.
    const carol = await relay.connect('carol', { sessions: ['typing'], query: '&since_offset=0' });
    await carol.next('chat.message');
    assert.equal(carol.of('chat.typing').length, 0);
  });
});
