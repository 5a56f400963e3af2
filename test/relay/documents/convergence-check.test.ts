/**
 * `collaboration.check`: a client says what it has at a revision (length and hash); the relay
 * answers a difference with its own text (`collaboration.resync`, `diverged`) and counts the
 * repair in `/ws/stats`; a matching or stale check gets no answer; bad checks get errors.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { textHash } from '../../../protocol';
import { clientFrame, fetchStats, openDocument, startTestRelay, type TestClient, type TestRelay } from '../../support/relay-fixture';

const DOC = 'src/check.ts';
const check = (payload: { rev: number; length: number; hash: string; repairs?: number }, document = DOC) =>
  clientFrame('collaboration.check', { document, ...payload });

/** A ping's pong: every frame sent before it has been handled. */
async function flushed(client: TestClient, id: string): Promise<void> {
  client.send(clientFrame('system.ping', { nonce: id }));
  await client.next('system.pong', (f) => f.payload.nonce === id);
}

async function repairs(relay: TestRelay): Promise<{ relay: number; editor: number }> {
  return (await fetchStats(relay)).document_repairs;
}

describe('convergence check (collaboration.check)', () => {
  let relay: TestRelay | undefined;
  afterEach(async () => {
    await relay?.stop();
    relay = undefined;
  });

  it('a matching check is not answered; a differing one gets the relay text as a diverged resync, counted', async () => {
    relay = await startTestRelay();
    const alice = await relay.connect('alice', { role: 'host' });
    await openDocument(alice, DOC, 'hello');
    alice.send(check({ rev: 0, length: 5, hash: textHash('hello') }));
    await flushed(alice, 'a');
    assert.equal(alice.of('collaboration.resync').length, 0, 'no answer to a match');
    assert.deepEqual(await repairs(relay), { relay: 0, editor: 0 });

    // Same length, other text: only the hash tells.
    alice.send(check({ rev: 0, length: 5, hash: textHash('hellO') }));
    const resync = await alice.next('collaboration.resync');
    assert.deepEqual(resync.payload, { document: DOC, rev: 0, text: 'hello', reason: 'diverged' });
    // Another length: the hash is not even needed.
    alice.send(check({ rev: 0, length: 4, hash: textHash('hell') }));
    await alice.until(() => alice.of('collaboration.resync').length === 2, 'a second resync');
    // The client's own repairs of its editor are counted too.
    alice.send(check({ rev: 0, length: 5, hash: textHash('hello'), repairs: 2 }));
    await flushed(alice, 'b');
    assert.deepEqual(await repairs(relay), { relay: 2, editor: 2 });
  });

  it('a check of another revision than the head is stale: not answered', async () => {
    relay = await startTestRelay();
    const alice = await relay.connect('alice', { role: 'host' });
    await openDocument(alice, DOC, 'abc');
    alice.send(clientFrame('collaboration.edit', { document: DOC, rev: 0, client_id: 'a', seq: 0, op: ['x'] }));
    await alice.next('collaboration.ack');
    alice.send(check({ rev: 0, length: 3, hash: textHash('zzz') }));
    await flushed(alice, 'a');
    assert.equal(alice.of('collaboration.resync').length, 0);
    alice.send(check({ rev: 1, length: 4, hash: textHash('xabc') }));
    await flushed(alice, 'b');
    assert.equal(alice.of('collaboration.resync').length, 0);
    assert.deepEqual(await repairs(relay), { relay: 0, editor: 0 });
  });

  it('bad checks get errors and change nothing: a malformed hash, a document not open, too many per second', async () => {
    relay = await startTestRelay({ WS_MAX_MESSAGES_PER_SECOND: '10000' });
    const alice = await relay.connect('alice', { role: 'host' });
    const bob = await relay.connect('bob');
    await openDocument(alice, DOC, 'abc');
    alice.send(check({ rev: 0, length: 3, hash: 'not-a-hash' }));
    const invalid = await alice.next('error');
    assert.equal(invalid.payload.code, 'VALIDATION_FAILED');
    assert.equal(invalid.payload.path, 'payload.hash');
    bob.send(check({ rev: 0, length: 3, hash: textHash('abc') }));
    assert.equal((await bob.next('error')).payload.code, 'DOCUMENT_NOT_OPEN');
    for (let i = 0; i < 60; i++) alice.send(check({ rev: 0, length: 3, hash: textHash('abc') }));
    const limited = await alice.next('error', (f) => f.payload.code === 'RATE_LIMITED');
    assert.match(limited.payload.message, /convergence checks per second/);
    await flushed(alice, 'c');
    assert.equal(alice.of('collaboration.resync').length, 0);
    assert.deepEqual(await repairs(relay), { relay: 0, editor: 0 });
  });
});
