import assert from 'node:assert/strict';
import { after, afterEach, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import type { EditPayload } from '../../../protocol';
import type { Publication } from '../../../relay/broker/broker';
import { RedisBroker } from '../../../relay/broker/redis-broker';
import { type RedisConnectionOptions, RedisConnections } from '../../../relay/redis/redis-connection';
import { DocumentAuthority } from '../../../relay/documents/document-authority';
import type { CommittedOp } from '../../../relay/documents/document-store';
import { committedOpBytes, lastCommitBytes } from '../../../relay/documents/history-bytes';
import { RedisDocumentStore, type RedisDocumentStoreOptions } from '../../../relay/documents/redis-document-store';
import { type RedisServer, startRedisServer } from '../../support/redis-server';
import { waitUntil } from '../../support/wait';
import { documentStoreContract, plain } from './document-store.contract';

// Needs /usr/bin/redis-server: every server here is the test's own, on a free port.
const servers: RedisServer[] = [];
const closers: Array<() => Promise<void>> = [];
const shared = startRedisServer();

async function ownServer(options: Parameters<typeof startRedisServer>[0] = {}): Promise<RedisServer> {
  const server = await startRedisServer(options);
  servers.push(server);
  return server;
}

let relayCounter = 0;
/** A relay's view: its own Redis connections and store (and cache). */
async function storeOn(
  url: string,
  options: RedisDocumentStoreOptions = {},
  connection: Partial<RedisConnectionOptions> = {},
): Promise<RedisDocumentStore> {
  const redis = await RedisConnections.open(url, {
    name: `relay-${++relayCounter}`,
    connectTimeoutMs: 5000,
    maxReconnectDelayMs: 200,
    ...connection,
  });
  const store = new RedisDocumentStore(redis, options);
  closers.push(() => store.close());
  return store;
}

/**
 * A relay's store and broker on its own two connections, as relay.ts wires them (the store reads
 * the commit records of the publications its subscriber gets), and the names of the commands it
 * sends on its command connection from now on.
 */
async function relayOn(url: string, options: RedisDocumentStoreOptions = {}) {
  const relayId = `relay-${++relayCounter}`;
  const redis = await RedisConnections.open(url, { name: relayId, connectTimeoutMs: 5000 });
  const broker = new RedisBroker(redis, { relayId, livenessIntervalMs: 0 });
  const store = new RedisDocumentStore(redis, options);
  closers.push(async () => {
    await store.close();
    await broker.close();
  });
  const sent: string[] = [];
  const client = redis.command as Redis;
  const send = client.sendCommand.bind(client);
  client.sendCommand = (command, stream) => {
    sent.push(command.name);
    return send(command, stream);
  };
  return { store, broker, sent };
}

async function brokerOn(url: string): Promise<RedisBroker> {
  const relayId = `relay-${++relayCounter}`;
  const broker = new RedisBroker(await RedisConnections.open(url, { name: relayId, connectTimeoutMs: 5000 }), {
    relayId,
    livenessIntervalMs: 0,
  });
  closers.push(() => broker.close());
  return broker;
}

after(async () => {
  for (const close of closers) await close();
  for (const server of [...servers, await shared]) await server.dispose();
});

// The publications go through a RedisBroker subscriber: that proves the commit script speaks the broker's wire format.
documentStoreContract('redis', async (options) => {
  const relayId = `relay-${++relayCounter}`;
  const redis = await RedisConnections.open((await shared).url, { name: relayId, connectTimeoutMs: 5000 });
  const broker = new RedisBroker(redis, { relayId, livenessIntervalMs: 0 });
  const store = new RedisDocumentStore(redis, options);
  return {
    store,
    broker,
    close: async () => {
      await store.close();
      await broker.close();
    },
  };
});

let sessionCounter = 0;
const freshSession = () => `redis-doc-${process.pid}-${++sessionCounter}`;
const DOC = 'src/doc.ts';
const entry = (rev: number, op: CommittedOp['op'], seq = rev - 1, userId = 'alice'): CommittedOp => ({
  rev,
  op,
  userId,
  clientId: `c-${userId}`,
  seq,
});

describe('RedisDocumentStore', () => {
  afterEach(async (t) => {
    for (const server of [...servers, await shared]) server.printLogIfFailed(t);
  });

  it('two relays on one Redis: each sees the other’s commits, whatever its cache holds', async () => {
    const url = (await shared).url;
    const [a, b] = [await storeOn(url), await storeOn(url)];
    const session = freshSession();
    assert.equal(await a.create(session, DOC, 'abc'), true);
    assert.equal(await b.create(session, DOC, 'ignored'), false);
    assert.equal(await a.append(session, DOC, entry(1, ['1'])), true);
    assert.deepEqual(plain(await b.snapshot(session, DOC)), { rev: 1, text: '1abc' });
    assert.equal(await b.append(session, DOC, entry(2, [4, '2'], 0, 'bob')), true);
    // A's cache is at revision 1: it loses the race, then catches up.
    assert.equal(await a.append(session, DOC, entry(2, ['x'], 1)), false);
    assert.deepEqual(plain(await a.head(session, DOC)), { rev: 2, oldestRev: 0, length: 5 });
    assert.deepEqual(
      (await a.read(session, DOC, 1))?.map((c) => c.op),
      [[4, '2']],
    );
    assert.equal(await a.append(session, DOC, entry(3, ['x'], 1)), true);
    assert.deepEqual(plain(await b.snapshot(session, DOC)), { rev: 3, text: 'x1abc2' });
    assert.deepEqual(await b.lastCommit(session, DOC, 'alice', 'c-alice'), { seq: 1, rev: 3 });
    assert.deepEqual(
      (await b.read(session, DOC, 0))?.map((c) => [c.rev, c.userId, c.seq]),
      [
        [1, 'alice', 0],
        [2, 'bob', 0],
        [3, 'alice', 1],
      ],
    );
  });

  it('two relays commit to one document at once: every op once, publications in revision order everywhere', async () => {
    const url = (await shared).url;
    const stores = [await storeOn(url), await storeOn(url)];
    const authorities = stores.map((store) => new DocumentAuthority(store));
    const session = freshSession();
    const channel = `doc:{${session}}`;
    const inboxes: Publication[][] = [[], []];
    for (const inbox of inboxes) await (await brokerOn(url)).subscribe(channel, (p) => inbox.push(p));
    await stores[0]!.create(session, DOC, '');
    const perRelay = 150;
    await Promise.all(
      authorities.map(async (authority, relay) => {
        let rev = 0;
        for (let seq = 0; seq < perRelay; seq++) {
          const edit: EditPayload = { document: DOC, rev, client_id: `c-${relay}`, seq, op: [`⟦${relay}#${seq}⟧`] };
          const result = await authority.commit(session, `user-${relay}`, edit, {
            announce: (committed) => ({
              channel,
              message: { eventType: 'collaboration.edit', data: JSON.stringify({ rev: committed.rev, op: committed.op }) },
            }),
            reply: (reply) => assert.fail(`unexpected ${reply.kind}`),
          });
          assert.equal(result.kind, 'committed');
          // Based on this relay's own last commit only: the other relay's ops are transformed past.
          rev = result.kind === 'committed' ? result.ack.rev : rev;
        }
      }),
    );
    const total = perRelay * 2;
    await waitUntil(() => inboxes.every((inbox) => inbox.length >= total), 'every publication at both subscribers', 10_000);
    for (const inbox of inboxes) {
      assert.deepEqual(
        inbox.map((p) => (JSON.parse(p.data) as { rev: number }).rev),
        Array.from({ length: total }, (_, i) => i + 1),
      );
    }
    const [one, two] = [await stores[0]!.snapshot(session, DOC), await stores[1]!.snapshot(session, DOC)];
    assert.deepEqual(one, two);
    assert.equal(one!.rev, total);
    const markers = one!.text.match(/⟦[^⟧]*⟧/gu) ?? [];
    assert.equal(markers.length, total);
    assert.equal(new Set(markers).size, total, 'every op exactly once');
  });

  it('builds commits on its cached head, no read; when another relay moved the head, the failed commit brings what misses', async () => {
    const url = (await shared).url;
    const [a, b] = [await relayOn(url), await relayOn(url)];
    const session = freshSession();
    await a.store.create(session, DOC, 'abc');
    assert.equal((await b.store.commitBase(session, DOC, 0))?.head.rev, 0, 'read once: b had no copy');
    assert.equal(await a.store.commit(session, DOC, [entry(1, ['1']), entry(2, ['2'])]), true);
    b.sent.length = 0;
    // b's copy is behind (no publication told it): it does not know, and asks nothing.
    const stale = await b.store.commitBase(session, DOC, 0);
    assert.deepEqual(plain(stale?.head), { rev: 0, oldestRev: 0, length: 3 });
    assert.deepEqual(b.sent, []);
    assert.equal(await b.store.commit(session, DOC, [entry(1, [3, '!'], 0, 'bob')]), false, 'lost the race');
    assert.deepEqual(b.sent, ['evalsha'], 'one call');
    // The answer brought revisions 1 and 2: the next try needs no read, and goes through.
    const current = await b.store.commitBase(session, DOC, 0);
    assert.deepEqual(plain(current?.head), { rev: 2, oldestRev: 0, length: 5 });
    assert.deepEqual(
      current?.ops?.map((c) => c.op),
      [['1'], ['2']],
    );
    assert.deepEqual(current?.lastCommit('alice', 'c-alice'), { seq: 1, rev: 2 }, 'and who committed them');
    assert.equal(await b.store.commit(session, DOC, [entry(3, [5, '!'], 0, 'bob')]), true);
    assert.deepEqual(b.sent, ['evalsha', 'evalsha']);
    assert.deepEqual(plain(await a.store.snapshot(session, DOC)), { rev: 3, text: '21abc!' });
  });

  it('a resend that reached another relay first: the failed commit brings its dedupe record; the op is known as committed', async () => {
    const url = (await shared).url;
    // A snapshot at every commit: b's copy, read from the snapshot, has no ops and so no records.
    const [a, b] = [await relayOn(url, { snapshotInterval: 1 }), await relayOn(url, { snapshotInterval: 1 })];
    const session = freshSession();
    await a.store.create(session, DOC, 'abc');
    assert.equal(await a.store.append(session, DOC, entry(1, ['1'], 4, 'bob')), true);
    const base = await b.store.commitBase(session, DOC, 1, true);
    assert.equal(base?.head.rev, 1);
    assert.equal(base?.lastCommit('bob', 'c-bob'), undefined, 'not known to b yet');
    b.sent.length = 0;
    assert.equal(await b.store.commit(session, DOC, [entry(2, ['x'], 3), entry(3, ['1'], 4, 'bob')]), false);
    assert.deepEqual((await b.store.commitBase(session, DOC, 1))?.lastCommit('bob', 'c-bob'), { seq: 4, rev: 1 });
    assert.deepEqual(b.sent, ['evalsha'], 'no read');
    assert.deepEqual(plain(await a.store.snapshot(session, DOC)), { rev: 1, text: '1abc' }, 'nothing of the group');
  });

  it('keeps its copy current from the commit records of the other relay’s publications: no read, no lost race', async () => {
    const url = (await shared).url;
    const [a, b] = [await relayOn(url), await relayOn(url)];
    const session = freshSession();
    const channel = `doc:{${session}}\u0000${DOC}`;
    const seen: Publication[][] = [[], []];
    await a.broker.subscribe(channel, (p) => seen[0]!.push(p));
    await b.broker.subscribe(channel, (p) => seen[1]!.push(p));
    const pub = (rev: number) => ({ channel, message: { eventType: 'collaboration.edit', data: `{"rev":${rev}}` } });
    await a.store.create(session, DOC, 'abc');
    assert.equal(await b.store.commit(session, DOC, [entry(1, ['b'], 0, 'bob')], [pub(1)]), true);
    assert.equal(await a.store.commit(session, DOC, [entry(2, ['a'], 0), entry(3, [2, 'a'], 1)], [pub(2), pub(3)]), true);
    assert.equal(await a.store.append(session, DOC, entry(4, [4, { d: 'b' }], 2), pub(4)), true);
    await waitUntil(() => seen[1]!.length >= 4, 'b to get the publications');
    b.sent.length = 0;
    const base = await b.store.commitBase(session, DOC, 1);
    assert.deepEqual(plain(base?.head), { rev: 4, oldestRev: 0, length: 5 });
    assert.deepEqual(
      base?.ops?.map((c) => [c.rev, c.userId, c.seq, c.op]),
      [
        [2, 'alice', 0, ['a']],
        [3, 'alice', 1, [2, 'a']],
        [4, 'alice', 2, [4, { d: 'b' }]],
      ],
    );
    assert.deepEqual(base?.lastCommit('alice', 'c-alice'), { seq: 2, rev: 4 });
    assert.equal(await b.store.commit(session, DOC, [entry(5, ['!'], 1, 'bob')], [pub(5)]), true);
    assert.deepEqual(b.sent, ['evalsha'], 'one call, no read');
    assert.deepEqual(plain(await a.store.snapshot(session, DOC)), { rev: 5, text: '!abaac' });
    await waitUntil(() => seen.every((inbox) => inbox.length >= 5), 'both to get every publication');
    for (const inbox of seen)
      assert.deepEqual(
        inbox.map((p) => p.data),
        [1, 2, 3, 4, 5].map((rev) => `{"rev":${rev}}`),
      );
  });

  it('writes a snapshot every `snapshotInterval` ops and trims the stream; a relay without a cache rebuilds the head', async () => {
    const server = await ownServer({ config: ['stream-node-max-entries 4'] });
    const writer = await storeOn(server.url, { historySize: 5, snapshotInterval: 10 });
    const session = freshSession();
    await writer.create(session, DOC, '');
    let length = 0;
    for (let rev = 1; rev <= 100; rev++) {
      const insert = rev % 7 === 0 ? '😀' : 'x';
      assert.equal(await writer.append(session, DOC, entry(rev, length === 0 ? [insert] : [length, insert])), true);
      length += insert.length;
    }
    const expected = await writer.snapshot(session, DOC);
    const admin = new Redis(server.url);
    try {
      const base = `tandem:doc:{${session}}:${DOC}`;
      const [srev, rev] = (await admin.hmget(`${base}:meta`, 'srev', 'rev')).map(Number);
      assert.equal(rev, 100);
      assert.ok(srev! >= 91, `snapshot at ${srev}`);
      const kept = await admin.xlen(`${base}:ops`);
      assert.ok(kept <= 5 + 10 + 8, `${kept} ops kept`);
      assert.ok((await admin.pttl(`${base}:ops`)) > 0, 'the stream expires with the document');
    } finally {
      admin.disconnect();
    }
    const reader = await storeOn(server.url, { historySize: 5, snapshotInterval: 10, cacheOps: 0 });
    assert.deepEqual(await reader.snapshot(session, DOC), expected);
    assert.deepEqual(
      (await reader.read(session, DOC, 95))?.map((c) => c.rev),
      [96, 97, 98, 99, 100],
    );
    assert.equal(await reader.read(session, DOC, 94), undefined);
    assert.equal(await reader.append(session, DOC, entry(101, [{ d: 'x' }])), true, 'the text starts with the first op’s x');
    assert.deepEqual(plain(await writer.snapshot(session, DOC)), { rev: 101, text: expected!.text.slice(1) });
  });

  it('writes a long text’s snapshot less often (1,024 characters per op), at the latest when the kept history leaves it', async () => {
    const url = (await shared).url;
    const admin = new Redis(url);
    const srevOf = async (session: string) => Number(await admin.hget(`tandem:doc:{${session}}:${DOC}:meta`, 'srev'));
    // 300 × 1,024 characters at revision 300: its snapshot then, not every 10th op; a short text's every 10th.
    const long = 'y'.repeat(300 * 1024 - 300);
    const writer = await storeOn(url, { snapshotInterval: 10 });
    const bounded = await storeOn(url, { snapshotInterval: 10, historySize: 50 });
    const [longSession, shortSession, boundedSession] = [freshSession(), freshSession(), freshSession()];
    try {
      await writer.create(longSession, DOC, long);
      await writer.create(shortSession, DOC, 'short');
      await bounded.create(boundedSession, DOC, long);
      for (let rev = 1; rev <= 299; rev++) {
        assert.equal(await writer.append(longSession, DOC, entry(rev, ['a'])), true);
        assert.equal(await writer.append(shortSession, DOC, entry(rev, ['a'])), true);
        if (rev <= 60) assert.equal(await bounded.append(boundedSession, DOC, entry(rev, ['a'])), true);
      }
      assert.equal(await srevOf(longSession), 0, 'no snapshot of the long text yet');
      assert.equal(await srevOf(shortSession), 290);
      assert.ok((await srevOf(boundedSession)) >= 50, 'the history of 50 ops left the snapshot: written anyway');
      assert.equal(await writer.append(longSession, DOC, entry(300, ['a'])), true);
      assert.equal(await srevOf(longSession), 300);
      assert.equal(await writer.append(longSession, DOC, entry(301, ['b'])), true);
      // A relay without a copy builds the head from the snapshot and the op after it.
      const reader = await storeOn(url, { snapshotInterval: 10, cacheOps: 0 });
      assert.deepEqual(plain(await reader.snapshot(longSession, DOC)), { rev: 301, text: 'b' + 'a'.repeat(300) + long });
      assert.deepEqual(plain(await reader.snapshot(boundedSession, DOC)), { rev: 60, text: 'a'.repeat(60) + long });
    } finally {
      admin.disconnect();
    }
  });

  it(
    'holds the byte bound in Redis itself: the ops stream follows the kept history (snapshots included), the dedupe records their own ' +
      'bound',
    async () => {
      const url = (await shared).url;
      const op = (rev: number) => entry(rev, [String(rev % 10).repeat(1000)], 0, `user-${rev}`);
      // Four ops of 1,000 characters, and about 40 dedupe records (one per user here).
      const historyMaxBytes = 4 * committedOpBytes(op(100)) + 10;
      const writer = await storeOn(url, { historyMaxBytes });
      const session = freshSession();
      await writer.create(session, DOC, '');
      for (let rev = 1; rev <= 300; rev++) assert.equal(await writer.append(session, DOC, op(rev)), true);
      const admin = new Redis(url);
      const base = `tandem:doc:{${session}}:${DOC}`;
      try {
        const [orev, hb, srev, sb] = (await admin.hmget(`${base}:meta`, 'orev', 'hb', 'srev', 'sb')).map(Number);
        assert.equal(orev, 296);
        assert.equal(hb, 4 * committedOpBytes(op(100)));
        // Without the byte bound: the last 100 ops, the snapshot's default interval (the stream's
        // nodes hold about three of these entries each, and the snapshot lags by a window at most).
        assert.ok(srev! >= 292, `snapshot at ${srev}`);
        const kept = await admin.xlen(`${base}:ops`);
        assert.ok(kept <= 12, `${kept} ops in the stream`);
        const records = await admin.hlen(`${base}:seen`);
        assert.equal(await admin.zcard(`${base}:seenq`), records);
        assert.equal(records, Math.floor(historyMaxBytes / lastCommitBytes('user-100', 'c-user-100')));
        assert.ok(sb! <= historyMaxBytes, `${sb} bytes of dedupe records`);
        assert.ok((await admin.pttl(`${base}:seenq`)) > 0, 'the records expire with the document');
      } finally {
        admin.disconnect();
      }
      // Another relay, without a cache, sees the same text and the same window.
      const reader = await storeOn(url, { historyMaxBytes, cacheOps: 0 });
      assert.deepEqual(await reader.snapshot(session, DOC), await writer.snapshot(session, DOC));
      assert.equal((await reader.head(session, DOC))?.oldestRev, 296);
      assert.deepEqual(
        (await reader.read(session, DOC, 296))?.map((c) => c.rev),
        [297, 298, 299, 300],
      );
      assert.equal(await reader.read(session, DOC, 295), undefined);
      assert.deepEqual(await reader.lastCommit(session, DOC, 'user-300', 'c-user-300'), { seq: 0, rev: 300 });
      assert.equal(await reader.lastCommit(session, DOC, 'user-1', 'c-user-1'), undefined, 'the least recently committed went first');
    },
  );

  it(
    'a document an older relay wrote (no byte accounting yet): its history is kept until a commit here starts the bounded ' + 'window',
    async () => {
      const url = (await shared).url;
      const store = await storeOn(url, { historyMaxBytes: 64 * 1024 });
      const session = freshSession();
      await store.create(session, DOC, '');
      for (let rev = 1; rev <= 5; rev++) await store.append(session, DOC, entry(rev, ['x']));
      const admin = new Redis(url);
      const base = `tandem:doc:{${session}}:${DOC}`;
      try {
        await admin.hdel(`${base}:meta`, 'orev', 'hb', 'sb');
      } finally {
        admin.disconnect();
      }
      const other = await storeOn(url, { historyMaxBytes: 64 * 1024 });
      assert.equal((await other.head(session, DOC))?.oldestRev, 0, 'the stream holds it all');
      assert.deepEqual(
        (await other.read(session, DOC, 0))?.map((c) => c.rev),
        [1, 2, 3, 4, 5],
      );
      assert.equal(await other.append(session, DOC, entry(6, ['y'])), true);
      assert.equal((await store.head(session, DOC))?.oldestRev, 5, 'bytes unknown before: the window starts at the commit');
      assert.deepEqual(
        (await store.read(session, DOC, 5))?.map((c) => c.op),
        [['y']],
      );
      assert.deepEqual(plain(await store.snapshot(session, DOC)), { rev: 6, text: 'yxxxxx' });
    },
  );

  it('keeps an initial text as it is, lone surrogates included', async () => {
    const url = (await shared).url;
    const session = freshSession();
    const text = 'a\ud800b\udc00c😀';
    await (await storeOn(url)).create(session, DOC, text);
    assert.deepEqual(plain(await (await storeOn(url)).snapshot(session, DOC)), { rev: 0, text });
    assert.equal((await (await storeOn(url)).head(session, DOC))?.length, text.length);
  });

  it('a document dropped and created again is another document to every relay’s cache', async () => {
    const url = (await shared).url;
    const [a, b] = [await storeOn(url), await storeOn(url)];
    const session = freshSession();
    await a.create(session, DOC, 'old');
    await a.append(session, DOC, entry(1, ['1']));
    assert.deepEqual(plain(await b.snapshot(session, DOC)), { rev: 1, text: '1old' });
    const admin = new Redis(url);
    try {
      const base = `tandem:doc:{${session}}:${DOC}`;
      await admin.del(`${base}:meta`, `${base}:ops`, `${base}:seen`, `${base}:seenq`); // as the idle expiry does
    } finally {
      admin.disconnect();
    }
    assert.equal(await a.create(session, DOC, 'new'), true);
    assert.deepEqual(plain(await b.snapshot(session, DOC)), { rev: 0, text: 'new' });
    assert.equal(await b.append(session, DOC, entry(1, [3, '!'])), true);
    assert.deepEqual(plain(await a.snapshot(session, DOC)), { rev: 1, text: 'new!' });
  });

  it('a relay without a cache reads the epoch, the origin and the recovery records another relay wrote', async () => {
    const url = (await shared).url;
    const [a, b] = [await storeOn(url), await storeOn(url)];
    const session = freshSession();
    const origin = { epoch: 'lost0123456789ab', rev: 3, history: [{ rev: 3, op: ['😀'], clientId: 'c', seq: 0 }] };
    await a.create(session, DOC, 'abc', origin);
    const recovery = { from: { epoch: origin.epoch, rev: 3 }, chain: [], pending: ['>'], rebase: [] };
    assert.equal(await a.append(session, DOC, { ...entry(1, ['>']), recovery }), true);
    const { epoch } = (await a.head(session, DOC))!;
    assert.deepEqual(await b.snapshot(session, DOC), { rev: 1, text: '>abc', epoch });
    assert.deepEqual(await b.origin(session, DOC, epoch), origin);
    assert.deepEqual(await b.read(session, DOC, 0), [{ ...entry(1, ['>']), recovery }]);
  });

  it('Redis restarted with AOF (fsync always) after a crash: text, revisions, history and dedupe records are all there', async () => {
    const server = await ownServer({ persistence: 'aof-always' });
    const store = await storeOn(server.url);
    const session = freshSession();
    await store.create(session, DOC, '');
    for (let rev = 1; rev <= 30; rev++) await store.append(session, DOC, entry(rev, rev === 1 ? ['a'] : [rev - 1, 'a']));
    const before = await store.snapshot(session, DOC);
    await server.kill();
    await assert.rejects(store.head(session, DOC), 'no offline queue: fails at once while Redis is down');
    await server.start();
    await waitUntil(
      async () => (await store.head(session, DOC).catch(() => undefined)) !== undefined,
      'the store to reconnect',
      15_000,
      50,
    );
    assert.deepEqual(await store.snapshot(session, DOC), before);
    assert.deepEqual(await (await storeOn(server.url)).snapshot(session, DOC), before, 'a relay without a cache reads the same');
    assert.deepEqual(await store.lastCommit(session, DOC, 'alice', 'c-alice'), { seq: 29, rev: 30 });
    assert.equal((await store.read(session, DOC, 0))?.length, 30);
    assert.equal(await store.append(session, DOC, entry(31, ['b'])), true);
  });

  it('a commit whose reply never came (Redis frozen): the relay does not trust its cached text afterwards', async () => {
    const server = await ownServer();
    const store = await storeOn(server.url, {}, { commandTimeoutMs: 300 });
    const fresh = await storeOn(server.url);
    const session = freshSession();
    await store.create(session, DOC, 'abc');
    assert.equal(await store.append(session, DOC, entry(1, ['1'])), true);
    server.freeze();
    try {
      await assert.rejects(store.append(session, DOC, entry(2, ['2'])), /timed out|Command timed out/i);
    } finally {
      server.thaw();
    }
    await waitUntil(
      async () => (await store.head(session, DOC).catch(() => undefined)) !== undefined,
      'the store to reconnect',
      15_000,
      50,
    );
    // Whether the script ran once Redis woke up or not, the relay agrees with Redis.
    const seen = await store.snapshot(session, DOC);
    assert.deepEqual(seen, await fresh.snapshot(session, DOC));
    assert.ok(seen!.text === '21abc' || seen!.text === '1abc', seen!.text);
    assert.equal(await store.append(session, DOC, entry(seen!.rev + 1, ['3'], 5)), true);
    assert.deepEqual(plain(await fresh.snapshot(session, DOC)), { rev: seen!.rev + 1, text: `3${seen!.text}` });
  });
});
