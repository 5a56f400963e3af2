import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { ServerFrame, SessionLogPosition } from '../../../protocol';
import { type RedisServer, startRedisServer } from '../../support/redis-server';
import {
  clientFrame,
  postNotification,
  refusedUpgrade,
  startTestRelay,
  type TestClient,
  type TestRelay,
} from '../../support/relay-fixture';
import { sleep } from '../../support/wait';

// The session log over the gateway: offsets on logged events, resume from a position, chat
// dedupe. Against the embedded memory broker and against two relays on a real redis-server.

const offsetOf = (frame: ServerFrame): number | undefined => (frame as { offset?: number }).offset;
const logOf = (client: TestClient): SessionLogPosition => {
  const log = client.of('connect')[0]?.payload.session_log;
  assert.ok(log, 'connect carries session_log');
  return log;
};
const since = (position: { offset: number; epoch: string }) => `&since_offset=${position.offset}&since_epoch=${position.epoch}`;
const chats = (client: TestClient) => client.of('chat.message').map((f) => f.payload.content);
/**
 * Where a client stands: its last logged event; without one, where it resumed from (`asked`: its
 * missed events may not have arrived) or, if it did not resume, where it was admitted.
 */
function lastPosition(client: TestClient, asked?: { offset: number; epoch: string }): { offset: number; epoch: string } {
  const logged = client.frames.map(offsetOf).filter((o): o is number => o !== undefined);
  const log = logOf(client);
  const start = log.recovered && asked ? asked.offset : log.offset;
  return { offset: logged.at(-1) ?? start, epoch: log.epoch };
}

const settings = { WS_MAX_MESSAGES_PER_SECOND: '100000', WS_MAX_CONNECTIONS_PER_IP_PER_MINUTE: '1000000' };
let sessionCounter = 0;
const freshSession = () => [`log-${process.pid}-${++sessionCounter}`];

describe('session log (embedded broker)', () => {
  let relay: TestRelay;
  before(async () => {
    relay = await startTestRelay(settings);
  });
  after(() => relay.stop());

  it('numbers logged events (chat, notifications, joins) and leaves the others (pings, breakpoints: state) unnumbered', async () => {
    const sessions = freshSession();
    const alice = await relay.connect('alice', { sessions, role: 'host' });
    const start = logOf(alice);
    assert.equal(start.recovered, undefined, 'not asked to resume');
    assert.equal(start.missed, undefined);
    assert.equal(offsetOf(alice.frames[0]!), undefined, 'connect is not logged');
    const bob = await relay.connect('bob', { sessions });
    assert.equal(logOf(bob).epoch, start.epoch);
    const joined = await alice.next('session.joined');
    bob.send(clientFrame('chat.message', { content: 'hello' }));
    const chat = await alice.next('chat.message');
    const notified = await postNotification(relay, relay.token({ user: 'alice', role: 'host', sessions }), {
      session_id: sessions[0],
      level: 'info',
      message: 'notice',
    });
    assert.equal(notified.status, 202, notified.text);
    const notice = await bob.next('system.notification');
    alice.send(
      clientFrame('debugging.breakpoint', { action: 'add', breakpoint: { id: 'b1', document: 'src/a.ts', line: 3, enabled: true } }),
    );
    const breakpoint = await bob.next('debugging.breakpoint');
    alice.send(clientFrame('system.ping', { nonce: 'n' }));
    const pong = await alice.next('system.pong');

    // Alice's own join (not shown to her) comes first, then bob's.
    const j = offsetOf(joined)!;
    assert.equal(j, start.offset + 2);
    assert.equal(offsetOf(chat), j + 1);
    assert.equal(offsetOf(await bob.next('chat.message')), j + 1, 'one position for everyone');
    assert.equal(offsetOf(notice), j + 2);
    assert.equal(offsetOf(breakpoint), undefined, 'breakpoints are state, sent whole after connect');
    assert.equal(offsetOf(pong), undefined);
    assert.ok(logOf(bob).offset < j, 'admitted before its own join was logged');
  });

  it('resumes: a client reconnecting with its last position gets exactly what it missed, in order, then live events', async () => {
    const sessions = freshSession();
    const alice = await relay.connect('alice', { sessions });
    let bob = await relay.connect('bob', { sessions });
    alice.send(clientFrame('chat.message', { content: 'seen' }));
    await bob.next('chat.message');
    const position = lastPosition(bob);
    bob.close();
    await bob.closed;
    await alice.next('session.left');
    for (let n = 0; n < 5; n++) alice.send(clientFrame('chat.message', { content: `missed ${n}` }));
    alice.send(clientFrame('chat.message', { content: 'for carol only', to: 'carol' }));
    alice.send(clientFrame('chat.message', { content: 'for bob only', to: 'bob' }));
    await alice.until(() => chats(alice).length === 8, 'alice to see all her messages');

    bob = await relay.connect('bob', { sessions, query: since(position) });
    const log = logOf(bob);
    assert.equal(log.recovered, true);
    assert.equal(log.epoch, position.epoch);
    // The left event, five chats and one direct message: carol's is not bob's to see.
    assert.equal(log.missed, 7);
    assert.equal(log.offset, position.offset + 8);
    alice.send(clientFrame('chat.message', { content: 'live' }));
    await bob.next('chat.message', (f) => f.payload.content === 'live');
    const afterConnect = bob.frames.slice(1);
    assert.deepEqual(
      afterConnect.slice(0, 7).map((f) => [f.event_type, offsetOf(f)]),
      [['session.left', position.offset + 1], ...[2, 3, 4, 5, 6, 8].map((k) => ['chat.message', position.offset + k])],
    );
    // Then live: alice's chat after (bob's own join, logged but not shown to him, may come before it).
    assert.equal(afterConnect.length, 8);
    assert.ok(offsetOf(afterConnect[7]!)! > log.offset);
    assert.deepEqual(chats(bob), ['missed 0', 'missed 1', 'missed 2', 'missed 3', 'missed 4', 'for bob only', 'live']);
  });

  it('says when it cannot resume (another epoch, or further behind than the log keeps): nothing replayed, live events go on', async () => {
    const sessions = freshSession();
    const alice = await relay.connect('alice', { sessions });
    const epoch = logOf(alice).epoch;
    const other = await relay.connect('bob', { sessions, query: since({ offset: 1, epoch: `x${epoch}` }) });
    assert.deepEqual([logOf(other).epoch, logOf(other).recovered, logOf(other).missed], [epoch, false, 0]);
    assert.ok(logOf(other).offset > logOf(alice).offset);
    const ahead = await relay.connect('carol', { sessions, query: since({ offset: 1_000_000, epoch }) });
    assert.equal(logOf(ahead).recovered, false);

    // The embedded log keeps 1000 events per session: 1005 later, offset 1 is gone.
    const old = { offset: 1, epoch };
    const total = 1005;
    for (let n = 0; n < total; n++) alice.send(clientFrame('chat.message', { content: `m${n}` }));
    await alice.until(() => chats(alice).length === total, `${total} chats`, 20_000);
    const late = await relay.connect('dave', { sessions, query: since(old) });
    assert.equal(logOf(late).recovered, false);
    assert.equal(logOf(late).missed, 0);
    alice.send(clientFrame('chat.message', { content: 'live' }));
    await late.next('chat.message');
    assert.deepEqual(chats(late), ['live']);
    // Just inside the window still works.
    const recent = await relay.connect('erin', { sessions, query: since({ offset: logOf(late).offset - 3, epoch }) });
    assert.equal(logOf(recent).recovered, true);
    assert.equal(logOf(recent).missed, logOf(recent).offset - (logOf(late).offset - 3));
  });

  it('gives a first connection asking with since_offset=0 alone the session so far (a late joiner): its start, else its tail', async () => {
    const sessions = freshSession();
    const alice = await relay.connect('alice', { sessions });
    for (let n = 0; n < 3; n++) alice.send(clientFrame('chat.message', { content: `early ${n}` }));
    alice.send(clientFrame('chat.message', { content: 'not for carol', to: 'bob' }));
    await alice.until(() => chats(alice).length === 4, 'alice to see her messages');
    const carol = await relay.connect('carol', { sessions, query: '&since_offset=0' });
    const log = logOf(carol);
    assert.equal(log.recovered, true);
    // Alice's join and three chats (the direct message is bob's and alice's only).
    assert.equal(log.missed, 4);
    await carol.until(() => chats(carol).length === 3, 'the history');
    assert.deepEqual(chats(carol), ['early 0', 'early 1', 'early 2']);
    alice.send(clientFrame('chat.message', { content: 'live' }));
    await carol.next('chat.message', (f) => f.payload.content === 'live');
    assert.deepEqual(chats(carol), ['early 0', 'early 1', 'early 2', 'live'], 'nothing twice');

    // Once the log has dropped the start, the last 500 events.
    const total = 1005;
    for (let n = 0; n < total; n++) alice.send(clientFrame('chat.message', { content: `m${n}` }));
    await alice.until(() => chats(alice).length === total + 5, `${total} chats`, 20_000);
    const dave = await relay.connect('dave', { sessions, query: '&since_offset=0' });
    assert.equal(logOf(dave).recovered, true);
    assert.equal(logOf(dave).missed, 500);
    await dave.until(() => chats(dave).length === 500, 'the tail of the history');
    assert.equal(chats(dave).at(-1), `m${total - 1}`);
  });

  it('refuses bad resume positions at the upgrade with 400 VALIDATION_FAILED naming the parameter', async () => {
    const token = relay.token({ user: 'mallory' });
    const cases: Array<[string, string]> = [
      ['since_offset=-1&since_epoch=abc', 'since_offset'],
      ['since_offset=abc&since_epoch=abc', 'since_offset'],
      ['since_offset=1e3&since_epoch=abc', 'since_offset'],
      ['since_offset=01&since_epoch=abc', 'since_offset'],
      ['since_offset=99999999999999999999&since_epoch=abc', 'since_offset'],
      ['since_offset=&since_epoch=abc', 'since_offset'],
      ['since_epoch=abc', 'since_offset'],
      ['since_offset=3', 'since_epoch'],
      ['since_offset=3&since_epoch=', 'since_epoch'],
      ['since_offset=3&since_epoch=a%20b', 'since_epoch'],
      [`since_offset=3&since_epoch=${'e'.repeat(65)}`, 'since_epoch'],
    ];
    for (const [query, parameter] of cases) {
      const refusal = await refusedUpgrade(`${relay.url}?token=${token}&${query}`);
      assert.equal(refusal.status, 400, query);
      assert.equal(refusal.body.code, 'VALIDATION_FAILED', query);
      assert.match(String(refusal.body.message), new RegExp(`^${parameter}: `), query);
    }
  });

  it(
    'logs a chat message once per (user, client_message_id): a resend is dropped, or shown to a sender that cannot have seen ' + 'it',
    async () => {
      const sessions = freshSession();
      const alice = await relay.connect('alice', { sessions });
      const bob = await relay.connect('bob', { sessions });
      const send = (client: TestClient, content: string, id: string) =>
        client.send(clientFrame('chat.message', { content, client_message_id: id }));
      send(alice, 'once', 'a1');
      send(alice, 'once (resent)', 'a1');
      await bob.next('chat.message');
      send(bob, 'same id, other user', 'a1');
      await alice.next('chat.message', (f) => f.payload.content === 'same id, other user');
      send(alice, 'marker', 'a2');
      await bob.next('chat.message', (f) => f.payload.content === 'marker');
      await alice.next('chat.message', (f) => f.payload.content === 'marker');
      assert.deepEqual(chats(bob), ['once', 'same id, other user', 'marker']);
      assert.deepEqual(chats(alice), ['once', 'same id, other user', 'marker'], 'the sender saw its original; the resend is dropped');

      // A connection admitted after the original, not resuming (a restarted client): it gets the
      // original (no offset: it is not a new log event) and nobody else sees anything.
      const original = alice.of('chat.message')[0]!;
      const restarted = await relay.connect('alice', { sessions });
      send(restarted, 'once (after a restart)', 'a1');
      const echo = await restarted.next('chat.message');
      assert.equal(echo.payload.content, 'once');
      assert.equal(echo.payload.message_id, original.payload.message_id);
      assert.equal(offsetOf(echo), undefined);
      // A resuming connection saw the original among its missed events: the resend is dropped.
      const resumed = await relay.connect('alice', {
        sessions,
        query: since({ offset: offsetOf(original)! - 1, epoch: logOf(alice).epoch }),
      });
      assert.equal(resumed.of('chat.message')[0]?.payload.client_message_id, 'a1');
      send(resumed, 'once (after a resume)', 'a1');
      send(alice, 'end', 'a3');
      for (const client of [alice, bob, restarted, resumed]) await client.next('chat.message', (f) => f.payload.content === 'end');
      const alicesA1 = (client: TestClient) =>
        client.of('chat.message').filter((f) => f.user_id === 'alice' && f.payload.client_message_id === 'a1');
      assert.equal(alicesA1(resumed).length, 1);
      assert.equal(alicesA1(restarted).length, 1);
      assert.deepEqual(chats(bob), ['once', 'same id, other user', 'marker', 'end']);
    },
  );
});

/** The no-gap no-duplicate property while publications race every resume. */
async function raceResumes(publisherRelay: TestRelay, resumerRelays: TestRelay[]): Promise<void> {
  const sessions = freshSession();
  const publisher = await publisherRelay.connect('publisher', { sessions });
  const connections: TestClient[] = [await resumerRelays[0]!.connect('resumer', { sessions })];
  let asked: { offset: number; epoch: string } | undefined;
  const total = 400;
  let sent = 0;
  const publishing = (async () => {
    while (sent < total) {
      publisher.send(clientFrame('chat.message', { content: `m${sent++}` }));
      // A few at a time, so that resumes land in between.
      if (sent % 8 === 0) await publisher.next('chat.message', (f) => f.payload.content === `m${sent - 1}`, 10_000);
    }
  })();
  let resumes = 0;
  while (sent < total) {
    const current = connections.at(-1)!;
    // Dropped at a different point each time (at once, or while replayed and live events arrive).
    await sleep((resumes % 4) * 3);
    current.socket.terminate();
    await current.closed;
    const relay = resumerRelays[++resumes % resumerRelays.length]!;
    asked = lastPosition(current, asked);
    const next = await relay.connect('resumer', { sessions, query: since(asked) });
    assert.equal(logOf(next).recovered, true, `resume ${resumes}`);
    connections.push(next);
  }
  await publishing;
  const last = connections.at(-1)!;
  // The last chat may have reached an earlier connection; only the last one still receives.
  await last.until(() => connections.some((c) => chats(c).includes(`m${total - 1}`)), 'the last chat', 15_000);
  await sleep(100); // nothing more is on its way
  const everything = connections.flatMap((c) => c.frames.slice(1));
  const offsets = everything.map(offsetOf).filter((o): o is number => o !== undefined);
  assert.ok(
    offsets.every((o, i) => i === 0 || o > offsets[i - 1]!),
    'offsets strictly increase across connections: nothing twice, in order',
  );
  const received = connections.flatMap(chats);
  assert.deepEqual(
    received,
    Array.from({ length: total }, (_, n) => `m${n}`),
    `every chat once, in order, over ${resumes} resumes`,
  );
  assert.ok(resumes >= 3, `only ${resumes} resumes`);
}

describe('session log on two relays sharing a real redis-server', () => {
  let redis: RedisServer;
  let a: TestRelay;
  let b: TestRelay;
  before(async () => {
    redis = await startRedisServer();
    a = await startTestRelay({ ...settings, RELAY_ID: 'relay-a', REDIS_URL: redis.url });
    b = await startTestRelay({ ...settings, RELAY_ID: 'relay-b', REDIS_URL: redis.url });
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
    await redis?.dispose();
  });
  afterEach((t) => redis.printLogIfFailed(t));

  it('resumes on the other relay with exactly what was missed', async () => {
    const sessions = freshSession();
    const alice = await a.connect('alice', { sessions });
    let bob = await a.connect('bob', { sessions });
    const position = lastPosition(bob);
    bob.socket.terminate();
    await bob.closed;
    for (let n = 0; n < 3; n++) alice.send(clientFrame('chat.message', { content: `missed ${n}` }));
    await alice.until(() => chats(alice).length === 3, 'three chats');
    bob = await b.connect('bob', { sessions, query: since(position) });
    assert.equal(logOf(bob).recovered, true);
    await bob.until(() => chats(bob).length === 3, 'the missed chats');
    assert.deepEqual(chats(bob), ['missed 0', 'missed 1', 'missed 2']);
    const epochs = new Set([logOf(alice).epoch, logOf(bob).epoch]);
    assert.equal(epochs.size, 1, 'one epoch across relays');
  });

  it('no gap and no duplicate while publications race the resume (publisher on one relay, resumes on both)', async () => {
    await raceResumes(b, [a, b]);
  });

  it('dedupes a chat resend that reaches the other relay', async () => {
    const sessions = freshSession();
    const onA = await a.connect('alice', { sessions });
    const reader = await b.connect('bob', { sessions });
    onA.send(clientFrame('chat.message', { content: 'first', client_message_id: 'x1' }));
    await reader.next('chat.message');
    const onB = await b.connect('alice', { sessions, query: since({ offset: logOf(onA).offset, epoch: logOf(onA).epoch }) });
    onB.send(clientFrame('chat.message', { content: 'resent', client_message_id: 'x1' }));
    onB.send(clientFrame('chat.message', { content: 'next', client_message_id: 'x2' }));
    await reader.next('chat.message', (f) => f.payload.content === 'next');
    await onB.next('chat.message', (f) => f.payload.content === 'next');
    assert.deepEqual(chats(reader), ['first', 'next']);
    assert.deepEqual(chats(onB), ['first', 'next']);
  });
});

describe('session log: no gap, no duplicate (embedded broker)', () => {
  it('while publications race the resume', async () => {
    const relay = await startTestRelay(settings);
    try {
      await raceResumes(relay, [relay]);
    } finally {
      await relay.stop();
    }
  });
});

describe('SESSION_LOG_SIZE: how many events a session keeps for resume', () => {
  /** 25 events after `old`, with a log of 20: `old` is gone, 5 back still resumes exactly. */
  async function checkWindow(relays: [TestRelay, TestRelay]): Promise<void> {
    const [a, b] = relays;
    const sessions = freshSession();
    const alice = await a.connect('alice', { sessions });
    const old = lastPosition(alice);
    for (let n = 0; n < 25; n++) alice.send(clientFrame('chat.message', { content: `m${n}` }));
    await alice.until(() => chats(alice).length === 25, '25 chats');
    const late = await b.connect('dave', { sessions, query: since(old) });
    assert.deepEqual([logOf(late).recovered, logOf(late).missed], [false, 0], 'further behind than the log keeps');
    const head = logOf(late).offset;
    const recent = await b.connect('erin', { sessions, query: since({ offset: head - 5, epoch: old.epoch }) });
    assert.equal(logOf(recent).recovered, true);
    await recent.until(() => chats(recent).length >= 4, 'the missed chats');
    assert.deepEqual(chats(recent).slice(-4), ['m21', 'm22', 'm23', 'm24'], 'the last of what it missed, in order');
  }

  it('bounds the embedded log', async () => {
    const relay = await startTestRelay({ ...settings, SESSION_LOG_SIZE: '20' });
    try {
      await checkWindow([relay, relay]);
    } finally {
      await relay.stop();
    }
  });

  it('bounds the log in Redis, for every relay', async () => {
    const redis = await startRedisServer();
    const a = await startTestRelay({ ...settings, SESSION_LOG_SIZE: '20', RELAY_ID: 'relay-a', REDIS_URL: redis.url });
    const b = await startTestRelay({ ...settings, SESSION_LOG_SIZE: '20', RELAY_ID: 'relay-b', REDIS_URL: redis.url });
    try {
      await checkWindow([a, b]);
    } finally {
      await a.stop();
      await b.stop();
      await redis.dispose();
    }
  });
});
