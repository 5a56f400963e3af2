import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { ClientPayload } from '../../../protocol';
import { OtPeer } from '../../support/ot-peer';
import { clientFrame, openDocument, startTestRelay, type TestRelay } from '../../support/relay-fixture';
import { sleep, waitUntil } from '../../support/wait';
import { plain } from './document-store.contract';

const DOC = 'src/doc.ts';
const edit = (payload: Omit<ClientPayload<'collaboration.edit'>, 'document'>, document = DOC) =>
  clientFrame('collaboration.edit', { document, ...payload });
const cursor = (payload: Omit<ClientPayload<'collaboration.cursor'>, 'document'>, document = DOC) =>
  clientFrame('collaboration.cursor', { document, ...payload });

describe('document lifecycle: who gets what, cursors, limits, idle documents, rejoin after trimming', () => {
  let relay: TestRelay | undefined;
  afterEach(async () => {
    await relay?.stop();
    relay = undefined;
  });

  it('sends edits only to connections that opened the document, until they close it; cursors to the whole session', async () => {
    relay = await startTestRelay();
    const alice = await relay.connect('alice', { role: 'host' });
    const bob = await relay.connect('bob');
    const carol = await relay.connect('carol');
    await openDocument(alice, DOC, 'abc');
    await openDocument(bob, DOC);
    // Only the host creates documents; it closes this one again, to open it later on.
    await openDocument(alice, 'other.ts', '');
    alice.send(clientFrame('collaboration.close', { document: 'other.ts' }));
    await openDocument(carol, 'other.ts');

    alice.send(edit({ rev: 0, client_id: 'a', seq: 0, op: ['1'] }));
    alice.send(cursor({ rev: 1, selections: [{ anchor: 1, head: 1 }] }));
    await bob.next('collaboration.cursor');
    assert.equal(bob.of('collaboration.edit').length, 1);
    // A marker on carol's own document: once she has it, she would have had alice's frames too.
    bob.send(clientFrame('collaboration.open', { document: 'other.ts' }));
    await bob.next('collaboration.snapshot', (f) => f.payload.document === 'other.ts');
    bob.send(edit({ rev: 0, client_id: 'b', seq: 0, op: ['x'] }, 'other.ts'));
    await carol.next('collaboration.edit');
    assert.deepEqual(
      carol.of('collaboration.edit').map((f) => f.payload.document),
      ['other.ts'],
    );
    // Where alice is matters to carol too (to follow her), even without the document open.
    assert.deepEqual(
      carol.of('collaboration.cursor').map((f) => [f.user_id, f.payload.document]),
      [['alice', DOC]],
    );

    await openDocument(alice, 'other.ts');
    bob.send(clientFrame('collaboration.close', { document: DOC }));
    alice.send(edit({ rev: 1, client_id: 'a', seq: 1, op: [1, '2'] }));
    await alice.next('collaboration.ack', (f) => f.payload.rev === 2);
    alice.send(edit({ rev: 1, client_id: 'a', seq: 0, op: [1, '2'] }, 'other.ts'));
    await bob.next('collaboration.edit', (f) => f.payload.document === 'other.ts' && f.payload.client_id === 'a');
    assert.equal(bob.of('collaboration.edit').filter((f) => f.payload.document === DOC).length, 1, 'nothing of DOC after closing it');
    // Closed, it cannot send to it either.
    bob.send(edit({ rev: 2, client_id: 'b', seq: 0, op: ['z'] }));
    const error = await bob.next('error');
    assert.equal(error.payload.code, 'DOCUMENT_NOT_OPEN');
    assert.equal(error.payload.path, 'payload.document');
  });

  it('accepts an edit sent right behind its open, before the snapshot came back (a resend after a reconnect)', async () => {
    relay = await startTestRelay();
    const alice = await relay.connect('alice', { role: 'host' });
    await openDocument(alice, DOC, 'abc');
    const bob = await relay.connect('bob');
    bob.send(clientFrame('collaboration.open', { document: DOC }));
    bob.send(edit({ rev: 0, client_id: 'b', seq: 0, op: [3, '!'] }));
    assert.equal((await bob.next('collaboration.ack')).payload.rev, 1);
    assert.deepEqual(bob.of('error'), []);
    assert.ok(
      bob.frames.indexOf(bob.of('collaboration.snapshot')[0]!) < bob.frames.indexOf(bob.of('collaboration.ack')[0]!),
      'the snapshot comes first',
    );
  });

  it('moves a cursor placed at an older revision through the ops others committed since', async () => {
    relay = await startTestRelay();
    const alice = await relay.connect('alice', { role: 'host' });
    const bob = await relay.connect('bob');
    await openDocument(alice, DOC, 'hello world');
    await openDocument(bob, DOC);
    alice.send(edit({ rev: 0, client_id: 'a', seq: 0, op: ['>> '] }));
    await alice.next('collaboration.ack');
    // Bob had not seen alice's insert when he selected "world" (6..11 at revision 0).
    bob.send(cursor({ rev: 0, selections: [{ anchor: 6, head: 11 }] }));
    const moved = await alice.next('collaboration.cursor');
    assert.deepEqual(moved.payload, { document: DOC, rev: 1, selections: [{ anchor: 9, head: 14 }] });
    assert.equal(moved.user_id, 'bob');
    // Bob's own ops are already in his text: they do not move his cursor.
    bob.send(edit({ rev: 1, client_id: 'b', seq: 0, op: ['!'] }));
    await bob.next('collaboration.ack');
    bob.send(cursor({ rev: 1, selections: [{ anchor: 1, head: 1 }] }));
    assert.deepEqual((await alice.next('collaboration.cursor', (f) => f.payload.rev === 2)).payload.selections, [{ anchor: 1, head: 1 }]);
    // Positions past the end are clamped; a revision from the future is refused.
    bob.send(cursor({ rev: 2, selections: [{ anchor: 500, head: 2 }] }));
    assert.deepEqual((await alice.next('collaboration.cursor', (f) => f.payload.selections[0]!.head === 2)).payload.selections, [
      { anchor: 15, head: 2 },
    ]);
    bob.send(cursor({ rev: 9, selections: [{ anchor: 0, head: 0 }] }));
    assert.equal((await bob.next('error')).payload.code, 'EDIT_REV_TOO_NEW');
  });

  it('refuses to create or grow a document past DOCUMENT_MAX_LENGTH, and changes nothing', async () => {
    relay = await startTestRelay({ DOCUMENT_MAX_LENGTH: '10' });
    const alice = await relay.connect('alice', { role: 'host' });
    alice.send(clientFrame('collaboration.open', { document: 'big.ts', text: '12345678901' }));
    const tooBig = await alice.next('error');
    assert.equal(tooBig.payload.code, 'DOCUMENT_TOO_LARGE');
    assert.equal(tooBig.payload.path, 'payload.text');
    const viewer = await relay.connect('vic', { role: 'viewer' });
    viewer.send(clientFrame('collaboration.open', { document: 'big.ts' }));
    assert.equal((await viewer.next('error')).payload.code, 'DOCUMENT_NOT_FOUND', 'the refused open created nothing');

    await openDocument(alice, DOC, '123456789');
    alice.send(edit({ rev: 0, client_id: 'a', seq: 0, op: ['ab'] }));
    assert.equal((await alice.next('error', (f) => f.payload.event_type === 'collaboration.edit')).payload.code, 'DOCUMENT_TOO_LARGE');
    // Replacing keeps the length: allowed, and the refused op left no trace (seq 0 commits now).
    alice.send(edit({ rev: 0, client_id: 'a', seq: 0, op: ['a', { d: '1' }] }));
    assert.equal((await alice.next('collaboration.ack')).payload.rev, 1);
    assert.deepEqual(plain(await openDocument(viewer, DOC)), { document: DOC, rev: 1, text: 'a23456789' });
  });

  it('takes a large initial text in pieces (`more: true`), answers the last piece, and bounds what it holds', async () => {
    relay = await startTestRelay({ WS_MAX_FRAME_BYTES: '1024', DOCUMENT_MAX_LENGTH: '5000' });
    const alice = await relay.connect('alice', { role: 'host' });
    const line = (n: number) => `line ${String(n).padStart(4, '0')} ${'x'.repeat(40)}\n`;
    const text = Array.from({ length: 80 }, (_, n) => line(n)).join(''); // 4,000 code units: four times the frame limit
    const pieces = text.match(/[^]{1,700}/g)!;
    for (const [i, piece] of pieces.entries()) {
      alice.send(clientFrame('collaboration.open', { document: 'big.ts', text: piece, ...(i < pieces.length - 1 && { more: true }) }));
    }
    // The answer is larger than a frame too: it comes in pieces of its own (`more: true`).
    await alice.next('collaboration.snapshot', (f) => f.payload.more !== true);
    const answer = alice.of('collaboration.snapshot');
    assert.equal(answer.map((f) => f.payload.text).join(''), text);
    assert.equal(answer.filter((f) => f.payload.more !== true).length, 1, 'only the last piece is answered');
    assert.deepEqual(alice.of('error'), []);
    // Pieces adding up past DOCUMENT_MAX_LENGTH are refused, and nothing is created.
    for (let i = 0; i < 8; i++) alice.send(clientFrame('collaboration.open', { document: 'huge.ts', text: 'y'.repeat(700), more: true }));
    const error = await alice.next('error');
    assert.equal(error.payload.code, 'DOCUMENT_TOO_LARGE');
    const vic = await relay.connect('vic', { role: 'viewer' });
    await assert.rejects(openDocument(vic, 'huge.ts'), /DOCUMENT_NOT_FOUND/);
  });

  it('joins without creating when asked (`create: false`): DOCUMENT_NOT_FOUND until the host shares it', async () => {
    relay = await startTestRelay();
    const alice = await relay.connect('alice', { role: 'host' });
    const bob = await relay.connect('bob');
    bob.send(clientFrame('collaboration.open', { document: 'later.ts', create: false }));
    const error = await bob.next('error');
    assert.equal(error.payload.code, 'DOCUMENT_NOT_FOUND');
    assert.deepEqual(
      plain(await openDocument(alice, 'later.ts', 'from disk')),
      { document: 'later.ts', rev: 0, text: 'from disk' },
      'bob created nothing',
    );
    bob.send(clientFrame('collaboration.open', { document: 'later.ts', create: false }));
    assert.equal((await bob.next('collaboration.snapshot')).payload.text, 'from disk');
  });

  it('drops a document nobody has had open for DOCUMENT_IDLE_TIMEOUT_MS, and keeps an open one however quiet', async () => {
    relay = await startTestRelay({ DOCUMENT_IDLE_TIMEOUT_MS: '1000' });
    const alice = await relay.connect('alice', { role: 'host' });
    await openDocument(alice, 'kept.ts', 'kept');
    const bob = await relay.connect('bob', { role: 'host' });
    await openDocument(bob, 'dropped.ts', 'dropped');
    bob.close();
    await bob.closed;
    const vic = await relay.connect('vic', { role: 'viewer' });
    // Looking would count as using it: wait out a few idle timeouts (the sweep runs 4 times per timeout) first.
    await sleep(2500);
    await assert.rejects(openDocument(vic, 'dropped.ts'), /DOCUMENT_NOT_FOUND/);
    assert.deepEqual(plain(await openDocument(vic, 'kept.ts')), { document: 'kept.ts', rev: 0, text: 'kept' });
  });

  it('rejoins after the ops it missed were trimmed: resyncs from the snapshot, its offline op applied once', async () => {
    relay = await startTestRelay({ DOCUMENT_HISTORY_SIZE: '2' });
    const token = (user: string) => relay!.token({ user, role: 'host' });
    const alice = new OtPeer(relay.url, token('alice'), 'c-alice', DOC, 'base\n');
    const bob = new OtPeer(relay.url, token('bob'), 'c-bob', DOC);
    try {
      await alice.start();
      await bob.start();
      await waitUntil(() => alice.settled && bob.settled, 'both joined');
      bob.client.close();
      await waitUntil(() => bob.client.state === 'closed', 'bob offline');
      bob.edit(['[bob offline]']);
      for (let i = 0; i < 6; i++) {
        alice.edit([alice.text.length, `${i}`]);
        await waitUntil(() => alice.settled, `alice's op ${i}`);
      }
      bob.client.connect();
      await waitUntil(() => alice.settled && bob.settled && alice.text === bob.text, 'both converged', 10_000);
      assert.equal(bob.resyncs, 1, 'the missed ops were trimmed: bob resynced from the snapshot');
      assert.equal(alice.text, '[bob offline]base\n012345');
      assert.deepEqual([...alice.problems, ...bob.problems], []);
    } finally {
      alice.dispose();
      bob.dispose();
    }
  });
});
