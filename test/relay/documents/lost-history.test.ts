import assert from 'node:assert/strict';
import { after, afterEach, describe, it } from 'node:test';
import { type ClientPayload, textType } from '../../../protocol';
import { DocumentAuthority, DocumentLostError } from '../../../relay/documents/document-authority';
import { MemoryDocumentStore } from '../../../relay/documents/memory-document-store';
import { ensureRelayBuilt } from '../../support/cli';
import { clientFrame, openDocument, startTestRelay, type TestClient, type TestRelay } from '../../support/relay-fixture';
import { RelayProcess } from '../../support/relay-process';
import { sleep, waitUntil } from '../../support/wait';
import { EditingRun } from './editing-run';

const DOC = 'notes.md';
const open = (payload: Omit<ClientPayload<'collaboration.open'>, 'document'>) =>
  clientFrame('collaboration.open', { document: DOC, ...payload });

describe('a relay that lost a document’s history rebuilds it from the participants’ copies', () => {
  const relays: TestRelay[] = [];
  afterEach(async () => {
    for (const relay of relays.splice(0)) await relay.stop();
  });
  const relay = async () => {
    const started = await startTestRelay();
    relays.push(started);
    return started;
  };

  /** The reset snapshot answering `client`'s rejoin. */
  const resetOf = async (client: TestClient) => (await client.next('collaboration.snapshot', (f) => f.payload.reset === true)).payload;

  it('every snapshot names the document’s epoch; a rejoin in that epoch is answered as before', async () => {
    const first = await relay();
    const alice = await first.connect('alice', { role: 'host' });
    const { epoch } = await openDocument(alice, DOC, 'abc');
    assert.match(epoch ?? '', /^[0-9a-f]{16}$/);
    alice.send(clientFrame('collaboration.edit', { document: DOC, rev: 0, client_id: 'a', seq: 0, op: ['>'], epoch }));
    await alice.next('collaboration.ack');
    const again = await first.connect('alice', { role: 'host' });
    again.send(open({ rev: 1, client_id: 'a', epoch: epoch!, text: '>abc', recovery: { seq: 1, history: [] } }));
    const snapshot = (await again.next('collaboration.snapshot')).payload;
    assert.deepEqual(snapshot, { document: DOC, rev: 1, text: '>abc', last_seq: 0, epoch });
  });

  it(
    'after a restart (memory store): the first back recreates it, the next merge in what they had, a resend is not merged ' + 'twice',
    async () => {
      const before = await relay();
      const host = await before.connect('alice', { role: 'host' });
      const { epoch } = await openDocument(host, DOC, 'hello');
      host.send(clientFrame('collaboration.edit', { document: DOC, rev: 0, client_id: 'a', seq: 0, op: [5, '!'], epoch }));
      await host.next('collaboration.ack');
      await before.stop();
      relays.splice(0);

      const after = await relay();
      // Alice had "hello!" at revision 1, and " world" sent but never acknowledged.
      const aliceRejoin = open({
        rev: 1,
        client_id: 'a',
        epoch: epoch!,
        text: 'hello!',
        recovery: { seq: 2, outstanding: { seq: 1, op: [6, ' world'] }, history: [{ rev: 1, op: [5, '!'], client_id: 'a', seq: 0 }] },
      });
      const alice = await after.connect('alice', { role: 'host' });
      alice.send(aliceRejoin);
      const recreated = await resetOf(alice);
      assert.notEqual(recreated.epoch, epoch, 'a new epoch');
      assert.deepEqual(
        { ...recreated, epoch: undefined },
        { document: DOC, rev: 1, text: 'hello! world', reset: true, rebase: [], last_seq: 2, epoch: undefined },
      );

      // Bob was behind (revision 0: he never got "!") and had typed ">" meanwhile.
      const bob = await after.connect('bob');
      bob.send(open({ rev: 0, client_id: 'b', epoch: epoch!, text: 'hello', recovery: { seq: 0, buffer: ['>'], history: [] } }));
      const merged = await resetOf(bob);
      assert.equal(merged.text, '>hello! world');
      assert.equal(merged.rev, 2);
      assert.equal(merged.epoch, recreated.epoch);
      assert.equal(textType.apply('>hello', merged.rebase!), merged.text, 'the rebase turns bob’s text into the document');
      const atAlice = await alice.next('collaboration.edit');
      assert.deepEqual([atAlice.payload.rev, atAlice.payload.client_id, atAlice.payload.op], [2, 'b', ['>']]);

      // Alice's answer was lost with her connection: the same upload again is recognised.
      const aliceAgain = await after.connect('alice', { role: 'host' });
      aliceAgain.send(aliceRejoin);
      const answer = await resetOf(aliceAgain);
      assert.deepEqual([answer.rev, answer.text, answer.last_seq], [2, '>hello! world', 2]);
      assert.equal(textType.apply('hello! world', answer.rebase!), answer.text);

      // A viewer's copy is never merged: it only learns where the document is.
      const vic = await after.connect('vic', { role: 'viewer' });
      vic.send(open({ rev: 1, client_id: 'v', epoch: epoch!, text: 'hello! and more', recovery: { seq: 0, history: [] } }));
      const seen = await resetOf(vic);
      assert.deepEqual([seen.rev, seen.text], [2, '>hello! world']);
      assert.equal(textType.apply('hello! and more', seen.rebase!), seen.text);

      const newcomer = await after.connect('carol');
      assert.deepEqual(await openDocument(newcomer, DOC), { document: DOC, rev: 2, text: '>hello! world', epoch: recreated.epoch });
    },
  );

  it('a long confirmed text comes in pieces (`more: true`), the rejoin with the last one; a viewer’s too', async () => {
    const before = await relay();
    const host = await before.connect('alice', { role: 'host' });
    const { epoch } = await openDocument(host, DOC, 'one two three');
    await before.stop();
    relays.splice(0);
    const after = await relay();
    const vic = await after.connect('vic', { role: 'viewer' });
    vic.send(open({ text: 'one ', more: true }));
    vic.send(open({ rev: 0, client_id: 'v', epoch: epoch!, text: 'two three', recovery: { seq: 0, history: [] } }));
    assert.equal((await vic.next('error')).payload.code, 'DOCUMENT_NOT_FOUND', 'a viewer cannot recreate it');
    const alice = await after.connect('alice', { role: 'host' });
    alice.send(open({ text: 'one ', more: true }));
    alice.send(open({ text: 'two ', more: true }));
    alice.send(open({ rev: 0, client_id: 'a', epoch: epoch!, text: 'three', recovery: { seq: 0, buffer: [13, '!'], history: [] } }));
    const recreated = await resetOf(alice);
    assert.deepEqual([recreated.rev, recreated.text, recreated.rebase], [1, 'one two three!', []]);
    vic.send(open({ text: 'one ', more: true }));
    vic.send(open({ rev: 0, client_id: 'v', epoch: epoch!, text: 'two three', recovery: { seq: 0, history: [] } }));
    const seen = await resetOf(vic);
    assert.equal(textType.apply('one two three', seen.rebase!), 'one two three!', 'the rebase fits the viewer’s whole text');
  });

  it('an edit or cursor of the lost epoch is never applied: the edit’s connection is told to rejoin, the cursor dropped', async () => {
    const before = await relay();
    const alice = await before.connect('alice', { role: 'host' });
    const { epoch: old } = await openDocument(alice, DOC, 'text');
    await before.stop();
    relays.splice(0);
    const after = await relay();
    const bob = await after.connect('bob', { role: 'host' });
    const { epoch } = await openDocument(bob, DOC, 'other text');
    assert.notEqual(epoch, old);
    const carol = await after.connect('carol');
    await openDocument(carol, DOC);
    carol.send(clientFrame('collaboration.cursor', { document: DOC, rev: 0, selections: [{ anchor: 1, head: 1 }], epoch: old }));
    carol.send(clientFrame('collaboration.edit', { document: DOC, rev: 0, client_id: 'c', seq: 0, op: ['stale '], epoch: old }));
    const disconnect = (await carol.next('disconnect')).payload;
    assert.deepEqual([disconnect.reason, disconnect.reconnect], ['server_error', true]);
    await sleep(50); // a cursor would have reached bob by now
    assert.deepEqual(bob.of('collaboration.cursor'), []);
    assert.deepEqual(carol.of('error'), []);
    const watcher = await after.connect('watcher', { role: 'viewer' });
    assert.deepEqual(await openDocument(watcher, DOC), { document: DOC, rev: 0, text: 'other text', epoch });
  });

  it('the authority refuses an op of an epoch whose document is gone altogether (DocumentLostError, nothing created)', async () => {
    const store = new MemoryDocumentStore();
    const authority = new DocumentAuthority(store);
    const hooks = { announce: () => assert.fail('nothing is committed'), reply: () => assert.fail('nothing to answer') };
    await assert.rejects(
      authority.commit('s1', 'alice', { document: DOC, rev: 3, client_id: 'a', seq: 0, op: ['x'], epoch: 'gone' }, hooks),
      DocumentLostError,
    );
    await assert.rejects(
      authority.commit('s1', 'alice', { document: DOC, rev: 3, client_id: 'a', seq: 0, op: ['x'] }, hooks),
      /DOCUMENT_NOT_FOUND|no document/,
    );
    assert.equal(await store.head('s1', DOC), undefined);
    await store.close();
  });
});

describe('a relay process restarted (embedded store) while participants edit: they rebuild the document and converge', () => {
  let relay: RelayProcess | undefined;
  let run: EditingRun | undefined;
  after(async () => {
    run?.dispose();
    await relay?.kill();
  });

  it('kill -9 mid-run, restart empty: every marker anyone typed comes back exactly once', async () => {
    ensureRelayBuilt();
    relay = await RelayProcess.start({ WS_MAX_MESSAGES_PER_SECOND: '100000', WS_MAX_CONNECTIONS_PER_IP_PER_MINUTE: '1000000' });
    run = new EditingRun([relay]);
    await run.start(4);
    await run.further(150, 'edits before the crash');
    const { epoch } = await run.current(relay);
    await relay.kill();
    const confirmed = run.confirmed();
    assert.ok(confirmed.size > 10, `${confirmed.size} markers confirmed before the crash`);
    await run.further(20, 'edits while the relay is down'); // typed offline, pending
    await relay.restart();
    await waitUntil(() => run!.peers.every((p) => p.resets >= 1), 'every participant rebuilt the document', 20_000, 20);
    await run.further(150, 'edits after the restart');
    await run.stop();
    const text = await run.assertConverged();
    for (const marker of confirmed) assert.ok(text.includes(marker), `${marker}, confirmed before the crash, is back`);
    assert.notEqual(run.peers[0]!.doc!.epoch, epoch, 'a new epoch');
  });
});
