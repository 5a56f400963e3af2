import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import WebSocket from 'ws';
import { createNodeWsTransport, RelayClient, type ServerFrame } from '../../../protocol';
import { RedisCutProxy } from '../../support/redis-cut-proxy';
import { type RedisServer, startRedisServer } from '../../support/redis-server';
import {
  clientFrame,
  httpRequest,
  jsonBody,
  openDocument,
  postNotification,
  refusedUpgrade,
  startTestRelay,
  type TestClient,
  type TestRelay,
} from '../../support/relay-fixture';
import { waitUntil } from '../../support/wait';

// Needs /usr/bin/redis-server: each test starts its own (it stops or freezes it).
const transport = createNodeWsTransport(WebSocket);
const settings = (url: string) => ({ RELAY_ID: 'relay-outage', REDIS_URL: url, WS_MAX_CONNECTIONS_PER_IP_PER_MINUTE: '1000000' });
/** Noticing a frozen Redis takes a command timeout (5 s) after the next command, plus the reconnect. */
const NOTICE_MS = 20_000;
const DOCUMENT = 'notes.md';

type Notice = { level: string; code?: string };
const notices = (frames: readonly ServerFrame[]): string[] =>
  frames.flatMap((f) =>
    f.event_type === 'system.notification' && (f.payload as Notice).code?.startsWith('BROKER_') ? [(f.payload as Notice).code!] : [],
  );

/** A typed client that records every frame it gets, across its reconnects. */
class Peer {
  readonly frames: ServerFrame[] = [];
  readonly client: RelayClient;
  connects = 0;

  constructor(relay: TestRelay, user: string) {
    // A host: it creates the documents it opens (only a host may).
    this.client = new RelayClient({
      url: relay.url,
      token: relay.token({ user, role: 'host' }),
      transport,
      backoff: { baseDelayMs: 20, maxDelayMs: 200 },
    });
    this.client.onFrame((frame) => this.frames.push(frame));
    this.client.onConnected(() => this.connects++);
  }

  async connect(): Promise<void> {
    const before = this.connects;
    this.client.connect();
    await waitUntil(() => this.connects > before, 'the typed client connected', 5000);
  }

  async open(document: string): Promise<void> {
    this.client.send('collaboration.open', { document, text: 'shared text\n' });
    await waitUntil(
      () => this.frames.some((f) => f.event_type === 'collaboration.snapshot' && f.payload.document === document),
      `a snapshot of ${document}`,
      5000,
    );
  }

  of<E extends ServerFrame['event_type']>(eventType: E): Array<Extract<ServerFrame, { event_type: E }>> {
    return this.frames.filter((f): f is Extract<ServerFrame, { event_type: E }> => f.event_type === eventType);
  }

  chats(clientMessageId: string): number {
    return this.of('chat.message').filter((f) => f.payload.client_message_id === clientMessageId).length;
  }
}

describe('Redis outage: the relay keeps local sessions going, says so, and recovers by itself', () => {
  const servers: RedisServer[] = [];
  const relays: TestRelay[] = [];
  const peers: Peer[] = [];
  const proxies: RedisCutProxy[] = [];
  afterEach(async (t) => {
    for (const peer of peers.splice(0)) peer.client.dispose();
    for (const relay of relays.splice(0)) await relay.stop();
    for (const proxy of proxies.splice(0)) await proxy.close();
    for (const server of servers.splice(0)) {
      server.printLogIfFailed(t);
      await server.dispose();
    }
  });

  async function setUp(): Promise<{ redis: RedisServer; relay: TestRelay; alice: Peer; bob: Peer; carol: TestClient }> {
    // AOF: the session log survives the restart, so the clients resume instead of resyncing.
    const redis = await startRedisServer({ persistence: 'aof-always' });
    servers.push(redis);
    const relay = await startTestRelay(settings(redis.url));
    relays.push(relay);
    const alice = new Peer(relay, 'alice');
    const bob = new Peer(relay, 'bob');
    peers.push(alice, bob);
    for (const peer of [alice, bob]) {
      await peer.connect();
      await peer.open(DOCUMENT);
    }
    const carol = await relay.connect('carol');
    await openDocument(carol, DOCUMENT);
    return { redis, relay, alice, bob, carol };
  }

  it(
    'Redis stopped: one notice, chat refused with BROKER_UNAVAILABLE and not delivered, cursors and pings still work here; Redis ' +
      'back: one notice, clients resume, the held chat arrives once',
    async () => {
      const { redis, relay, alice, bob, carol } = await setUp();
      await redis.stop();

      for (const peer of [alice, bob]) await waitUntil(() => notices(peer.frames).length > 0, 'the outage notice', NOTICE_MS);
      await carol.next('system.notification', (f) => f.payload.code === 'BROKER_UNAVAILABLE', NOTICE_MS);
      const notice = carol.of('system.notification')[0]!.payload;
      assert.equal(notice.level, 'warning');
      assert.match(notice.message, /lost its connection to Redis/);

      // Chat needs the broker (it is logged): refused, with a code the client can act on.
      carol.send(clientFrame('chat.message', { content: 'raw, during the outage', client_message_id: 'carol-1' }));
      const refused = await carol.next('error', (f) => f.payload.event_type === 'chat.message', 10_000);
      assert.equal(refused.payload.code, 'BROKER_UNAVAILABLE');
      const held = alice.client.sendChat({ content: 'typed, during the outage' });
      await waitUntil(() => alice.of('error').some((f) => f.payload.event_type === 'chat.message'), 'the typed chat refused', 10_000);
      assert.deepEqual(
        alice.of('error').map((f) => f.payload.code),
        ['BROKER_UNAVAILABLE'],
      );
      assert.deepEqual(
        alice.client.pendingChat.map((m) => m.client_message_id),
        [held],
        'the typed client keeps the refused message',
      );

      // Cursors are ephemeral: they still reach the other participants on this relay, both ways.
      carol.send(clientFrame('collaboration.cursor', { document: DOCUMENT, rev: 0, selections: [{ anchor: 3, head: 6 }] }));
      for (const peer of [alice, bob]) {
        await waitUntil(
          () => peer.of('collaboration.cursor').some((f) => f.user_id === 'carol'),
          `carol's cursor at ${peer.client.connection?.user.user_id}`,
          5000,
        );
        assert.deepEqual(peer.of('collaboration.cursor').at(-1)!.payload, {
          document: DOCUMENT,
          rev: 0,
          selections: [{ anchor: 3, head: 6 }],
        });
      }
      alice.client.send('collaboration.cursor', { document: DOCUMENT, rev: 0, selections: [{ anchor: 1, head: 1 }] });
      const aliceCursor = await carol.next('collaboration.cursor', (f) => f.user_id === 'alice', 5000);
      assert.deepEqual(aliceCursor.payload.selections, [{ anchor: 1, head: 1 }]);
      carol.send(clientFrame('system.ping', { nonce: 'still-there' }));
      await carol.next('system.pong', (f) => f.payload.nonce === 'still-there', 5000);
      // An edit cannot be committed: refused the same way, and the connection stays (the cursors above keep flowing).
      carol.send(clientFrame('collaboration.edit', { document: DOCUMENT, rev: 0, client_id: 'carol-c', seq: 0, op: ['X'] }));
      const editRefused = await carol.next('error', (f) => f.payload.event_type === 'collaboration.edit', 10_000);
      assert.equal(editRefused.payload.code, 'BROKER_UNAVAILABLE');
      carol.send(clientFrame('system.ping', { nonce: 'after-the-edit' }));
      await carol.next('system.pong', (f) => f.payload.nonce === 'after-the-edit', 5000);

      // The cursors came after the chats: nothing of the chats was delivered to anyone.
      for (const peer of [alice, bob]) assert.equal(peer.of('chat.message').length, 0);
      assert.equal(carol.of('chat.message').length, 0);
      // New connections are refused with a status to retry, saying why.
      const refusal = await refusedUpgrade(`${relay.url}?token=${relay.token({ user: 'dave' })}`, {}, 10_000);
      assert.deepEqual([refusal.status, refusal.body.code], [503, 'BROKER_UNAVAILABLE']);
      assert.equal((await httpRequest(`${relay.httpUrl}/health`, {}, 10_000)).status, 503);
      // So is the REST API where it needs Redis.
      const rest = await postNotification(relay, relay.token({ user: 'carol', role: 'host' }), {
        session_id: 's1',
        level: 'info',
        message: 'hello',
      });
      assert.deepEqual([rest.status, jsonBody(rest).code], [503, 'BROKER_UNAVAILABLE']);

      await redis.start();
      const disconnect = await carol.next('disconnect', () => true, NOTICE_MS);
      assert.deepEqual([disconnect.payload.reason, disconnect.payload.reconnect], ['server_error', true]);
      assert.deepEqual(notices(carol.frames), ['BROKER_UNAVAILABLE', 'BROKER_RESTORED'], 'one notice each way');
      const restored = carol.of('system.notification').at(-1)!;
      assert.equal(restored.payload.level, 'info');
      assert.ok(carol.frames.indexOf(restored) < carol.frames.indexOf(disconnect), 'told before being asked to reconnect');

      // The typed clients reconnect by themselves, resume the log, and the held chat goes out once.
      for (const peer of [alice, bob]) {
        await waitUntil(() => peer.connects === 2 && peer.client.state === 'open', 'the typed client back', NOTICE_MS);
        assert.equal(peer.client.connection?.session_log?.recovered, true, 'resumed, nothing lost');
      }
      await waitUntil(() => bob.chats(held) === 1 && alice.client.pendingChat.length === 0, 'the held chat delivered', 10_000);
      const marker = alice.client.sendChat({ content: 'after the outage' });
      await waitUntil(() => bob.chats(marker) === 1, 'a chat after the outage', 10_000);
      assert.equal(bob.chats(held), 1, 'the held chat exactly once');
      assert.equal(alice.chats(held), 1);
      assert.equal(bob.chats('carol-1'), 0, 'the raw client did not resend: its chat is not there');
      for (const peer of [alice, bob]) assert.deepEqual(notices(peer.frames), ['BROKER_UNAVAILABLE', 'BROKER_RESTORED']);
      await waitUntil(async () => (await httpRequest(`${relay.httpUrl}/health`, {}, 10_000)).status === 200, 'healthy again', 10_000, 100);
    },
  );

  it(
    'Redis frozen (no disconnect): the relay notices, keeps cursors local, and after the thaw says so once and has everyone ' + 'reconnect',
    async () => {
      const { redis, relay, alice, bob, carol } = await setUp();
      redis.freeze();
      try {
        // Nothing closes by itself: the relay notices when a command's reply is overdue.
        await carol.next('system.notification', (f) => f.payload.code === 'BROKER_UNAVAILABLE', NOTICE_MS);
        carol.send(clientFrame('collaboration.cursor', { document: DOCUMENT, rev: 0, selections: [{ anchor: 2, head: 2 }] }));
        for (const peer of [alice, bob]) {
          await waitUntil(() => peer.of('collaboration.cursor').some((f) => f.user_id === 'carol'), 'carol’s cursor', 5000);
        }
        const refusal = await refusedUpgrade(`${relay.url}?token=${relay.token({ user: 'dave' })}`, {}, 10_000);
        assert.deepEqual([refusal.status, refusal.body.code], [503, 'BROKER_UNAVAILABLE']);
      } finally {
        redis.thaw();
      }
      await carol.next('disconnect', () => true, NOTICE_MS);
      assert.deepEqual(notices(carol.frames), ['BROKER_UNAVAILABLE', 'BROKER_RESTORED']);
      for (const peer of [alice, bob]) {
        await waitUntil(() => peer.connects === 2 && peer.client.state === 'open', 'the typed client back', NOTICE_MS);
        assert.deepEqual(notices(peer.frames), ['BROKER_UNAVAILABLE', 'BROKER_RESTORED']);
      }
      const after = alice.client.sendChat({ content: 'after the thaw' });
      await waitUntil(() => bob.chats(after) === 1, 'chat after the thaw', 10_000);
    },
  );

  it('Redis lost right after a client’s connect: it stays, sees the outage, and is admitted in full once Redis is back', async () => {
    const redis = await startRedisServer({ persistence: 'aof-always' });
    servers.push(redis);
    const proxy = await RedisCutProxy.start(redis.port);
    proxies.push(proxy);
    const relay = await startTestRelay(settings(proxy.url));
    relays.push(relay);
    const alice = new Peer(relay, 'alice');
    peers.push(alice);
    await alice.connect();

    // Redis goes at the first step after bob's `connect` (the session's debugging state read).
    proxy.cutOn('debug:{s1}:meta');
    const bob = new Peer(relay, 'bob');
    peers.push(bob);
    await bob.connect();
    await waitUntil(() => proxy.cut, 'the cut', 5000);
    await waitUntil(() => notices(bob.frames).includes('BROKER_UNAVAILABLE'), 'the outage notice to bob', NOTICE_MS);
    // Kept, like everyone already connected: no disconnect, no new attempt (which would be refused until Redis is back).
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.deepEqual([bob.of('disconnect').length, bob.connects, bob.client.state], [0, 1, 'open']);

    proxy.restore();
    // Back: everyone reconnects to catch up, bob's admission included; alice hears that bob joined.
    await waitUntil(() => bob.connects === 2 && bob.client.state === 'open', 'bob back', NOTICE_MS);
    assert.deepEqual(notices(bob.frames), ['BROKER_UNAVAILABLE', 'BROKER_RESTORED']);
    await waitUntil(() => alice.of('session.joined').some((f) => f.payload.user_id === 'bob'), 'bob’s arrival announced', NOTICE_MS);
    const chat = alice.client.sendChat({ content: 'after the outage' });
    await waitUntil(() => bob.chats(chat) === 1, 'chat after the outage', 10_000);
  });
});
