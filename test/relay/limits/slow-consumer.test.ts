import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { closeCodes, MAX_CHAT_CHARS } from '../../../protocol';
import { fetchStats, startTestRelay, type TestClient, type TestRelay } from '../../support/relay-fixture';
import { within } from '../../support/wait';

const MAX_BUFFERED = 64 * 1024;
/** Enough to fill the kernel's loopback buffers many times over; the test stops far earlier. */
const MAX_MESSAGES = 3000;
/** 10,000 three-byte characters: about 30 KB of UTF-8 per message, under the 64 KiB frame limit. */
const CONTENT = '€'.repeat(MAX_CHAT_CHARS);

const chatIdsFrom = (client: TestClient, user: string) =>
  client
    .of('chat.message')
    .filter((f) => f.user_id === user)
    .map((f) => f.payload.client_message_id);

interface Session {
  relay: TestRelay;
  sloth: TestClient;
  slothId: string;
  publisher: TestClient;
  reader: TestClient;
}

describe('slow consumer (WS_MAX_BUFFERED_BYTES)', () => {
  let relay: TestRelay | undefined;

  afterEach(async () => {
    await relay?.stop();
    relay = undefined;
  });

  /** A relay, and a session of three: `sloth` stops reading (ws's public `pause()`). */
  async function pausedSession(): Promise<Session> {
    relay = await startTestRelay({
      WS_MAX_BUFFERED_BYTES: String(MAX_BUFFERED),
      WS_MAX_MESSAGES_PER_SECOND: '1000000',
      SHUTDOWN_TIMEOUT_MS: '1000',
    });
    const sloth = await relay.connect('sloth');
    const publisher = await relay.connect('publisher');
    const reader = await relay.connect('reader');
    sloth.socket.pause();
    assert.equal(sloth.socket.isPaused, true);
    return { relay, sloth, slothId: sloth.of('connect')[0]!.payload.connection_id, publisher, reader };
  }

  /**
   * Publishes large chats one at a time, each read by the reader before the next is sent (the
   * healthy peers never have more than one in flight), until the relay reports a slow consumer.
   * Returns how many were sent.
   */
  async function floodUntilSlowConsumer({ relay, sloth, publisher, reader }: Session): Promise<number> {
    const seenBySloth = sloth.frames.length;
    let sent = 0;
    let slowConsumers = 0;
    while (sent < MAX_MESSAGES && slowConsumers === 0) {
      sent = await publish(publisher, reader, sent, 1);
      if (sent % 2 === 0) slowConsumers = (await fetchStats(relay)).errors.SLOW_CONSUMER ?? 0;
    }
    assert.equal(slowConsumers, 1, `no slow consumer after ${sent} messages of ${Buffer.byteLength(CONTENT)} bytes`);
    assert.equal(sloth.frames.length, seenBySloth, 'the paused client read nothing');
    return sent;
  }

  /** Publishes `count` more messages (ids continue from `sent`), each awaited at the reader. */
  async function publish(publisher: TestClient, reader: TestClient, sent: number, count: number): Promise<number> {
    for (let i = 0; i < count; i++, sent++) {
      const id = `m${sent}`;
      publisher.send({ event_type: 'chat.message', payload: { content: CONTENT, client_message_id: id } });
      await reader.next('chat.message', (f) => f.payload.client_message_id === id);
    }
    return sent;
  }

  /** The healthy peers got every message, in order, and no error. */
  async function assertOthersGotEverything({ publisher, reader }: Session, sent: number): Promise<void> {
    const expected = Array.from({ length: sent }, (_, i) => `m${i}`);
    await publisher.until(() => chatIdsFrom(publisher, 'publisher').length >= sent, 'the publisher to see all its echoes');
    assert.deepEqual(chatIdsFrom(reader, 'publisher'), expected, 'the reader got every message, in order');
    assert.deepEqual(chatIdsFrom(publisher, 'publisher'), expected, 'so did the publisher');
    assert.ok(reader.of('chat.message').every((f) => f.payload.content === CONTENT));
    assert.equal(reader.of('error').length + publisher.of('error').length, 0);
  }

  it('cuts off a peer that stops reading for good, while everyone else gets every message in order', async () => {
    const session = await pausedSession();
    const { sloth, slothId, publisher, reader } = session;
    let sent = await floodUntilSlowConsumer(session);
    // Keep publishing after the close: the others are unaffected.
    sent = await publish(publisher, reader, sent, 20);
    await assertOthersGotEverything(session, sent);

    // The relay cuts the sloth off after its close grace and tells the session it left.
    await reader.next('session.left', (f) => f.payload.connection_id === slothId, 5000);
    const stats = await fetchStats(session.relay);
    assert.equal(stats.errors.SLOW_CONSUMER, 1, 'only the sloth was a slow consumer');
    assert.equal(stats.connections, 2);

    // Now let the sloth read what reached it: an in-order prefix of the messages, no more. The
    // `disconnect` frame, queued behind the backlog, was most likely cut off with it.
    sloth.socket.resume();
    const closed = await within(sloth.closed, 5000, 'the paused client to see its connection closed');
    const received = chatIdsFrom(sloth, 'publisher');
    assert.ok(received.length < sent, `the sloth cannot have received everything (${received.length} of ${sent})`);
    assert.deepEqual(
      received,
      Array.from({ length: received.length }, (_, i) => `m${i}`),
      'an in-order prefix',
    );
    const disconnect = sloth.of('disconnect')[0];
    if (disconnect) {
      assert.equal(sloth.frames.at(-1), disconnect, 'disconnect is the last frame');
      assert.equal(disconnect.payload.reason, 'slow_consumer');
      assert.equal(closed.code, closeCodes.SLOW_CONSUMER);
    } else {
      assert.ok(
        closed.code === closeCodes.SLOW_CONSUMER || closed.code === 1006,
        `closed with ${closed.code}: expected ${closeCodes.SLOW_CONSUMER} or an abnormal close (1006)`,
      );
    }
  });

  it('tells a peer that resumes reading within the close grace why it was closed: disconnect slow_consumer, then 4008', async () => {
    const session = await pausedSession();
    const { sloth, slothId, reader } = session;
    const sent = await floodUntilSlowConsumer(session);

    // The relay has queued `disconnect` and the close frame behind the backlog; reading now
    // drains all of it before the grace period ends.
    sloth.socket.resume();
    const closed = await within(sloth.closed, 5000, 'the slow consumer to be closed');
    assert.equal(closed.code, closeCodes.SLOW_CONSUMER);
    assert.equal(closed.reason, 'slow_consumer');
    const last = sloth.frames.at(-1);
    assert.equal(last?.event_type, 'disconnect', `the last frame is disconnect, not ${last?.event_type}`);
    assert.equal(last.payload.reason, 'slow_consumer');
    assert.equal(sloth.of('disconnect').length, 1);
    const received = chatIdsFrom(sloth, 'publisher');
    assert.ok(received.length < sent, `the relay stopped sending to it (${received.length} of ${sent})`);
    assert.deepEqual(
      received,
      Array.from({ length: received.length }, (_, i) => `m${i}`),
      'an in-order prefix',
    );

    await reader.next('session.left', (f) => f.payload.connection_id === slothId, 5000);
    await assertOthersGotEverything(session, sent);
  });
});
