import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { type EditPayload, ProtocolError, type TextOp } from '../../../protocol';
import type { Broker, Publication } from '../../../relay/broker/broker';
import { MemoryBroker } from '../../../relay/broker/memory-broker';
import { RedisBroker } from '../../../relay/broker/redis-broker';
import { type CommitHooks, type CommitResult, DocumentAuthority } from '../../../relay/documents/document-authority';
import type { CommittedOp, DocumentStore } from '../../../relay/documents/document-store';
import { MemoryDocumentStore } from '../../../relay/documents/memory-document-store';
import { RedisDocumentStore } from '../../../relay/documents/redis-document-store';
import { RedisConnections } from '../../../relay/redis/redis-connection';
import { startRedisServer } from '../../support/redis-server';
import { waitUntil } from '../../support/wait';

// The authority's group commit (document-authority.ts `commit`), on the memory store and on a
// redis-server of the test's own: edits that arrive together are committed in one store call, in
// the order they came, each transformed past the ones before it.

const redisServer = startRedisServer();
const closers: Array<() => Promise<void>> = [];
after(async () => {
  for (const close of closers) await close();
  await (await redisServer).dispose();
});

interface Fixture {
  store: DocumentStore;
  broker: Broker;
  /** The entries of each `commit` call the store got. */
  calls: CommittedOp[][];
}

const fixtures: Record<string, () => Promise<Fixture>> = {
  memory: async () => {
    const broker = new MemoryBroker();
    const store = new MemoryDocumentStore({ broker });
    closers.push(() => store.close());
    return counted(store, broker);
  },
  redis: async () => {
    const redis = await RedisConnections.open((await redisServer).url, { name: `group-${closers.length}`, connectTimeoutMs: 5000 });
    const broker = new RedisBroker(redis, { relayId: `group-${closers.length}`, livenessIntervalMs: 0 });
    const store = new RedisDocumentStore(redis);
    closers.push(async () => {
      await store.close();
      await broker.close();
    });
    return counted(store, broker);
  },
};

function counted(store: DocumentStore, broker: Broker): Fixture {
  const calls: CommittedOp[][] = [];
  const commit = store.commit.bind(store);
  store.commit = (sessionId, documentId, entries, publications) => {
    calls.push([...entries]);
    return commit(sessionId, documentId, entries, publications);
  };
  return { store, broker, calls };
}

let sessions = 0;
const DOC = 'src/group.ts';

for (const [name, make] of Object.entries(fixtures)) {
  describe(`group commit: ${name}`, () => {
    async function setup(text: string) {
      const fixture = await make();
      const session = `group-${process.pid}-${++sessions}`;
      const channel = `doc:{${session}}\u0000${DOC}`;
      const published: Publication[] = [];
      await fixture.broker.subscribe(channel, (p) => published.push(p));
      await fixture.store.create(session, DOC, text);
      const authority = new DocumentAuthority(fixture.store);
      const replies: Array<{ client: string; result: CommitResult }> = [];
      const hooks = (client: string): CommitHooks => ({
        announce: (committed, ack) => ({
          channel,
          message: {
            eventType: 'collaboration.edit',
            data: JSON.stringify(committed),
            echo: { eventType: 'ack', data: JSON.stringify(ack) },
          },
        }),
        reply: (result) => void replies.push({ client, result }),
      });
      const edit = (user: string, seq: number, rev: number, op: TextOp): Promise<CommitResult> => {
        const payload: EditPayload = { document: DOC, rev, client_id: `c-${user}`, seq, op };
        return authority.commit(session, user, payload, hooks(user));
      };
      return { ...fixture, session, authority, published, replies, edit };
    }

    it('commits the edits of one tick in one call, in order, each transformed past the ones before; a resend in it is acked', async () => {
      const { store, calls, session, published, replies, edit } = await setup('abc');
      // All at once, all based on revision 0 (as if typed concurrently).
      const results = await Promise.all([
        edit('alice', 0, 0, ['A']),
        edit('bob', 0, 0, [3, 'B']),
        edit('alice', 0, 0, ['A']), // a resend of alice's seq 0 right behind it
        edit('carol', 0, 0, [1, { d: 'b' }]),
        edit('alice', 1, 0, [1, 'a']),
      ]);
      assert.deepEqual(
        calls.map((entries) => entries.map((e) => [e.rev, e.userId, e.seq])),
        [
          [
            [1, 'alice', 0],
            [2, 'bob', 0],
            [3, 'carol', 0],
            [4, 'alice', 1],
          ],
        ],
        'one call: four commits at consecutive revisions, the resend left out',
      );
      assert.deepEqual(
        results.map((r) =>
          r.kind === 'committed' ? ['committed', r.ack.rev] : r.kind === 'duplicate' ? ['duplicate', r.ack.rev] : [r.kind],
        ),
        [
          ['committed', 1],
          ['committed', 2],
          ['duplicate', 1],
          ['committed', 3],
          ['committed', 4],
        ],
      );
      assert.deepEqual(replies, [{ client: 'alice', result: results[2] }], 'the resend alone is answered directly');
      // alice's seq 1 was made on a text without her seq 0 (revision 0): transformed past everything before it.
      assert.equal((await store.snapshot(session, DOC))?.text, 'AaacB');
      await waitUntil(() => published.length >= 4, 'four publications');
      assert.deepEqual(
        published.map((p) => (JSON.parse(p.data) as EditPayload).rev),
        [1, 2, 3, 4],
      );
      assert.deepEqual(JSON.parse(published[1]!.echo!.data), { document: DOC, rev: 2, client_id: 'c-bob', seq: 0 });
    });

    it('takes a run of one client’s ops each based on the revision the one before makes, in one group', async () => {
      const { calls, session, store, edit } = await setup('');
      const results = await Promise.all([
        edit('alice', 0, 0, ['a']),
        edit('alice', 1, 1, [1, 'b']),
        edit('alice', 2, 2, [2, 'c']),
        edit('bob', 0, 0, ['>']),
      ]);
      assert.deepEqual(
        results.map((r) => r.kind === 'committed' && r.ack.rev),
        [1, 2, 3, 4],
      );
      assert.equal(calls.length, 1);
      assert.equal(
        (await store.snapshot(session, DOC))?.text,
        'abc>',
        'bob’s insert at 0 goes after the inserts committed there before it',
      );
      await assert.rejects(edit('alice', 3, 9, ['x']), (error: unknown) => (error as ProtocolError).code === 'EDIT_REV_TOO_NEW');
    });

    it('refuses an op of the group that does not apply and commits the others without it', async () => {
      const { calls, session, store, edit } = await setup('abc');
      const results = await Promise.allSettled([edit('alice', 0, 0, ['1']), edit('bob', 0, 0, [9, 'x']), edit('carol', 0, 0, [3, '3'])]);
      assert.equal(results[0].status, 'fulfilled');
      assert.equal(results[2].status, 'fulfilled');
      assert.ok(results[1].status === 'rejected' && results[1].reason instanceof ProtocolError, 'a ProtocolError for bob');
      assert.equal((results[1] as PromiseRejectedResult).reason.code, 'OP_OUT_OF_RANGE');
      assert.deepEqual((await store.snapshot(session, DOC))?.text, '1abc3');
      assert.deepEqual(
        calls.at(-1)!.map((e) => e.userId),
        ['alice', 'carol'],
      );
    });

    it('keeps an edit behind work queued before it: a check closes the waiting group', async () => {
      const { calls, authority, session, edit } = await setup('abc');
      const first = edit('alice', 0, 0, ['1']);
      const check = authority.check(session, { document: DOC, rev: 0, hash: 'x', length: 3 });
      const second = edit('bob', 0, 0, ['2']);
      const [one, checked, two] = await Promise.all([first, check, second]);
      assert.equal(one.kind === 'committed' && one.ack.rev, 1);
      assert.equal(checked.kind, 'stale', 'the check ran after the first edit, before the second');
      assert.equal(two.kind === 'committed' && two.ack.rev, 2);
      assert.equal(calls.length, 2, 'two groups');
    });

    it('answers edits of the group that cannot be committed each on its own: too new, resync, duplicate of an earlier commit', async () => {
      const { session, store, edit } = await setup('abc');
      assert.equal((await edit('alice', 0, 0, ['1'])).kind, 'committed');
      const results = await Promise.allSettled([edit('alice', 0, 1, ['x']), edit('bob', 0, 5, ['y']), edit('carol', 0, 1, [4, 'z'])]);
      assert.deepEqual(results[0], {
        status: 'fulfilled',
        value: { kind: 'duplicate', ack: { document: DOC, rev: 1, client_id: 'c-alice', seq: 0 } },
      });
      assert.ok(results[1].status === 'rejected' && (results[1].reason as ProtocolError).code === 'EDIT_REV_TOO_NEW');
      assert.equal(results[2].status === 'fulfilled' && results[2].value.kind, 'committed');
      assert.equal((await store.snapshot(session, DOC))?.text, '1abcz');
    });
  });
}
