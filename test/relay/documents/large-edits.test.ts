// A change larger than a frame (a big paste) goes as several edits within the relay's frame limit
// (`ClientDocument`'s `maxOpBytes`, `splitOp`): before, it was refused as one frame
// (FRAME_TOO_LARGE) and the pasting client's edits stopped reaching anyone. Here with the same
// bound as the extension (`maxEditOpBytes`), through OtPeer, against a real relay, while the other
// participant types at the very same place, through a dropped connection, and through a relay
// that restarts empty with most of the paste still pending.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { OtPeer } from '../../support/ot-peer';
import { startTestRelay, type TestRelay } from '../../support/relay-fixture';
import { ensureRelayBuilt } from '../../support/cli';
import { RelayProcess } from '../../support/relay-process';
import { waitUntil, within } from '../../support/wait';

const DOC = 'notes.md';
/** Small frames: a paste of 60 KB takes dozens of edits. */
const FRAME_LIMIT = '4096';
const count = (text: string, char: string) => text.split(char).length - 1;
/** A paste of `lines` lines of P's. */
const paste = (lines: number) => `${'P'.repeat(79)}\n`.repeat(lines);

describe('changes larger than a frame', () => {
  const peers: OtPeer[] = [];
  let relay: TestRelay | undefined;
  let process_: RelayProcess | undefined;
  after(async () => {
    for (const peer of peers) peer.dispose();
    await relay?.stop();
    await process_?.kill();
  });

  function peer(url: string, token: string, clientId: string, text?: string): OtPeer {
    const p = new OtPeer(url, token, clientId, DOC, text);
    peers.push(p);
    return p;
  }

  it('a 60 KB paste while the other types at the same place, and a dropped connection midway: all of both, once', async () => {
    relay = await startTestRelay({ WS_MAX_FRAME_BYTES: FRAME_LIMIT, WS_MAX_MESSAGES_PER_SECOND: '100000' });
    const alice = peer(relay.url, relay.token({ user: 'alice', role: 'host' }), 'alice-1', 'start\nend\n');
    await alice.start();
    const bob = peer(relay.url, relay.token({ user: 'bob', role: 'editor' }), 'bob-1');
    await bob.start();
    const pasted = paste(750); // 60,000 characters
    const where = 'start\n'.length;
    // The same place at the same moment: alice pastes, bob types there, again and again.
    alice.edit([where, pasted]);
    let typed = 0;
    let dropped = false;
    await waitUntil(
      () => {
        if (typed < 40) {
          const at = bob.text.indexOf('end\n');
          bob.edit([at, 'b']);
          typed++;
        }
        if (!dropped && count(bob.text, 'P') > 0) {
          alice.drop(); // a piece or two in, the connection goes: the rest follows the rejoin
          dropped = true;
        }
        return typed === 40 && alice.settled && bob.settled;
      },
      'both in step',
      30_000,
      2,
    );
    assert.deepEqual([...alice.problems, ...bob.problems], [], 'no edit refused (FRAME_TOO_LARGE) or lost');
    assert.ok(dropped && alice.connects >= 2, 'alice reconnected midway');
    assert.equal(alice.text, bob.text);
    assert.equal(count(alice.text, 'P'), count(pasted, 'P'), 'every pasted character once');
    assert.equal(count(alice.text, 'b'), 40, 'every typed character once');
    const watcher = peer(relay.url, relay.token({ user: 'watcher', role: 'viewer' }), 'watcher-1');
    await watcher.start();
    assert.ok(watcher.text === alice.text, 'the relay has the same');
  });

  it('a relay that restarts empty with most of a paste pending: the rejoin brings it back in pieces, once', async () => {
    ensureRelayBuilt();
    process_ = await RelayProcess.start({ WS_MAX_FRAME_BYTES: FRAME_LIMIT, WS_MAX_MESSAGES_PER_SECOND: '100000' });
    // 30 KB of 3-byte characters: the document itself goes in pieces of a 4 KiB frame, to open and to rejoin.
    const alice = peer(process_.url, process_.token({ user: 'alice', role: 'host' }), 'alice-2', `start\n${'中'.repeat(10_000)}\nend\n`);
    await within(alice.start(), 10_000, 'alice to share the document, in pieces');
    const bob = peer(process_.url, process_.token({ user: 'bob', role: 'editor' }), 'bob-2');
    await within(bob.start(), 10_000, 'bob to open it, in pieces');
    const pasted = paste(500);
    await process_.kill();
    alice.edit([6, pasted]); // typed offline: all of it pending, far more than one frame
    bob.edit(['b']);
    await process_.restart();
    await waitUntil(() => alice.settled && bob.settled && alice.resets + bob.resets >= 1, 'both in step again', 30_000);
    assert.deepEqual([...alice.problems, ...bob.problems], []);
    assert.equal(alice.text, bob.text);
    assert.equal(count(alice.text, 'P'), count(pasted, 'P'), 'every pasted character once');
    assert.equal(count(alice.text, 'b'), 1);
  });
});
