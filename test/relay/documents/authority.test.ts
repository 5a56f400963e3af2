import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { type ClientPayload, textType } from '../../../protocol';
import { clientFrame, openDocument, startTestRelay, type TestClient, type TestRelay } from '../../support/relay-fixture';
import { plain } from './document-store.contract';

const DOC = 'src/doc.ts';
/** Inserts `text` at `pos`. */
const insertAt = (pos: number, text: string) => (pos === 0 ? [text] : [pos, text]);
const edit = (
  extra: Partial<ClientPayload<'collaboration.edit'>> & Pick<ClientPayload<'collaboration.edit'>, 'rev' | 'seq' | 'op'>,
): ClientPayload<'collaboration.edit'> => ({
  document: DOC,
  client_id: 'c-alice',
  ...extra,
});

describe('document authority over real sockets', () => {
  let relay: TestRelay;
  let alice: TestClient;
  let bob: TestClient;
  beforeEach(async () => {
    relay = await startTestRelay({ DOCUMENT_HISTORY_SIZE: '3' });
    alice = await relay.connect('alice', { role: 'host' });
    bob = await relay.connect('bob');
  });
  afterEach(() => relay.stop());

  /** What a newcomer sees: the relay's text and revision. */
  async function current(): Promise<{ rev: number; text: string }> {
    const watcher = await relay.connect(`watcher-${relay.clients.length}`, { role: 'viewer' });
    const { rev, text } = await openDocument(watcher, DOC);
    watcher.close();
    return { rev, text };
  }

  it('creates a document on open, answers with a snapshot, acks the sender and broadcasts the committed op', async () => {
    assert.deepEqual(plain(await openDocument(alice, DOC, 'hello')), { document: DOC, rev: 0, text: 'hello' });
    assert.deepEqual(plain(await openDocument(bob, DOC, 'ignored: it exists')), { document: DOC, rev: 0, text: 'hello' });

    alice.send(clientFrame('collaboration.edit', edit({ rev: 0, seq: 0, op: [5, ' world'] })));
    assert.deepEqual((await alice.next('collaboration.ack')).payload, { document: DOC, rev: 1, client_id: 'c-alice', seq: 0 });
    const atBob = await bob.next('collaboration.edit');
    assert.deepEqual(atBob.payload, { document: DOC, rev: 1, client_id: 'c-alice', seq: 0, op: [5, ' world'] });
    assert.equal(atBob.user_id, 'alice');
    assert.deepEqual(alice.of('collaboration.edit'), [], 'the sender gets an ack, not an echo');
    assert.deepEqual(await current(), { rev: 1, text: 'hello world' });
  });

  it('transforms a concurrent op against the history since its base revision', async () => {
    await openDocument(alice, DOC, 'abc');
    await openDocument(bob, DOC);
    // Both made against revision 0: alice inserts at the start, bob deletes "c" and appends.
    alice.send(clientFrame('collaboration.edit', edit({ rev: 0, seq: 0, op: ['>'] })));
    await alice.next('collaboration.ack');
    bob.send(clientFrame('collaboration.edit', edit({ client_id: 'c-bob', rev: 0, seq: 0, op: [2, { d: 'c' }, '!'] })));
    assert.deepEqual((await bob.next('collaboration.ack')).payload.rev, 2);
    const shifted = (await alice.next('collaboration.edit')).payload.op;
    assert.deepEqual(textType.normalize(shifted), textType.normalize([3, { d: 'c' }, '!']), 'shifted past alice’s insert');
    assert.deepEqual(await current(), { rev: 2, text: '>ab!' });
  });

  it('acks a resent op again with the same revision and applies it once', async () => {
    await openDocument(alice, DOC, '');
    await openDocument(bob, DOC);
    const op = edit({ rev: 0, seq: 0, op: ['once'] });
    alice.send(clientFrame('collaboration.edit', op));
    alice.send(clientFrame('collaboration.edit', op));
    await alice.until(() => alice.of('collaboration.ack').length === 2, 'two acks');
    assert.deepEqual(
      alice.of('collaboration.ack').map((f) => f.payload),
      [
        { document: DOC, rev: 1, client_id: 'c-alice', seq: 0 },
        { document: DOC, rev: 1, client_id: 'c-alice', seq: 0 },
      ],
    );
    // A later resend of an older seq is acked too, after a newer one.
    alice.send(clientFrame('collaboration.edit', edit({ rev: 1, seq: 1, op: [4, '!'] })));
    await alice.until(() => alice.of('collaboration.ack').length === 3, 'third ack');
    alice.send(clientFrame('collaboration.edit', op));
    await alice.until(() => alice.of('collaboration.ack').length === 4, 'fourth ack');
    assert.deepEqual(await current(), { rev: 2, text: 'once!' });
    assert.equal(bob.of('collaboration.edit').length, 2, 'bob saw each op once');
    // Another user reusing alice's client id is not mistaken for her.
    bob.send(clientFrame('collaboration.edit', edit({ rev: 2, seq: 0, op: ['bob:'] })));
    assert.equal((await bob.next('collaboration.ack')).payload.rev, 3);
    assert.deepEqual(await current(), { rev: 3, text: 'bob:once!' });
  });

  it('refuses bad ops with an error and changes nothing', async () => {
    await openDocument(alice, DOC, 'abc😀');
    await openDocument(bob, DOC);
    const cases: Array<{ payload: unknown; code: string; path?: string }> = [
      { payload: edit({ rev: 0, seq: 0, op: [0] }), code: 'VALIDATION_FAILED' },
      { payload: { ...edit({ rev: 0, seq: 0, op: [] }), op: 'abc' }, code: 'VALIDATION_FAILED', path: 'payload.op' },
      { payload: edit({ rev: 0, seq: 0, op: [6, 'x'] }), code: 'OP_OUT_OF_RANGE', path: 'payload.op[0]' },
      { payload: edit({ rev: 0, seq: 0, op: [{ d: 'abc😀!' }] }), code: 'OP_OUT_OF_RANGE' },
      { payload: edit({ rev: 0, seq: 0, op: [1, { d: 'x' }] }), code: 'OP_DELETE_MISMATCH', path: 'payload.op[1]' },
      { payload: edit({ rev: 0, seq: 0, op: [4, 'x'] }), code: 'OP_SPLITS_SURROGATE' },
      { payload: edit({ rev: 0, seq: 0, op: ['\ud83d'] }), code: 'OP_SPLITS_SURROGATE' },
      { payload: edit({ rev: 1, seq: 0, op: ['x'] }), code: 'EDIT_REV_TOO_NEW', path: 'payload.rev' },
      { payload: edit({ document: 'nope.ts', rev: 0, seq: 0, op: ['x'] }), code: 'DOCUMENT_NOT_OPEN', path: 'payload.document' },
    ];
    for (const [i, { payload, code, path }] of cases.entries()) {
      alice.send({ event_type: 'collaboration.edit', payload });
      await alice.until(() => alice.of('error').length === i + 1, `error #${i + 1}`);
      const error = alice.of('error')[i]!.payload;
      assert.equal(error.code, code, `case ${i}: ${JSON.stringify(payload)}: ${error.message}`);
      assert.equal(error.event_type, 'collaboration.edit');
      if (path) assert.equal(error.path, path, `case ${i}`);
    }
    // A viewer's edit is refused before it reaches the document.
    const vic = await relay.connect('vic', { role: 'viewer' });
    vic.send(clientFrame('collaboration.edit', edit({ client_id: 'c-vic', rev: 0, seq: 0, op: ['x'] })));
    assert.equal((await vic.next('error')).payload.code, 'FORBIDDEN_ROLE');
    assert.deepEqual(await current(), { rev: 0, text: 'abc😀' });
    assert.deepEqual([...alice.of('collaboration.ack'), ...bob.of('collaboration.edit')], []);
    // Nothing was recorded either: seq 0 still commits.
    alice.send(clientFrame('collaboration.edit', edit({ rev: 0, seq: 0, op: [3, '-'] })));
    assert.equal((await alice.next('collaboration.ack')).payload.rev, 1);
    assert.deepEqual(await current(), { rev: 1, text: 'abc-😀' });
  });

  it('answers an op based on a revision older than the kept history with a resync, and applies nothing', async () => {
    await openDocument(alice, DOC, '');
    await openDocument(bob, DOC);
    for (let seq = 0; seq < 5; seq++) {
      alice.send(clientFrame('collaboration.edit', edit({ rev: seq, seq, op: insertAt(seq, String(seq)) })));
      await alice.until(() => alice.of('collaboration.ack').length === seq + 1, `ack ${seq}`);
    }
    // History keeps 3 ops (revisions 3..5): bases 2..5 are still transformable, 0 and 1 are not.
    bob.send(clientFrame('collaboration.edit', edit({ client_id: 'c-bob', rev: 1, seq: 0, op: [1, 'B'] })));
    const resync = await bob.next('collaboration.resync');
    assert.deepEqual(resync.payload, { document: DOC, rev: 5, text: '01234', reason: 'history_trimmed' });
    assert.deepEqual(bob.of('collaboration.ack'), []);
    assert.deepEqual(await current(), { rev: 5, text: '01234' });
    // From revision 2 it still transforms.
    bob.send(clientFrame('collaboration.edit', edit({ client_id: 'c-bob', rev: 2, seq: 0, op: [2, 'B'] })));
    assert.equal((await bob.next('collaboration.ack')).payload.rev, 6);
    assert.deepEqual(await current(), { rev: 6, text: '01234B' }, 'committed inserts at the same place go first');
  });

  it('catches a rejoining client up: the ops since its revision, then the snapshot with its last seq', async () => {
    await openDocument(alice, DOC, '');
    for (let seq = 0; seq < 3; seq++) {
      alice.send(clientFrame('collaboration.edit', edit({ rev: seq, seq, op: insertAt(seq, String(seq)) })));
      await alice.until(() => alice.of('collaboration.ack').length === seq + 1, `ack ${seq}`);
    }
    const carol = await relay.connect('carol');
    carol.send(clientFrame('collaboration.open', { document: DOC, rev: 1, client_id: 'c-alice' }));
    const snapshot = await carol.next('collaboration.snapshot');
    assert.deepEqual(plain(snapshot.payload), { document: DOC, rev: 3, text: '012' }, 'no last_seq: carol never committed as c-alice');
    assert.deepEqual(
      carol.of('collaboration.edit').map((f) => [f.payload.rev, f.payload.seq, f.payload.op]),
      [
        [2, 1, insertAt(1, '1')],
        [3, 2, insertAt(2, '2')],
      ],
    );
    assert.ok(carol.frames.indexOf(snapshot) > carol.frames.indexOf(carol.of('collaboration.edit')[1]!), 'the snapshot comes last');
    const again = await relay.connect('alice', { role: 'host' });
    again.send(clientFrame('collaboration.open', { document: DOC, rev: 3, client_id: 'c-alice' }));
    assert.deepEqual(plain((await again.next('collaboration.snapshot')).payload), { document: DOC, rev: 3, text: '012', last_seq: 2 });
    again.send(clientFrame('collaboration.open', { document: DOC, rev: 4 }));
    assert.equal((await again.next('error')).payload.code, 'EDIT_REV_TOO_NEW');
  });
});
