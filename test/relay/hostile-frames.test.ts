import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ServerFrame } from '../../protocol';
import { type BadFrame, fuzzedBadFrames, handWrittenBadFrames } from '../support/bad-frames';
import { fetchStats, httpRequest, startTestRelay, type TestClient, type TestRelay } from '../support/relay-fixture';
import { maskedFrame, objectPrototypeKeys, rawUpgrade, readCloseCode } from '../support/socket-helpers';
import { within } from '../support/wait';

const SEED = 20_240_611;
const FUZZED = 600;
/** Fuzzed frames are sent this many at a time, then a ping; the pong closes the batch. */
const BATCH = 50;
/** A valid chat from carol after this many hostile frames. */
const CHAT_EVERY = 10;

type ErrorFrame = Extract<ServerFrame, { event_type: 'error' }>;

function assertMatches(bad: BadFrame, error: ErrorFrame | undefined): void {
  assert.ok(error, `no error for ${bad.label}`);
  const { code, path } = error.payload;
  assert.equal(code, bad.code, `${bad.label}: ${error.payload.message.slice(0, 200)}`);
  if (bad.path === 'none') assert.equal(path, undefined, `${bad.label}: no path expected`);
  else if (bad.path && 'exact' in bad.path) assert.equal(path, bad.path.exact, bad.label);
  else if (bad.path) {
    const scope = bad.path.within;
    assert.ok(
      path !== undefined && (scope === '' || path === scope || path.startsWith(`${scope}.`) || path.startsWith(`${scope}[`)),
      `${bad.label}: path ${path?.slice(0, 80)} is not within ${scope}`,
    );
  }
  if (bad.eventType !== undefined) assert.equal(error.payload.event_type, bad.eventType, `${bad.label}: the event type is echoed`);
  assert.ok((error.payload.event_type?.length ?? 0) <= 128, `${bad.label}: the echoed event_type is bounded`);
}

describe('hostile frames', () => {
  let relay: TestRelay;
  before(async () => {
    relay = await startTestRelay({ WS_MAX_MESSAGES_PER_SECOND: '1000000', SHUTDOWN_TIMEOUT_MS: '1000' });
  });
  after(() => relay.stop());

  it('answers each of 1,000+ bad frames with exactly one error, delivers none, and never disturbs the session', async () => {
    const prototypeBefore = objectPrototypeKeys();
    const handWritten = handWrittenBadFrames(SEED);
    const fuzzed = fuzzedBadFrames(SEED, FUZZED);
    assert.ok(handWritten.length + fuzzed.length >= 1000, `${handWritten.length + fuzzed.length} bad frames`);

    // Mallory joins first, so the others never see even her arrival: anything of hers they
    // receive got through.
    const mallory = await relay.connect('mallory', { role: 'viewer' });
    const bob = await relay.connect('bob');
    const carol = await relay.connect('carol');
    const errors = () => mallory.of('error');
    const sendBad = (bad: BadFrame) => mallory.socket.send(bad.data, { binary: bad.binary === true });
    const carolSent: string[] = [];
    const carolChat = () => {
      const id = `carol-${carolSent.length}`;
      carolSent.push(id);
      carol.send({ event_type: 'chat.message', payload: { content: `valid ${id}`, client_message_id: id } });
    };

    // Hand-written frames in lockstep: each error is matched to the frame that caused it.
    for (const [i, bad] of handWritten.entries()) {
      sendBad(bad);
      await mallory.until(() => errors().length > i, `the error for ${bad.label}`);
      assertMatches(bad, errors()[i]);
      if (i % CHAT_EVERY === 0) carolChat();
    }

    // Fuzzed frames pipelined in batches (many frames per TCP read), closed by a ping.
    for (let start = 0; start < fuzzed.length; start += BATCH) {
      const batch = fuzzed.slice(start, start + BATCH);
      const before = errors().length;
      for (const bad of batch) sendBad(bad);
      const nonce = `batch-${start}`;
      mallory.send({ event_type: 'system.ping', payload: { nonce } });
      carolChat();
      await mallory.next('system.pong', (f) => f.payload.nonce === nonce, 5000);
      const got = errors().slice(before);
      assert.equal(got.length, batch.length, `one error per frame in the batch from ${start}`);
      batch.forEach((bad, j) => assertMatches(bad, got[j]));
    }

    // Nothing pending: a last ping comes back after every error, and no error is left over.
    mallory.send({ event_type: 'system.ping', payload: { nonce: 'end' } });
    await mallory.next('system.pong', (f) => f.payload.nonce === 'end');
    const total = handWritten.length + fuzzed.length;
    assert.equal(errors().length, total, 'exactly one error per bad frame');

    // Every valid chat from carol reached bob (and mallory), in order, and nothing else did.
    const lastId = carolSent.at(-1)!;
    await bob.next('chat.message', (f) => f.payload.client_message_id === lastId, 5000);
    await mallory.next('chat.message', (f) => f.payload.client_message_id === lastId, 5000);
    const chatIds = (client: TestClient) => client.of('chat.message').map((f) => f.payload.client_message_id);
    assert.deepEqual(chatIds(bob), carolSent);
    assert.deepEqual(chatIds(mallory), carolSent);
    assert.ok(bob.of('chat.message').every((f) => f.user_id === 'carol'));
    for (const client of [bob, carol]) {
      const fromMallory = client.frames.filter((f) => f.user_id === 'mallory');
      assert.deepEqual(
        fromMallory.map((f) => f.event_type),
        [],
        'nothing of mallory reached anyone',
      );
      assert.deepEqual(client.of('error'), []);
      const kinds = new Set(client.frames.map((f) => f.event_type));
      for (const kind of kinds) assert.ok(['connect', 'session.joined', 'chat.message'].includes(kind), `unexpected ${kind}`);
    }

    const stats = await fetchStats(relay);
    assert.equal(stats.messages_out['chat.message'], carolSent.length * 3, "only carol's chats were delivered (to three each)");
    for (const kind of ['collaboration.edit', 'collaboration.cursor', 'debugging.breakpoint'])
      assert.equal(stats.messages_out[kind], undefined, kind);
    const refused = Object.entries(stats.errors).reduce((sum, [, n]) => sum + n, 0);
    assert.equal(refused, total);

    // Still up, still serving mallory, and no prototype was polluted.
    const health = await httpRequest(`${relay.httpUrl}/health`);
    assert.equal(health.status, 200);
    assert.equal(mallory.socket.readyState, mallory.socket.OPEN);
    assert.deepEqual(objectPrototypeKeys(), prototypeBefore);
    const probe: Record<string, unknown> = {};
    assert.equal(probe.polluted, undefined);
    assert.equal(Object.getPrototypeOf(probe), Object.prototype);
  });

  it('closes a connection that sends a text frame that is not UTF-8 (1007), and only that one', async () => {
    const victim = await relay.connect('dave');
    const liar = await relay.connect('erin');
    const liarId = liar.of('connect')[0]!.payload.connection_id;
    liar.socket.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    const closed = await within(liar.closed, 3000, 'the relay to close the connection');
    assert.equal(closed.code, 1007, 'RFC 6455: invalid frame payload data');
    await victim.next('session.left', (f) => f.payload.connection_id === liarId);
    const other = await relay.connect('frank');
    other.send({ event_type: 'chat.message', payload: { content: 'after', client_message_id: 'after-utf8' } });
    await victim.next('chat.message', (f) => f.payload.client_message_id === 'after-utf8');
  });

  it('closes a connection that breaks the WebSocket framing (1002, or 1009 when too long), and only that one', async () => {
    const witness = await relay.connect('grace');
    const hi = Buffer.from('hi');
    const violations: Array<[string, Buffer, number]> = [
      ['an unmasked frame', Buffer.from([0x81, 0x02, 0x68, 0x69]), 1002],
      ['reserved opcode 0x3', maskedFrame(0x83, hi), 1002],
      ['reserved opcode 0xB', maskedFrame(0x8b, hi), 1002],
      ['RSV1 without an extension', maskedFrame(0xc1, hi), 1002],
      ['RSV2', maskedFrame(0xa1, hi), 1002],
      ['a ping of 126 bytes', maskedFrame(0x89, Buffer.alloc(126)), 1002],
      ['a fragmented ping', maskedFrame(0x09, hi), 1002],
      ['a continuation with nothing to continue', maskedFrame(0x80, hi), 1002],
      ['a new message inside a fragmented one', Buffer.concat([maskedFrame(0x01, hi), maskedFrame(0x81, hi)]), 1002],
      ['close code 999', maskedFrame(0x88, Buffer.from([0x03, 0xe7])), 1002],
      ['a close payload of one byte', maskedFrame(0x88, Buffer.from([0x03])), 1002],
      ['a 64-bit length with its top bit set', maskedFrame(0x81, Buffer.alloc(0), Buffer.from([127, 0x80, 0, 0, 0, 0, 0, 0, 0])), 1009],
      [
        'fragments adding up to over 4x the frame limit',
        Buffer.concat([maskedFrame(0x01, Buffer.alloc(200_000, 0x61)), maskedFrame(0x80, Buffer.alloc(100_000, 0x61))]),
        1009,
      ],
    ];
    for (const [label, bytes, expected] of violations) {
      const { socket, rest } = await rawUpgrade(`${relay.url}?token=${relay.token({ user: 'raw' })}`);
      try {
        socket.write(bytes);
        assert.equal(await readCloseCode(socket, rest), expected, label);
      } finally {
        socket.destroy();
      }
    }
    const other = await relay.connect('heidi');
    other.send({ event_type: 'chat.message', payload: { content: 'after', client_message_id: 'after-framing' } });
    await witness.next('chat.message', (f) => f.payload.client_message_id === 'after-framing');
    assert.equal(witness.of('chat.message').filter((f) => f.user_id === 'raw').length, 0);
    const health = await httpRequest(`${relay.httpUrl}/health`);
    assert.equal(health.status, 200);
  });
});
