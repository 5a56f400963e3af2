import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { closeCodes } from '../../../protocol';
import { httpRequest, startTestRelay, type TestRelay } from '../../support/relay-fixture';
import { chatFrameOfBytes } from '../../support/socket-helpers';
import { within } from '../../support/wait';

const LIMIT = 1024;
const HARD_LIMIT = 4 * LIMIT;

describe('frame size limit (WS_MAX_FRAME_BYTES)', () => {
  let relay: TestRelay;
  before(async () => {
    relay = await startTestRelay({ WS_MAX_FRAME_BYTES: String(LIMIT), SHUTDOWN_TIMEOUT_MS: '1000' });
  });
  after(() => relay.stop());

  it('answers a frame over the limit with FRAME_TOO_LARGE, drops it, and keeps the connection', async () => {
    const alice = await relay.connect('alice');
    const bob = await relay.connect('bob');

    // Exactly at the limit: accepted.
    alice.send(chatFrameOfBytes(LIMIT, 'at-limit'));
    const atLimit = await bob.next('chat.message', (f) => f.payload.client_message_id === 'at-limit');
    assert.equal(atLimit.user_id, 'alice');

    // One byte over, and just under the hard limit (4x): refused, connection stays.
    for (const [size, id] of [
      [LIMIT + 1, 'over-by-one'],
      [HARD_LIMIT, 'at-hard-limit'],
    ] as const) {
      const before = alice.of('error').length;
      alice.send(chatFrameOfBytes(size, id));
      await alice.until(() => alice.of('error').length > before, `the error for a ${size}-byte frame`);
      const error = alice.of('error')[before]!;
      assert.equal(error.payload.code, 'FRAME_TOO_LARGE', `a ${size}-byte frame`);
      assert.match(error.payload.message, new RegExp(`${LIMIT} bytes`));
    }

    // The limit counts bytes, not characters: 400 three-byte characters are 1200 bytes.
    const euros = JSON.stringify({ event_type: 'chat.message', payload: { content: '€'.repeat(400), client_message_id: 'euros' } });
    assert.ok(euros.length < LIMIT && Buffer.byteLength(euros) > LIMIT);
    const beforeEuros = alice.of('error').length;
    alice.send(euros);
    await alice.until(() => alice.of('error').length > beforeEuros, 'the error for a multi-byte frame');
    assert.equal(alice.of('error')[beforeEuros]!.payload.code, 'FRAME_TOO_LARGE');

    // Still usable: a chat after the refusals goes through, and none of the refused ones did.
    alice.send({ event_type: 'chat.message', payload: { content: 'still here', client_message_id: 'after' } });
    await bob.next('chat.message', (f) => f.payload.client_message_id === 'after');
    assert.deepEqual(
      bob.of('chat.message').map((f) => f.payload.client_message_id),
      ['at-limit', 'after'],
      'refused frames never reach anyone',
    );
    assert.equal(alice.of('error').length, 3, 'exactly one error per refused frame');
    assert.equal(bob.of('error').length, 0);
  });

  it('closes a connection whose frame is over 4x the limit with 1009; the rest of the session is unaffected', async () => {
    const mallory = await relay.connect('mallory');
    const bob = await relay.connect('bob2');
    const carol = await relay.connect('carol');
    const malloryId = mallory.of('connect')[0]!.payload.connection_id;

    mallory.send(chatFrameOfBytes(HARD_LIMIT + 1, 'too-big'));
    const closed = await within(mallory.closed, 3000, 'the relay to close the connection');
    assert.equal(closed.code, closeCodes.MESSAGE_TOO_BIG);

    // The relay forgot the connection and told the session.
    const left = await bob.next('session.left', (f) => f.payload.connection_id === malloryId);
    assert.equal(left.payload.user_id, 'mallory');

    // The others still talk.
    carol.send({ event_type: 'chat.message', payload: { content: 'still on', client_message_id: 'carol-after' } });
    const atBob = await bob.next('chat.message', (f) => f.payload.client_message_id === 'carol-after');
    assert.equal(atBob.user_id, 'carol');
    bob.send({ event_type: 'chat.message', payload: { content: 'me too', client_message_id: 'bob-after' } });
    await carol.next('chat.message', (f) => f.payload.client_message_id === 'bob-after');
    assert.equal(
      bob.of('chat.message').some((f) => f.payload.client_message_id === 'too-big'),
      false,
    );
    assert.equal(bob.of('error').length + carol.of('error').length, 0);

    const health = await httpRequest(`${relay.httpUrl}/health`);
    assert.equal(health.status, 200);
  });
});
