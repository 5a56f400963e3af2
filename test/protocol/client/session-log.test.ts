import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import WebSocket from 'ws';
import {
  createNodeWsTransport,
  type RelayClient,
  type ChatRefusal,
  type ResumePosition,
  type SessionLogLost,
  type Transport,
} from '../../../protocol/client/index';
import type { ConnectPayload, SessionLogPosition } from '../../../protocol/schemas/system';
import { closeAll, createClient, nextEvent, startFakeRelay } from '../../support/fake-relay';
import { startTestRelay, type TestRelay } from '../../support/relay-fixture';
import { waitUntil } from '../../support/wait';
import { freePort } from '../../../relay/cli/cluster/probes';

// The typed client's side of the session log: the position it keeps and resumes from, what it
// does with a replay, and chat that waits for its echo. Fake relays for exact sequences, then
// the real relay.

const TIMEOUT = { timeout: 10_000 };
afterEach(closeAll);

const alice = { user_id: 'alice', display_name: 'Alice', role: 'editor' as const, connection_id: 'c1' };

function connectWith(sessionLog: SessionLogPosition | undefined): string {
  const payload: ConnectPayload = {
    connection_id: 'c1',
    relay_id: 'relay-1',
    server_time: new Date().toISOString(),
    heartbeat_interval_ms: 30_000,
    session_id: 's1',
    user: alice,
    participants: [alice],
    limits: { max_frame_bytes: 65_536, max_messages_per_second: 50 },
    ...(sessionLog && { session_log: sessionLog }),
  };
  return JSON.stringify({ event_type: 'connect', payload, timestamp: new Date().toISOString(), session_id: 's1', user_id: 'system' });
}

/** A logged event as the relay sends it: the envelope with its `offset`. */
function logged(offset: number, eventType: string, payload: unknown, userId = 'bob'): string {
  return JSON.stringify({ event_type: eventType, payload, timestamp: new Date().toISOString(), session_id: 's1', user_id: userId, offset });
}

const chat = (offset: number, id: string, userId = 'alice') =>
  logged(offset, 'chat.message', { content: `chat ${id}`, client_message_id: id, message_id: `m-${id}`, display_name: userId }, userId);
const notice = (offset: number) => logged(offset, 'system.notification', { level: 'info', message: `notice ${offset}` }, 'system');

const queryOf = (upgrade: string) => Object.fromEntries(new URL(upgrade, 'ws://x').searchParams);

describe('RelayClient: session log position', () => {
  it('resumes from the last logged event it saw, on every reconnect', TIMEOUT, async () => {
    const relay = await startFakeRelay({
      onConnection: (socket, n) => {
        if (n === 1) {
          socket.send(connectWith({ epoch: 'e1', offset: 4 }));
          socket.send(notice(5));
          socket.send(logged(6, 'session.joined', { ...alice, user_id: 'bob', connection_id: 'c2' }));
          setTimeout(() => socket.terminate(), 20);
        } else {
          socket.send(connectWith({ epoch: 'e1', offset: 6, recovered: true, missed: 0 }));
        }
      },
    });
    const c = createClient({ url: relay.url });
    const connects: ConnectPayload[] = [];
    c.onConnected((payload) => connects.push(payload));
    c.connect();
    await waitUntil(() => connects.length === 2, 'a reconnect', 5000);
    assert.equal(queryOf(relay.upgrades[0]!).since_offset, undefined, 'nothing to resume from at first');
    assert.deepEqual([queryOf(relay.upgrades[1]!).since_offset, queryOf(relay.upgrades[1]!).since_epoch], ['6', 'e1']);
    assert.deepEqual(c.sessionLogPosition, { epoch: 'e1', offset: 6 });
  });

  it('starts from `resumeFrom`, and never asks to resume without parsing', TIMEOUT, async () => {
    const relay = await startFakeRelay({
      onConnection: (socket) => socket.send(connectWith({ epoch: 'e9', offset: 12, recovered: true, missed: 0 })),
    });
    const c = createClient({ url: relay.url, resumeFrom: { epoch: 'e9', offset: 12 } });
    c.connect();
    await nextEvent((l) => c.onConnected(l));
    assert.deepEqual(queryOf(relay.upgrades[0]!), { token: 'test-token', since_offset: '12', since_epoch: 'e9' });
    const raw = createClient({ url: relay.url, parse: false, resumeFrom: { epoch: 'e9', offset: 12 } });
    raw.connect();
    await waitUntil(() => relay.upgrades.length === 2, 'the raw client');
    assert.deepEqual(queryOf(relay.upgrades[1]!), { token: 'test-token' });
    assert.throws(() => raw.sendChat({ content: 'hi' }), /parse: true/);
  });

  it('keeps the resume position through a replay until the last missed event, then moves to the connect offset', TIMEOUT, async () => {
    let second: WebSocket | undefined;
    const relay = await startFakeRelay({
      onConnection: (socket, n) => {
        if (n === 1) {
          socket.send(connectWith({ epoch: 'e1', offset: 2 }));
          socket.send(notice(3));
          setTimeout(() => socket.terminate(), 20);
        } else {
          second = socket;
          // Two missed events for this user; the log is at 9 (the others were not for it).
          socket.send(connectWith({ epoch: 'e1', offset: 9, recovered: true, missed: 2 }));
        }
      },
    });
    const c = createClient({ url: relay.url });
    const seen: Array<[string, ResumePosition | undefined]> = [];
    c.onFrame((frame) => seen.push([frame.event_type, c.sessionLogPosition]));
    c.connect();
    await waitUntil(() => second !== undefined && c.state === 'open', 'the second connection');
    assert.deepEqual(c.sessionLogPosition, { epoch: 'e1', offset: 3 }, 'not 9: the missed events have not arrived');
    second!.send(notice(5));
    second!.send(notice(7));
    second!.send(notice(10));
    await waitUntil(() => seen.length === 6, 'every frame');
    assert.deepEqual(
      seen.slice(3).map(([type, position]) => [type, position?.offset]),
      [
        ['system.notification', 5],
        ['system.notification', 9],
        ['system.notification', 10],
      ],
    );
  });

  it('reports a lost log (recovered: false) and takes the new position', TIMEOUT, async () => {
    const relay = await startFakeRelay({
      onConnection: (socket, n) => {
        if (n === 1) {
          socket.send(connectWith({ epoch: 'e1', offset: 4 }));
          setTimeout(() => socket.terminate(), 20);
        } else {
          socket.send(connectWith({ epoch: 'e2', offset: 1, recovered: false, missed: 0 }));
        }
      },
    });
    const c = createClient({ url: relay.url });
    const lost = nextEvent<SessionLogLost>((l) => c.onSessionLogLost(l), 5000);
    c.connect();
    assert.deepEqual(await lost, { since: { epoch: 'e1', offset: 4 }, position: { epoch: 'e2', offset: 1 } });
    assert.deepEqual(c.sessionLogPosition, { epoch: 'e2', offset: 1 });
  });
});

describe('RelayClient: chat waits for its echo', () => {
  it('resends after a reconnect only what it did not see come back, after the missed events, in send order', TIMEOUT, async () => {
    const sockets: WebSocket[] = [];
    const relay = await startFakeRelay({
      onConnection: (socket, n) => {
        sockets.push(socket);
        if (n === 1) socket.send(connectWith({ epoch: 'e1', offset: 0 }));
        else socket.send(connectWith({ epoch: 'e1', offset: 8, recovered: true, missed: 2 }));
      },
    });
    const c = createClient({ url: relay.url });
    c.connect();
    await nextEvent((l) => c.onConnected(l));
    const ids = ['a', 'b', 'c', 'd'].map((id) => c.sendChat({ content: `chat ${id}`, client_message_id: id }));
    assert.deepEqual(ids, ['a', 'b', 'c', 'd']);
    assert.equal(c.send('chat.message', { content: 'no id' }), true);
    await waitUntil(() => relay.received.length === 5, 'five chats at the relay');
    const generated = relay.received[4]!.payload.client_message_id;
    assert.equal(typeof generated, 'string', 'an id is made up for a message without one');
    sockets[0]!.send(chat(1, 'a'));
    await waitUntil(() => c.pendingChat.length === 4, 'a seen back');
    // A message with the same id from someone else is not ours.
    sockets[0]!.send(chat(2, 'b', 'bob'));
    sockets[0]!.terminate();
    await waitUntil(() => sockets.length === 2 && c.state === 'open', 'the reconnect');
    assert.equal(relay.received.length, 5, 'nothing resent before the missed events arrived');
    // Queued meanwhile: goes after the resends.
    const later = c.sendChat({ content: 'later' });
    sockets[1]!.send(chat(3, 'c'));
    sockets[1]!.send(notice(5));
    await waitUntil(() => relay.received.length === 9, 'the resends, then the queued one');
    assert.deepEqual(
      relay.received.slice(5).map((frame) => frame.payload.client_message_id),
      ['b', 'd', generated, later],
    );
    assert.deepEqual(
      c.pendingChat.map((m) => m.client_message_id),
      ['b', 'd', generated, later],
    );
  });

  it('queues chat while not connected, and refuses invalid messages or too many', TIMEOUT, async () => {
    const relay = await startFakeRelay({ onConnection: (socket) => socket.send(connectWith({ epoch: 'e1', offset: 0 })) });
    const c = createClient({ url: relay.url, maxPendingChat: 2 });
    assert.equal(c.send('chat.message', { content: 'closed' }), false, 'send does not queue');
    const id = c.sendChat({ content: 'queued' });
    assert.equal(c.sendChat({ content: 'queued again', client_message_id: id }), id, 'same id: one message');
    assert.throws(() => c.sendChat({ content: '' }), TypeError);
    c.sendChat({ content: 'second' });
    assert.throws(() => c.sendChat({ content: 'third' }), RangeError);
    c.connect();
    await waitUntil(() => relay.received.length === 2, 'the queued chats');
    assert.deepEqual(
      relay.received.map((f) => f.payload.content),
      ['queued', 'second'],
    );
    c.forgetPendingChat();
    assert.deepEqual(c.pendingChat, []);
  });
});

describe('RelayClient: refused chat', () => {
  it(
    'drops a refused message (an error naming its client_message_id), says why, leaves a resend to the app; not on BROKER_UNAVAILABLE',
    TIMEOUT,
    async () => {
      const sockets: WebSocket[] = [];
      const relay = await startFakeRelay({
        onConnection: (socket) => {
          sockets.push(socket);
          socket.send(connectWith({ epoch: 'e1', offset: 0 }));
        },
      });
      const c = createClient({ url: relay.url });
      const refusals: ChatRefusal[] = [];
      c.onChatRefused((refusal) => refusals.push(refusal));
      c.connect();
      await nextEvent((l) => c.onConnected(l));
      c.sendChat({ content: 'too fast', client_message_id: 'a' });
      c.sendChat({ content: 'fine', client_message_id: 'b' });
      await waitUntil(() => relay.received.length === 2, 'two chats at the relay');
      const error = (payload: object) =>
        JSON.stringify({ event_type: 'error', payload, timestamp: new Date().toISOString(), session_id: 's1', user_id: 'system' });
      // Another event's refusal, or an unknown id: nothing changes.
      sockets[0]!.send(error({ code: 'RATE_LIMITED', message: 'slow down', event_type: 'collaboration.edit', client_message_id: 'b' }));
      sockets[0]!.send(error({ code: 'RATE_LIMITED', message: 'slow down', event_type: 'chat.message', client_message_id: 'zzz' }));
      // The relay lost Redis: it asks for the message again once it is back, so it stays pending.
      sockets[0]!.send(error({ code: 'BROKER_UNAVAILABLE', message: 'no broker', event_type: 'chat.message', client_message_id: 'b' }));
      sockets[0]!.send(error({ code: 'RATE_LIMITED', message: 'slow down', event_type: 'chat.message', client_message_id: 'a' }));
      await waitUntil(() => refusals.length === 1, 'the refusal');
      assert.deepEqual(
        refusals.map((r) => [r.message.client_message_id, r.message.content, r.code, r.reason]),
        [['a', 'too fast', 'RATE_LIMITED', 'slow down']],
      );
      assert.deepEqual(
        c.pendingChat.map((m) => m.client_message_id),
        ['b'],
      );
      // Not resent by a reconnect; sent again when the app asks (same id).
      sockets[0]!.terminate();
      await waitUntil(() => sockets.length === 2 && c.state === 'open', 'the reconnect');
      await waitUntil(() => relay.received.length === 3, 'the unconfirmed one resent');
      assert.equal(relay.received[2]!.payload.client_message_id, 'b');
      assert.equal(c.sendChat({ content: 'too fast', client_message_id: 'a' }), 'a');
      await waitUntil(() => relay.received.length === 4, 'the retry');
      assert.equal(relay.received[3]!.payload.client_message_id, 'a');
      assert.equal(refusals.length, 1);
    },
  );
});

describe('RelayClient: history for a first connection', () => {
  it(
    'asks with since_offset=0 alone (replayHistory) and follows the replay; no loss reported when the log lacks the start',
    TIMEOUT,
    async () => {
      const relay = await startFakeRelay({
        onConnection: (socket) => {
          socket.send(connectWith({ epoch: 'e1', offset: 2, recovered: true, missed: 2 }));
          socket.send(chat(1, 'x', 'bob'));
          socket.send(notice(2));
        },
      });
      const c = createClient({ url: relay.url, replayHistory: true });
      const seen: string[] = [];
      c.on('chat.message', (payload) => seen.push(payload.content));
      c.connect();
      await waitUntil(() => seen.length === 1 && c.sessionLogPosition?.offset === 2, 'the replayed history');
      assert.deepEqual(queryOf(relay.upgrades[0]!), { token: queryOf(relay.upgrades[0]!).token, since_offset: '0' });
      assert.deepEqual(c.sessionLogPosition, { epoch: 'e1', offset: 2 });
      assert.deepEqual(seen, ['chat x']);

      const empty = await startFakeRelay({
        onConnection: (socket) => socket.send(connectWith({ epoch: 'e2', offset: 9, recovered: false, missed: 0 })),
      });
      const d = createClient({ url: empty.url, replayHistory: true });
      const lost: SessionLogLost[] = [];
      d.onSessionLogLost((info) => lost.push(info));
      d.connect();
      await nextEvent((l) => d.onConnected(l));
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(lost, []);
      assert.deepEqual(d.sessionLogPosition, { epoch: 'e2', offset: 9 });
    },
  );
});

describe('RelayClient on the real relay', () => {
  let relay: TestRelay | undefined;
  afterEach(async () => {
    await relay?.stop();
    relay = undefined;
  });

  it('a dropped client resumes with exactly what it missed, and its unconfirmed chat is logged once', TIMEOUT, async () => {
    relay = await startTestRelay({ WS_MAX_MESSAGES_PER_SECOND: '100000', WS_MAX_CONNECTIONS_PER_IP_PER_MINUTE: '100000' });
    const nodeTransport = createNodeWsTransport(WebSocket);
    const make = (user: string) => {
      const peer = { contents: [] as string[], transport: undefined as Transport | undefined, c: undefined as unknown as RelayClient };
      peer.c = createClient({
        url: relay!.url,
        token: relay!.token({ user }),
        transport: (url, listener) => (peer.transport = nodeTransport(url, listener)),
      });
      peer.c.on('chat.message', (payload) => peer.contents.push(payload.content));
      return peer;
    };
    const a = make('alice');
    const b = make('bob');
    a.c.connect();
    b.c.connect();
    await waitUntil(() => a.c.state === 'open' && b.c.state === 'open', 'both connected');
    for (let n = 0; n < 20; n++) {
      a.c.sendChat({ content: `a${n}` });
      b.c.sendChat({ content: `b${n}` });
      // Bob's connection is cut now and then, mid-stream; he reconnects and resumes by himself.
      if (n % 5 === 2) b.transport?.terminate?.();
    }
    await waitUntil(
      () => a.contents.length === 40 && b.contents.length === 40 && a.c.pendingChat.length + b.c.pendingChat.length === 0,
      'every chat everywhere',
      8000,
    );
    assert.deepEqual(b.contents, a.contents, 'one log, exactly once each');
    assert.deepEqual(new Set(a.contents).size, 40);
  });

  it('tells the client when the log was lost (a relay without Redis restarted: a new epoch)', TIMEOUT, async () => {
    const port = await freePort();
    const config = { WS_PORT: String(port) };
    relay = await startTestRelay(config);
    const c = createClient({ url: relay.url, token: relay.token({ user: 'alice' }) });
    c.connect();
    await nextEvent((l) => c.onConnected(l));
    const before = c.sessionLogPosition!;
    const lost = nextEvent<SessionLogLost>((l) => c.onSessionLogLost(l), 8000);
    await relay.stop();
    relay = await startTestRelay(config);
    const info = await lost;
    assert.deepEqual(info.since, before);
    assert.notEqual(info.position.epoch, before.epoch);
  });
});
