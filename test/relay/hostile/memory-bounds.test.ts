import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { type RedisServer, startRedisServer } from '../../support/redis-server';
import { clientFrame, openDocument, startTestRelay, type TestClient, type TestRelay } from '../../support/relay-fixture';

/**
 * Issue 11, item 6: one client could make the relay hold memory without bound: pieces of
 * initial text that counted only their text (empty pieces, or pieces for thousands of document
 * ids, were free), as many documents as it liked in a session and open on a connection, and a
 * history of a thousand ops of any size per document. Each attack here is refused with a stable
 * code once the bound is reached; nobody else's session is touched.
 */
const ID = (i: number) => `pieces/${String(i).padStart(8, '0')}/${'x'.repeat(40)}.ts`;

/** The error frames `client` got after the first `skip`, as codes. */
const codes = (client: TestClient, skip = 0) =>
  client
    .of('error')
    .slice(skip)
    .map((f) => f.payload.code);

/** Resolves once the relay has handled every frame `client` sent before (a ping's pong follows them). */
async function handled(client: TestClient, nonce: string): Promise<void> {
  client.send(clientFrame('system.ping', { nonce }));
  await client.next('system.pong', (f) => f.payload.nonce === nonce, 10_000);
}

describe('hostile: memory bounds', () => {
  let relay: TestRelay | undefined;
  let redis: RedisServer | undefined;

  afterEach(async () => {
    await relay?.stop();
    relay = undefined;
    await redis?.stop();
    redis = undefined;
  });

  it('counts pending pieces in bytes, ids and per-piece overhead included (DOCUMENT_MAX_PENDING_PIECE_BYTES)', async () => {
    // The least the setting may be for this length: 2 × 10,000 + 65,536 bytes.
    relay = await startTestRelay({ DOCUMENT_MAX_LENGTH: '10000', WS_MAX_MESSAGES_PER_SECOND: '100000' });
    const mallory = await relay.connect('mallory', { role: 'host' });
    const alice = await relay.connect('alice', { sessions: ['s2'], role: 'host' });
    // Empty pieces, each for a new document id: text-wise nothing at all.
    const PIECES = 2000;
    for (let i = 0; i < PIECES; i++) mallory.send(clientFrame('collaboration.open', { document: ID(i), text: '', more: true }));
    await handled(mallory, 'm1');
    const refused = codes(mallory).filter((c) => c === 'PENDING_PIECES_TOO_LARGE').length;
    assert.ok(refused > 0, 'the pieces are refused once they take too much');
    // About 180 bytes each (a 57-character id and the overhead): some 480 fit in 85,536 bytes.
    assert.ok(PIECES - refused < PIECES / 2, `the bound is bytes: ${PIECES - refused} of ${PIECES} empty pieces were kept`);
    // Many empty pieces of one document are not free either.
    const before = mallory.of('error').length;
    for (let i = 0; i < PIECES; i++) mallory.send(clientFrame('collaboration.open', { document: 'one.ts', text: '', more: true }));
    await handled(mallory, 'm2');
    assert.ok(codes(mallory, before).includes('PENDING_PIECES_TOO_LARGE'));
    // Someone else, in another session, is not touched.
    assert.equal((await openDocument(alice, 'fine.ts', 'hello')).text, 'hello');
    assert.deepEqual(codes(alice), []);
  });

  it('caps the documents one connection has open (DOCUMENT_MAX_OPEN_PER_CONNECTION)', async () => {
    relay = await startTestRelay({ DOCUMENT_MAX_OPEN_PER_CONNECTION: '3' });
    const mallory = await relay.connect('mallory', { role: 'host' });
    for (const name of ['a.ts', 'b.ts', 'c.ts']) await openDocument(mallory, name, name);
    mallory.send(clientFrame('collaboration.open', { document: 'd.ts', text: 'd' }));
    const error = await mallory.next('error');
    assert.equal(error.payload.code, 'TOO_MANY_DOCUMENTS');
    assert.equal(error.payload.path, 'payload.document');
    // Nothing was created: another editor finds no d.ts.
    const bob = await relay.connect('bob');
    bob.send(clientFrame('collaboration.open', { document: 'd.ts', create: false }));
    assert.equal((await bob.next('error')).payload.code, 'DOCUMENT_NOT_FOUND');
    // Closing one makes room.
    mallory.send(clientFrame('collaboration.close', { document: 'a.ts' }));
    assert.equal((await openDocument(mallory, 'd.ts', 'd')).text, 'd');
  });

  for (const store of ['memory', 'redis'] as const) {
    it(`caps the documents of a session (DOCUMENT_MAX_PER_SESSION), ${store} store`, async () => {
      if (store === 'redis') redis = await startRedisServer();
      relay = await startTestRelay({ DOCUMENT_MAX_PER_SESSION: '4', ...(redis && { REDIS_URL: redis.url }) });
      const mallory = await relay.connect('mallory', { role: 'host' });
      const bob = await relay.connect('bob', { role: 'host' });
      for (const name of ['a.ts', 'b.ts']) await openDocument(mallory, name, name);
      for (const name of ['c.ts', 'd.ts']) await openDocument(bob, name, name);
      mallory.send(clientFrame('collaboration.open', { document: 'e.ts', text: 'e' }));
      assert.equal((await mallory.next('error')).payload.code, 'TOO_MANY_DOCUMENTS');
      // The session's existing documents still open; another session creates its own.
      assert.equal((await openDocument(mallory, 'c.ts')).text, 'c.ts');
      const carol = await relay.connect('carol', { sessions: ['s2'], role: 'host' });
      assert.equal((await openDocument(carol, 'e.ts', 'mine')).text, 'mine');
    });
  }

  for (const store of ['memory', 'redis'] as const) {
    it(`bounds a document’s history in bytes (DOCUMENT_HISTORY_MAX_BYTES): an op older than it gets a resync, ${store} store`, async () => {
      if (store === 'redis') redis = await startRedisServer();
      relay = await startTestRelay({ DOCUMENT_HISTORY_MAX_BYTES: String(64 * 1024), ...(redis && { REDIS_URL: redis.url }) });
      const mallory = await relay.connect('mallory', { role: 'host' });
      await openDocument(mallory, 'log.txt', '');
      // 20 edits of 8,000 characters: 320 KB of history in memory, five times the bound.
      const chunk = 'y'.repeat(8000);
      for (let seq = 0; seq < 20; seq++)
        mallory.send(
          clientFrame('collaboration.edit', {
            document: 'log.txt',
            rev: seq,
            client_id: 'm',
            seq,
            op: seq === 0 ? [chunk] : [seq * chunk.length, chunk],
          }),
        );
      await mallory.next('collaboration.ack', (f) => f.payload.rev === 20, 5000);
      // An op based 10 revisions back: that part of the history is no longer kept.
      mallory.send(clientFrame('collaboration.edit', { document: 'log.txt', rev: 10, client_id: 'm', seq: 20, op: ['!'] }));
      const resync = await mallory.next('collaboration.resync');
      assert.equal(resync.payload.reason, 'history_trimmed');
      assert.equal(resync.payload.rev, 20, 'nothing was applied');
      // An op based on the last revisions is still transformed and committed.
      mallory.send(clientFrame('collaboration.edit', { document: 'log.txt', rev: 19, client_id: 'm', seq: 21, op: ['!'] }));
      assert.equal((await mallory.next('collaboration.ack', (f) => f.payload.seq === 21)).payload.rev, 21);
    });
  }
});
