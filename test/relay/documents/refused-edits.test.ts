// An edit the relay refuses names its document and seq in the `error`, and a client never waits
// for an ack that will not come: over the message rate it sends the edit again; refused for good
// (the document would outgrow DOCUMENT_MAX_LENGTH) it takes the edit out of its text and goes on,
// what it typed after the refused edit included. Before, the refused edit stayed outstanding and
// nothing that client typed afterwards reached anyone.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { OtPeer } from '../../support/ot-peer';
import { clientFrame, openDocument, startTestRelay, type TestRelay } from '../../support/relay-fixture';
import { waitUntil } from '../../support/wait';

const DOC = 'limits.md';

describe('refused edits', () => {
  const relays: TestRelay[] = [];
  const peers: OtPeer[] = [];
  after(async () => {
    for (const peer of peers) peer.dispose();
    for (const relay of relays) await relay.stop();
  });
  async function relayWith(settings: Record<string, string>): Promise<TestRelay> {
    const relay = await startTestRelay(settings);
    relays.push(relay);
    return relay;
  }
  async function peer(relay: TestRelay, user: string, role: 'host' | 'editor', text?: string): Promise<OtPeer> {
    const p = new OtPeer(relay.url, relay.token({ user, role }), `${user}-client`, DOC, text);
    peers.push(p);
    await p.start();
    return p;
  }

  it('a refused edit names its document and seq (refused by the handler or before decoding); a refused open its document', async () => {
    const relay = await relayWith({ DOCUMENT_MAX_LENGTH: '100', WS_MAX_MESSAGES_PER_SECOND: '20' });
    const alice = await relay.connect('alice', { role: 'host' });
    const { epoch } = await openDocument(alice, DOC, 'hello');
    alice.send(clientFrame('collaboration.edit', { document: DOC, rev: 0, client_id: 'a', seq: 7, op: [5, 'x'.repeat(200)], epoch }));
    const tooLarge = await alice.next('error');
    assert.deepEqual(
      { ...tooLarge.payload, message: undefined },
      {
        code: 'DOCUMENT_TOO_LARGE',
        message: undefined,
        event_type: 'collaboration.edit',
        document: DOC,
        seq: 7,
        path: tooLarge.payload.path,
      },
    );
    // Over the message rate: refused before decoding, the frame's text read for its ids.
    for (let i = 0; i < 40; i++) alice.send(clientFrame('system.ping', { nonce: String(i) }));
    alice.send(clientFrame('collaboration.edit', { document: DOC, rev: 0, client_id: 'a', seq: 8, op: [5, '!'], epoch }));
    await alice.until(() => alice.of('error').some((e) => e.payload.seq === 8), 'the refusal of seq 8');
    const limited = alice.of('error').find((e) => e.payload.seq === 8)!;
    assert.deepEqual([limited.payload.code, limited.payload.document], ['RATE_LIMITED', DOC]);
    assert.ok(
      alice
        .of('error')
        .filter((e) => e.payload.event_type === 'system.ping')
        .every((e) => e.payload.document === undefined),
    );
    // A refused open names its document (a host learns which file is not shared), and no seq.
    await new Promise((resolve) => setTimeout(resolve, 1100)); // a new second of messages
    const before = alice.of('error').length;
    alice.send(clientFrame('collaboration.open', { document: 'big.md', text: 'b'.repeat(200) }));
    await alice.until(() => alice.of('error').length > before, 'the refusal of the open');
    const open = alice.of('error')[before]!.payload;
    assert.deepEqual(
      [open.code, open.event_type, open.document, open.seq],
      ['DOCUMENT_TOO_LARGE', 'collaboration.open', 'big.md', undefined],
    );
  });

  it('a paste past DOCUMENT_MAX_LENGTH is taken out; what was typed after it, and everything after, reaches the others', async () => {
    const relay = await relayWith({ DOCUMENT_MAX_LENGTH: '1000' });
    const alice = await peer(relay, 'alice', 'host', 'start\nend\n');
    const bob = await peer(relay, 'bob', 'editor');
    alice.edit([6, 'P'.repeat(2000)]); // too large for the document
    alice.edit(['a']); // typed while it is on its way: buffered behind it
    await waitUntil(() => alice.refusals.length === 1 && alice.settled && bob.text.startsWith('a'), 'the refusal, then the rest', 10_000);
    assert.deepEqual(alice.refusals, ['DOCUMENT_TOO_LARGE']);
    assert.equal(alice.text, 'astart\nend\n', 'the refused paste is gone from the client’s text, the a stays');
    alice.edit([alice.text.length, 'more']);
    await waitUntil(() => alice.settled && bob.settled && bob.text === alice.text, 'later edits reach bob', 10_000);
    assert.equal(bob.text, 'astart\nend\nmore');
    assert.deepEqual([...alice.problems, ...bob.problems], []);
  });

  it('an edit over the message rate goes again and is committed once', async () => {
    const relay = await relayWith({ WS_MAX_MESSAGES_PER_SECOND: '10' });
    const alice = await peer(relay, 'alice', 'host', 'x');
    const bob = await peer(relay, 'bob', 'editor');
    // Spend the second's messages, then edit: refused as rate limited, sent again a second later.
    for (let i = 0; i < 12; i++) alice.client.send('system.ping', { nonce: String(i) });
    alice.edit([1, 'y']);
    await waitUntil(() => alice.settled && bob.text === 'xy', 'the edit, sent again', 10_000);
    assert.ok(alice.rateLimited >= 1, 'it was refused as rate limited first');
    assert.equal(bob.text, 'xy');
  });
});
