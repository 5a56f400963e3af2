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
});
