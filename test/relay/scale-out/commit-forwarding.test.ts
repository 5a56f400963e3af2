import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { mintToken } from '../../../relay/auth/tokens';
import { ensureRelayBuilt } from '../../support/cli';
import { OtPeer } from '../../support/ot-peer';
import { parseSamples, sampleValue } from '../../support/prometheus-text';
import { type RedisServer, startRedisServer } from '../../support/redis-server';
import { httpRequest, openDocument, startTestRelay, TEST_SECRET } from '../../support/relay-fixture';
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
      const PER_TYPIST = 120;
      // Everyone types their key at offset 0 at the same moment, round after round.
      for (let round = 0; round < PER_TYPIST; round++) {
        for (const [i, typist] of typists.entries()) typist.edit([keys[i]!]);
        await sleep(round % 4 === 0 ? 2 : 0);
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
        assert.equal(count, PER_TYPIST + (i === 0 ? 1 : 0), `every "${key}" once`);
      }
      assert.equal(text.length, 4 * PER_TYPIST + 2, 'nothing else, nothing twice');
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

  it('a home that stops answering mid-forward (SIGSTOP): the other commits by itself; woken, the home applies nothing twice', async () => {
    const home = await RelayProcess.start({ ...settings('fwd-home'), REDIS_URL: redis.url });
    const other = await startTestRelay({ ...settings('fwd-other'), REDIS_URL: redis.url });
    try {
      const sessions = [freshSession()];
      const DOC = 'src/frozen-home.ts';
      const alice = await peer(home.url, 'alice', sessions, DOC, '');
      alice.edit(['<a>']);
      await waitUntil(() => alice.settled, 'alice’s edit acknowledged');
      const bob = await peer(other.url, 'bob', sessions, DOC);
      // Bob types one token after another at the end, each its own edit while the last is acknowledged.
      let typed = 0;
      const type = async (count: number, pauseMs: number) => {
        for (let n = 0; n < count; n++) {
          bob.edit([bob.text.length, `<b${typed++}>`]);
          await sleep(pauseMs);
        }
      };
      // The first of Bob's commits teaches his relay who commits the document; the next are forwarded.
      await type(10, 5);
      await waitUntil(() => bob.settled, 'bob’s first edits acknowledged');
      assert.ok((await forwards(other.httpUrl)).answered > 0, 'bob’s relay forwards to the home');
      process.kill(home.pid!, 'SIGSTOP');
      try {
        // Forwards the home will only read when it wakes up; the first goes unanswered, and bob's
        // relay commits those edits, and the next ones, itself.
        await type(30, 20);
        await waitUntil(() => bob.settled, 'bob’s edits acknowledged with the home frozen', 15_000);
        const onOther = await forwards(other.httpUrl);
        assert.ok(onOther.unanswered >= 1, `a forward went unanswered (${JSON.stringify(onOther)})`);
      } finally {
        process.kill(home.pid!, 'SIGCONT');
      }
      // The home reads the forwards it slept through: every one of those edits is committed already.
      await sleep(1500);
      await type(10, 5);
      await waitUntil(() => bob.settled && alice.settled, 'both in step', 15_000);
      await waitUntil(() => alice.text === bob.text, 'alice on the home has bob’s text', 10_000);
      assert.deepEqual(
        peers.flatMap((p) => p.problems),
        [],
      );
      const watcher = await other.connect('watcher', { role: 'viewer', sessions });
      const snapshot = await openDocument(watcher, DOC);
      assert.equal(snapshot.text, bob.text);
      const tokens = snapshot.text.match(/<[^>]+>/g) ?? [];
      assert.deepEqual(tokens, ['<a>', ...Array.from({ length: typed }, (_, n) => `<b${n}>`)], 'every token once, in order');
      assert.equal(snapshot.text, tokens.join(''));
    } finally {
      await other.stop();
      await home.stop();
    }
  });
  it('a home that stops gracefully tells the relays it served: they commit by themselves at once, nothing waits for answers', async () => {
    const home = await startTestRelay({ ...settings('fwd-leaving'), REDIS_URL: redis.url });
    const other = await startTestRelay({ ...settings('fwd-staying'), REDIS_URL: redis.url });
    try {
      const sessions = [freshSession()];
      const DOC = 'src/leaving-home.ts';
      const alice = await peer(home.url, 'alice', sessions, DOC, '');
      alice.edit(['<a>']);
      await waitUntil(() => alice.settled, 'alice’s edit acknowledged');
      const bob = await peer(other.url, 'bob', sessions, DOC);
      let typed = 0;
      const type = async (count: number) => {
        for (let n = 0; n < count; n++) {
          bob.edit([bob.text.length, `<b${typed++}>`]);
          await sleep(5);
        }
        await waitUntil(() => bob.settled, 'bob’s edits acknowledged');
      };
      await type(10);
      assert.ok((await forwards(other.httpUrl)).answered > 0, 'bob’s relay forwards to the home');
      await home.stop();
      await type(20);
      const onOther = await forwards(other.httpUrl);
      assert.equal(onOther.unanswered, 0, `no forward went unanswered (${JSON.stringify(onOther)})`);
      const watcher = await other.connect('watcher', { role: 'viewer', sessions });
      const snapshot = await openDocument(watcher, DOC);
      assert.equal(snapshot.text, ['<a>', ...Array.from({ length: typed }, (_, n) => `<b${n}>`)].join(''));
    } finally {
      await other.stop();
      await home.stop().catch(() => undefined);
    }
  });
});
