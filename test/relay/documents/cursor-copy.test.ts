import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { CursorPayload } from '../../../protocol';
import { DocumentAuthority } from '../../../relay/documents/document-authority';
import { RedisDocumentStore } from '../../../relay/documents/redis-document-store';
import { RedisConnections } from '../../../relay/redis/redis-connection';
import { startRedisServer } from '../../support/redis-server';

// Cursors are moved with the relay's copy of the document, with no round trip to Redis
// (document-authority.ts `cursor`); a cursor made at a revision the copy does not know yet (another
// relay committed it, and this one has not heard) reads the store instead of being refused.

const redisServer = startRedisServer();
const closers: Array<() => Promise<void>> = [];
after(async () => {
  for (const close of closers) await close();
  await (await redisServer).dispose();
});

async function relayStore(name: string): Promise<RedisDocumentStore> {
  const redis = await RedisConnections.open((await redisServer).url, { name, connectTimeoutMs: 5000 });
  const store = new RedisDocumentStore(redis);
  closers.push(() => store.close());
  return store;
}

const SESSION = `cursor-copy-${process.pid}`;
const DOC = 'notes.md';

describe('cursors on a copy that is behind (two relays on one Redis)', () => {
  it('moves a cursor as far as the copy knows, and reads the store for a revision the copy has not seen', async () => {
    const [a, b] = [await relayStore('relay-a'), await relayStore('relay-b')];
    await a.create(SESSION, DOC, 'hello world');
    // Relay b has a copy at revision 0 (a client of it opened the document)...
    assert.equal((await b.commitBase(SESSION, DOC, 0))?.head.rev, 0);
    // ...then relay a commits three edits that b does not hear of (nothing is published here).
    for (const [rev, op] of [
      [1, ['>> ']],
      [2, [3, 'A']],
      [3, [4, 'B']],
    ] as const)
      assert.ok(await a.append(SESSION, DOC, { rev, op: [...op], userId: 'alice', clientId: 'ca', seq: rev }));

    const authority = new DocumentAuthority(b);
    const published: CursorPayload[] = [];
    const cursor = (rev: number, at: number) =>
      authority.cursor(SESSION, 'bob', { document: DOC, rev, selections: [{ anchor: at, head: at }] }, async (c) => {
        published.push(c);
      });

    // At revision 0 the copy is enough: the cursor goes out as the copy has it.
    await cursor(0, 6);
    assert.deepEqual(published.at(-1), { document: DOC, rev: 0, selections: [{ anchor: 6, head: 6 }] });
    // Bob's client saw revision 1 (through relay a's publication, say): the copy is behind it, so
    // b reads the store, and the cursor moves past alice's two later inserts before it.
    await cursor(1, 9);
    assert.deepEqual(published.at(-1), { document: DOC, rev: 3, selections: [{ anchor: 11, head: 11 }] });
    // The read brought the copy up to date: revision 3 needs no other.
    await cursor(3, 2);
    assert.deepEqual(published.at(-1), { document: DOC, rev: 3, selections: [{ anchor: 2, head: 2 }] });
  });
});
