import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { clientFrame, startTestRelay, type TestRelay } from '../../support/relay-fixture';

/** An error frame names what it refuses, so a client marks the right message or request failed. */
describe('error frames carry the id of the refused frame', () => {
  let relay: TestRelay;
  before(async () => {
    relay = await startTestRelay({ WS_MAX_MESSAGES_PER_SECOND: '3' });
  });
  after(() => relay.stop());

  it('a chat message too long: VALIDATION_FAILED with its client_message_id', async () => {
    const alice = await relay.connect('alice');
    alice.send({ event_type: 'chat.message', payload: { content: 'x'.repeat(10_001), client_message_id: 'm-long' } });
    const error = await alice.next('error');
    assert.deepEqual(
      [error.payload.code, error.payload.path, error.payload.event_type, error.payload.client_message_id],
      ['VALIDATION_FAILED', 'payload.content', 'chat.message', 'm-long'],
    );
  });

  it('chat over the message rate: RATE_LIMITED with each dropped message’s client_message_id', async () => {
    const bob = await relay.connect('bob');
    for (let i = 0; i < 8; i++) bob.send(clientFrame('chat.message', { content: `hi ${i}`, client_message_id: `m-${i}` }));
    await bob.until(() => bob.of('chat.message').length + bob.of('error').length >= 8, 'an answer to every message');
    const limited = bob.of('error').filter((f) => f.payload.code === 'RATE_LIMITED');
    assert.ok(limited.length > 0, 'some were over the rate');
    const delivered = bob.of('chat.message').map((f) => f.payload.client_message_id);
    const refused = limited.map((f) => f.payload.client_message_id);
    assert.ok(
      limited.every((f) => f.payload.event_type === 'chat.message'),
      'the refused frame’s event type',
    );
    assert.deepEqual(
      [...delivered, ...refused].sort(),
      Array.from({ length: 8 }, (_, i) => `m-${i}`).sort(),
      'each message either delivered or refused by its id',
    );
  });

  it('an unreadable id is not echoed', async () => {
    const carol = await relay.connect('carol');
    carol.send({ event_type: 'chat.message', payload: { content: '', client_message_id: 'bad id with spaces' } });
    const error = await carol.next('error');
    assert.equal(error.payload.code, 'VALIDATION_FAILED');
    assert.equal(error.payload.client_message_id, undefined);
  });
});
