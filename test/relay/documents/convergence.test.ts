import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { OtPeer, prng, randomEdit } from '../../support/ot-peer';
import { clientFrame, openDocument, startTestRelay, type TestRelay } from '../../support/relay-fixture';
import { sleep, waitUntil } from '../../support/wait';

const DOC = 'notes/shared.md';
const CLIENTS = 5;
const EDITS_PER_CLIENT = 420;

/**
 * Five clients editing one document at once through the real relay, each with its own
 * `ClientDocument`: random single characters, pastes, multi-line deletes and emoji, with random
 * small pauses. At the end every client shows the relay's text.
 */
describe('convergence through the relay', () => {
  const relays: TestRelay[] = [];
  const peers: OtPeer[] = [];
  after(async () => {
    for (const peer of peers) peer.dispose();
    for (const relay of relays) await relay.stop();
  });

  async function setup(settings: Record<string, string> = {}): Promise<{ relay: TestRelay; peers: OtPeer[] }> {
    const relay = await startTestRelay({ WS_MAX_MESSAGES_PER_SECOND: '100000', ...settings });
    relays.push(relay);
    const started: OtPeer[] = [];
    for (let i = 0; i < CLIENTS; i++) {
      const peer = new OtPeer(
        relay.url,
        relay.token({ user: `user-${i}`, role: 'host' }),
        `client-${i}`,
        DOC,
        'first line\nsecond line 👋🏽\nthird\n',
      );
      peers.push(peer);
      started.push(peer);
      await peer.start();
    }
    return { relay, peers: started };
  }

  /** Waits for every peer to be in step, then compares them with a newcomer's snapshot. */
  async function assertConverged(relay: TestRelay, group: OtPeer[]): Promise<string> {
    await waitUntil(() => group.every((p) => p.settled || p.problems.length > 0), 'every client in step', 10_000);
    assert.deepEqual(
      group.flatMap((p) => p.problems),
      [],
    );
    await waitUntil(() => new Set(group.map((p) => p.doc!.revision)).size === 1, 'every client at one revision', 5000);
    const watcher = await relay.connect('watcher', { role: 'viewer' });
    const snapshot = await openDocument(watcher, DOC);
    for (const peer of group) {
      assert.equal(peer.doc!.revision, snapshot.rev, `${peer.clientId} revision`);
      assert.equal(peer.text, snapshot.text, `${peer.clientId} text`);
    }
    return snapshot.text;
  }

  it('converges: 5 clients, 2,100 random concurrent edits', async () => {
    const { relay, peers: group } = await setup();
    let edits = 0;
    await Promise.all(
      group.map(async (peer, i) => {
        const random = prng(1000 + i);
        for (let n = 0; n < EDITS_PER_CLIENT; n++) {
          if (random() < 0.3) await sleep(Math.floor(random() * 3));
          else await new Promise((resolve) => setImmediate(resolve));
          const op = randomEdit(peer.text, random);
          if (op) {
            peer.edit(op);
            edits++;
          }
        }
      }),
    );
    assert.ok(edits >= 2000, `${edits} edits`);
    const text = await assertConverged(relay, group);
    assert.ok(text.length > 0);
    assert.ok(group[0]!.doc!.revision > 200, `only ${group[0]!.doc!.revision} commits`);
  });

  it('converges with clients dropping and rejoining mid-run: no edit lost, none applied twice', async () => {
    const { relay, peers: group } = await setup({ DOCUMENT_HISTORY_SIZE: '5000' });
    const inserted: string[] = [];
    const markerSpans = (text: string): Array<[number, number]> =>
      [...text.matchAll(/⟦[^⟧]*⟧/gu)].map((m) => [m.index, m.index + m[0].length]);
    await Promise.all(
      group.map(async (peer, i) => {
        const random = prng(2000 + i);
        for (let n = 0; n < EDITS_PER_CLIENT; n++) {
          if (random() < 0.3) await sleep(Math.floor(random() * 3));
          else await new Promise((resolve) => setImmediate(resolve));
          if (random() < 0.012) peer.drop();
          const marker = random() < 0.2 ? `⟦${peer.clientId}#${n}⟧` : undefined;
          const op = randomEdit(peer.text, random, { protectedSpans: markerSpans(peer.text), insert: marker });
          if (!op) continue;
          peer.edit(op);
          if (marker) inserted.push(marker);
        }
      }),
    );
    const text = await assertConverged(relay, group);
    const found = text.match(/⟦[^⟧]*⟧/gu) ?? [];
    assert.equal(found.length, inserted.length, 'every marker exactly once');
    assert.deepEqual([...found].sort(), [...inserted].sort());
    const reconnects = group.reduce((sum, p) => sum + p.connects - 1, 0);
    assert.ok(reconnects >= 5, `only ${reconnects} reconnects`);
  });

  it('converges with a tiny history: late ops are resynced, not lost or doubled', async () => {
    const { relay, peers: group } = await setup({ DOCUMENT_HISTORY_SIZE: '2' });
    const inserted: string[] = [];
    await Promise.all(
      group.map(async (peer, i) => {
        const random = prng(3000 + i);
        for (let n = 0; n < 80; n++) {
          await sleep(Math.floor(random() * 2));
          const marker = `⟦${peer.clientId}#${n}⟧`;
          // Only markers at marker boundaries: inserts survive a resync's coarse rebase whole.
          const spans = [...peer.text.matchAll(/⟦[^⟧]*⟧/gu)].map((m): [number, number] => [m.index, m.index + m[0].length]);
          const op = randomEdit(peer.text, random, { protectedSpans: spans, insert: marker });
          if (!op) continue;
          peer.edit(op);
          inserted.push(marker);
        }
      }),
    );
    const text = await assertConverged(relay, group);
    const found = text.match(/⟦[^⟧]*⟧/gu) ?? [];
    assert.deepEqual([...found].sort(), [...inserted].sort(), 'every marker exactly once');
    // Whether a peer's op came late enough for a resync depends on timing (the ops that reach the
    // relay together are committed as one group, each transformed past the others): one that is
    // surely late, based on revision 0, gets a resync and changes nothing.
    const late = await relay.connect('late', { role: 'editor' });
    const { rev } = await openDocument(late, DOC);
    assert.ok(rev > 2, 'past the kept history of 2');
    late.send(clientFrame('collaboration.edit', { document: DOC, rev: 0, client_id: 'late', seq: 0, op: ['⟦late⟧'] }));
    const resync = await late.next('collaboration.resync');
    assert.equal(resync.payload.reason, 'history_trimmed');
    assert.equal(await assertConverged(relay, group), text, 'nothing of it applied');
  });
});
