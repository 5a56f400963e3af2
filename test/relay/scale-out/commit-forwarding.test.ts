import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { textType } from '../../../protocol';
import { RedisBroker } from '../../../relay/broker/redis-broker';
import { RedisConnections } from '../../../relay/redis/redis-connection';
import { mintToken } from '../../../relay/auth/tokens';
import { ensureRelayBuilt } from '../../support/cli';
import { OtPeer } from '../../support/ot-peer';
import { parseSamples, sampleValue } from '../../support/prometheus-text';
import { type RedisServer, startRedisServer } from '../../support/redis-server';
import { clientFrame, httpRequest, LogSink, openDocument, startTestRelay, TEST_SECRET, type TestRelay } from '../../support/relay-fixture';
import { RelayProcess } from '../../support/relay-process';
import { sleep, waitUntil } from '../../support/wait';

// Needs /usr/bin/redis-server: the test's own, on a free port.
/**
 * Commit forwarding (relay/documents/commit-forwarding.ts): of two relays on one Redis, the one
 * that holds a document's commit lease commits every edit of it, the other forwards its clients'
 * edits there. What is counted is every character: same key, same place, same moment, from both
 * relays; and a home that stops answering in the middle of a forward.
 */
describe('commit forwarding between relays', () => {
  let redis: RedisServer;
  let counter = 0;
  const freshSession = () => `fwd-${process.pid}-${++counter}`;
  const settings = (id: string) => ({
    RELAY_ID: id,
    AUTH_SECRET: TEST_SECRET,
    WS_MAX_MESSAGES_PER_SECOND: '100000',
    WS_MAX_CONNECTIONS_PER_IP_PER_MINUTE: '1000000',
  });
  const peers: OtPeer[] = [];
  const peer = async (url: string, user: string, sessions: string[], document: string, text?: string) => {
    const token = mintToken(TEST_SECRET, { user, sessions, role: 'host', ttl: '5m' });
    const p = new OtPeer(url, token, `${user}-client`, document, text);
    peers.push(p);
    await p.start();
    return p;
  };
  /** Types tokens at the end of the document, each an edit of its own while the last is on its way: `<name><n>`. */
  const typist = (p: OtPeer, name: string) => {
    let typed = 0;
    return {
      peer: p,
      type: () => p.edit(textType.fromChange(p.text.length, '', `<${name}${typed++}>`)),
      tokens: () => Array.from({ length: typed }, (_, n) => `<${name}${n}>`),
    };
  };
  type Typist = ReturnType<typeof typist>;
  /**
   * Everyone types at once, as fast as edits are acknowledged, until `relay` finds the document
   * contended (it lost commit races to the other) and forwards: forwarding only starts then.
   */
  const contend = async (typists: Typist[], relay: string) => {
    const before = (await forwards(relay)).answered;
    for (let round = 0; round < 2000; round++) {
      for (const t of typists) t.type();
      await sleep(1);
      if (round % 10 === 9 && (await forwards(relay)).answered > before) break;
    }
    await waitUntil(() => typists.every((t) => t.peer.settled), 'every typist in step', 15_000);
    assert.ok((await forwards(relay)).answered > before, 'the relay forwards to the home');
  };
  /**
   * Alice on the home relay creates `DOC` and commits first (its relay takes the commit lease),
   * Bob joins on `other`, and they type at once until Bob's relay forwards to the home.
   */
  const forwarding = async (homeUrl: string, other: { url: string; httpUrl: string }, DOC: string) => {
    const sessions = [freshSession()];
    const alice = typist(await peer(homeUrl, 'alice', sessions, DOC, ''), 'a');
    alice.type();
    await waitUntil(() => alice.peer.settled, 'alice’s edit acknowledged');
    const bob = typist(await peer(other.url, 'bob', sessions, DOC), 'b');
    await contend([alice, bob], other.httpUrl);
    return { sessions, DOC, alice, bob };
  };
  /**
   * Alice and Bob type on together; then both have one text, nobody saw a problem, and a viewer
   * joining on `relay` reads that text, every token of theirs once.
   */
  const typeOnTogether = async (relay: TestRelay, sessions: string[], DOC: string, alice: Typist, bob: Typist) => {
    for (let n = 0; n < 10; n++) {
      alice.type();
      bob.type();
      await sleep(5);
    }
    await waitUntil(() => alice.peer.settled && bob.peer.settled && alice.peer.text === bob.peer.text, 'both in step', 20_000);
    assert.deepEqual(
      peers.flatMap((p) => p.problems),
      [],
    );
    const watcher = await relay.connect('watcher', { role: 'viewer', sessions });
    const snapshot = await openDocument(watcher, DOC);
    assert.equal(snapshot.text, bob.peer.text);
    assert.deepEqual(tokensOf(snapshot.text), expected([alice, bob]), 'every token once');
  };
  /** The tokens of `text` (which holds nothing else), sorted: each typist's once, whatever the order. */
  const tokensOf = (text: string) => {
    const tokens = text.match(/<[^>]+>/g) ?? [];
    assert.equal(tokens.join(''), text, 'nothing but whole tokens');
    return tokens.sort();
  };
  const expected = (typists: Typist[]) => typists.flatMap((t) => t.tokens()).sort();
  /** The relay that holds the document's commit lease (its home): its store instance, from the document's meta hash. */
  const leaseHolder = (redisConnections: RedisConnections, session: string, DOC: string) =>
    redisConnections.command.hget(`tandem:doc:{${session}}:${DOC}:meta`, 'h');
  /** The messages of kind `t` ('forward', 'answer') published from now on on a relay's forward channel (its shard channel). */
  const messagesOn = async (redisConnections: RedisConnections, channel: string, t: string) => {
    const seen: string[] = [];
    redisConnections.subscriber.on('smessage', (from: string, payload: string) => {
      if (from === channel && payload.includes(`"t":"${t}"`)) seen.push(payload);
    });
    await redisConnections.subscriber.ssubscribe(channel);
    return seen;
  };
  /** The relay's `tandem_edit_forwards_total`, by outcome. */
  const forwards = async (httpUrl: string) => {
    const samples = parseSamples((await httpRequest(`${httpUrl}/metrics`)).text);
    const of = (outcome: string) => sampleValue(samples, 'tandem_edit_forwards_total', { outcome }) ?? 0;
    return { answered: of('answered'), unanswered: of('unanswered'), served: of('served') };
  };

  before(async () => {
    ensureRelayBuilt();
    redis = await startRedisServer();
  });
  after(async () => {
    await redis?.dispose();
  });
  afterEach((t) => {
    for (const p of peers.splice(0)) p.dispose();
    redis.printLogIfFailed(t);
  });

  it('the same key at the same place at once, from both relays: one relay commits them all, every character once', async () => {
    const a = await startTestRelay({ ...settings('fwd-a'), REDIS_URL: redis.url });
    const b = await startTestRelay({ ...settings('fwd-b'), REDIS_URL: redis.url });
    try {
      const sessions = [freshSession()];
      const DOC = 'src/same-place.ts';
      const alice = await peer(a.url, 'alice', sessions, DOC, '|');
      // Alice's relay commits first: it takes the document's lease, the other learns so from its first commit.
      alice.edit(['a']);
      await waitUntil(() => alice.settled, 'alice’s first edit acknowledged');
      const typists = [
        alice,
        await peer(b.url, 'bob', sessions, DOC),
        await peer(b.url, 'carol', sessions, DOC),
        await peer(a.url, 'dave', sessions, DOC),
      ];
      const keys = ['a', 'b', 'c', 'd'];
      // Everyone types their key at offset 0 at the same moment, round after round, until relay b
      // has lost enough races to forward (and at least 120 rounds).
      let rounds = 0;
      while (rounds < 120 || (rounds < 3000 && (await forwards(b.httpUrl)).answered === 0)) {
        for (let n = 0; n < 20; n++, rounds++) {
          for (const [i, t] of typists.entries()) t.edit([keys[i]!]);
          await sleep(rounds % 4 === 0 ? 2 : 0);
        }
      }
      await waitUntil(() => typists.every((p) => p.settled || p.problems.length > 0), 'every typist in step', 20_000);
      assert.deepEqual(
        typists.flatMap((p) => p.problems),
        [],
      );
      await waitUntil(() => new Set(typists.map((p) => p.text)).size === 1, 'every typist has the same text', 5000);
      for (const relay of [a, b]) {
        const watcher = await relay.connect(`watcher-${relay.relay.relayId}`, { role: 'viewer', sessions });
        const snapshot = await openDocument(watcher, DOC);
        assert.equal(snapshot.text, alice.text, `the text on ${relay.relay.relayId}`);
      }
      const text = alice.text;
      assert.equal(text.endsWith('|'), true);
      for (const [i, key] of keys.entries()) {
        const count = [...text].filter((c) => c === key).length;
        assert.equal(count, rounds + (i === 0 ? 1 : 0), `every "${key}" once`);
      }
      assert.equal(text.length, 4 * rounds + 2, 'nothing else, nothing twice');
      // Bob's and Carol's edits went to Alice's relay, which committed them: nothing went unanswered.
      const [onA, onB] = [await forwards(a.httpUrl), await forwards(b.httpUrl)];
      assert.ok(onB.answered > 0, `relay b forwarded (${JSON.stringify(onB)})`);
      assert.ok(onA.served > 0, `relay a committed forwarded edits (${JSON.stringify(onA)})`);
      assert.equal(onA.answered, 0, 'relay a, the home, forwarded nothing');
      assert.equal(onA.unanswered + onB.unanswered, 0);
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it('the home answers only a forward with an edit it did not commit: the others’ relay sees its commits in their echoes', async () => {
    const home = await startTestRelay({ ...settings('fwd-quiet-home'), REDIS_URL: redis.url });
    const other = await startTestRelay({ ...settings('fwd-echoes'), REDIS_URL: redis.url });
    const listener = await RedisConnections.open(redis.url, { name: 'fwd-listener', connectTimeoutMs: 5000 });
    try {
      const { sessions, DOC, alice, bob } = await forwarding(home.url, other, 'src/echoes.ts');
      // The forward channel of Bob's relay: the one that is not the lease holder's.
      const holder = await leaseHolder(listener, sessions[0]!, DOC);
      const channels = (await listener.command.call('PUBSUB', 'SHARDCHANNELS', 'tandem:forward:*')) as string[];
      const channel = channels.find((c) => c !== `tandem:forward:{${holder}}`);
      assert.ok(holder && channel, `two forward channels (${channels.join(', ')})`);
      const answers = await messagesOn(listener, channel, 'answer');
      // Every forwarded edit committed at the home: their relay learns it from the echoes alone.
      await contend([alice, bob], other.httpUrl);
      assert.deepEqual(answers, [], 'no answer to forwards of committed edits');
      // A resend of an edit (same client, same seq) is not committed again, and no publication
      // says so: the home answers it, and the resend is acked like the original.
      const eve = await other.connect('eve', { role: 'host', sessions });
      const { rev } = await openDocument(eve, DOC);
      let seq = 0;
      for (; seq < 50 && answers.length === 0; seq++) {
        await contend([alice, bob], other.httpUrl);
        const edit = clientFrame('collaboration.edit', { document: DOC, client_id: 'c-eve', rev, seq, op: [`<e${seq}>`] });
        eve.send(edit);
        eve.send(edit);
        await eve.until(() => eve.of('collaboration.ack').filter((a) => a.payload.seq === seq).length === 2, `edit ${seq} acked twice`);
      }
      assert.ok(answers.length > 0, 'a resend was forwarded and answered');
      for (let n = 0; n < seq; n++) {
        const acks = eve.of('collaboration.ack').filter((a) => a.payload.seq === n);
        assert.equal(acks[0]!.payload.rev, acks[1]!.payload.rev, `the resend of edit ${n} acked at the original’s revision`);
      }
      await waitUntil(() => alice.peer.settled && bob.peer.settled && alice.peer.text === bob.peer.text, 'both in step');
      const eves = Array.from({ length: seq }, (_, n) => `<e${n}>`);
      assert.deepEqual(tokensOf(alice.peer.text), [...expected([alice, bob]), ...eves].sort(), 'every token once, each resend none');
      assert.equal((await forwards(other.httpUrl)).unanswered, 0, 'nothing waited for an answer that did not come');
    } finally {
      await listener.close();
      await other.stop();
      await home.stop();
    }
  });

  it('forwards go one after another, not each after the answer to the last', async () => {
    const home = await RelayProcess.start({ ...settings('fwd-busy-home'), REDIS_URL: redis.url });
    const other = await startTestRelay({ ...settings('fwd-pipeline'), REDIS_URL: redis.url });
    const listener = await RedisConnections.open(redis.url, { name: 'fwd-counter', connectTimeoutMs: 5000 });
    try {
      const { sessions, DOC, alice, bob } = await forwarding(home.url, other, 'src/pipelined.ts');
      await waitUntil(() => alice.peer.settled && bob.peer.settled, 'both in step');
      const holder = await leaseHolder(listener, sessions[0]!, DOC);
      const forwardsSeen = await messagesOn(listener, `tandem:forward:{${holder}}`, 'forward');
      const carol = typist(await peer(other.url, 'carol', sessions, DOC), 'c');
      // The home frozen: no answer comes. Bob's edit goes in one forward; Carol's, a moment later,
      // goes in the next at once, not after the first one's answer (or its timeout, 750 ms).
      process.kill(home.pid!, 'SIGSTOP');
      try {
        bob.type();
        await sleep(30);
        carol.type();
        await waitUntil(() => forwardsSeen.length >= 2, 'two forwards under way at once', 500);
      } finally {
        process.kill(home.pid!, 'SIGCONT');
      }
      const everyone = [alice, bob, carol];
      await waitUntil(() => everyone.every((t) => t.peer.settled && t.peer.text === alice.peer.text), 'everyone in step', 10_000);
      assert.deepEqual(tokensOf(alice.peer.text), expected(everyone), 'every token once');
    } finally {
      await listener.close();
      await other.stop();
      await home.stop();
    }
  });

  it('a cursor never overtakes its sender’s forwarded edit', async () => {
    const home = await startTestRelay({ ...settings('fwd-cursor-home'), REDIS_URL: redis.url });
    const other = await startTestRelay({ ...settings('fwd-cursor-other'), REDIS_URL: redis.url });
    try {
      const { sessions, DOC } = await forwarding(home.url, other, 'src/cursor-after-edit.ts');
      const watcher = await home.connect('walt', { role: 'host', sessions });
      await openDocument(watcher, DOC);
      const eve = await other.connect('eve', { role: 'host', sessions });
      let { rev } = await openDocument(eve, DOC);
      const before = (await forwards(other.httpUrl)).answered;
      // Each edit followed at once by a cursor placed after it: the cursor is published by Eve's
      // relay, the edit by the home; the watcher must get the edit first.
      const rounds = 5;
      for (let seq = 0; seq < rounds; seq++) {
        eve.send(clientFrame('collaboration.edit', { document: DOC, client_id: 'c-eve', rev, seq, op: [`<e${seq}>`] }));
        eve.send(clientFrame('collaboration.cursor', { document: DOC, rev, selections: [{ anchor: 4, head: 4 }] }));
        rev = (await eve.next('collaboration.ack', (a) => a.payload.seq === seq)).payload.rev;
      }
      const fromEve = () =>
        watcher.frames.filter(
          (f) => f.user_id === 'eve' && (f.event_type === 'collaboration.edit' || f.event_type === 'collaboration.cursor'),
        );
      await watcher.until(() => fromEve().filter((f) => f.event_type === 'collaboration.cursor').length === rounds, 'every cursor');
      assert.deepEqual(
        fromEve().map((f) => f.event_type),
        Array.from({ length: rounds }, () => ['collaboration.edit', 'collaboration.cursor']).flat(),
        'each edit before the cursor that followed it',
      );
      assert.ok((await forwards(other.httpUrl)).answered > before, 'Eve’s edits were forwarded');
    } finally {
      await other.stop();
      await home.stop();
    }
  });

  it('a few edits a second from both relays, taking turns: each relay commits its own, nothing is forwarded', async () => {
    const a = await startTestRelay({ ...settings('fwd-calm-a'), REDIS_URL: redis.url });
    const b = await startTestRelay({ ...settings('fwd-calm-b'), REDIS_URL: redis.url });
    try {
      const sessions = [freshSession()];
      const DOC = 'src/calm.ts';
      const alice = typist(await peer(a.url, 'alice', sessions, DOC, ''), 'a');
      const bob = typist(await peer(b.url, 'bob', sessions, DOC), 'b');
      for (let round = 0; round < 15; round++) {
        alice.type();
        await sleep(50);
        bob.type();
        await sleep(50);
      }
      await waitUntil(() => alice.peer.settled && bob.peer.settled && alice.peer.text === bob.peer.text, 'both in step');
      assert.deepEqual(tokensOf(bob.peer.text), expected([alice, bob]));
      // A forward costs two messages between relays: worth it only against races, which are rare here.
      assert.deepEqual(
        [await forwards(a.httpUrl), await forwards(b.httpUrl)],
        [
          { answered: 0, unanswered: 0, served: 0 },
          { answered: 0, unanswered: 0, served: 0 },
        ],
      );
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it('a home that stops answering mid-forward (SIGSTOP): the other commits by itself; woken, the home applies nothing twice', async () => {
    const home = await RelayProcess.start({ ...settings('fwd-home'), REDIS_URL: redis.url });
    const other = await startTestRelay({ ...settings('fwd-other'), REDIS_URL: redis.url });
    try {
      const { sessions, DOC, alice, bob } = await forwarding(home.url, other, 'src/frozen-home.ts');
      process.kill(home.pid!, 'SIGSTOP');
      try {
        // Forwards the home will only read when it wakes up; the first goes unanswered, and bob's
        // relay commits those edits, and the next ones, itself.
        for (let n = 0; n < 30; n++) {
          bob.type();
          await sleep(20);
        }
        await waitUntil(() => bob.peer.settled, 'bob’s edits acknowledged with the home frozen', 15_000);
        const onOther = await forwards(other.httpUrl);
        assert.ok(onOther.unanswered >= 1, `a forward went unanswered (${JSON.stringify(onOther)})`);
      } finally {
        process.kill(home.pid!, 'SIGCONT');
      }
      // The home reads the forwards it slept through: every one of those edits is committed already.
      await sleep(1500);
      await typeOnTogether(other, sessions, DOC, alice, bob);
    } finally {
      await other.stop();
      await home.stop();
    }
  });

  it('a home killed (kill -9) in the middle of forwards, then restarted: nothing lost, nothing twice, on either side', async () => {
    const home = await RelayProcess.start({ ...settings('fwd-killed'), REDIS_URL: redis.url });
    const other = await startTestRelay({ ...settings('fwd-survivor'), REDIS_URL: redis.url });
    try {
      const { sessions, DOC, alice, bob } = await forwarding(home.url, other, 'src/killed-home.ts');
      // Both keep typing: Alice's edits die with her relay's connection (her client keeps them),
      // Bob's forwards go unanswered and his relay commits them itself.
      const typing = (async () => {
        for (let n = 0; n < 40; n++) {
          alice.type();
          bob.type();
          await sleep(10);
        }
      })();
      await sleep(50);
      await home.kill();
      await typing;
      await waitUntil(() => bob.peer.settled, 'bob’s edits acknowledged with the home gone', 15_000);
      assert.ok((await forwards(other.httpUrl)).unanswered >= 1, 'a forward went unanswered');
      // The relay comes back (another instance: the old lease names a relay that is gone), Alice's
      // client rejoins with the edits it still had, and both type on.
      await home.restart();
      await typeOnTogether(other, sessions, DOC, alice, bob);
    } finally {
      await other.stop();
      await home.stop();
    }
  });

  it('messages on a relay’s forward channel that are not forwards are dropped with a log line; forwarding goes on', async () => {
    const sink = new LogSink();
    const home = await startTestRelay({ ...settings('fwd-target'), REDIS_URL: redis.url, LOG_LEVEL: 'warn' }, { logSink: sink });
    const other = await startTestRelay({ ...settings('fwd-sender'), REDIS_URL: redis.url });
    const connections = await RedisConnections.open(redis.url, { name: 'fwd-intruder', connectTimeoutMs: 5000 });
    const broker = new RedisBroker(connections, { relayId: 'fwd-intruder', prefix: 'tandem:', livenessIntervalMs: 0 });
    try {
      const { sessions, DOC, alice, bob } = await forwarding(home.url, other, 'src/garbage.ts');
      // The lease names the home's instance: its forward channel.
      const instance = await leaseHolder(connections, sessions[0]!, DOC);
      assert.ok(instance, 'the document has a lease holder');
      const edit = { document: DOC, rev: 0, client_id: 'x', seq: 1 };
      const garbage = [
        'not json',
        JSON.stringify({ t: 'forward' }),
        JSON.stringify({
          t: 'forward',
          from: 'fwd-intruder',
          id: 1,
          session: sessions[0],
          edits: [{ userId: 'u', connectionId: 'c', edit: { ...edit, op: [0] } }],
        }),
        JSON.stringify({ t: 'answer', id: 'one', outcomes: [] }),
        JSON.stringify({ t: 'leaving' }),
      ];
      for (const data of garbage) await broker.publish(`forward:{${instance}}`, { eventType: 'document.forward', data });
      await waitUntil(
        () => sink.records('dropped a malformed forward from another relay').length === garbage.length,
        'every malformed message logged',
      );
      // The home still commits what it is sent, and answers every forward.
      await contend([alice, bob], other.httpUrl);
      await typeOnTogether(other, sessions, DOC, alice, bob);
      assert.equal((await forwards(other.httpUrl)).unanswered, 0, 'every forward answered');
    } finally {
      await broker.close();
      await other.stop();
      await home.stop();
    }
  });

  it('a home that stops gracefully tells the relays it served: they commit by themselves at once, nothing waits for answers', async () => {
    const home = await startTestRelay({ ...settings('fwd-leaving'), REDIS_URL: redis.url });
    const other = await startTestRelay({ ...settings('fwd-staying'), REDIS_URL: redis.url });
    try {
      const { sessions, DOC, alice, bob } = await forwarding(home.url, other, 'src/leaving-home.ts');
      await home.stop();
      for (let n = 0; n < 20; n++) {
        bob.type();
        await sleep(5);
      }
      await waitUntil(() => bob.peer.settled, 'bob’s edits acknowledged');
      const onOther = await forwards(other.httpUrl);
      assert.equal(onOther.unanswered, 0, `no forward went unanswered (${JSON.stringify(onOther)})`);
      const watcher = await other.connect('watcher', { role: 'viewer', sessions });
      const snapshot = await openDocument(watcher, DOC);
      assert.deepEqual(tokensOf(snapshot.text), expected([alice, bob]));
    } finally {
      await other.stop();
      await home.stop().catch(() => undefined);
    }
  });
});
