import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import {
  clientFrame,
  openDocument,
  postNotification,
  samplePayloads,
  startTestRelay,
  type TestClient,
  type TestRelay,
  withoutEpoch,
} from '../../support/relay-fixture';

/**
 * Sends a chat marker from `client` and waits for its echo. The relay handles a connection's
 * frames in order and the embedded broker delivers synchronously, so whatever the relay was going
 * to send this client before the marker has arrived by the time the echo does.
 */
async function roundTrip(client: TestClient, marker: string): Promise<void> {
  client.send(clientFrame('chat.message', samplePayloads.chat(marker)));
  await client.next('chat.message', (f) => f.payload.content === marker);
}

const routedTypes = ['chat.message', 'collaboration.edit', 'collaboration.cursor', 'debugging.breakpoint', 'system.notification'] as const;

/** What a client received of the routed event types, minus its own markers. */
function routedFrames(client: TestClient, ...markers: string[]) {
  return client.frames.filter(
    (f) =>
      (routedTypes as readonly string[]).includes(f.event_type) &&
      !(f.event_type === 'chat.message' && markers.includes(f.payload.content)),
  );
}

describe('routing', () => {
  let relay: TestRelay;
  beforeEach(async () => {
    relay = await startTestRelay();
  });
  afterEach(() => relay.stop());

  describe('to a session', () => {
    it('delivers chat to everyone in the session, sender included, as one message', async () => {
      const alice = await relay.connect('alice');
      const bob = await relay.connect('bob');
      const carol = await relay.connect('carol', { role: 'viewer' });
      alice.send(clientFrame('chat.message', samplePayloads.chat('hi all', { client_message_id: 'm-1' })));

      const received = await Promise.all([alice, bob, carol].map((c) => c.next('chat.message')));
      for (const frame of received) {
        assert.equal(frame.user_id, 'alice');
        assert.equal(frame.session_id, 's1');
        assert.equal(frame.payload.content, 'hi all');
        assert.equal(frame.payload.client_message_id, 'm-1', 'the client id is echoed back');
      }
      assert.equal(new Set(received.map((f) => f.payload.message_id)).size, 1, 'one message id for everyone');
    });

    it('delivers edits and cursors to the others in the session, not back to the sender; breakpoints to everyone, as applied', async () => {
      const alice = await relay.connect('alice', { role: 'host' });
      const bob = await relay.connect('bob');
      await openDocument(alice);
      await openDocument(bob);
      alice.send(clientFrame('collaboration.edit', samplePayloads.edit()));
      alice.send(clientFrame('collaboration.cursor', samplePayloads.cursor()));
      alice.send(clientFrame('debugging.breakpoint', samplePayloads.breakpoint()));

      // The edit reaches bob as committed: at revision 1; alice gets an ack instead of an echo.
      assert.deepEqual((await bob.next('collaboration.edit')).payload, samplePayloads.edit({ rev: 1 }));
      assert.deepEqual((await alice.next('collaboration.ack')).payload, { document: 'src/main.ts', rev: 1, client_id: 'editor-1', seq: 0 });
      assert.deepEqual((await bob.next('collaboration.cursor')).payload, samplePayloads.cursor({ rev: 1 }));
      // A breakpoint is state the relay keeps: everyone, alice too, gets the change with its revision.
      assert.deepEqual((await bob.next('debugging.breakpoint')).payload, { ...samplePayloads.breakpoint(), rev: 1 });
      assert.deepEqual((await alice.next('debugging.breakpoint')).payload, { ...samplePayloads.breakpoint(), rev: 1 });
      await roundTrip(alice, 'marker');
      assert.deepEqual(
        routedFrames(alice, 'marker').filter((f) => f.event_type !== 'debugging.breakpoint'),
        [],
        'nothing else of her own came back to alice',
      );
    });
  });

  describe('to one user', () => {
    it('delivers a chat with `to` to that user’s connections and the sender only', async () => {
      const alice = await relay.connect('alice');
      const bobLaptop = await relay.connect('bob');
      const bobDesktop = await relay.connect('bob');
      const carol = await relay.connect('carol');
      alice.send(clientFrame('chat.message', samplePayloads.chat('psst', { to: 'bob' })));

      for (const client of [bobLaptop, bobDesktop, alice]) {
        const dm = await client.next('chat.message', (f) => f.payload.content === 'psst');
        assert.equal(dm.user_id, 'alice');
        assert.equal(dm.payload.to, 'bob');
      }
      // A public marker from alice reaches carol after the direct message would have.
      alice.send(clientFrame('chat.message', samplePayloads.chat('public marker')));
      await carol.next('chat.message', (f) => f.payload.content === 'public marker');
      assert.deepEqual(
        carol.of('chat.message').map((f) => f.payload.content),
        ['public marker'],
        'carol never saw the direct message',
      );
    });
  });

  describe('to everyone (REST notifications)', () => {
    it('an admin without session_id reaches connections in every session', async () => {
      const s1 = await relay.connect('alice', { sessions: ['s1'] });
      const s2 = await relay.connect('bob', { sessions: ['s2'] });
      const admin = relay.token({ user: 'ops', role: 'host', admin: true, sessions: ['ops'] });
      const response = await postNotification(relay, admin, { level: 'warning', message: 'relay restarts at noon', code: 'MAINTENANCE' });

      assert.equal(response.status, 202, response.text);
      for (const client of [s1, s2]) {
        const notification = await client.next('system.notification');
        assert.equal(notification.user_id, 'system');
        assert.deepEqual(notification.payload, { level: 'warning', message: 'relay restarts at noon', code: 'MAINTENANCE' });
      }
    });

    it('a host with session_id of their session reaches that session only', async () => {
      const inS1 = await relay.connect('alice', { sessions: ['s1'] });
      const inS2 = await relay.connect('bob', { sessions: ['s2'] });
      const host = relay.token({ user: 'hank', role: 'host', sessions: ['s1'] });
      const response = await postNotification(relay, host, { level: 'info', message: 'for s1', session_id: 's1' });

      assert.equal(response.status, 202, response.text);
      const notification = await inS1.next('system.notification');
      assert.equal(notification.session_id, 's1');
      assert.equal(notification.payload.message, 'for s1');
      await roundTrip(inS2, 's2 marker');
      assert.deepEqual(inS2.of('system.notification'), [], 's2 was not notified');
    });

    it('a notification with user_id reaches only that user in the session', async () => {
      const alice = await relay.connect('alice');
      const bob = await relay.connect('bob');
      const host = relay.token({ user: 'hank', role: 'host', sessions: ['s1'] });
      const response = await postNotification(relay, host, { level: 'info', message: 'just bob', session_id: 's1', user_id: 'bob' });

      assert.equal(response.status, 202, response.text);
      assert.equal((await bob.next('system.notification')).payload.message, 'just bob');
      await roundTrip(alice, 'marker');
      assert.deepEqual(alice.of('system.notification'), []);
    });
  });

  describe('isolation between sessions', () => {
    it('never delivers one session’s chat, edits, cursors or breakpoints to another', async () => {
      const alice = await relay.connect('alice', { sessions: ['s1'], role: 'host' });
      const bob = await relay.connect('bob', { sessions: ['s1'] });
      const dave = await relay.connect('dave', { sessions: ['s2'], role: 'host' });
      const erin = await relay.connect('erin', { sessions: ['s2'] });
      // The same document path in both sessions: still two documents.
      for (const client of [alice, bob, dave, erin]) await openDocument(client);
      alice.send(clientFrame('chat.message', samplePayloads.chat('s1 chat')));
      alice.send(clientFrame('collaboration.edit', samplePayloads.edit()));
      alice.send(clientFrame('collaboration.cursor', samplePayloads.cursor()));
      alice.send(clientFrame('debugging.breakpoint', samplePayloads.breakpoint()));
      // Everything alice sent has been published once bob has it all...
      await bob.next('chat.message');
      await bob.next('collaboration.edit');
      await bob.next('collaboration.cursor');
      await bob.next('debugging.breakpoint');
      // ...and anything published for s2 after that reaches dave and erin after it.
      await roundTrip(dave, 'dave marker');
      await erin.next('chat.message', (f) => f.payload.content === 'dave marker');

      assert.deepEqual(routedFrames(dave, 'dave marker'), [], 'dave (s2) received nothing from s1');
      assert.deepEqual(routedFrames(erin, 'dave marker'), [], 'erin (s2) received nothing from s1');
      assert.deepEqual(
        routedFrames(alice, 's1 chat').filter((f) => f.session_id !== 's1'),
        [],
        'and s2’s marker never reached alice',
      );
      // Documents are per session: s2's document of the same name is a new, empty one.
      assert.deepEqual(withoutEpoch(await openDocument(dave)), { document: 'src/main.ts', rev: 0, text: '' });
      assert.deepEqual(withoutEpoch(await openDocument(bob)), { document: 'src/main.ts', rev: 1, text: 'x' });
    });
  });
});
