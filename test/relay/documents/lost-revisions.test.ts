import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { type ClientPayload, type ProtocolError, textType } from '../../../protocol';
import { DocumentAuthority, DocumentLostError } from '../../../relay/documents/document-authority';
import { MemoryDocumentStore } from '../../../relay/documents/memory-document-store';
import { type RedisServer, startRedisServer } from '../../support/redis-server';
import { clientFrame, openDocument, startTestRelay, type TestClient, type TestRelay } from '../../support/relay-fixture';
import { sleep } from '../../support/wait';
import { EditingRun } from './editing-run';

// A store that lost a document's last revisions but kept its epoch (a Redis failover: what the
// master acknowledged in its last moment never reached the replica that took over) forks it: a
// new epoch from what it still has, into which every participant's rejoin merges its copy, the
// lost revisions included (DocumentAuthority.forkLost).

const DOC = 'notes.md';
const open = (payload: Omit<ClientPayload<'collaboration.open'>, 'document'>) =>
  clientFrame('collaboration.open', { document: DOC, ...payload });
const resetOf = async (client: TestClient) => (await client.next('collaboration.snapshot', (f) => f.payload.reset === true)).payload;

describe('a document whose last revisions were lost (same epoch) forks, and the rejoins bring them back', () => {
  const relays: TestRelay[] = [];
  afterEach(async () => {
    for (const relay of relays.splice(0)) await relay.stop();
  });

  it('a rejoin from past the head: a new epoch with what the client had, the others told to rejoin; a 2nd claim is refused', async () => {
    const relay = await startTestRelay();
    relays.push(relay);
    const alice = await relay.connect('alice', { role: 'host' });
    const { epoch } = await openDocument(alice, DOC, 'hello');
    alice.send(clientFrame('collaboration.edit', { document: DOC, rev: 0, client_id: 'a', seq: 0, op: [5, '!'], epoch }));
    await alice.next('collaboration.ack');

    // Carol had two more revisions (" world" by alice, "?" by herself) that the store no longer
    // has, and typed ">" meanwhile.
    const carol = await relay.connect('carol');
    carol.send(
      open({
        rev: 3,
        client_id: 'c',
        epoch: epoch!,
        text: 'hello! world?',
        recovery: {
          seq: 1,
          buffer: ['>'],
          history: [
            { rev: 1, op: [5, '!'], client_id: 'a', seq: 0 },
            { rev: 2, op: [6, ' world'], client_id: 'a', seq: 1 },
            { rev: 3, op: [12, '?'], client_id: 'c', seq: 0 },
          ],
        },
      }),
    );
    const forked = await resetOf(carol);
    assert.notEqual(forked.epoch, epoch, 'a new epoch');
    assert.equal(forked.text, '>hello! world?', 'the lost revisions and carol’s pending edit');
    assert.equal(forked.rev, 1);
    assert.equal(textType.apply('>hello! world?', forked.rebase!), forked.text);

    // Alice, still in the old epoch at revision 1, is told to rejoin; her rejoin catches her up.
    const told = (await alice.next('disconnect')).payload;
    assert.deepEqual([told.reason, told.reconnect], ['server_error', true]);
    const again = await relay.connect('alice', { role: 'host' });
    again.send(
      open({
        rev: 1,
        client_id: 'a',
        epoch: epoch!,
        text: 'hello!',
        recovery: { seq: 2, history: [{ rev: 1, op: [5, '!'], client_id: 'a', seq: 0 }] },
      }),
    );
    const caughtUp = await resetOf(again);
    assert.equal(caughtUp.epoch, forked.epoch);
    assert.equal(caughtUp.text, '>hello! world?');
    assert.equal(textType.apply('hello!', caughtUp.rebase!), caughtUp.text, 'the rebase brings alice’s text to the document');

    // Another claim soon after is not believed: one fork per document per cooldown.
    const mallory = await relay.connect('mallory');
    mallory.send(open({ rev: 9, client_id: 'm', epoch: forked.epoch!, text: 'x', recovery: { seq: 0, history: [] } }));
    const error = (await mallory.next('error')).payload;
    assert.equal(error.code, 'EDIT_REV_TOO_NEW');
    const watcher = await relay.connect('watcher', { role: 'viewer' });
    const now = await openDocument(watcher, DOC);
    assert.deepEqual([now.epoch, now.text], [forked.epoch, '>hello! world?'], 'nothing changed');
  });

  it('a viewer’s claim never forks a document: the viewer is brought to the head', async () => {
    const relay = await startTestRelay();
    relays.push(relay);
    const alice = await relay.connect('alice', { role: 'host' });
    const { epoch } = await openDocument(alice, DOC, 'hello');
    const viewer = await relay.connect('vera', { role: 'viewer' });
    viewer.send(open({ rev: 5, client_id: 'v', epoch: epoch!, text: 'hello, lost', recovery: { seq: 0, history: [] } }));
    const reset = await resetOf(viewer);
    assert.deepEqual([reset.epoch, reset.rev, reset.text], [epoch, 0, 'hello'], 'the same epoch, at its head');
    assert.equal(textType.apply('hello, lost', reset.rebase!), 'hello');
    await sleep(50);
    assert.deepEqual(alice.of('disconnect'), [], 'no one told to rejoin');
    assert.deepEqual(viewer.of('error'), []);
  });

  it('an edit past the head (same epoch) forks the document and is refused (lost epoch); claims bounded per document, user', async () => {
    const store = new MemoryDocumentStore();
    const forks: string[] = [];
    const authority = new DocumentAuthority(store, { maxLength: 1000, onRecovery: (kind) => forks.push(kind) });
    const hooks = { announce: () => assert.fail('nothing is committed'), reply: () => assert.fail('nothing to answer') };
    assert.ok(await store.create('s1', DOC, 'text'));
    const { epoch } = (await store.head('s1', DOC))!;
    const claim = (seq: number, on: string) =>
      authority.commit('s1', 'mallory', { document: DOC, rev: 4, client_id: 'm', seq, op: ['x'], epoch: on }, hooks);
    await assert.rejects(claim(0, epoch), DocumentLostError);
    const head = (await store.head('s1', DOC))!;
    assert.notEqual(head.epoch, epoch);
    assert.deepEqual([head.rev, (await store.snapshot('s1', DOC))!.text], [0, 'text'], 'nothing applied');
    assert.deepEqual(await store.origin('s1', DOC, head.epoch), { epoch, rev: 0, history: [] });
    // A client that keeps claiming gets refused, and costs no further fork.
    for (let seq = 1; seq <= 20; seq++) await assert.rejects(claim(seq, head.epoch), { code: 'EDIT_REV_TOO_NEW' });
    assert.deepEqual(forks, ['forked']);
    assert.equal((await store.head('s1', DOC))!.epoch, head.epoch);

    // Nor document after document: three forks per claiming user, whatever the documents.
    const claims: string[] = [];
    for (const [i, document] of ['b.md', 'c.md', 'd.md', 'e.md', 'f.md'].entries()) {
      assert.ok(await store.create('s1', document, 'text'));
      const on = (await store.head('s1', document))!.epoch;
      const edit = { document, rev: 4, client_id: 'm', seq: 100 + i, op: ['x'], epoch: on };
      const refused = await authority.commit('s1', 'mallory', edit, hooks).then(
        () => assert.fail('nothing is committed'),
        (error: unknown) => error,
      );
      const forked = (await store.head('s1', document))!.epoch !== on;
      claims.push(forked && refused instanceof DocumentLostError ? 'forked' : (refused as ProtocolError).code);
    }
    assert.deepEqual(claims, ['forked', 'forked', 'EDIT_REV_TOO_NEW', 'EDIT_REV_TOO_NEW', 'EDIT_REV_TOO_NEW']);
    // Another user's claims count for that user.
    const epochOfE = (await store.head('s1', 'e.md'))!.epoch;
    await assert.rejects(
      authority.commit('s1', 'trent', { document: 'e.md', rev: 4, client_id: 't', seq: 0, op: ['x'], epoch: epochOfE }, hooks),
      DocumentLostError,
    );
    assert.equal(forks.length, 4);
    await store.close();
  });
});

describe('Redis lost a document’s last revisions (its keys put back as they were, as a failover does) while participants edit', () => {
  let redis: RedisServer | undefined;
  const relays: TestRelay[] = [];
  let run: EditingRun | undefined;
  afterEach(async (t) => {
    run?.dispose();
    run = undefined;
    for (const relay of relays.splice(0)) await relay.stop();
    redis?.printLogIfFailed(t);
    await redis?.dispose();
    redis = undefined;
  });

  /** The document's keys (session s1) as they are now, and a function that puts them back so. */
  async function keepKeys(document: string): Promise<() => Promise<void>> {
    const direct = new Redis(redis!.port, '127.0.0.1');
    const keys = ['meta', 'ops', 'seen', 'seenq'].map((k) => `tandem:doc:{s1}:${document}:${k}`);
    const dumping = direct.multi();
    for (const key of keys) dumping.dumpBuffer(key);
    const dumped = (await dumping.exec())!.map(([error, value]) => {
      assert.ifError(error);
      assert.ok(Buffer.isBuffer(value));
      return value;
    });
    return async () => {
      const restoring = direct.multi();
      for (const [i, key] of keys.entries()) restoring.restore(key, 0, dumped[i]!, 'REPLACE');
      for (const [error] of (await restoring.exec())!) assert.ifError(error);
      direct.disconnect();
    };
  }

  it('one behind the loss rejoins first: the relay that saw the lost revisions forks before anyone commits at their numbers', async () => {
    redis = await startRedisServer({ persistence: 'none' });
    const relay = await startTestRelay({ REDIS_URL: redis.url });
    relays.push(relay);
    const alice = await relay.connect('alice', { role: 'host' });
    const { epoch } = await openDocument(alice, DOC, 'hello');
    alice.send(clientFrame('collaboration.edit', { document: DOC, rev: 0, client_id: 'a', seq: 0, op: [5, '!'], epoch }));
    await alice.next('collaboration.ack');
    const restore = await keepKeys(DOC);
    alice.send(clientFrame('collaboration.edit', { document: DOC, rev: 1, client_id: 'a', seq: 1, op: [6, ' world'], epoch }));
    await alice.next('collaboration.ack', (f) => f.payload.rev === 2);
    await restore(); // Redis is back at revision 1; this relay saw 2

    // Bob had revision 1 and typed ">": a plain rejoin, from behind the loss.
    const bob = await relay.connect('bob');
    bob.send(
      open({
        rev: 1,
        client_id: 'b',
        epoch: epoch!,
        text: 'hello!',
        recovery: { seq: 0, buffer: ['>'], history: [{ rev: 1, op: [5, '!'], client_id: 'a', seq: 0 }] },
      }),
    );
    const forked = await resetOf(bob);
    assert.notEqual(forked.epoch, epoch, 'forked: bob’s ">" is not committed at the lost revision 2 of the old epoch');
    assert.equal(forked.text, '>hello!');
    // Alice is told to rejoin, and brings " world" back.
    assert.equal((await alice.next('disconnect')).payload.reconnect, true);
    const again = await relay.connect('alice', { role: 'host' });
    again.send(
      open({
        rev: 2,
        client_id: 'a',
        epoch: epoch!,
        text: 'hello! world',
        recovery: {
          seq: 2,
          history: [
            { rev: 1, op: [5, '!'], client_id: 'a', seq: 0 },
            { rev: 2, op: [6, ' world'], client_id: 'a', seq: 1 },
          ],
        },
      }),
    );
    const merged = await resetOf(again);
    assert.deepEqual([merged.epoch, merged.text], [forked.epoch, '>hello! world']);
    const atBob = await bob.next('collaboration.edit');
    assert.equal(textType.apply(forked.text, atBob.payload.op), '>hello! world', 'bob gets alice’s lost revision as an edit');
  });

  it('two relays: every marker anyone had confirmed comes back exactly once, all converge in a new epoch', async () => {
    redis = await startRedisServer({ persistence: 'none' });
    const settings = (id: string) => ({ RELAY_ID: id, REDIS_URL: redis!.url, WS_MAX_MESSAGES_PER_SECOND: '100000' });
    relays.push(await startTestRelay(settings('relay-a')), await startTestRelay(settings('relay-b')));
    run = new EditingRun(relays);
    await run.start(4);
    await run.further(60, 'edits before');
    const before = await run.current(relays[0]!);

    // The document's keys as a replica has them, then edits it will never get, then the failover.
    const restore = await keepKeys(run.document);
    await run.further(40, 'edits the store will lose');
    const lost = run.confirmed();
    run.peers[0]!.drop(); // one participant is away at the moment of the loss, and rejoins into it
    await restore();
    await run.further(100, 'edits after the loss', 40_000);
    await run.stop();
    const text = await run.assertConverged(40_000);
    for (const marker of lost) assert.ok(text.includes(marker), `${marker}, confirmed before the loss, is back`);
    const after = await run.current(relays[1]!);
    assert.notEqual(after.epoch, before.epoch, 'a new epoch');
  });
});
