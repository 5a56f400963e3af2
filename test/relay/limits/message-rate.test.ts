import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fetchStats, startTestRelay, type TestRelay } from '../../support/relay-fixture';
import { sleep } from '../../support/wait';

const RATE = 5;
const BURST = 40;

const chat = (id: string) => JSON.stringify({ event_type: 'chat.message', payload: { content: id, client_message_id: id } });

describe('message rate limit (WS_MAX_MESSAGES_PER_SECOND, token bucket)', () => {
  let relay: TestRelay;
  before(async () => {
    relay = await startTestRelay({ WS_MAX_MESSAGES_PER_SECOND: String(RATE), SHUTDOWN_TIMEOUT_MS: '1000' });
  });
  after(() => relay.stop());

  it('lets a full bucket through and answers the rest of a burst with RATE_LIMITED', async () => {
    const alice = await relay.connect('alice');
    const bob = await relay.connect('bob');
    const carol = await relay.connect('carol');
    const ids = Array.from({ length: BURST }, (_, i) => `burst-${i}`);

    // The whole burst is written in one tick; the bucket holds RATE tokens when it starts.
    const start = Date.now();
    for (const id of ids) alice.send(chat(id));
    const answered = () => alice.of('chat.message').length + alice.of('error').length;
    await alice.until(() => answered() >= BURST, 'an answer to every frame of the burst');
    const elapsed = Date.now() - start + 1;

    // A marker from someone else, sent after alice has every answer, arrives at bob after all
    // of alice's deliveries: the relay writes to bob's socket in order.
    carol.send(chat('marker'));
    await bob.next('chat.message', (f) => f.payload.client_message_id === 'marker');
    const delivered = bob
      .of('chat.message')
      .filter((f) => f.user_id === 'alice')
      .map((f) => f.payload.client_message_id);

    // Refill during the burst is at most elapsed * RATE / 1000 tokens (no refill in the usual case).
    const refill = Math.floor((elapsed * RATE) / 1000);
    assert.ok(delivered.length >= RATE, `a full bucket lets ${RATE} through; got ${delivered.length}`);
    assert.ok(delivered.length <= RATE + refill, `${delivered.length} delivered; at most ${RATE} + ${refill} refilled in ${elapsed} ms`);
    assert.deepEqual(delivered.slice(0, RATE), ids.slice(0, RATE), 'the first frames of the burst are the ones let through');
    assert.deepEqual(
      delivered,
      ids.filter((id) => delivered.includes(id)),
      'delivered in order',
    );

    const errors = alice.of('error');
    assert.equal(errors.length, BURST - delivered.length, 'exactly one RATE_LIMITED per dropped frame');
    assert.ok(
      errors.every((e) => e.payload.code === 'RATE_LIMITED'),
      JSON.stringify(errors.map((e) => e.payload.code)),
    );
    assert.equal(
      alice.of('chat.message').filter((f) => f.user_id === 'alice').length,
      delivered.length,
      'the sender sees the same ones echoed',
    );

    const stats = await fetchStats(relay);
    assert.equal(stats.errors.RATE_LIMITED, errors.length);
    assert.equal(stats.messages_in['chat.message'], delivered.length + 1, "alice's accepted frames and carol's marker");
  });

  it('refills the bucket over time', async () => {
    const dave = await relay.connect('dave');
    const erin = await relay.connect('erin');
    // Empty the bucket: a burst far larger than any refill while it is processed.
    for (let i = 0; i < BURST; i++) dave.send(chat(`drain-${i}`));
    const answered = () => dave.of('chat.message').filter((f) => f.user_id === 'dave').length + dave.of('error').length;
    await dave.until(() => answered() >= BURST, 'an answer to every frame of the burst');
    assert.ok(dave.of('error').length > 0, 'the burst emptied the bucket');

    // One token comes back every 1000 / RATE ms: after 1.5 of those, one message goes through.
    await sleep((1000 / RATE) * 1.5);
    const errorsBefore = dave.of('error').length;
    dave.send(chat('refilled'));
    await erin.next('chat.message', (f) => f.payload.client_message_id === 'refilled');
    assert.equal(dave.of('error').length, errorsBefore);
  });
});
